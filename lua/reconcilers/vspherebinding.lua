--- The VSphereBinding reconciler (CONTRACTS §5; psbinding's BaseReconciler,
-- upstream.md §6.3), run by `vsgate controller --reconcilers
-- vspheresource,vspherebinding`.
--
-- The C driver adds the finalizer vspherebindings.sources.tanzu.vmware.com
-- before the first reconcile and removes it after finalize succeeds.
--   reconcile: label the subject namespace bindings.knative.dev/include=true
--     (label_namespace: the binding webhook only sees namespaces with that
--     label), find the subjects (by name: get; by selector: list) in the
--     subject namespace, apply binding.vsphere's do_binding to each that
--     the selection labels allow, and write the ones that changed (update
--     with their resourceVersion; a Conflict requeues). Ready: True, or
--     False with SecretMissing / SecretInvalid (spec.secretRef has no Secret,
--     or one without a non-empty username and password: looked up by name on
--     every reconcile and again after 5 to 60 s while so; the subjects are
--     bound all the same), SubjectMissing (no subject), SubjectUnavailable (the kind
--     cannot be read) or BindingFailed (a write failed). observedGeneration
--     is set; the status is written only when it changed.
--   finalize: undo_binding on every subject (NotFound / Forbidden
--     tolerated); with the namespace's last binding gone, remove the
--     include label if vsgate set it (unlabel_namespace; a Conflict or
--     another retryable error is retried, others are logged and the label
--     stays); then the driver removes the finalizer.
-- Watches: the built-in PodSpecable kinds of lib.podspecable that every
-- cluster serves (their events requeue the bindings that track them); any
-- other kind named by a binding, Knative's included, is tracked through
-- ctx.track.
local vsg = require("vsg")
local bind = require("binding.vsphere")
local T = require("lib.tables")
local conditions = require("lib.conditions")

local tbl, str = T.tbl, T.str

local API_VERSION = "sources.tanzu.vmware.com/v1alpha1"

local M = {
  apiVersion = API_VERSION,
  kind = "VSphereBinding",
  resource = "vspherebindings",
  -- The `reconciler` tag of Knative's controller metrics: the Go controller's
  -- work queue (controller.NewImpl(c, logger, "VSphereBindings")).
  metrics_name = "VSphereBindings",
  finalizer = "vspherebindings.sources.tanzu.vmware.com",
  watches = {},
}
for _, k in ipairs(require("lib.podspecable")) do
  if not k.optional then
    M.watches[#M.watches + 1] = { apiVersion = k.apiVersion, kind = k.kind, resource = k.resource, tracker = true }
  end
end

local function code(err) return type(err) == "table" and err.code or nil end
local function errmsg(err)
  if type(err) == "table" then return tostring(err.message or err.code) end
  return tostring(err)
end

--- Sets the Ready condition (the only one) in status.conditions; keeps
-- lastTransitionTime unless the status changes.
function M.set_ready(status, now, st, reason, message)
  status.conditions = tbl(status.conditions) or {}
  local c
  for _, x in ipairs(status.conditions) do
    if tbl(x) and x.type == "Ready" then c = x end
  end
  if not c then
    c = { type = "Ready" }
    status.conditions[#status.conditions + 1] = c
  end
  if c.status ~= st then c.lastTransitionTime = now end
  c.status, c.reason, c.message = st, reason, message
end

--- The subjects of binding b: list (possibly empty), or nil, reason, message.
function M.subjects(ctx, b)
  local spec = tbl(b.spec) or {}
  local subject = tbl(spec.subject) or {}
  local ns = str(subject.namespace) or b.metadata.namespace
  local av, kind = str(subject.apiVersion), str(subject.kind)
  if not av or not kind then return nil, "SubjectUnavailable", "the subject has no apiVersion or kind" end
  if str(subject.name) then
    if ctx.track then ctx.track(av, kind, ns, subject.name) end
    local obj, err = vsg.kube.get(av, kind, ns, subject.name)
    if err then
      if code(err) == "NotFound" and (err.reason == "NotFound" or err.status == 404) and not err.unknown_kind then
        return {}
      end
      return nil, "SubjectUnavailable", errmsg(err)
    end
    return { obj }
  end
  local sel = tbl(subject.selector)
  if not sel then return nil, "SubjectUnavailable", "the subject has neither name nor selector" end
  if ctx.track then ctx.track(av, kind, ns, "*") end -- any object of the kind may start matching
  -- The LabelSelector as it is: vsg.kube.list writes it as selector text
  -- (C's kube/selector.h, the one writer of that syntax).
  local list, err = vsg.kube.list(av, kind, ns, { labelSelector = sel })
  if err then return nil, "SubjectUnavailable", errmsg(err) end
  local out = {}
  for _, o in ipairs(tbl(list) and (tbl(list.items) or list) or {}) do
    if bind.subject_matches(b, o) then out[#out + 1] = o end
  end
  return out
end

local function ns_labels(ns)
  local obj = vsg.kube.get("v1", "Namespace", nil, ns)
  return tbl(obj) and tbl(obj.metadata) and tbl(obj.metadata.labels) or {}
end

--- The annotation that marks a bindings.knative.dev/include label as set by
-- vsgate (so that only such a label is removed again).
M.INCLUDE_SET_BY = "sources.tanzu.vmware.com/include-set-by"
M.INCLUDE_SET_BY_VALUE = "vsgate"

--- Whether label_namespace labels a namespace with these labels. Inclusion
-- mode: as psbinding, unless the namespace has an include or an exclude
-- label. Exclusion mode: unless it has an include label or
-- bindings.knative.dev/exclude=true; the binding webhook's namespaceSelector
-- asks for include=true in both modes (ours), so a namespace psbinding would
-- intercept (exclude absent or not "true") gets the label.
function M.wants_label(labels, mode)
  labels = tbl(labels) or {}
  if labels[bind.INCLUDE_LABEL] ~= nil then return false end
  if mode == "inclusion" then return labels[bind.EXCLUDE_LABEL] == nil end
  return labels[bind.EXCLUDE_LABEL] ~= "true"
end

--- Labels the subject namespace bindings.knative.dev/include=true when
-- wants_label says so, and annotates it as labelled by vsgate (see
-- unlabel_namespace). The binding webhook only sees namespaces with that
-- label, so a namespace without bindings never depends on vsgate being up.
-- Returns nil or err (a namespace that is not there has nothing to label).
function M.label_namespace(ns, mode)
  if not ns then return nil end
  local obj, err = vsg.kube.get("v1", "Namespace", nil, ns)
  if err then return code(err) ~= "NotFound" and err or nil end
  local labels = tbl(tbl(obj) and tbl(obj.metadata) and obj.metadata.labels) or {}
  if not M.wants_label(labels, mode) then return nil end
  local _, perr = vsg.kube.patch("v1", "Namespace", nil, ns,
    { metadata = { labels = { [bind.INCLUDE_LABEL] = "true" },
                   annotations = { [M.INCLUDE_SET_BY] = M.INCLUDE_SET_BY_VALUE } } }, "merge")
  return perr
end

-- Whether namespace ns holds a VSphereBinding other than `name` that is not
-- being deleted. Lists from the API server, not the informer cache (a field
-- selector bypasses it), so a binding created a moment ago is seen.
local function other_live_binding(ns, name)
  local list, err = vsg.kube.list(API_VERSION, "VSphereBinding", ns,
    { fieldSelector = "metadata.namespace=" .. ns })
  if err then return nil, err end
  for _, o in ipairs(tbl(list) and (tbl(list.items) or list) or {}) do
    local md = tbl(o.metadata) or {}
    if md.name ~= name and not str(md.deletionTimestamp) then return true end
  end
  return false
end

--- Removes the include label from namespace ns when vsgate set it (the
-- annotation says so) and no other VSphereBinding of the namespace is left,
-- so the namespace no longer depends on vsgate. A binding created meanwhile
-- is caught by listing again after the removal (its reconcile may have seen
-- the label still there): the label is then put back. Returns nil or err;
-- a namespace that is gone, or that the controller may not patch, is left.
function M.unlabel_namespace(ns, name, mode)
  if not ns then return nil end
  local obj, err = vsg.kube.get("v1", "Namespace", nil, ns)
  if err then
    if code(err) == "NotFound" or code(err) == "Forbidden" then return nil end
    return err
  end
  local md = tbl(tbl(obj) and obj.metadata) or {}
  local labels, ann = tbl(md.labels) or {}, tbl(md.annotations) or {}
  if ann[M.INCLUDE_SET_BY] ~= M.INCLUDE_SET_BY_VALUE then return nil end
  local other, lerr = other_live_binding(ns, name)
  if lerr then return lerr end
  if other then return nil end
  local patch = { metadata = { resourceVersion = md.resourceVersion,
                               annotations = { [M.INCLUDE_SET_BY] = vsg.null } } }
  -- A label the user changed since stays; only the mark goes.
  if labels[bind.INCLUDE_LABEL] == "true" then patch.metadata.labels = { [bind.INCLUDE_LABEL] = vsg.null } end
  local _, perr = vsg.kube.patch("v1", "Namespace", nil, ns, patch, "merge")
  if perr then
    if code(perr) == "NotFound" or code(perr) == "Forbidden" then return nil end
    return perr -- Conflict: the namespace changed; the finalizer runs again
  end
  other, lerr = other_live_binding(ns, name)
  if lerr then return lerr end
  if other then return M.label_namespace(ns, mode) end
  return nil
end

--- Applies fn (bind.do_binding or bind.undo_binding) to each subject and
-- writes the changed ones. Returns nil, or the first error. With
-- skip_invalid (undo), a subject the API server refuses to change (422
-- Invalid: a Job's pod template is immutable) keeps what it has: it is
-- logged and reported as a Warning Event UndoSkipped on the binding, and the
-- others are undone; the binding's deletion never hangs on it.
local function apply(ctx, b, subjects, fn, skip_invalid)
  local cfg = tbl(ctx.config) or {}
  local mode = str(cfg.binding_selection_mode)
  local nsl
  for _, o in ipairs(subjects) do
    local md = tbl(o.metadata) or {}
    nsl = nsl or ns_labels(md.namespace)
    if bind.selection(md.labels, nsl, mode) then
      local changed = fn(o, b)
      if changed then
        local _, err = vsg.kube.update(o)
        if err and skip_invalid and code(err) == "Invalid" and err.status == 422 then
          local what = (o.kind or "") .. "/" .. tostring(md.name)
          if ctx.log then ctx.log.warn("subject cannot be un-injected", { subject = what, error = errmsg(err) }) end
          pcall(vsg.kube.event, b, "Warning", "UndoSkipped",
            string.format("%s cannot be changed (%s); it keeps the injected vCenter settings", what, errmsg(err)))
        elseif err then
          return err, md.name
        elseif ctx.log then
          ctx.log.info("subject updated", { subject = (o.kind or "") .. "/" .. tostring(md.name) })
        end
      end
    end
  end
  return nil
end

--- The binding's Secret (spec.secretRef, in the binding's namespace): nil
-- when it has a non-empty `username` and `password`, or cannot be read for
-- another reason than NotFound (the controller's role may not allow it; the
-- pods then tell); else "SecretMissing" or "SecretInvalid" and a message. The
-- values are never logged or kept, only whether they are there.
function M.check_secret(b)
  local name = str(T.get(b, "spec", "secretRef", "name"))
  local ns = T.get(b, "metadata", "namespace")
  if not name then return nil end -- the validation webhook requires it
  local s, err = vsg.kube.get("v1", "Secret", ns, name)
  if not s then
    if code(err) == "NotFound" then
      return "SecretMissing", string.format('Secret "%s" not found in namespace "%s"', name, tostring(ns))
    end
    return nil
  end
  local data, bad = tbl(s.data) or {}, {}
  for _, key in ipairs({ "username", "password" }) do
    if data[key] == nil or data[key] == vsg.null then
      bad[#bad + 1] = string.format('no "%s" key', key)
    elseif not str(data[key]) then
      bad[#bad + 1] = string.format('an empty "%s"', key)
    end
  end
  if #bad > 0 then
    return "SecretInvalid", string.format('Secret "%s" has %s', name, table.concat(bad, " and "))
  end
  return nil
end

function M.reconcile(ctx, b)
  local md = tbl(b.metadata)
  if not md then return nil, "object without metadata" end
  local old_status = T.copy(tbl(b.status) or {})
  b.status = tbl(b.status) or {}
  local subject = tbl(tbl(b.spec) and b.spec.subject) or {}
  local mode = str((tbl(ctx.config) or {}).binding_selection_mode)
  -- The namespace first: a subject created after this binding (or not
  -- there yet) reaches the binding webhook only once the namespace is
  -- labelled.
  local lerr = M.label_namespace(str(subject.namespace) or md.namespace, mode)
  local subjects, reason, message
  if not lerr then subjects, reason, message = M.subjects(ctx, b) end
  -- Looked up on every reconcile and not watched (the controller may get a
  -- Secret by name, never list or watch them): while it is missing or
  -- invalid the binding looks again, sooner at first.
  local sreason, smessage = M.check_secret(b)
  local ret
  if lerr and code(lerr) == "Conflict" then
    ret = lerr
  elseif lerr then
    M.set_ready(b.status, ctx.now, "False", "BindingFailed", "binding namespace: " .. errmsg(lerr))
    ret = lerr
  elseif not subjects then
    M.set_ready(b.status, ctx.now, "False", reason, message)
  elseif #subjects == 0 and str((tbl(tbl(b.spec) and b.spec.subject) or {}).name) then
    -- A named subject that does not exist (psbinding: NotFound => SubjectMissing). A
    -- selector that matches nothing yet is no error: psbinding marks it available, and the
    -- webhook binds what is created later (a CronJob's Jobs, for the upstream sample).
    local s = b.spec.subject
    M.set_ready(b.status, ctx.now, "False", sreason or "SubjectMissing",
      smessage or string.format("subject %s %s not found", tostring(s.kind), tostring(s.name)))
  else
    -- The subjects are bound even without a usable Secret: their pods wait
    -- for it and start once it is there.
    local err, who = apply(ctx, b, subjects, bind.do_binding)
    if err and code(err) == "Conflict" then
      ret = err -- retry with the fresh subject; the condition stays
    elseif err then
      M.set_ready(b.status, ctx.now, "False", "BindingFailed",
        string.format("binding %s: %s", tostring(who), errmsg(err)))
      ret = err
    elseif sreason then
      M.set_ready(b.status, ctx.now, "False", sreason, smessage)
    else
      M.set_ready(b.status, ctx.now, "True", nil, nil)
    end
  end
  b.status.observedGeneration = md.generation
  if not T.equal(old_status, b.status) then
    local _, uerr = vsg.kube.update_status(b)
    if uerr then return nil, ret or uerr end
  end
  if ret then return nil, ret end
  if sreason then
    local ready
    for _, c in ipairs(b.status.conditions) do
      if tbl(c) and c.type == "Ready" then ready = c end
    end
    return { requeue_after = conditions.recheck_after(conditions.waited(ready, ctx.now, vsg.time.parse)) }
  end
  return nil
end

function M.finalize(ctx, b)
  local subjects = M.subjects(ctx, b)
  if subjects then -- else an unreadable kind: nothing we can undo
    local err = apply(ctx, b, subjects, bind.undo_binding, true)
    if err and code(err) ~= "NotFound" and code(err) ~= "Forbidden" then return nil, err end
  end
  local md = tbl(b.metadata) or {}
  local subject = tbl(tbl(b.spec) and b.spec.subject) or {}
  local ns = str(subject.namespace) or md.namespace
  local err = M.unlabel_namespace(ns, md.name, str((tbl(ctx.config) or {}).binding_selection_mode))
  if err and (code(err) == "Conflict" or (type(err) == "table" and err.retryable)) then return nil, err end
  -- Anything else would hold the binding's deletion forever: the label stays.
  if err and ctx.log then
    ctx.log.warn("namespace keeps its include label", { namespace = ns, error = errmsg(err) })
  end
  return nil
end

return M

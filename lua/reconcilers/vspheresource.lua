--- The VSphereSource reconciler (CONTRACTS §1-2; the Go version's
-- pkg/reconciler/vspheresource ReconcileKind, step by step).
--
-- The C core (`vsgate controller`) watches the kinds below, queues keys,
-- and calls reconcile(ctx, obj) with a fresh copy of the source. Steps, in
-- the Go order; a step that cannot go on marks a condition and stops the
-- rest (the status is still written):
--   0. FilterReady (when spec.filter is set): the ConfigMap and key exist
--      and the script compiles (the adapter runs the full check).
--   1. VSphereBinding <n>-vspherebinding: create, or update when its spec
--      differs; AuthReady <- its Ready.
--   2. ConfigMap <n>-configmap: create if absent (an existing one is used
--      as is, and not adopted).
--   3. The adapter's service account must exist (else AdapterReady=False,
--      ServiceAccountMissing; the Go version failed the reconcile).
--   4. RoleBinding <n>-rolebinding -> ClusterRole vsphere-receive-adapter-cm:
--      create if absent; its subject follows spec.serviceAccountName (ours).
--   5. Sink (and delivery.deadLetterSink) resolution -> status.sinkUri;
--      failure => AdapterReady=False, SinkNotFound.
--   6. Deployment <n>-adapter: create, or update only when a field we set
--      differs (lib/desired.lua); AdapterReady <- its Available.
--   7. The adapter's view of vCenter (key `vcenter` of <n>-configmap): not
--      ready => AdapterReady=False, VCenterNotReady, with its last error.
-- Ready = AdapterReady ∧ AuthReady (∧ FilterReady); the status is written
-- (update_status) only when it changed, with observedGeneration.
-- Nothing is written when nothing changed: a steady state costs only reads.
local vsg = require("vsg")
local conditions = require("lib.conditions")
local desired = require("lib.desired")
local sink = require("lib.sink")
local T = require("lib.tables")

local tbl, str = T.tbl, T.str

local M = {
  apiVersion = desired.API_VERSION,
  kind = desired.KIND,
  resource = "vspheresources",
  -- The `reconciler` tag of Knative's controller metrics: the Go controller's
  -- work queue, named after its generated reconciler's type.
  metrics_name = "github.com.vmware-tanzu.sources-for-knative.pkg.reconciler.vspheresource.Reconciler",
  watches = {
    { apiVersion = "apps/v1", kind = "Deployment", resource = "deployments", owned = true },
    { apiVersion = desired.API_VERSION, kind = "VSphereBinding", resource = "vspherebindings", owned = true },
    { apiVersion = "rbac.authorization.k8s.io/v1", kind = "RoleBinding", resource = "rolebindings", owned = true },
    { apiVersion = "v1", kind = "ServiceAccount", resource = "serviceaccounts" },
  },
}

-- AdapterReady first: when several are False, Ready shows the root cause
-- (a missing service account or sink also leaves the binding without its
-- subject Deployment, and the binding's SubjectMissing would hide it).
local SET = conditions.set("Ready", { "AdapterReady", "AuthReady" })
local SET_FILTER = conditions.set("Ready", { "AdapterReady", "AuthReady", "FilterReady" })

local function md5(s)
  local h = tbl(vsg.hash)
  assert(h and h.md5, "vsg.hash.md5 is not available")
  return h.md5(s)
end

local function code(err)
  return type(err) == "table" and err.code or nil
end

local function errmsg(err)
  if type(err) == "table" then return tostring(err.message or err.code or "error") end
  return tostring(err)
end

-- Transient API failures only requeue; they do not change conditions.
local function transient(err)
  local c = code(err)
  return c == "Conflict" or c == "AlreadyExists" or (type(err) == "table" and err.retryable == true)
end

-- One reconcile's state.
local Run = {}
Run.__index = Run

function Run:log(level, msg, fields)
  local l = self.ctx.log or vsg.log
  if l and l[level] then
    fields = fields or {}
    fields.source = self.ns .. "/" .. self.name
    l[level](msg, fields)
  end
end

function Run:event(etype, reason, fmt, ...)
  local ok, err = pcall(vsg.kube.event, self.src, etype, reason, string.format(fmt, ...))
  if not ok then self:log("debug", "event not recorded", { reason = reason, error = tostring(err) }) end
end

function Run:track(api, kind, ns, name)
  if self.ctx.track then self.ctx.track(api, kind, ns, name) end
end

-- Marks `ctype` False for an API failure (unless transient) and returns
-- the stop-with-error result of a step.
function Run:api_failure(ctype, reason, verb, obj_kind, obj_name, err)
  if not transient(err) then
    self.m:mark_false(ctype, reason, '%s %s "%s": %s', verb, obj_kind, obj_name, errmsg(err))
  end
  self:log("warn", verb .. " " .. obj_kind .. " failed", { name = obj_name, error = errmsg(err) })
  return false, err
end

function Run:not_owned(ctype, obj_kind, obj_name)
  local msg = string.format('%s "%s" already exists and is not owned by VSphereSource "%s"',
    obj_kind, obj_name, self.name)
  self.m:mark_false(ctype, "NotOwned", "%s", msg)
  return false, msg
end

-- Step 0: FilterReady.
function Run:check_filter()
  local f = desired.filter(self.src, tbl(self.cfg.filter_max))
  if not f then return end
  if not f.configmap then
    self.m:mark_false("FilterReady", "FilterNotFound", "spec.filter.configMapRef.name is not set")
    return
  end
  self:track("v1", "ConfigMap", self.ns, f.configmap)
  local cm, err = vsg.kube.get("v1", "ConfigMap", self.ns, f.configmap)
  if not cm then
    if code(err) == "NotFound" or err == nil then
      self.m:mark_false("FilterReady", "FilterNotFound", 'filter ConfigMap "%s" not found in namespace "%s"',
        f.configmap, self.ns)
    else
      self.m:mark_unknown("FilterReady", "FilterUnavailable", 'cannot get filter ConfigMap "%s": %s',
        f.configmap, errmsg(err))
      self.retry_err = self.retry_err or err
    end
    return
  end
  local text = T.get(cm, "data", f.key)
  if type(text) ~= "string" then
    self.m:mark_false("FilterReady", "FilterNotFound", 'filter ConfigMap "%s" has no key "%s"', f.configmap, f.key)
    return
  end
  -- Judged by the adapter's own code (vsg.filter.check: load, the filter
  -- function, the dry run on a sample event, within the filter limits), so
  -- FilterReady says what the adapter will do with it.
  local ok, why = vsg.filter.check(cm.data, f.key, f.limits)
  if not ok then
    self.m:mark_false("FilterReady", "FilterInvalid", "%s%s", tostring(why), M.FILTER_INVALID_EFFECT)
    return
  end
  self.m:mark_true("FilterReady")
end

-- Step 1: the VSphereBinding.
function Run:binding()
  local want = desired.make_binding(self.src, self.n)
  local name = self.n.binding
  local function failed(verb, e)
    return self:api_failure("AuthReady", "BindingFailed", verb, "VSphereBinding", name, e)
  end
  local cur, err = vsg.kube.get(desired.API_VERSION, "VSphereBinding", self.ns, name)
  if not cur then
    if code(err) ~= "NotFound" then return failed("getting", err) end
    cur, err = vsg.kube.create(want)
    if not cur then return failed("creating", err) end
    self:event("Normal", "VSphereBindingCreated", 'Created VSphereBinding "%s"', name)
  elseif not desired.is_controlled_by(cur, self.src) then
    return self:not_owned("AuthReady", "VSphereBinding", name)
  elseif #desired.binding_diff(cur, want) > 0 then
    cur, err = vsg.kube.update(desired.apply_binding(cur, want))
    if not cur then return failed("updating", err) end
    self:event("Normal", "VSphereBindingUpdated", 'Updated VSphereBinding "%s"', name)
  end
  self.m:propagate("AuthReady", desired.condition(cur, "Ready"))
  return true
end

-- Step 2: the checkpoint ConfigMap.
function Run:configmap()
  local name = self.n.configmap
  local function failed(verb, e)
    return self:api_failure("AdapterReady", "ConfigMapFailed", verb, "ConfigMap", name, e)
  end
  local cur, err = vsg.kube.get("v1", "ConfigMap", self.ns, name)
  if cur then return true end
  if code(err) ~= "NotFound" then return failed("getting", err) end
  local _, cerr = vsg.kube.create(desired.make_configmap(self.src, self.n))
  if cerr and code(cerr) ~= "AlreadyExists" then return failed("creating", cerr) end
  return true
end

-- Step 3: the adapter's service account must exist.
function Run:service_account()
  local sa = desired.service_account(self.src)
  self:track("v1", "ServiceAccount", self.ns, sa)
  local obj, err = vsg.kube.get("v1", "ServiceAccount", self.ns, sa)
  if obj then return true end
  if code(err) == "NotFound" then
    self.m:mark_false("AdapterReady", "ServiceAccountMissing",
      'service account "%s" not found in namespace "%s": create it, or set spec.serviceAccountName to an existing one',
      sa, self.ns)
    return false
  end
  return self:api_failure("AdapterReady", "ServiceAccountFailed", "getting", "ServiceAccount", sa, err)
end

-- Step 4: the RoleBinding that lets the adapter write its checkpoint.
function Run:rolebinding()
  local want = desired.make_rolebinding(self.src, self.n, desired.service_account(self.src))
  local name = self.n.rolebinding
  local api = "rbac.authorization.k8s.io/v1"
  local function failed(verb, e)
    return self:api_failure("AdapterReady", "RoleBindingFailed", verb, "RoleBinding", name, e)
  end
  local cur, err = vsg.kube.get(api, "RoleBinding", self.ns, name)
  if not cur then
    if code(err) ~= "NotFound" then return failed("getting", err) end
    local _, cerr = vsg.kube.create(want)
    if cerr then return failed("creating", cerr) end
    self:event("Normal", "RoleBindingCreated", 'Created RoleBinding "%s"', name)
    return true
  end
  -- One the user made is used as is (the Go version never checked).
  if not desired.is_controlled_by(cur, self.src) then return true end
  local diff = desired.rolebinding_diff(cur, want)
  if #diff == 0 then return true end
  if diff[1] == "roleRef" then -- immutable: re-create
    local _, derr = vsg.kube.delete(api, "RoleBinding", self.ns, name)
    if derr and code(derr) ~= "NotFound" then return failed("deleting", derr) end
    local _, cerr = vsg.kube.create(want)
    if cerr then return failed("creating", cerr) end
  else
    local _, uerr = vsg.kube.update(desired.apply_rolebinding(cur, want))
    if uerr then return failed("updating", uerr) end
  end
  self:event("Normal", "RoleBindingUpdated", 'Updated RoleBinding "%s"', name)
  return true
end

-- Seconds since condition `ctype` last changed (0 when that is unknown).
function Run:waited(ctype)
  return conditions.waited(self.m:get(ctype), self.ctx.now, vsg.time.parse)
end

-- Step 5: sink and dead-letter sink.
function Run:resolve(dest, what, reason)
  local opts = {
    get = vsg.kube.get,
    track = function(...) self:track(...) end,
    cluster_domain = self.cfg.cluster_domain,
  }
  local uri, f = sink.resolve(dest, self.ns, opts, what, reason)
  if uri then return uri end
  -- The message may quote a URI with credentials: redacted for the
  -- condition, the Event, the log and the reconcile error.
  local msg = vsg.url.redact(f.message)
  self.m:mark_false("AdapterReady", f.reason, "%s", msg)
  self:log("info", "sink not resolved", { what = what, reason = f.reason, message = msg })
  if f.retry then return nil, msg end
  -- A sink kind not served yet (a Broker, Knative Service or Channel whose
  -- CRD comes after the source) cannot be watched: look again later. An
  -- object of a served kind is watched instead.
  if f.unserved then self.requeue_after = conditions.recheck_after(self:waited("AdapterReady")) end
  return nil
end

function Run:sinks()
  local spec = tbl(self.src.spec) or {}
  local uri, err = self:resolve(spec.sink, "sink", "SinkNotFound")
  if not uri then return false, err end
  self.src.status.sinkUri = uri
  local dls = T.get(spec, "delivery", "deadLetterSink")
  if tbl(dls) then
    local d, derr = self:resolve(dls, "delivery.deadLetterSink", "DeadLetterSinkNotFound")
    if not d then return false, derr end
    self.dead_letter_uri = d
  end
  self.sink_uri = uri
  return true
end

-- Step 6: the adapter Deployment.
function Run:deployment()
  local want = desired.make_deployment(self.src, self.n, {
    image = self.cfg.adapter_image,
    sink_uri = self.sink_uri,
    dead_letter_uri = self.dead_letter_uri,
    logging = self.logging,
    metrics = self.metrics,
    metrics_domain = self.cfg.metrics_domain,
    filter_max = tbl(self.cfg.filter_max),
  })
  local name = self.n.deployment
  local function failed(verb, e)
    return self:api_failure("AdapterReady", "DeploymentFailed", verb, "Deployment", name, e)
  end
  local cur, err = vsg.kube.get("apps/v1", "Deployment", self.ns, name)
  if not cur then
    if code(err) ~= "NotFound" then return failed("getting", err) end
    cur, err = vsg.kube.create(want)
    if not cur then return failed("creating", err) end
    self:event("Normal", "DeploymentCreated", 'Created Deployment "%s"', name)
  elseif not desired.is_controlled_by(cur, self.src) then
    return self:not_owned("AdapterReady", "Deployment", name)
  else
    local diff = desired.deployment_diff(cur, want)
    if #diff > 0 then
      self:log("info", "updating the adapter Deployment", { name = name, fields = table.concat(diff, ",") })
      local recreate = false
      for _, f in ipairs(diff) do
        if f == "spec.selector" then recreate = true end
      end
      if recreate then
        local _, derr = vsg.kube.delete("apps/v1", "Deployment", self.ns, name)
        if derr and code(derr) ~= "NotFound" then return failed("deleting", derr) end
        cur, err = vsg.kube.create(want)
        if not cur then return failed("creating", err) end
      else
        cur, err = vsg.kube.update(desired.apply_deployment(cur, want))
        if not cur then return failed("updating", err) end
      end
      self:event("Normal", "DeploymentUpdated", 'Updated Deployment "%s" (%s)', name, table.concat(diff, ", "))
    end
  end
  self.m:propagate("AdapterReady", desired.condition(cur, "Available"))
  return true
end

-- Step 7: the adapter's own view of vCenter, key `vcenter` of the checkpoint
-- ConfigMap ({"ready": bool, "message": text}; cmd_adapter.c writes it on
-- each change): not ready makes AdapterReady False with the adapter's last
-- vCenter error (a wrong address or password, an untrusted certificate),
-- where the Deployment alone would only say it is not available.
function Run:vcenter()
  self:track("v1", "ConfigMap", self.ns, self.n.configmap)
  local cm = vsg.kube.get("v1", "ConfigMap", self.ns, self.n.configmap)
  local text = cm and T.get(cm, "data", "vcenter")
  if type(text) ~= "string" then return true end
  local ok, v = pcall(vsg.json.decode, text)
  if ok and type(v) == "table" and v.ready == false then
    self.m:mark_false("AdapterReady", "VCenterNotReady", "%s",
      vsg.url.redact(type(v.message) == "string" and v.message or "the adapter cannot reach vCenter"))
  end
  return true
end

local function decode_config(text)
  if type(text) ~= "string" or text == "" then return nil end
  local ok, v = pcall(vsg.json.decode, text)
  if ok and type(v) == "table" then return v end
  return nil
end

local function remove_condition(status, ctype)
  local list = tbl(status.conditions)
  if not list then return end
  for i = #list, 1, -1 do
    if type(list[i]) == "table" and list[i].type == ctype then table.remove(list, i) end
  end
end

--- What the adapter does with a filter it rejects (CONTRACTS §6).
M.FILTER_INVALID_EFFECT = " (the adapter keeps running the last valid version it loaded, or holds events back"
  .. " until one is valid)"

local STEPS = { "binding", "configmap", "service_account", "rolebinding", "sinks", "deployment", "vcenter" }

--- reconcile(ctx, obj): nil when done; nil, err to requeue with backoff.
function M.reconcile(ctx, src)
  local md = src.metadata
  if tbl(md) == nil then return nil, "object without metadata" end
  if str(md.deletionTimestamp) then
    return nil -- the children go with their ownerReferences
  end
  local cfg = tbl(ctx.config) or {}
  if not str(cfg.adapter_image) then return nil, "the adapter image is not configured (VSPHERE_ADAPTER)" end

  local old_status = T.copy(tbl(src.status) or {})
  src.status = tbl(src.status) or {}
  local has_filter = desired.filter(src) ~= nil
  if not has_filter then remove_condition(src.status, "FilterReady") end
  local r = setmetatable({
    ctx = ctx,
    cfg = cfg,
    src = src,
    ns = md.namespace,
    name = md.name,
    n = desired.names(src, md5),
    m = (has_filter and SET_FILTER or SET):manage(src.status, ctx.now),
    logging = decode_config(cfg.logging_config),
    metrics = decode_config(cfg.metrics_config),
  }, Run)
  -- A config map that is set but not JSON is a host bug: keep "" rather
  -- than guessing, and say so.
  if str(cfg.logging_config) and not r.logging then r:log("warn", "logging_config is not a JSON object") end
  if str(cfg.metrics_config) and not r.metrics then r:log("warn", "metrics_config is not a JSON object") end

  r:check_filter()
  local err
  for _, step in ipairs(STEPS) do
    local ok, serr = r[step](r)
    if not ok then
      err = serr
      break
    end
  end
  err = err or r.retry_err

  src.status.observedGeneration = md.generation
  if not T.equal(old_status, src.status) then
    local _, uerr = vsg.kube.update_status(src)
    if uerr then
      r:log(code(uerr) == "Conflict" and "debug" or "warn", "status update failed", { error = errmsg(uerr) })
      return nil, err or uerr
    end
  end
  if err then return nil, err end
  if r.requeue_after then return { requeue_after = r.requeue_after } end
  return nil
end

return M

--- VSphereBinding injection (CONTRACTS §5; the Go version's
-- vspherebinding_lifecycle.go Do/Undo and psbinding's subject selection,
-- upstream.md §6.2-6.3), as pure functions over decoded objects. Shared by
-- the /vspherebindings mutating webhook and the VSphereBinding reconciler;
-- the C side turns the before/after difference into a JSON Patch.
--
--   local vb = require("binding.vsphere")
--   if vb.selection(obj.metadata.labels, ns_labels, mode)
--      and vb.subject_matches(binding, obj) then
--     local changed = vb.do_binding(obj, binding)  -- or vb.undo_binding
--   end
--
-- Works on any object with spec.template.spec (Deployment, StatefulSet,
-- DaemonSet, ReplicaSet, Job, Knative Service and Configuration...).
local common = require("admission.common")
local k8s = require("lib.k8svalid")
local T = require("lib.tables")

local tbl, str = common.tbl, common.str

local M = {}

M.VOLUME = "vsphere-binding"
M.MOUNT_PATH = "/var/bindings/vsphere"
M.ENV_NAMES = { "VC_URL", "VC_INSECURE", "VC_USERNAME", "VC_PASSWORD" }
M.EXCLUDE_LABEL = "bindings.knative.dev/exclude"
M.INCLUDE_LABEL = "bindings.knative.dev/include"

local ENV_SET = {}
for _, n in ipairs(M.ENV_NAMES) do ENV_SET[n] = true end

--- The pod spec (spec.template.spec) of a PodSpecable object, or nil.
function M.podspec(obj)
  return tbl(tbl(tbl(tbl(obj) and obj.spec) and obj.spec.template) and obj.spec.template.spec)
end

-- Removes, in place, the entries of list `t[key]` for which `drop(entry)`
-- holds; a list left empty is removed (Go's omitempty: an empty table would
-- encode as a JSON object). Lists it removes nothing from stay untouched.
local function filter_list(t, key, drop)
  local list = tbl(t[key])
  if not list then return end
  local removed = false
  for i = #list, 1, -1 do
    if drop(list[i]) then
      table.remove(list, i)
      removed = true
    end
  end
  if removed and #list == 0 then t[key] = nil end
end

local function named(name) return function(e) return type(e) == "table" and e.name == name end end
local function binding_env(e) return type(e) == "table" and ENV_SET[e.name] == true end

local function containers_of(ps)
  local out = {}
  for _, key in ipairs({ "initContainers", "containers" }) do
    for _, ctr in ipairs(tbl(ps[key]) or {}) do
      if tbl(ctr) then out[#out + 1] = ctr end
    end
  end
  return out
end

local function undo(ps)
  filter_list(ps, "volumes", named(M.VOLUME))
  for _, ctr in ipairs(containers_of(ps)) do
    -- Every mount of the volume goes with it (a dangling mount would make
    -- the pod invalid); the Go version removed the first one only.
    filter_list(ctr, "volumeMounts", named(M.VOLUME))
    filter_list(ctr, "env", binding_env)
  end
end

local function append(t, key, entry)
  local list = tbl(t[key])
  if not list then
    list = {}
    t[key] = list
  end
  list[#list + 1] = entry
end

local function secret_env(name, secret, key)
  return { name = name, valueFrom = { secretKeyRef = { name = secret, key = key } } }
end

--- Applies the binding to obj's pod template in place: first removes what a
-- previous application left (so applying twice equals applying once, and an
-- env var of the same name is replaced, moved to the end, as the Go version
-- does), then appends the volume `vsphere-binding` (the binding's secret),
-- and to every init container and container a read-only mount at
-- /var/bindings/vsphere and the env VC_URL, VC_INSECURE, VC_USERNAME,
-- VC_PASSWORD. Returns whether obj changed, or false and a message when
-- obj has no spec.template.spec.
function M.do_binding(obj, binding)
  local ps = M.podspec(obj)
  if not ps then return false, "object has no spec.template.spec" end
  local before = T.copy(ps)
  local spec = tbl(tbl(binding) and binding.spec) or {}
  local secret = str(tbl(spec.secretRef) and spec.secretRef.name) or ""
  -- The API server fills in secret.defaultMode (420): a volume of the same
  -- secret keeps what it has, so that applying to an object read back from
  -- the server changes nothing (no needless update or patch).
  local vsecret = { secretName = secret }
  for _, v in ipairs(tbl(ps.volumes) or {}) do
    if named(M.VOLUME)(v) and tbl(v.secret) and v.secret.secretName == secret then
      vsecret = T.copy(v.secret)
      break
    end
  end
  undo(ps)
  append(ps, "volumes", { name = M.VOLUME, secret = vsecret })
  local url = common.address_text(spec.address)
  for _, ctr in ipairs(containers_of(ps)) do
    append(ctr, "volumeMounts", { name = M.VOLUME, readOnly = true, mountPath = M.MOUNT_PATH })
    append(ctr, "env", { name = "VC_URL", value = url ~= "" and url or nil })
    append(ctr, "env", { name = "VC_INSECURE", value = spec.skipTLSVerify == true and "true" or "false" })
    append(ctr, "env", secret_env("VC_USERNAME", secret, "username"))
    append(ctr, "env", secret_env("VC_PASSWORD", secret, "password"))
  end
  return not T.equal(before, ps)
end

--- Removes from obj's pod template in place exactly what do_binding adds:
-- the volume `vsphere-binding`, its mounts and the env vars VC_URL,
-- VC_INSECURE, VC_USERNAME and VC_PASSWORD of every (init) container.
-- Returns whether obj changed (false and a message without a pod template).
function M.undo_binding(obj, binding) -- luacheck: ignore binding
  local ps = M.podspec(obj)
  if not ps then return false, "object has no spec.template.spec" end
  local before = T.copy(ps)
  undo(ps)
  return not T.equal(before, ps)
end

--- Whether the selection labels let a binding touch an object, given the
-- object's and its namespace's labels (string maps, nil = none) and the
-- mode (VSPHERE_BINDING_SELECTION_MODE): "exclusion" (default, also for
-- nil/""): skipped when either carries bindings.knative.dev/exclude=true;
-- "inclusion": both must carry bindings.knative.dev/include=true (the
-- webhook's objectSelector and namespaceSelector).
function M.selection(obj_labels, ns_labels, mode)
  obj_labels = tbl(obj_labels) or {}
  ns_labels = tbl(ns_labels) or {}
  if mode == "inclusion" then
    return obj_labels[M.INCLUDE_LABEL] == "true" and ns_labels[M.INCLUDE_LABEL] == "true"
  end
  return obj_labels[M.EXCLUDE_LABEL] ~= "true" and ns_labels[M.EXCLUDE_LABEL] ~= "true"
end

--- The API group of an apiVersion ("apps/v1" -> "apps", "v1" -> "").
function M.group_of(api_version)
  if type(api_version) ~= "string" then return nil end
  return api_version:match("^(.*)/[^/]*$") or ""
end

--- Whether obj is a subject of the binding: same API group and kind
-- (the version is ignored, as psbinding indexes by GroupKind and the
-- webhook matches equivalent versions), the subject's namespace (default
-- the binding's), and the subject's name or label selector
-- (matchLabels, matchExpressions In/NotIn/Exists/DoesNotExist).
function M.subject_matches(binding, obj)
  local b, o = tbl(binding) or {}, tbl(obj) or {}
  local subject = tbl(tbl(b.spec) and b.spec.subject)
  if not subject then return false end
  local md = tbl(o.metadata) or {}
  local bmd = tbl(b.metadata) or {}
  if M.group_of(subject.apiVersion) ~= M.group_of(o.apiVersion) or subject.kind ~= o.kind then return false end
  local ns = str(subject.namespace) or str(bmd.namespace)
  if not ns or md.namespace ~= ns then return false end
  local selector = tbl(subject.selector)
  if str(subject.name) then
    if selector then return false end -- both set: invalid, matches nothing
    return md.name == subject.name
  end
  if selector then return k8s.selector_matches(selector, tbl(md.labels)) end
  return false
end

return M

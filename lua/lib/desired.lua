--- What the controller creates for a VSphereSource (CONTRACTS §2, the Go
-- version's pkg/reconciler/vspheresource/resources): pure builders of the
-- child objects, the adapter's environment values, and the comparisons
-- that decide whether an existing child must be written.
--
--   local n = desired.names(src, md5)        -- child names + label value
--   local dep = desired.make_deployment(src, n, {
--     sink_uri = "http://...", image = "...", logging = {...}, metrics = {...},
--     metrics_domain = "tanzu.vmware.com/sources", dead_letter_uri = nil })
--   local diff = desired.deployment_diff(current, dep)   -- {} => no write
--   if #diff > 0 then desired.apply_deployment(current, dep) end
--
-- "Unchanged spec causes no writes": every comparison looks only at the
-- fields these builders set, normalised the way the API server stores
-- them (an env var with value "" is stored without value, a fieldRef gets
-- apiVersion v1), and ignores what others own: server defaults, the
-- binding webhook's VC_* env, volume and mount, other labels and
-- annotations, other containers' fields.
local names = require("lib.names")
local durations = require("lib.durations")
local gojson = require("lib.gojson")
local T = require("lib.tables")

local tbl, str = T.tbl, T.str

local M = {}

M.API_VERSION = "sources.tanzu.vmware.com/v1alpha1"
M.KIND = "VSphereSource"
M.LABEL = "vspheresources.sources.tanzu.vmware.com/name"
M.ADAPTER_CLUSTER_ROLE = "vsphere-receive-adapter-cm"
M.CONTAINER = "adapter"
-- ce-* header values: raw UTF-8 as the Go adapter sent them (the default),
-- or "percent" for the CloudEvents HTTP binding's encoding (ours).
M.CE_HEADER_ANNOTATION = "sources.tanzu.vmware.com/ce-header-encoding"
-- The adapter's /healthz and /readyz (ready: logged in to vCenter and
-- reading events); the Deployment's readinessProbe, no liveness probe (a
-- vCenter outage must not restart the adapter, which retries by itself).
M.HEALTH_PORT = 8080

--- The adapter container's readinessProbe.
function M.readiness_probe()
  return { httpGet = { path = "/readyz", port = M.HEALTH_PORT }, periodSeconds = 5, timeoutSeconds = 2,
    failureThreshold = 2 }
end
-- The adapter's /metrics: the port K_METRICS_CONFIG implies (PrometheusPort 0
-- means knative pkg's default, 9090).
M.METRICS_PORT = 9090

--- The adapter container's ports, named as Knative's receive adapters name
-- theirs (so a PodMonitor can select "metrics").
function M.container_ports()
  return { { name = "metrics", containerPort = M.METRICS_PORT }, { name = "health", containerPort = M.HEALTH_PORT } }
end
M.ADAPTER_ARGS = { "adapter" }
-- Where the adapter keeps its vCenter session cookie (VSPHERE_SESSION_FILE):
-- an in-memory emptyDir, which outlives a container restart (a kill) but not
-- the Pod, so the next container logs out the session a killed one left
-- and frees its event collector (core/soap/session.h).
M.SESSION_VOLUME = "vsgate-session"
M.SESSION_DIR = "/var/run/vsgate"
M.SESSION_FILE = M.SESSION_DIR .. "/vcenter-session"
M.METRICS_COMPONENT = "vspheresource"
M.DEFAULT_METRICS_DOMAIN = "tanzu.vmware.com/sources"
M.DEFAULT_FILTER_KEY = "filter.lua"
M.DEFAULT_MAX_AGE = 300 -- ours: unset maxAgeSeconds means 5 minutes
M.DEFAULT_PERIOD = 10

--- Env vars the VSphereBinding webhook injects into the adapter; the
-- reconciler neither sets nor compares them, and keeps them on update.
M.BINDING_ENV = { VC_URL = true, VC_INSECURE = true, VC_USERNAME = true, VC_PASSWORD = true }

local function spec_of(src) return tbl(src.spec) or {} end

--- Child names and the label value of `src`.
function M.names(src, md5)
  local n = names.for_source(src.metadata.name, md5)
  n.label = names.label_value(src.metadata.name, md5)
  return n
end

--- The controller ownerReference to `src` (kmeta.NewControllerRef).
function M.owner_ref(src)
  return {
    apiVersion = M.API_VERSION,
    kind = M.KIND,
    name = src.metadata.name,
    uid = src.metadata.uid,
    controller = true,
    blockOwnerDeletion = true,
  }
end

--- True when `obj` has a controller ownerReference to `src`.
function M.is_controlled_by(obj, src)
  for _, r in ipairs(T.get(obj, "metadata", "ownerReferences") or {}) do
    if type(r) == "table" and r.controller == true then
      return r.uid == src.metadata.uid
    end
  end
  return false
end

--- The adapter's service account: spec.serviceAccountName or "default".
function M.service_account(src)
  return str(spec_of(src).serviceAccountName) or "default"
end

local function int_or(v, default)
  if math.type(v) == "integer" then return v end
  if type(v) == "number" and v == math.floor(v) then return math.tointeger(v) end
  return default
end

--- The effective checkpoint settings { max_age, period } in seconds:
-- maxAgeSeconds unset => 300 (ours), negative => 0; periodSeconds 0, unset
-- or negative => 10.
function M.checkpoint(src)
  local cc = tbl(spec_of(src).checkpointConfig) or {}
  local max_age = int_or(cc.maxAgeSeconds, M.DEFAULT_MAX_AGE)
  if max_age < 0 then max_age = 0 end
  local period = int_or(cc.periodSeconds, 0)
  if period <= 0 then period = M.DEFAULT_PERIOD end
  return { max_age = max_age, period = period }
end

--- VSPHERE_CHECKPOINT_CONFIG: {"maxAge":"5m0s","period":"10s"}.
function M.checkpoint_config(src)
  local c = M.checkpoint(src)
  return gojson.struct({
    { "maxAge", gojson.string(durations.go_seconds(c.max_age)) },
    { "period", gojson.string(durations.go_seconds(c.period)) },
  })
end

--- VSPHERE_PAYLOAD_ENCODING: lower-cased, default application/xml.
function M.payload_encoding(src)
  local e = str(spec_of(src).payloadEncoding)
  return e and e:lower() or "application/xml"
end

--- K_CE_OVERRIDES: json.Marshal of duckv1.CloudEventOverrides, or "" when
-- spec.ceOverrides is not set.
function M.ce_overrides(src)
  local co = tbl(spec_of(src).ceOverrides)
  if not co then return "" end
  local ext = {}
  local any = false
  for k, v in pairs(tbl(co.extensions) or {}) do
    if type(k) == "string" and type(v) == "string" then
      ext[k] = v
      any = true
    end
  end
  return gojson.struct({ { "extensions", any and gojson.encode(ext) or nil } })
end

--- K_LOGGING_CONFIG from the data of config-logging (a string map, or nil
-- when it is not loaded: ""). Knative forwards zap-logger-config; we also
-- forward the loglevel.* keys, which the adapter reads (ours).
function M.logging_config(data)
  if type(data) ~= "table" then return "" end
  local out = {}
  for k, v in pairs(data) do
    if type(k) == "string" and type(v) == "string"
      and (k == "zap-logger-config" or k:sub(1, 9) == "loglevel.") then
      out[k] = v
    end
  end
  return gojson.encode(out)
end

--- K_METRICS_CONFIG: json.Marshal of knative metrics.ExporterOptions with
-- the data of config-observability (without "_example"), or "" when it is
-- not loaded.
function M.metrics_config(data, domain)
  if type(data) ~= "table" then return "" end
  local cm = {}
  for k, v in pairs(data) do
    if type(k) == "string" and type(v) == "string" and k ~= "_example" then cm[k] = v end
  end
  return gojson.struct({
    -- An unset or empty METRICS_DOMAIN means the default domain.
    { "Domain", gojson.string((domain ~= nil and domain ~= "") and domain or M.DEFAULT_METRICS_DOMAIN) },
    { "Component", gojson.string(M.METRICS_COMPONENT) },
    { "PrometheusPort", "0" },
    { "PrometheusHost", gojson.string("") },
    { "ConfigMap", gojson.encode(cm) },
  })
end

--- VSPHERE_DELIVERY (ours): spec.delivery as JSON with deadLetterSink
-- replaced by its resolved URI; nil when spec.delivery sets nothing.
function M.delivery(src, dead_letter_uri)
  local d = tbl(spec_of(src).delivery)
  if not d then return nil end
  local out, any = {}, false
  local retry = int_or(d.retry, nil)
  if retry then out.retry = retry; any = true end
  if str(d.backoffPolicy) then out.backoffPolicy = d.backoffPolicy; any = true end
  if str(d.backoffDelay) then out.backoffDelay = d.backoffDelay; any = true end
  if dead_letter_uri then out.deadLetterSink = dead_letter_uri; any = true end
  return any and gojson.encode(out) or nil
end

--- The fields of spec.filter.limits, in the order the adapter's
-- VSPHERE_FILTER_LIMITS names them.
M.FILTER_LIMITS = {
  { field = "instructions", flag = "instructions" },
  { field = "memoryBytes", flag = "memory" },
  { field = "timeoutMilliseconds", flag = "timeoutMs" },
}

local function positive_int(v)
  return math.type(v) == "integer" and v > 0 and v or nil
end

--- The filter settings (ours) { configmap, key, on_error, limits } or nil.
-- limits: the positive integers spec.filter.limits sets, each capped by
-- `max` (the controller's --filter-limits-max, same fields) when given, or
-- nil when none is set (the adapter's defaults).
function M.filter(src, max)
  local f = tbl(spec_of(src).filter)
  if not f then return nil end
  local ref = tbl(f.configMapRef) or {}
  local limits
  for _, l in ipairs(M.FILTER_LIMITS) do
    local v = positive_int(T.get(f, "limits", l.field))
    if v then
      local cap = positive_int(T.get(max, l.field))
      limits = limits or {}
      limits[l.field] = cap and math.min(v, cap) or v
    end
  end
  return {
    configmap = str(ref.name),
    key = str(ref.key) or M.DEFAULT_FILTER_KEY,
    on_error = str(f.onError),
    limits = limits,
  }
end

--- VSPHERE_FILTER_LIMITS for `limits` (M.filter's): "instructions=N,..."
-- in the syntax of the controller's --*-limits flags, or nil.
function M.filter_limits_env(limits)
  if not limits then return nil end
  local parts = {}
  for _, l in ipairs(M.FILTER_LIMITS) do
    if limits[l.field] then parts[#parts + 1] = l.flag .. "=" .. math.tointeger(limits[l.field]) end
  end
  return table.concat(parts, ",")
end

local function meta(src, name, labels)
  return {
    name = name,
    namespace = src.metadata.namespace,
    labels = labels,
    ownerReferences = { M.owner_ref(src) },
  }
end

--- VSphereBinding <n>-vspherebinding: the source's auth, subject = the
-- adapter Deployment.
function M.make_binding(src, n)
  local spec = spec_of(src)
  local bspec = {
    address = spec.address,
    secretRef = { name = T.get(spec, "secretRef", "name") },
    subject = {
      apiVersion = "apps/v1",
      kind = "Deployment",
      namespace = src.metadata.namespace,
      name = n.deployment,
    },
  }
  if spec.skipTLSVerify == true then bspec.skipTLSVerify = true end
  return {
    apiVersion = M.API_VERSION,
    kind = "VSphereBinding",
    metadata = meta(src, n.binding),
    spec = bspec,
  }
end

--- ConfigMap <n>-configmap (checkpoint store), created empty.
function M.make_configmap(src, n)
  return { apiVersion = "v1", kind = "ConfigMap", metadata = meta(src, n.configmap) }
end

--- RoleBinding <n>-rolebinding: ClusterRole vsphere-receive-adapter-cm
-- for the adapter's service account `sa`.
function M.make_rolebinding(src, n, sa)
  return {
    apiVersion = "rbac.authorization.k8s.io/v1",
    kind = "RoleBinding",
    metadata = meta(src, n.rolebinding),
    roleRef = { apiGroup = "rbac.authorization.k8s.io", kind = "ClusterRole", name = M.ADAPTER_CLUSTER_ROLE },
    subjects = { { kind = "ServiceAccount", namespace = src.metadata.namespace, name = sa } },
  }
end

local function env(name, value) return { name = name, value = value } end
local function env_field(name, path)
  return { name = name, valueFrom = { fieldRef = { apiVersion = "v1", fieldPath = path } } }
end

--- The adapter container's env, in order (CONTRACTS §2, then ours when set).
-- opts: sink_uri, logging (config-logging data or nil), metrics
-- (config-observability data or nil), metrics_domain, dead_letter_uri,
-- filter_max (the controller's cap on spec.filter.limits, or nil).
function M.adapter_env(src, n, opts)
  local e = {
    env_field("NAMESPACE", "metadata.namespace"),
    env_field("NAME", "metadata.name"),
    env("K_METRICS_CONFIG", M.metrics_config(opts.metrics, opts.metrics_domain)),
    env("K_LOGGING_CONFIG", M.logging_config(opts.logging)),
    env("VSPHERE_KVSTORE_CONFIGMAP", n.configmap),
    env("VSPHERE_CHECKPOINT_CONFIG", M.checkpoint_config(src)),
    env("VSPHERE_PAYLOAD_ENCODING", M.payload_encoding(src)),
    env("K_CE_OVERRIDES", M.ce_overrides(src)),
    env("K_SINK", opts.sink_uri),
    env("VSPHERE_SESSION_FILE", M.SESSION_FILE),
    -- The adapter's Kubernetes Events name the source (NAME is the pod's).
    env("VSPHERE_SOURCE_NAME", src.metadata.name),
    env("VSPHERE_HEALTH_PORT", tostring(M.HEALTH_PORT)),
  }
  local spec = spec_of(src)
  if str(spec.caCerts) then e[#e + 1] = env("VSPHERE_CA_CERTS", spec.caCerts) end
  local d = M.delivery(src, opts.dead_letter_uri)
  if d then e[#e + 1] = env("VSPHERE_DELIVERY", d) end
  local hv = str(T.get(src, "metadata", "annotations", M.CE_HEADER_ANNOTATION))
  if hv then e[#e + 1] = env("VSPHERE_CE_HEADER_ENCODING", hv) end
  local f = M.filter(src, opts.filter_max)
  if f and f.configmap then
    e[#e + 1] = env("VSPHERE_FILTER_CONFIGMAP", f.configmap)
    e[#e + 1] = env("VSPHERE_FILTER_KEY", f.key)
    if f.on_error then e[#e + 1] = env("VSPHERE_FILTER_ON_ERROR", f.on_error) end
    if f.limits then e[#e + 1] = env("VSPHERE_FILTER_LIMITS", M.filter_limits_env(f.limits)) end
  end
  return e
end

--- Deployment <n>-adapter. opts: image plus those of adapter_env.
function M.make_deployment(src, n, opts)
  local labels = function() return { [M.LABEL] = n.label } end
  return {
    apiVersion = "apps/v1",
    kind = "Deployment",
    metadata = meta(src, n.deployment, labels()),
    spec = {
      replicas = 1,
      selector = { matchLabels = labels() },
      strategy = { type = "Recreate" },
      template = {
        metadata = { labels = labels() },
        spec = {
          serviceAccountName = M.service_account(src),
          containers = {
            {
              name = M.CONTAINER,
              image = opts.image,
              args = T.copy(M.ADAPTER_ARGS),
              env = M.adapter_env(src, n, opts),
              ports = M.container_ports(),
              readinessProbe = M.readiness_probe(),
              volumeMounts = { M.session_mount() },
            },
          },
          volumes = { M.session_volume() },
        },
      },
    },
  }
end

-- ---------------------------------------------------------------------
-- Comparisons: each *_diff returns the list of differing fields ({} when
-- nothing must be written); each apply_* makes `current` match `want` in
-- those fields and leaves everything else as it is.
-- ---------------------------------------------------------------------

local function binding_spec_key(spec)
  spec = tbl(spec) or {}
  local subj = tbl(spec.subject) or {}
  return {
    address = spec.address,
    skipTLSVerify = spec.skipTLSVerify == true,
    secret = T.get(spec, "secretRef", "name"),
    subject = { subj.apiVersion, subj.kind, subj.namespace, subj.name, tbl(subj.selector) ~= nil },
  }
end

function M.binding_diff(current, want)
  if T.equal(binding_spec_key(current.spec), binding_spec_key(want.spec)) then return {} end
  return { "spec" }
end

function M.apply_binding(current, want)
  current.spec = T.copy(want.spec)
  return current
end

function M.rolebinding_diff(current, want)
  local d = {}
  local rr, wr = tbl(current.roleRef) or {}, want.roleRef
  if rr.apiGroup ~= wr.apiGroup or rr.kind ~= wr.kind or rr.name ~= wr.name then d[#d + 1] = "roleRef" end
  local s = tbl(current.subjects) or {}
  local w = want.subjects[1]
  local c = tbl(s[1]) or {}
  if #s ~= 1 or c.kind ~= w.kind or c.name ~= w.name or c.namespace ~= w.namespace then
    d[#d + 1] = "subjects"
  end
  return d
end

function M.apply_rolebinding(current, want)
  current.subjects = T.copy(want.subjects)
  return current
end

-- The stored form of an env var: value "" is dropped, fieldRef.apiVersion
-- defaults to v1.
local function env_key(e)
  e = tbl(e) or {}
  local vf = T.copy(tbl(e.valueFrom))
  if vf and tbl(vf.fieldRef) and vf.fieldRef.apiVersion == nil then vf.fieldRef.apiVersion = "v1" end
  local value = e.value
  if value == "" or type(value) ~= "string" then value = nil end
  return gojson.encode({ name = e.name, value = value, valueFrom = vf })
end

local function own_env(list)
  local out = {}
  for _, e in ipairs(tbl(list) or {}) do
    if type(e) == "table" and not M.BINDING_ENV[e.name] then out[#out + 1] = env_key(e) end
  end
  return out
end

local function find_container(dep, name)
  for i, c in ipairs(T.get(dep, "spec", "template", "spec", "containers") or {}) do
    if type(c) == "table" and c.name == name then return c, i end
  end
  return nil
end

function M.session_volume()
  return { name = M.SESSION_VOLUME, emptyDir = { medium = "Memory", sizeLimit = "1Mi" } }
end

function M.session_mount()
  return { name = M.SESSION_VOLUME, mountPath = M.SESSION_DIR }
end

local function has_named(list, name)
  for _, x in ipairs(tbl(list) or {}) do
    if type(x) == "table" and x.name == name then return true end
  end
  return false
end

-- Every wanted port is there, by name, with its containerPort (the API
-- server adds protocol: TCP; ports of others are left alone).
local function has_ports(list, want)
  for _, w in ipairs(want) do
    local found = false
    for _, x in ipairs(tbl(list) or {}) do
      if type(x) == "table" and x.name == w.name and x.containerPort == w.containerPort then found = true end
    end
    if not found then return false end
  end
  return true
end

local function label_of(t, key)
  local labels = tbl(t) and tbl(t.labels)
  return labels and labels[key]
end

local function strings_equal(a, b)
  a, b = tbl(a) or {}, tbl(b) or {}
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

--- Fields of Deployment `current` that differ from `want`. "spec.selector"
-- cannot be updated (immutable): the caller must delete and re-create.
function M.deployment_diff(current, want)
  local d = {}
  local cs, ws = tbl(current.spec) or {}, want.spec
  if label_of(current.metadata, M.LABEL) ~= want.metadata.labels[M.LABEL] then d[#d + 1] = "metadata.labels" end
  if (cs.replicas or 1) ~= ws.replicas then d[#d + 1] = "spec.replicas" end
  if not T.equal(T.get(cs, "selector", "matchLabels"), ws.selector.matchLabels)
    or T.get(cs, "selector", "matchExpressions") ~= nil then
    d[#d + 1] = "spec.selector"
  end
  if T.get(cs, "strategy", "type") ~= ws.strategy.type then d[#d + 1] = "spec.strategy" end
  local ct, wt = tbl(cs.template) or {}, ws.template
  if label_of(ct.metadata, M.LABEL) ~= wt.metadata.labels[M.LABEL] then
    d[#d + 1] = "spec.template.metadata.labels"
  end
  if T.get(ct, "spec", "serviceAccountName") ~= wt.spec.serviceAccountName then
    d[#d + 1] = "spec.template.spec.serviceAccountName"
  end
  local wc = wt.spec.containers[1]
  local cc = find_container(current, wc.name)
  if not cc then
    d[#d + 1] = "spec.template.spec.containers"
  else
    local p = "spec.template.spec.containers[" .. wc.name .. "]."
    if cc.image ~= wc.image then d[#d + 1] = p .. "image" end
    if not strings_equal(cc.args, wc.args) then d[#d + 1] = p .. "args" end
    if not strings_equal(own_env(cc.env), own_env(wc.env)) then d[#d + 1] = p .. "env" end
    if not has_named(cc.volumeMounts, M.SESSION_VOLUME) then d[#d + 1] = p .. "volumeMounts" end
    if not has_ports(cc.ports, wc.ports) then d[#d + 1] = p .. "ports" end
    -- The probe's own fields only: the API server fills in the rest.
    local rp, wp = T.get(cc, "readinessProbe", "httpGet") or {}, wc.readinessProbe.httpGet
    if rp.path ~= wp.path or rp.port ~= wp.port then d[#d + 1] = p .. "readinessProbe" end
  end
  if not has_named(T.get(ct, "spec", "volumes"), M.SESSION_VOLUME) then d[#d + 1] = "spec.template.spec.volumes" end
  return d
end

--- Makes `current` match `want` in the fields deployment_diff compares.
-- The binding's VC_* env entries of the adapter container are kept (after
-- ours), as are volumes, mounts and every field we do not set.
function M.apply_deployment(current, want)
  current.metadata.labels = tbl(current.metadata.labels) or {}
  current.metadata.labels[M.LABEL] = want.metadata.labels[M.LABEL]
  current.spec = tbl(current.spec) or {}
  local cs, ws = current.spec, want.spec
  cs.replicas = ws.replicas
  cs.selector = T.copy(ws.selector)
  cs.strategy = T.copy(ws.strategy) -- drops rollingUpdate, invalid with Recreate
  cs.template = tbl(cs.template) or {}
  local ct = cs.template
  ct.metadata = tbl(ct.metadata) or {}
  ct.metadata.labels = tbl(ct.metadata.labels) or {}
  ct.metadata.labels[M.LABEL] = ws.template.metadata.labels[M.LABEL]
  ct.spec = tbl(ct.spec) or {}
  ct.spec.serviceAccountName = ws.template.spec.serviceAccountName
  local wc = ws.template.spec.containers[1]
  local cc = find_container(current, wc.name)
  if not cc then
    ct.spec.containers = { T.copy(wc) }
    return current
  end
  cc.image = wc.image
  cc.args = T.copy(wc.args)
  local e = T.copy(wc.env)
  for _, x in ipairs(tbl(cc.env) or {}) do
    if type(x) == "table" and M.BINDING_ENV[x.name] then e[#e + 1] = x end
  end
  cc.env = e
  -- Our ports replace any of the same name or number; others stay.
  local ports = T.copy(wc.ports)
  for _, x in ipairs(tbl(cc.ports) or {}) do
    local ours = false
    for _, w in ipairs(wc.ports) do
      if type(x) ~= "table" or x.name == w.name or x.containerPort == w.containerPort then ours = true end
    end
    if not ours then ports[#ports + 1] = x end
  end
  cc.ports = ports
  cc.readinessProbe = T.copy(wc.readinessProbe)
  -- The session volume and its mount are added when missing (an adapter
  -- Deployment from before them); the binding's are kept.
  if not has_named(cc.volumeMounts, M.SESSION_VOLUME) then
    cc.volumeMounts = tbl(cc.volumeMounts) or {}
    cc.volumeMounts[#cc.volumeMounts + 1] = M.session_mount()
  end
  if not has_named(ct.spec.volumes, M.SESSION_VOLUME) then
    ct.spec.volumes = tbl(ct.spec.volumes) or {}
    ct.spec.volumes[#ct.spec.volumes + 1] = M.session_volume()
  end
  return current
end

--- The condition of `type` in obj.status.conditions, or nil.
function M.condition(obj, ctype)
  for _, c in ipairs(T.get(obj, "status", "conditions") or {}) do
    if type(c) == "table" and c.type == ctype then return c end
  end
  return nil
end

return M

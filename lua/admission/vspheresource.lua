--- Defaulting and validation of VSphereSource (sources.tanzu.vmware.com/
-- v1alpha1), for the /defaulting and /resource-validation webhooks and for
-- the reconcilers. CONTRACTS §1; the Go version's
-- vspheresource_defaults.go / vspheresource_validation.go (upstream.md
-- §3.2-3.3) with Knative's paths and messages, plus our fields (filter,
-- delivery, caCerts), checks of ceOverrides and serviceAccountName, and
-- unknown fields rejected.
--
--   local vss = require("admission.vspheresource")
--   vss.default(obj, { namespace = "ns" })      -- mutates obj in place
--   local errs = vss.validate(obj, old, { operation = "CREATE" })
--   if errs then deny(vss.format(errs)) end
--
-- ctx (optional): { namespace = request namespace (used when
-- metadata.namespace is empty), operation = "CREATE"|"UPDATE"|"DELETE",
-- subresource = "" | "status", filter_max = the most spec.filter.limits
-- may ask for ({instructions, memoryBytes, timeoutMilliseconds}) }.
local common = require("admission.common")
local fe = require("lib.fielderrors")
local k8s = require("lib.k8svalid")

local tbl, str, absent = common.tbl, common.str, common.absent

local M = {}

M.DEFAULT_PAYLOAD_ENCODING = "application/xml"
M.DEFAULT_PERIOD_SECONDS = 10
M.DEFAULT_MAX_AGE_SECONDS = 300 -- ours: the Go code left unset as 0 (no replay)
M.DEFAULT_FILTER_KEY = "filter.lua"
M.PAYLOAD_ENCODINGS = { ["application/json"] = true, ["application/xml"] = true }
M.FILTER_ON_ERROR = { deliver = true, drop = true }
-- spec.filter.limits (ours): what a filter call may use. The defaults are
-- the adapter's built-in ones (lua/host.c); the minimums keep a filter
-- loadable (core/lua/host.h VSG_FILTER_MIN_*); the maximums are the
-- controller's --filter-limits-max (ctx.filter_max).
M.FILTER_LIMITS = {
  { field = "instructions", default = 1000000, min = 1000 },
  { field = "memoryBytes", default = 16 * 1024 * 1024, min = 1024 * 1024 },
  { field = "timeoutMilliseconds", default = 1000, min = 10 },
}
M.BACKOFF_POLICIES = { linear = true, exponential = true }
M.MAX_RETRY = 2147483647 -- int32, as Knative's DeliverySpec.Retry

-- CloudEvents context attributes (v1.0, and v0.3's schemaurl and
-- datacontentencoding) plus "data": not usable as extension names.
M.RESERVED_EXTENSIONS = {
  specversion = true, id = true, source = true, type = true, datacontenttype = true,
  dataschema = true, subject = true, time = true, data = true, schemaurl = true,
  datacontentencoding = true,
}
M.MAX_EXTENSION_NAME = 20

local S = common
M.SCHEMA = S.object({
  apiVersion = S.STRING,
  kind = S.STRING,
  metadata = S.ANY,
  status = S.ANY,
  spec = S.object({
    address = S.STRING,
    skipTLSVerify = S.BOOL,
    secretRef = S.object({ name = S.STRING }),
    caCerts = S.STRING,
    sink = S.DESTINATION,
    ceOverrides = S.object({ extensions = S.map(S.STRING) }),
    checkpointConfig = S.object({ maxAgeSeconds = S.INT, periodSeconds = S.INT }),
    payloadEncoding = S.STRING,
    serviceAccountName = S.STRING,
    filter = S.object({
      configMapRef = S.object({ name = S.STRING, key = S.STRING }),
      onError = S.STRING,
      limits = S.object({ instructions = S.INT, memoryBytes = S.INT, timeoutMilliseconds = S.INT }),
    }),
    delivery = S.object({
      retry = S.INT,
      backoffPolicy = S.STRING,
      backoffDelay = S.STRING,
      deadLetterSink = S.DESTINATION,
    }),
  }),
})

--- Sets the defaults in place and returns obj:
--  - sink.ref.namespace and delivery.deadLetterSink.ref.namespace <- the
--    source's namespace when empty;
--  - payloadEncoding: unset/"" -> application/xml, otherwise lower-cased;
--  - checkpointConfig.periodSeconds: unset or 0 -> 10 (as the Go version);
--  - checkpointConfig.maxAgeSeconds: unset -> 300 (ours; an explicit 0
--    stays 0 = no replay). Written into the object so that `kubectl get`
--    shows the effective replay window, as the Go version showed its
--    (zero) one;
--  - filter.configMapRef.key: unset/"" -> filter.lua;
--  - filter.limits: each unset field -> the adapter's default (1000000
--    instructions, 16 MiB, 1000 ms), so `kubectl get` shows what applies.
-- Nothing else is written (serviceAccountName empty means "default",
-- filter.onError unset means deliver, delivery unset fields mean
-- exponential from PT1S, retried until delivered: all applied at use time).
-- Subresource (status) requests are left alone.
function M.default(obj, ctx)
  if type(ctx) == "table" and str(ctx.subresource) then return obj end
  local spec = tbl(obj) and tbl(obj.spec)
  if not spec then return obj end
  local ns = common.namespace_of(obj, ctx)
  common.default_destination(spec.sink, ns)
  local delivery = tbl(spec.delivery)
  if delivery then common.default_destination(delivery.deadLetterSink, ns) end

  local pe = spec.payloadEncoding
  if absent(pe) or pe == "" then
    spec.payloadEncoding = M.DEFAULT_PAYLOAD_ENCODING
  elseif type(pe) == "string" then
    spec.payloadEncoding = pe:lower()
  end

  if absent(spec.checkpointConfig) then spec.checkpointConfig = {} end
  local cc = tbl(spec.checkpointConfig)
  if cc then
    if absent(cc.periodSeconds) or cc.periodSeconds == 0 then cc.periodSeconds = M.DEFAULT_PERIOD_SECONDS end
    if absent(cc.maxAgeSeconds) then cc.maxAgeSeconds = M.DEFAULT_MAX_AGE_SECONDS end
  end

  local filter = tbl(spec.filter)
  local ref = tbl(filter and filter.configMapRef)
  if ref and (absent(ref.key) or ref.key == "") then ref.key = M.DEFAULT_FILTER_KEY end
  if filter and absent(filter.limits) then filter.limits = {} end
  local limits = tbl(filter and filter.limits)
  if limits then
    for _, l in ipairs(M.FILTER_LIMITS) do
      if absent(limits[l.field]) then limits[l.field] = l.default end
    end
  end
  return obj
end

local function is_int(v) return math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v)) end

local function validate_checkpoint(cc, c)
  cc = tbl(cc)
  if not cc then return end
  for _, f in ipairs({ "periodSeconds", "maxAgeSeconds" }) do
    local v = cc[f]
    if is_int(v) and v < 0 then c:invalid(v, "spec.checkpointConfig." .. f) end
  end
end

local function validate_ce_overrides(co, c)
  local ext = tbl(tbl(co) and co.extensions)
  if not ext then return end
  local path = "spec.ceOverrides.extensions"
  for key in pairs(ext) do
    if type(key) == "string" then
      if key == "" then
        c:invalid_key(key, path, "keys MUST NOT be empty")
      elseif #key > M.MAX_EXTENSION_NAME then
        c:invalid_key(key, path, "keys SHOULD NOT be longer than 20 characters")
      elseif not key:match("^[a-z0-9]+$") then
        c:invalid_key(key, path, "keys MUST consist of lower-case letters ('a' to 'z') or digits ('0' to '9')")
      elseif M.RESERVED_EXTENSIONS[key] then
        c:invalid_key(key, path, "keys MUST NOT be CloudEvents context attributes")
      end
    end
  end
end

local function config_key_errors(key)
  if #key <= 253 and key:match("^[-._a-zA-Z0-9]+$") and key ~= "." and key ~= ".." and key:sub(1, 2) ~= ".." then
    return nil
  end
  return "a valid config key must consist of alphanumeric characters, '-', '_' or '.', "
    .. "at most 253 characters, and must not be '.', '..' or start with '..'"
end

local function validate_filter(f, c, max)
  f = tbl(f)
  if not f then return end
  local limits = tbl(f.limits)
  for _, l in ipairs(limits and M.FILTER_LIMITS or {}) do
    local v, path = limits[l.field], "spec.filter.limits." .. l.field
    local cap = tbl(max) and math.type(max[l.field]) == "integer" and max[l.field] or nil
    if is_int(v) and v < l.min then
      c:invalid(v, path, string.format("must be at least %d", l.min))
    elseif is_int(v) and cap and v > cap then
      c:invalid(v, path, string.format("must be at most %d (the controller's --filter-limits-max)", cap))
    end
  end
  local ref = tbl(f.configMapRef) or {}
  if common.unset(ref.name) then
    c:missing("spec.filter.configMapRef.name")
  elseif type(ref.name) == "string" then
    local msgs = k8s.is_dns1123_subdomain(ref.name)
    if #msgs > 0 then c:invalid(table.concat(msgs, ", "), "spec.filter.configMapRef.name") end
  end
  if str(ref.key) then
    local why = config_key_errors(ref.key)
    if why then c:invalid(ref.key, "spec.filter.configMapRef.key", why) end
  end
  if str(f.onError) and not M.FILTER_ON_ERROR[f.onError] then
    c:invalid(f.onError, "spec.filter.onError", "expected deliver or drop")
  end
end

local function validate_delivery(d, c)
  d = tbl(d)
  if not d then return end
  if is_int(d.retry) and (d.retry < 0 or d.retry > M.MAX_RETRY) then c:invalid(d.retry, "spec.delivery.retry") end
  if type(d.backoffPolicy) == "string" and not M.BACKOFF_POLICIES[d.backoffPolicy] then
    c:invalid(d.backoffPolicy, "spec.delivery.backoffPolicy", "expected linear or exponential")
  end
  if type(d.backoffDelay) == "string" and not common.is_iso8601_duration(d.backoffDelay) then
    c:invalid(d.backoffDelay, "spec.delivery.backoffDelay",
      "expected an ISO-8601 duration such as PT0.5S, PT1S, PT2M or P1D")
  end
  if not absent(d.deadLetterSink) then
    common.validate_destination(d.deadLetterSink, "spec.delivery.deadLetterSink", c)
  end
end

--- Validates obj (old, the stored object on UPDATE, is not needed: no
-- field is immutable). Returns nil, or a list of { path, message,
-- details } (see lib.fielderrors). Skipped (nil) for DELETE, subresource
-- requests and objects being deleted.
function M.validate(obj, old, ctx) -- luacheck: ignore old
  if common.skip_validation(obj, ctx) then return nil end
  local c = fe.collector()
  common.walk(obj, M.SCHEMA, "", c)
  local spec = tbl(obj.spec) or {}

  common.validate_destination(spec.sink, "spec.sink", c)
  common.validate_auth(spec, c)
  validate_checkpoint(spec.checkpointConfig, c)

  -- "" means the default (the defaulting webhook writes application/xml).
  if str(spec.payloadEncoding) then
    local enc = spec.payloadEncoding:lower()
    if not M.PAYLOAD_ENCODINGS[enc] then c:invalid(enc, "spec.payloadEncoding") end
  end

  validate_ce_overrides(spec.ceOverrides, c)
  if str(spec.serviceAccountName) then
    local msgs = k8s.is_dns1123_subdomain(spec.serviceAccountName)
    if #msgs > 0 then c:invalid(table.concat(msgs, ", "), "spec.serviceAccountName") end
  end
  common.validate_pem(spec.caCerts, "spec.caCerts", c)
  validate_filter(spec.filter, c, tbl(ctx) and ctx.filter_max)
  validate_delivery(spec.delivery, c)
  -- Ours: how ce-* header values are written (lib/desired.lua).
  local ann = tbl(tbl(obj.metadata) and obj.metadata.annotations)
  local hv = ann and ann["sources.tanzu.vmware.com/ce-header-encoding"]
  if hv ~= nil and hv ~= "raw" and hv ~= "percent" then
    c:invalid(hv, "metadata.annotations[sources.tanzu.vmware.com/ce-header-encoding]", "expected raw or percent")
  end
  return c:result()
end

--- Knative's combined message for a list returned by validate.
M.format = fe.format

return M

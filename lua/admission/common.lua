--- Pieces shared by the VSphereSource and VSphereBinding admission modules:
-- JSON null handling (lib.tables), the known-fields walker (unknown fields
-- are rejected, as the Go webhook's "disallow unknown fields" decoder did),
-- the auth spec (address, secretRef) and Knative Destination rules,
-- ISO-8601 durations and PEM certificates. Pure functions; errors go to a
-- lib.fielderrors collector.
local T = require("lib.tables")
local fe = require("lib.fielderrors")
local urls = require("lib.urls")
local vsg = require("vsg")

local M = {}

-- JSON null and the shapes of values: lib.tables (is_null, absent, tbl,
-- str), kept under these names for the admission modules.
M.is_null, M.absent, M.tbl, M.str = T.is_null, T.absent, T.tbl, T.str

--- Whether a string field is unset: absent or "" (a value of another type
-- is reported by the walker, not as missing).
function M.unset(v) return M.absent(v) or v == "" end

--- The namespace of an admitted object: metadata.namespace, else the
-- request's (ctx.namespace).
function M.namespace_of(obj, ctx)
  local md = M.tbl(obj.metadata) or {}
  return M.str(md.namespace) or (type(ctx) == "table" and M.str(ctx.namespace)) or nil
end

--- Whether validation is skipped for this request: DELETE, a subresource
-- (status) update, or an object being deleted (so a finalizer can always
-- be removed, even from an object stored before a rule got stricter).
function M.skip_validation(obj, ctx)
  ctx = type(ctx) == "table" and ctx or {}
  if ctx.operation == "DELETE" or M.str(ctx.subresource) then return true end
  local md = M.tbl(obj and obj.metadata) or {}
  return M.str(md.deletionTimestamp) ~= nil
end

-- ------------------------------------------------------------------
-- Known fields and JSON types
-- ------------------------------------------------------------------

M.STRING = { kind = "string" }
M.BOOL = { kind = "boolean" }
M.INT = { kind = "integer" }
M.ANY = { kind = "any" }
function M.object(fields) return { kind = "object", fields = fields } end
function M.map(values) return { kind = "map", values = values } end
function M.array(items) return { kind = "array", items = items } end

local function is_seq(t)
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n == #t
end

local function json_type(v)
  local t = type(v)
  if t == "table" then
    if next(v) ~= nil and is_seq(v) then return "array" end
    return "object"
  end
  return t
end

local function join(path, key)
  if path == "" then return key end
  return path .. "." .. key
end

local sorted_keys = T.sorted_keys

--- Checks `v` against `schema` (built with object/map/array and the scalar
-- kinds above): `unknown field "<key>"` at the path of each key the schema
-- does not know, `expected <type>, got <type>` for a value of the wrong
-- JSON type. JSON null is accepted anywhere (it decodes as the zero value).
function M.walk(v, schema, path, c)
  if M.absent(v) or schema.kind == "any" then return end
  local k = schema.kind
  local got = json_type(v)
  if k == "string" or k == "boolean" then
    if got ~= k then c:generic(string.format("expected %s, got %s", k, got), path) end
  elseif k == "integer" then
    if type(v) ~= "number" or (math.type(v) == "float" and v ~= math.floor(v)) then
      c:generic(string.format("expected integer, got %s", got), path)
    end
  elseif k == "object" or k == "map" then
    if type(v) ~= "table" or got == "array" then
      c:generic(string.format("expected object, got %s", got), path)
      return
    end
    for _, key in ipairs(sorted_keys(v)) do
      if type(key) ~= "string" then
        c:generic(string.format("expected object, got %s", got), path)
        return
      end
      if k == "map" then
        M.walk(v[key], schema.values, path .. "[" .. key .. "]", c)
      elseif schema.fields[key] then
        M.walk(v[key], schema.fields[key], join(path, key), c)
      else
        c:generic(string.format("unknown field %q", key), join(path, key))
      end
    end
  elseif k == "array" then
    if type(v) ~= "table" or (got == "object" and next(v) ~= nil) then
      c:generic(string.format("expected array, got %s", got), path)
      return
    end
    for i, item in ipairs(v) do M.walk(item, schema.items, string.format("%s[%d]", path, i - 1), c) end
  end
end

-- ------------------------------------------------------------------
-- Auth spec (VAuthSpec) and destinations (duckv1.Destination)
-- ------------------------------------------------------------------

--- VAuthSpec.Validate: `address` must parse as a URL with a host (else
-- "missing field(s): spec.address.host", as Go reports an address such as
-- `vc.local`) and a scheme (spec.address.scheme); secretRef.name required.
function M.validate_auth(spec, c)
  local addr = spec.address
  if type(addr) == "string" then
    local u = urls.parse(addr)
    if not u then
      c:invalid(addr, "spec.address")
    elseif not M.str(u.host) then
      c:missing("spec.address.host")
    elseif not u.scheme then
      c:missing("spec.address.scheme")
    end
  elseif M.absent(addr) then
    c:missing("spec.address.host")
  end
  local sr = M.tbl(spec.secretRef) or {}
  if M.unset(sr.name) then c:missing("spec.secretRef.name") end
end

--- The VC_URL text of an address: Go's URL.String() of the parsed address
-- (scheme lower-cased), or the address itself when it does not parse.
function M.address_text(addr)
  if type(addr) ~= "string" then return "" end
  local u = urls.parse(addr)
  return u and urls.format(u) or addr
end

--- Fills ref.namespace of a Destination with `ns` when it is empty
-- (Destination.SetDefaults within the parent).
function M.default_destination(dest, ns)
  local ref = M.tbl(M.tbl(dest) and dest.ref)
  if ref and ns and (M.absent(ref.namespace) or ref.namespace == "") then ref.namespace = ns end
end

local PEM_BEGIN = "%-%-%-%-%-BEGIN ([^\n]-)%-%-%-%-%-"

--- Why `text` is not a PEM bundle of certificates, or nil when it is one:
-- at least one "-----BEGIN CERTIFICATE-----" block, every block a
-- CERTIFICATE with base64 content and its END line.
function M.pem_error(text)
  local pos, n = 1, 0
  while true do
    local _, e, typ = text:find(PEM_BEGIN, pos)
    if not e then break end
    if typ ~= "CERTIFICATE" then return string.format("PEM block %q is not a certificate", typ) end
    local es, ee = text:find("-----END CERTIFICATE-----", e + 1, true)
    if not es then return "PEM block \"CERTIFICATE\" has no END line" end
    local body = text:sub(e + 1, es - 1):gsub("%s", "")
    if body == "" or not body:match("^[A-Za-z0-9+/]+=?=?$") then
      return "PEM block \"CERTIFICATE\" does not hold base64 data"
    end
    n = n + 1
    pos = ee + 1
  end
  if n == 0 then return "no PEM certificate (-----BEGIN CERTIFICATE-----) found" end
  return nil
end

--- Adds an error at `path` when `text` is a non-empty string and not PEM.
function M.validate_pem(text, path, c)
  if not M.str(text) then return end
  local why = M.pem_error(text)
  if why then c:invalid(why, path) end
end

--- duckv1.Destination.Validate with paths under `prefix` (spec.sink):
-- at least one of ref/uri; ref + uri => the uri must be relative; uri alone
-- => absolute with a host; ref needs apiVersion, kind and name (checked
-- whenever a ref is given: the structural schema requires them too);
-- CACerts must be PEM.
function M.validate_destination(dest, prefix, c)
  dest = M.tbl(dest) or {}
  local ref = M.tbl(dest.ref)
  local uri = type(dest.uri) == "string" and dest.uri or nil
  if not ref and not uri then
    c:generic(fe.NONE, prefix .. ".ref", prefix .. ".uri")
    return
  end
  local u
  if uri then
    u = urls.parse(uri)
    if not u then
      c:invalid(uri, prefix .. ".uri")
      return
    end
  end
  if ref and u and u.scheme then
    c:generic("Absolute URI is not allowed when Ref or [apiVersion, kind, name] is present",
      prefix .. "[apiVersion, kind, name]", prefix .. ".ref", prefix .. ".uri")
  elseif not ref and (not u.scheme or not M.str(u.host)) then
    c:invalid("Relative URI is not allowed when Ref and [apiVersion, kind, name] is absent", prefix .. ".uri")
  end
  if ref then
    for _, f in ipairs({ "name", "apiVersion", "kind" }) do
      if M.unset(ref[f]) then c:missing(prefix .. ".ref." .. f) end
    end
  end
  M.validate_pem(dest.CACerts, prefix .. ".CACerts", c)
end

--- The schema of a Destination (sink, deadLetterSink).
M.DESTINATION = M.object({
  ref = M.object({
    apiVersion = M.STRING, kind = M.STRING, name = M.STRING, namespace = M.STRING, address = M.STRING,
  }),
  uri = M.STRING,
  CACerts = M.STRING,
  audience = M.STRING,
})

-- ------------------------------------------------------------------
-- ISO-8601 durations (vsg.time.parse_iso8601_duration, the rule the
-- event sender reads backoffDelay by: base/vtime.c)
-- ------------------------------------------------------------------

--- Whether `s` is an ISO-8601 duration "PnYnMnWnDTnHnMnS" (designators
-- in that order, each at most once, at least one; 'T' before H/M/S and
-- followed by at least one of them; decimal fractions ("." or ",") on any
-- number; no sign). The webhook checks the grammar only: a well-formed
-- duration too long for the sender (why == "range", past ~292 million
-- years) is admitted, as it always was.
function M.is_iso8601_duration(s)
  if type(s) ~= "string" then return false end
  local ms, _, why = vsg.time.parse_iso8601_duration(s)
  return ms ~= nil or why == "range"
end

return M

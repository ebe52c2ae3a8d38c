--- Sink resolution (Knative's resolver.URIFromDestinationV1), as a pure
-- function of the Destination and a `get` callback.
--
--   local uri, fail = sink.resolve(dest, "default", {
--     get = function(api, kind, ns, name) return vsg.kube.get(api, kind, ns, name) end,
--     track = ctx.track,              -- optional: called for the ref before the get
--     cluster_domain = "cluster.local" -- optional
--   })
--   -- uri: "http://svc.default.svc.cluster.local"; or nil and
--   -- fail = { reason = "SinkNotFound", message = "...", retry = true|false,
--   --         unserved = true when the ref's kind is not served at all }
--
-- Rules (CONTRACTS §1-2):
--  - uri only: must be absolute (scheme and host); used as is.
--  - ref to a core v1 Service: it must exist; http://<name>.<ns>.svc.<domain>.
--  - any other ref: an Addressable; its status.address.url (or the
--    status.addresses entry named ref.address) must have a host.
--  - ref + uri: the uri is resolved against the ref's URL (RFC 3986).
-- `retry` is true when the failure may go away by itself (an API error
-- other than NotFound); the reconciler then returns an error to back off.
local T = require("lib.tables")
local urls = require("lib.urls")

local M = {}

local tbl, str = T.tbl, T.str

--- A short human description of a ref: `Broker "default" (eventing.knative.dev/v1)`.
function M.describe(ref, ns)
  return string.format('%s "%s" (%s) in namespace "%s"', tostring(ref.kind), tostring(ref.name),
    tostring(ref.apiVersion), ns)
end

local function fail(reason, message, retry, unserved)
  return nil, { reason = reason, message = message, retry = retry or false, unserved = unserved or nil }
end

-- The absolute URL of a ref, parsed, or nil and a failure.
local function ref_url(ref, ns, opts, what, reason)
  local desc = what .. " " .. M.describe(ref, ns)
  if opts.track then opts.track(ref.apiVersion, ref.kind, ns, ref.name) end
  local obj, err = opts.get(ref.apiVersion, ref.kind, ns, ref.name)
  if not obj then
    if err == nil or (type(err) == "table" and err.code == "NotFound") then
      -- A 404 without the API server's reason NotFound comes from discovery:
      -- the kind is not served (yet). Nothing can be watched for it, so the
      -- reconciler looks again later (`unserved`).
      if type(err) == "table" and err.reason ~= "NotFound" then
        return fail(reason, string.format("%s not found: the API server does not serve %s %s (is its CRD installed?)",
          desc, ref.apiVersion, ref.kind), false, true)
      end
      return fail(reason, desc .. " not found")
    end
    local msg = type(err) == "table" and (err.message or err.code) or tostring(err)
    return fail(reason, "cannot get " .. desc .. ": " .. tostring(msg), true)
  end
  if ref.apiVersion == "v1" and ref.kind == "Service" then
    local host = string.format("%s.%s.svc.%s", ref.name, ns, opts.cluster_domain or "cluster.local")
    return { scheme = "http", authority = host, host = host, path = "" }
  end
  local status = tbl(obj.status) or {}
  local url_text
  if str(ref.address) then
    for _, a in ipairs(tbl(status.addresses) or {}) do
      if type(a) == "table" and a.name == ref.address then url_text = str(a.url) end
    end
    if not url_text then
      return fail(reason, string.format('%s has no status.addresses entry named "%s" with a url', desc, ref.address))
    end
  else
    url_text = str((tbl(status.address) or {}).url)
    if not url_text then
      return fail(reason, desc .. " has no status.address.url (is it Addressable, and ready?)")
    end
  end
  local u = urls.parse(url_text)
  if not u or urls.hostname(u) == "" then
    return fail(reason, string.format('%s has an address without a host: "%s"', desc, url_text))
  end
  return u
end

--- Resolves Destination `dest` of an object in namespace `ns`; see above.
-- `what` names it in messages ("sink", "dead-letter sink"); `reason` is the
-- condition reason of failures (default "SinkNotFound").
function M.resolve(dest, ns, opts, what, reason)
  what = what or "sink"
  reason = reason or "SinkNotFound"
  dest = tbl(dest) or {}
  local ref = tbl(dest.ref)
  local uri = str(dest.uri)
  if ref then
    for _, f in ipairs({ "apiVersion", "kind", "name" }) do
      if not str(ref[f]) then
        return fail(reason, string.format("%s.ref.%s is missing", what, f))
      end
    end
    local rns = str(ref.namespace) or ns
    local base, f = ref_url(ref, rns, opts, what, reason)
    if not base then return nil, f end
    if uri then
      local r = urls.parse(uri)
      if not r then return fail(reason, string.format('%s.uri "%s" is not a valid URI reference', what, uri)) end
      base = urls.resolve(base, r)
    end
    return urls.format(base)
  end
  if uri then
    local u = urls.parse(uri)
    if not u or not u.scheme or urls.hostname(u) == "" then
      return fail(reason, string.format('%s.uri "%s" is not absolute (it needs a scheme and a host)', what, uri))
    end
    return urls.format(u)
  end
  return fail(reason, what .. " has neither ref nor uri")
end

return M

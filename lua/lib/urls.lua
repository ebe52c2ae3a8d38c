--- URL parsing, formatting and reference resolution with Go's net/url
-- semantics (Parse, String, ResolveReference), as far as sink URIs need.
--
--   local u = urls.parse("http://broker.ns.svc.cluster.local/ns/default")
--   u.scheme, u.host, u.path        --> "http", "broker.ns.svc.cluster.local", "/ns/default"
--   urls.format(urls.resolve(u, urls.parse("../x?y=1")))
--                                   --> "http://broker.ns.svc.cluster.local/x?y=1"
local M = {}

--- Splits `s` into { scheme, authority (user@host:port or nil), host
-- (host[:port] without userinfo, or nil), path, query (or nil), fragment
-- (or nil), opaque (the rest after "scheme:" when it has no "//") }.
-- Returns nil and a message for text that is not a URL reference.
function M.parse(s)
  if type(s) ~= "string" then return nil, "not a string" end
  if s:find("[%z\1-\31\127 ]") then return nil, "invalid character in URL" end
  local u = {}
  local rest = s
  local frag_at = rest:find("#", 1, true)
  if frag_at then
    u.fragment = rest:sub(frag_at + 1)
    rest = rest:sub(1, frag_at - 1)
  end
  local scheme, after = rest:match("^([A-Za-z][A-Za-z0-9+.%-]*):(.*)$")
  if scheme then
    u.scheme = scheme:lower()
    rest = after
  elseif rest:match("^[^/?]*:") then
    return nil, "first path segment in URL cannot contain colon"
  end
  local q_at = rest:find("?", 1, true)
  if q_at then
    u.query = rest:sub(q_at + 1)
    rest = rest:sub(1, q_at - 1)
  end
  if u.scheme and rest:sub(1, 1) ~= "/" and rest ~= "" then
    u.opaque = rest
    return u
  end
  if rest:sub(1, 2) == "//" then
    local auth, path = rest:sub(3):match("^([^/]*)(.*)$")
    u.authority = auth
    u.host = auth:match("@([^@]*)$") or auth
    u.path = path
  else
    u.path = rest
  end
  return u
end

--- The host name without port (and without IPv6 brackets); "" when none.
function M.hostname(u)
  local h = u.host or ""
  local v6 = h:match("^%[([^%]]*)%]")
  if v6 then return v6 end
  return (h:gsub(":%d*$", ""))
end

--- Text of a parsed URL (Go URL.String for the parts we keep).
function M.format(u)
  local out = {}
  if u.scheme then out[#out + 1] = u.scheme .. ":" end
  if u.opaque then
    out[#out + 1] = u.opaque
  else
    if u.authority or u.scheme then
      if u.authority and (u.authority ~= "" or u.scheme == "file") then
        out[#out + 1] = "//" .. u.authority
      end
    end
    local p = u.path or ""
    if p ~= "" and p:sub(1, 1) ~= "/" and (u.authority or "") ~= "" then p = "/" .. p end
    out[#out + 1] = p
  end
  if u.query then out[#out + 1] = "?" .. u.query end
  if u.fragment then out[#out + 1] = "#" .. u.fragment end
  return table.concat(out)
end

-- Go's resolvePath: merges base and ref paths and removes dot segments.
local function resolve_path(base, ref)
  local full
  if ref == "" then
    full = base
  elseif ref:sub(1, 1) ~= "/" then
    local i = base:match("^.*()/") -- position of the last '/'
    full = (i and base:sub(1, i) or "") .. ref
  else
    full = ref
  end
  if full == "" then return "" end
  local dst = { "/" } -- written text; dst[1] is the leading slash
  local buf = ""
  local first = true
  local elem
  local remaining = full
  local found = true
  while found do
    local cut = remaining:find("/", 1, true)
    if cut then
      elem, remaining = remaining:sub(1, cut - 1), remaining:sub(cut + 1)
    else
      elem, remaining, found = remaining, "", false
    end
    if elem == "." then
      first = false
    elseif elem == ".." then
      local idx = buf:match("^.*()/")
      if idx then
        buf = buf:sub(1, idx - 1)
      else
        buf = ""
        first = true
      end
    else
      if not first then buf = buf .. "/" end
      buf = buf .. elem
      first = false
    end
  end
  if elem == "." or elem == ".." then buf = buf .. "/" end
  local r = dst[1] .. buf
  if #r > 1 and r:sub(2, 2) == "/" then r = r:sub(2) end
  return r
end

--- Go base.ResolveReference(ref), both parsed.
function M.resolve(base, ref)
  local u = {}
  for k, v in pairs(ref) do u[k] = v end
  if not ref.scheme then u.scheme = base.scheme end
  if ref.scheme or ref.authority then
    u.path = resolve_path(ref.path or "", "")
    return u
  end
  if ref.opaque then
    return u
  end
  if (ref.path or "") == "" and not ref.query then
    u.query = base.query
    if not ref.fragment then u.fragment = base.fragment end
  end
  u.authority, u.host = base.authority, base.host
  u.path = resolve_path(base.path or "", ref.path or "")
  return u
end

return M

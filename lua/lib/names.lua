--- Child object names, as Knative's kmeta.ChildName makes them.
--
-- `<parent><suffix>` when it fits in 63 characters; otherwise the parent is
-- cut and the hex MD5 of the whole parent name is put between the cut
-- parent and the suffix, so the result is exactly 63 characters and still
-- unique (knative.dev/pkg/kmeta/names.go). MD5 is not in Lua, so callers
-- pass it in: in the controller `vsg.hash.md5`, in specs any function that
-- returns the lower-case hex digest of its argument.
--
--   names.child_name("src", "-adapter", md5)   --> "src-adapter"
--   names.for_source("src", md5).deployment    --> "src-adapter"
local M = {}

local LONGEST = 63
local MD5_LEN = 32
local HEAD = LONGEST - MD5_LEN -- how much of the parent is kept before the hash

local function digest(md5, s)
  local h = md5(s)
  assert(type(h) == "string" and #h == MD5_LEN and not h:find("[^0-9a-f]"),
    "names: md5 must return 32 lower-case hex digits")
  return h
end

--- kmeta.ChildName(parent, suffix).
function M.child_name(parent, suffix, md5)
  assert(type(parent) == "string" and type(suffix) == "string", "names.child_name: strings expected")
  if #parent <= LONGEST - #suffix then
    return parent .. suffix
  end
  if HEAD - #suffix <= 0 then
    -- A suffix longer than 31 characters: hash parent and suffix together,
    -- pad with the start of the suffix, never end in '-'.
    local h = digest(md5, parent .. suffix)
    local ret = parent:sub(1, HEAD) .. h
    local d = LONGEST - #ret
    if d > 0 then ret = ret .. suffix:sub(1, d) end
    return (ret:gsub("%-+$", ""))
  end
  return parent:sub(1, HEAD - #suffix) .. digest(md5, parent) .. suffix
end

--- The suffixes of a VSphereSource's children (upstream resources/names).
M.SUFFIX = {
  deployment = "-adapter",
  binding = "-vspherebinding",
  configmap = "-configmap",
  rolebinding = "-rolebinding",
}

--- All child names of the VSphereSource called `name`.
function M.for_source(name, md5)
  local out = {}
  for what, suffix in pairs(M.SUFFIX) do
    out[what] = M.child_name(name, suffix, md5)
  end
  return out
end

--- A label value naming `name`: the name itself when it is a valid label
-- value length (63), else ChildName(name, "") (31 characters of the name and
-- its MD5), so sources with names longer than 63 characters still get valid
-- labels (ours; the Go version wrote the name as is and the Deployment was
-- rejected).
function M.label_value(name, md5)
  if #name <= LONGEST then return name end
  return M.child_name(name, "", md5)
end

return M

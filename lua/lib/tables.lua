--- Small helpers for the Kubernetes objects reconcilers handle (tables
-- decoded from JSON, where JSON null is vsg.null, a userdata).
local M = {}

--- `v` when it is a table, else nil (nil and vsg.null count as absent).
function M.tbl(v)
  return type(v) == "table" and v or nil
end

--- `v` when it is a non-empty string, else nil.
function M.str(v)
  return type(v) == "string" and v ~= "" and v or nil
end

--- Follows `path` (a list of keys) from `t`; nil as soon as a step is not
-- a table.
function M.get(t, ...)
  for i = 1, select("#", ...) do
    if type(t) ~= "table" then return nil end
    t = t[select(i, ...)]
  end
  return t
end

--- A deep copy of plain data (metatables, such as JSON array markers, are
-- not copied).
function M.copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = M.copy(x) end
  return out
end

--- Deep equality of plain data; metatables are ignored, so a decoded
-- array equals the same unmarked table.
function M.equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, x in pairs(a) do
    if not M.equal(x, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

return M

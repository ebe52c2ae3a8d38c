--- Small helpers for plain data decoded from JSON: the Kubernetes objects
-- the reconcilers and admission webhooks handle. The one set of them
-- (lua/ uses no other).
--
-- JSON null: vsg.json.decode gives JSON null as vsg.null, a light userdata
-- (truthy, and not a table); vsg.isnull(v) is true for nil and vsg.null.
-- Here is_null(v) is vsg.null only, absent(v) is nil or vsg.null (Go
-- decodes null as the zero value), and tbl/str treat vsg.null as absent
-- (it is neither a table nor a string).
local vsg = require("vsg")

local M = {}

--- Whether `v` is JSON null (vsg.null; nil is not).
function M.is_null(v)
  return v ~= nil and vsg.isnull(v)
end

--- Whether `v` is absent: nil or JSON null.
function M.absent(v)
  return vsg.isnull(v)
end

--- `v` when it is a table, else nil (nil and vsg.null count as absent).
function M.tbl(v)
  return type(v) == "table" and v or nil
end

--- `v` when it is a non-empty string, else nil.
function M.str(v)
  return type(v) == "string" and v ~= "" and v or nil
end

--- The keys of `t`, sorted by their tostring() (so keys of mixed types
-- sort too; for string keys, plain string order).
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
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

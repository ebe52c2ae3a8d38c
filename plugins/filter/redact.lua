--- Replace payload fields before they leave the cluster. Paths are dotted
-- (`Vm.Name`, `IpAddress`); array elements are walked through, so
-- `Arguments.Value` redacts every argument's value. The field keeps its
-- type class: strings become the replacement, other values are cleared to
-- the replacement string only when `force` is set, else left out.
--
--   redact.fields{"IpAddress", "UserAgent"}                    -> "REDACTED"
--   redact.fields({"UserName"}, {replacement = "***"})
local M = {}

local function split(path)
  local parts = {}
  for p in path:gmatch("[^.]+") do parts[#parts + 1] = p end
  return parts
end

local function walk(t, parts, i, repl, force)
  if type(t) ~= "table" then return end
  if t[1] ~= nil then -- an array: apply to each element
    for _, v in ipairs(t) do walk(v, parts, i, repl, force) end
    return
  end
  local key = parts[i]
  local v = t[key]
  if v == nil then return end
  if i == #parts then
    if type(v) == "string" or force then t[key] = repl end
  else
    walk(v, parts, i + 1, repl, force)
  end
end

function M.fields(paths, opts)
  assert(type(paths) == "table", "redact.fields: expected a list of paths")
  opts = opts or {}
  local repl = opts.replacement or "REDACTED"
  local compiled = {}
  for i, p in ipairs(paths) do compiled[i] = split(p) end
  return function(event)
    for _, parts in ipairs(compiled) do walk(event.data, parts, 1, repl, opts.force) end
    return event
  end
end

return M

--- Knative-style field errors (knative.dev/pkg/apis FieldError), as plain
-- lists the admission webhook and the reconcilers can hand around.
--
-- An error list is an array of { path = "spec.address.host",
-- message = "missing field(s)", details = nil|string }, one path per entry.
-- `format` merges entries the way FieldError.Error() does: entries with the
-- same message and details share one line listing their paths (de-duplicated,
-- sorted); lines are sorted by message, then details:
--
--   local fe = require("lib.fielderrors")
--   local c = fe.collector()
--   c:missing("spec.address.host", "spec.secretRef.name")
--   c:invalid("foo", "spec.payloadEncoding")
--   local errs = c:result()          -- nil when nothing was added
--   fe.format(errs)
--   --> "invalid value: foo: spec.payloadEncoding\n"
--   --  .. "missing field(s): spec.address.host, spec.secretRef.name"
local M = {}

-- The messages of Knative's helpers (apis.ErrMissingField & co).
M.MISSING = "missing field(s)"
M.BOTH = "expected exactly one, got both"
M.NEITHER = "expected exactly one, got neither"
M.NONE = "expected at least one, got none"

--- Text of a value as Go's %v prints it for the scalars a spec holds
-- (integral floats without ".0").
function M.value_text(v)
  if math.type(v) == "float" and v == math.floor(v) and v > -2 ^ 63 and v < 2 ^ 63 then
    return string.format("%d", math.tointeger(v))
  end
  return tostring(v)
end

local Collector = {}
Collector.__index = Collector

--- A new, empty collector of field errors.
function M.collector()
  return setmetatable({ list = {} }, Collector)
end

--- Adds one error per path (several paths with one message merge in format).
function Collector:add(message, details, ...)
  for i = 1, select("#", ...) do
    local p = select(i, ...)
    self.list[#self.list + 1] = { path = p, message = message, details = details }
  end
  return self
end

--- apis.ErrMissingField(paths...)
function Collector:missing(...) return self:add(M.MISSING, nil, ...) end

--- apis.ErrInvalidValue(value, path): "invalid value: <value>".
function Collector:invalid(value, path, details)
  return self:add("invalid value: " .. M.value_text(value), details, path)
end

--- apis.ErrGeneric(message, paths...)
function Collector:generic(message, ...) return self:add(message, nil, ...) end

--- apis.ErrMultipleOneOf(paths...)
function Collector:both(...) return self:add(M.BOTH, nil, ...) end

--- apis.ErrMissingOneOf(paths...)
function Collector:neither(...) return self:add(M.NEITHER, nil, ...) end

--- apis.ErrInvalidKeyName(key, path, details)
function Collector:invalid_key(key, path, details)
  return self:add(string.format("invalid key name %q", key), details, path)
end

--- Appends every entry of another list (or collector).
function Collector:also(other)
  local l = getmetatable(other) == Collector and other.list or other
  for _, e in ipairs(l or {}) do self.list[#self.list + 1] = e end
  return self
end

--- The list, or nil when it is empty.
function Collector:result()
  if #self.list == 0 then return nil end
  return self.list
end

--- The combined message of a list, as knative's FieldError.Error(); "" for
-- nil or an empty list.
function M.format(errs)
  if not errs or #errs == 0 then return "" end
  local groups, order = {}, {}
  for _, e in ipairs(errs) do
    local k = (e.message or "") .. "-" .. (e.details or "")
    local g = groups[k]
    if not g then
      g = { message = e.message or "", details = e.details or "", paths = {}, seen = {} }
      groups[k] = g
      order[#order + 1] = g
    end
    local p = e.path or ""
    if not g.seen[p] then
      g.seen[p] = true
      g.paths[#g.paths + 1] = p
    end
  end
  table.sort(order, function(a, b)
    if a.message == b.message then return a.details < b.details end
    return a.message < b.message
  end)
  local lines = {}
  for _, g in ipairs(order) do
    table.sort(g.paths)
    local line = g.message .. ": " .. table.concat(g.paths, ", ")
    if g.details ~= "" then line = line .. "\n" .. g.details end
    lines[#lines + 1] = line
  end
  return table.concat(lines, "\n")
end

--- The entry of `errs` for `path` (and `message` when given), or nil.
function M.find(errs, path, message)
  for _, e in ipairs(errs or {}) do
    if e.path == path and (message == nil or e.message == message) then return e end
  end
  return nil
end

return M

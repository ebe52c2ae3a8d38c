--- Shared helpers of the filter plugins: glob matching, event fields.
local M = {}

--- Turns a glob (`*` any run, `?` one character) into an anchored Lua
-- pattern. Everything else matches literally.
function M.glob_to_pattern(glob)
  assert(type(glob) == "string", "glob must be a string")
  local out = { "^" }
  for i = 1, #glob do
    local c = glob:sub(i, i)
    if c == "*" then
      out[#out + 1] = ".*"
    elseif c == "?" then
      out[#out + 1] = "."
    elseif c:match("%p") then
      out[#out + 1] = "%" .. c
    else
      out[#out + 1] = c
    end
  end
  out[#out + 1] = "$"
  return table.concat(out)
end

--- Compiles a list of globs (or one glob) into a matcher function.
-- An empty list matches nothing.
function M.matcher(globs)
  if type(globs) == "string" then globs = { globs } end
  assert(type(globs) == "table", "expected a glob or a list of globs")
  local pats = {}
  for i, g in ipairs(globs) do pats[i] = M.glob_to_pattern(g) end
  return function(s)
    if type(s) ~= "string" then return false end
    for _, p in ipairs(pats) do
      if s:match(p) then return true end
    end
    return false
  end
end

--- The vSphere part X of a CloudEvent type com.vmware.vsphere.X.v0
-- (the event class, or the eventTypeId of EventEx/ExtendedEvent).
function M.detail(event)
  local t = event and event.type
  if type(t) ~= "string" then return nil end
  return t:match("^com%.vmware%.vsphere%.(.+)%.v0$") or t
end

--- A non-null table field of the payload (vsg.null and nil count as absent).
function M.field(t, key)
  if type(t) ~= "table" then return nil end
  local v = t[key]
  if type(v) == "userdata" then return nil end -- vsg.null
  return v
end

--- Applies `fn` to the event or to each event of a fan-out array.
function M.each(result, fn)
  if result == nil or result == false then return result end
  if result[1] ~= nil and result.id == nil then
    local out = {}
    for _, ev in ipairs(result) do
      local r = fn(ev)
      if r then out[#out + 1] = r end
    end
    return out
  end
  return fn(result)
end

--- Gives the `include` and `exclude` stage builders of a plugin whose
-- `compile(spec)` returns a predicate on events: include keeps the events
-- the predicate accepts, exclude drops them.
function M.gates(compile)
  local function include(spec)
    local m = compile(spec)
    return function(event)
      if m(event) then return event end
      return nil
    end
  end
  local function exclude(spec)
    local m = compile(spec)
    return function(event)
      if m(event) then return nil end
      return event
    end
  end
  return include, exclude
end

--- Shallow copy.
function M.copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

return M

--- Knative-style condition sets (knative.dev/pkg/apis ConditionSet), in Lua.
--
-- A condition set names a happy condition (`Ready`) and the dependents it is
-- made of (`AuthReady`, `AdapterReady`, ...). Marking a dependent recomputes
-- the happy condition: True when every dependent is True, False as soon as
-- one is False (taking that one's reason and message), Unknown otherwise.
-- Conditions are kept sorted by type, as Knative does, and
-- `lastTransitionTime` only changes when the status does.
--
--   local cs = conditions.set("Ready", {"AuthReady", "AdapterReady"})
--   local m = cs:manage(status, now)   -- status.conditions is edited in place
--   m:mark_true("AuthReady")
--   m:mark_false("AdapterReady", "SinkNotFound", "sink %s not found", name)
local M = {}

local Set = {}
Set.__index = Set

--- Makes a condition set. `happy` is the top condition type, `deps` the list
-- of dependent condition types.
function M.set(happy, deps)
  assert(type(happy) == "string", "conditions.set: happy must be a string")
  local d = {}
  for i, t in ipairs(deps or {}) do
    assert(type(t) == "string", "conditions.set: dependents must be strings")
    d[i] = t
  end
  return setmetatable({ happy = happy, deps = d }, Set)
end

local Manager = {}
Manager.__index = Manager

--- Returns a manager that edits `status.conditions` in place. `now` is the
-- RFC 3339 time stamped on transitions. Missing conditions are initialised
-- to Unknown.
function Set:manage(status, now)
  assert(type(status) == "table", "manage: status must be a table")
  status.conditions = status.conditions or {}
  local m = setmetatable({ set = self, status = status, now = now or "" }, Manager)
  for _, t in ipairs(self.deps) do
    if not m:get(t) then m:_put(t, "Unknown", nil, nil) end
  end
  if not m:get(self.happy) then m:_put(self.happy, "Unknown", nil, nil) end
  m:_recompute()
  return m
end

function Manager:get(ctype)
  for _, c in ipairs(self.status.conditions) do
    if c.type == ctype then return c end
  end
  return nil
end

local function sort_conditions(list)
  table.sort(list, function(a, b) return a.type < b.type end)
end

function Manager:_put(ctype, status, reason, message)
  local c = self:get(ctype)
  if not c then
    c = { type = ctype }
    table.insert(self.status.conditions, c)
    sort_conditions(self.status.conditions)
  end
  if c.status ~= status then c.lastTransitionTime = self.now end
  c.status = status
  c.reason = reason
  c.message = message
  -- Knative writes severity "" for the happy and its dependents; omit it.
  return c
end

local function fmt(message, ...)
  if message == nil then return nil end
  if select("#", ...) > 0 then return string.format(message, ...) end
  return message
end

function Manager:_is_dep(ctype)
  for _, t in ipairs(self.set.deps) do
    if t == ctype then return true end
  end
  return false
end

function Manager:_recompute()
  local unknown
  for _, t in ipairs(self.set.deps) do
    local c = self:get(t)
    if c.status == "False" then
      self:_put(self.set.happy, "False", c.reason, c.message)
      return
    elseif c.status ~= "True" and not unknown then
      unknown = c
    end
  end
  if unknown then
    self:_put(self.set.happy, "Unknown", unknown.reason, unknown.message)
  else
    self:_put(self.set.happy, "True", nil, nil)
  end
end

local function mark(self, ctype, status, reason, message, ...)
  assert(type(ctype) == "string", "mark: condition type must be a string")
  if ctype == self.set.happy then
    error("mark: " .. ctype .. " is computed from its dependents", 3)
  end
  self:_put(ctype, status, reason, fmt(message, ...))
  if self:_is_dep(ctype) then self:_recompute() end
end

function Manager:mark_true(ctype)
  mark(self, ctype, "True", nil, nil)
end

function Manager:mark_false(ctype, reason, message, ...)
  mark(self, ctype, "False", reason, message, ...)
end

function Manager:mark_unknown(ctype, reason, message, ...)
  mark(self, ctype, "Unknown", reason, message, ...)
end

--- Copies status, reason and message of an external condition (such as a
-- Deployment's Available) into `ctype`; nil means Unknown.
function Manager:propagate(ctype, cond)
  if cond == nil then
    mark(self, ctype, "Unknown", nil, nil)
  elseif cond.status == "True" then
    mark(self, ctype, "True", cond.reason, cond.message)
  elseif cond.status == "False" then
    mark(self, ctype, "False", cond.reason, cond.message)
  else
    mark(self, ctype, "Unknown", cond.reason, cond.message)
  end
end

function Manager:is_happy()
  local c = self:get(self.set.happy)
  return c ~= nil and c.status == "True"
end

--- Seconds condition `c` has been in its state at `now` (RFC 3339 strings,
-- read with `parse`, vsg.time.parse); 0 when that is unknown.
function M.waited(c, now, parse)
  if type(c) ~= "table" or type(parse) ~= "function" then return 0 end
  if type(c.lastTransitionTime) ~= "string" or type(now) ~= "string" then return 0 end
  local from, to = parse(c.lastTransitionTime), parse(now)
  if not from or not to then return 0 end
  return to - from
end

--- Seconds until a reconciler looks again at something it does not watch
-- and that is not there yet (a sink kind not served yet, a Secret not
-- created yet): half the time it has been missing (`waited`), between 5
-- and 60 seconds, so a fix made soon is seen soon and a long wait costs
-- one request a minute.
function M.recheck_after(waited)
  return math.min(60, math.max(5, math.floor((tonumber(waited) or 0) / 2)))
end

return M

--- Keep or drop events by type. Patterns are globs matched against the
-- vSphere part of the type (the class such as `VmPoweredOnEvent`, or the
-- eventTypeId of EventEx/ExtendedEvent such as `com.vmware.vc.*`), or,
-- when they start with `com.vmware.vsphere.`, against the whole type.
--
--   types.include{"Vm*"}       keeps only matching events
--   types.exclude{"User*SessionEvent"} drops matching events
local util = require("filter.util")
local M = {}

local function match_any(globs)
  local short, full = {}, {}
  if type(globs) == "string" then globs = { globs } end
  for _, g in ipairs(globs) do
    if g:find("^com%.vmware%.vsphere%.") then full[#full + 1] = g else short[#short + 1] = g end
  end
  local ms, mf = util.matcher(short), util.matcher(full)
  -- Types repeat: remember the answer per type (bounded), so the usual
  -- event costs one table lookup instead of pattern matches.
  local memo, n = {}, 0
  return function(event)
    local t = event.type
    local hit = memo[t]
    if hit == nil then
      hit = ms(util.detail(event)) or mf(t)
      if type(t) == "string" then
        n = n + 1
        if n > 4096 then memo, n = {}, 1 end
        memo[t] = hit
      end
    end
    return hit
  end
end

M.include, M.exclude = util.gates(match_any)

return M

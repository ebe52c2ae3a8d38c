--- Combines filter stages into one filter function.
--
--   local chain = require("filter.chain")
--   local types = require("filter.types")
--   filter = chain{ types.exclude{"UserLoginSessionEvent", "UserLogoutSessionEvent"},
--                   require("filter.extensions").add{team = "infra"} }
--
-- Each stage takes an event and returns the event (possibly changed), nil or
-- false to drop it, or an array of events (fan-out: later stages see each).
local util = require("filter.util")

return function(stages)
  assert(type(stages) == "table", "chain: expected a list of stages")
  for i, s in ipairs(stages) do
    assert(type(s) == "function", "chain: stage " .. i .. " is not a function")
  end
  return function(event)
    local result = event
    for _, stage in ipairs(stages) do
      result = util.each(result, stage)
      if not result or (result[1] == nil and result.id == nil) then return nil end
    end
    return result
  end
end

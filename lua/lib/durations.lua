--- Go time.Duration.String() for whole seconds: vsg.time.format_duration
-- (base/vtime.c, the one formatter) of s seconds, clamped to what a Go
-- Duration holds.
--
--   durations.go_seconds(0)    --> "0s"
--   durations.go_seconds(10)   --> "10s"
--   durations.go_seconds(300)  --> "5m0s"
--   durations.go_seconds(3661) --> "1h1m1s"
local vsg = require("vsg")

local M = {}

--- Largest whole number of seconds a Go time.Duration (int64 nanoseconds)
-- holds; larger values are clamped to it.
M.MAX_SECONDS = 9223372036

function M.go_seconds(s)
  assert(math.type(s) == "integer", "durations.go_seconds: integer seconds expected")
  if s > M.MAX_SECONDS then s = M.MAX_SECONDS end
  if s < -M.MAX_SECONDS then s = -M.MAX_SECONDS end
  return vsg.time.format_duration(s * 1000000000)
end

return M

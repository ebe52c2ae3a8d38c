--- Go time.Duration.String() for whole seconds.
--
--   durations.go_seconds(0)    --> "0s"
--   durations.go_seconds(10)   --> "10s"
--   durations.go_seconds(300)  --> "5m0s"
--   durations.go_seconds(3661) --> "1h1m1s"
local M = {}

--- Largest whole number of seconds a Go time.Duration (int64 nanoseconds)
-- holds; larger values are clamped to it.
M.MAX_SECONDS = 9223372036

function M.go_seconds(s)
  assert(math.type(s) == "integer", "durations.go_seconds: integer seconds expected")
  local neg = s < 0
  if neg then s = -s end
  if s > M.MAX_SECONDS then s = M.MAX_SECONDS end
  if s == 0 then return "0s" end
  local h, m = s // 3600, (s % 3600) // 60
  local sec = s % 60
  local out
  if h > 0 then
    out = string.format("%dh%dm%ds", h, m, sec)
  elseif m > 0 then
    out = string.format("%dm%ds", m, sec)
  else
    out = string.format("%ds", sec)
  end
  return neg and ("-" .. out) or out
end

return M

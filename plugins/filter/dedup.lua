--- Drop bursts of identical events: after an event passes, events with the
-- same key (by default: type + entity names + message) are dropped for
-- `window` seconds (by the events' own `time`). The state is kept in the
-- filter's Lua state, so it survives between events but starts empty after
-- a reload.
--
--   dedup.window(60)
--   dedup.window(10, function(e) return e.type .. (e.data.Vm and e.data.Vm.Name or "") end)
local util = require("filter.util")
local M = {}

--- Seconds since the epoch of an RFC 3339 UTC time (fraction kept).
function M.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, frac = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)[Tt](%d%d):(%d%d):(%d%d)(%.?%d*)")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  -- days from civil (Howard Hinnant), independent of the local zone
  y = mo <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  local t = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
  if frac ~= "" and frac ~= "." then t = t + tonumber("0" .. frac) end
  local sign, oh, om = s:match("([+-])(%d%d):(%d%d)$")
  if sign then
    local off = tonumber(oh) * 3600 + tonumber(om) * 60
    t = sign == "+" and t - off or t + off
  end
  return t
end

local function default_key(event)
  local d = event.data or {}
  local parts = { event.type or "" }
  for _, f in ipairs({ "Datacenter", "ComputeResource", "Host", "Vm", "Ds" }) do
    local a = util.field(d, f)
    parts[#parts + 1] = util.field(a, "Name") or ""
  end
  -- An empty FullFormattedMessage (vcsim, events posted by API) falls back
  -- to Message, so user events with different messages stay different.
  local msg = util.field(d, "FullFormattedMessage")
  if msg == nil or msg == "" then msg = util.field(d, "Message") end
  parts[#parts + 1] = msg or ""
  return table.concat(parts, "\31")
end

function M.window(seconds, keyfn, max_keys)
  assert(type(seconds) == "number" and seconds > 0, "dedup.window: seconds must be > 0")
  keyfn = keyfn or default_key
  max_keys = max_keys or 10000
  local last, count = {}, 0
  return function(event)
    local now = M.parse_time(event.time) or 0
    local k = keyfn(event)
    local seen = last[k]
    if seen and now - seen < seconds and now >= seen then return nil end
    if not seen then
      count = count + 1
      if count > max_keys then -- bound the memory: forget everything old
        local keep = {}
        count = 0
        for kk, t in pairs(last) do
          if now - t < seconds then keep[kk] = t; count = count + 1 end
        end
        last = keep
        count = count + 1
      end
    end
    last[k] = now
    return event
  end
end

return M

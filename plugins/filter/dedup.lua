--- Drop bursts of identical events: after an event passes, events with the
-- same key (by default: type + entity names + message) are dropped for
-- `window` seconds (by the events' own `time`). The state is kept in the
-- filter's Lua state, so it survives between events but starts empty after
-- a reload.
--
--   dedup.window(60)
--   dedup.window(10, function(e) return e.type .. (e.data.Vm and e.data.Vm.Name or "") end)
local util = require("filter.util")
local vsg = require("vsg")
local M = {}

--- Seconds since the epoch (a float, fraction kept) of an RFC 3339 time,
-- read by vsg.time.parse (offsets applied); nil for anything else.
function M.parse_time(s)
  if type(s) ~= "string" then return nil end
  local sec, nsec = vsg.time.parse(s)
  if not sec then return nil end
  return sec + nsec / 1e9
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

--- A dedup filter. `max_keys` (default 10,000) bounds the keys it keeps:
-- past it, the oldest are forgotten first. The keys are kept in the order
-- they passed (a queue; a key that passes again is queued again and its old
-- entry skipped), so expiring and evicting cost O(1) amortised per event,
-- whatever the number of keys.
function M.window(seconds, keyfn, max_keys)
  assert(type(seconds) == "number" and seconds > 0, "dedup.window: seconds must be > 0")
  keyfn = keyfn or default_key
  max_keys = max_keys or 10000
  assert(type(max_keys) == "number" and max_keys >= 1, "dedup.window: max_keys must be >= 1")
  local last, count = {}, 0          -- key -> time it last passed; live keys
  local qkey, qtime, head, tail = {}, {}, 1, 0
  -- Forgets the oldest entry: its key, unless that key passed again since.
  local function pop()
    local k, t = qkey[head], qtime[head]
    qkey[head], qtime[head] = nil, nil
    head = head + 1
    if last[k] == t then
      last[k] = nil
      count = count - 1
    end
  end
  return function(event)
    local now = M.parse_time(event.time) or 0
    -- Expired entries go first (events come roughly in time order).
    while head <= tail and now - qtime[head] >= seconds do pop() end
    local k = keyfn(event)
    local seen = last[k]
    if seen and now - seen < seconds and now >= seen then return nil end
    if not seen then count = count + 1 end
    last[k] = now
    tail = tail + 1
    qkey[tail], qtime[tail] = k, now
    while count > max_keys do pop() end
    return event
  end
end

return M

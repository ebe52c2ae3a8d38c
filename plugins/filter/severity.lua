--- Route EventEx events by severity (`Severity`: info, warning, error,
-- user; absent means info): expose it as the `severity` extension, drop
-- events below a threshold, or rename the type per severity.
--
--   severity.tag()                        adds extension severity=<s> to EventEx
--   severity.at_least("warning")          drops EventEx below warning (others pass)
--   severity.route{ error = "com.example.alert", warning = "com.example.warn" }
local util = require("filter.util")
local M = {}

local RANK = { user = 0, info = 1, warning = 2, error = 3 }

local function severity_of(event)
  if event.extensions and event.extensions.eventclass ~= "eventex" then return nil end
  local s = util.field(event.data, "Severity")
  if s == nil or s == "" then return "info" end
  return s
end

function M.tag()
  return function(event)
    local s = severity_of(event)
    if s then
      event.extensions = event.extensions or {}
      event.extensions.severity = s
    end
    return event
  end
end

function M.at_least(level)
  local min = RANK[level]
  assert(min, "severity.at_least: unknown level '" .. tostring(level) .. "'")
  return function(event)
    local s = severity_of(event)
    if s and (RANK[s] or 1) < min then return nil end
    return event
  end
end

function M.route(map)
  assert(type(map) == "table", "severity.route: expected a table")
  return function(event)
    local s = severity_of(event)
    if s and map[s] then event.type = map[s] end
    return event
  end
end

return M

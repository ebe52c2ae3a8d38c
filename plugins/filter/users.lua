--- Keep or drop events by the user who caused them (`UserName`, e.g.
-- `VSPHERE.LOCAL\Administrator`; empty for system events). Globs.
--
--   users.exclude{"vpxd-extension-*", ""}   drop system and extension noise
local util = require("filter.util")
local M = {}

function M.include(globs)
  local m = util.matcher(globs)
  return function(event)
    if m(util.field(event.data, "UserName") or "") then return event end
    return nil
  end
end

function M.exclude(globs)
  local m = util.matcher(globs)
  return function(event)
    if m(util.field(event.data, "UserName") or "") then return nil end
    return event
  end
end

return M

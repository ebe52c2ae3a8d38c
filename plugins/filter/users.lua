--- Keep or drop events by the user who caused them (`UserName`, e.g.
-- `VSPHERE.LOCAL\Administrator`; empty for system events). Globs.
--
--   users.exclude{"vpxd-extension-*", ""}   drop system and extension noise
local util = require("filter.util")
local M = {}

local function compile(globs)
  local m = util.matcher(globs)
  return function(event) return m(util.field(event.data, "UserName") or "") end
end

M.include, M.exclude = util.gates(compile)

return M

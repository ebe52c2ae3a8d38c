--- Rename or map event types.
--
--   rename.types{ VmPoweredOnEvent = "vm.started", VmPoweredOffEvent = "vm.stopped" }
--     maps the vSphere part; a value with a dot and no "com.vmware." prefix is
--     used as the whole new type.
--   rename.prefix("com.example.vsphere.")  -> com.example.vsphere.<X>
local util = require("filter.util")
local M = {}

function M.types(map)
  assert(type(map) == "table", "rename.types: expected a table")
  return function(event)
    local to = map[util.detail(event)]
    if to then event.type = to end
    return event
  end
end

function M.prefix(prefix, suffix)
  assert(type(prefix) == "string", "rename.prefix: expected a string")
  suffix = suffix or ""
  return function(event)
    event.type = prefix .. (util.detail(event) or "") .. suffix
    return event
  end
end

return M

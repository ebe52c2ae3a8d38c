--- Keep or drop events by the inventory objects they name: datacenter,
-- cluster (computeResource), host, VM, datastore, network, dvs. Patterns
-- are globs on the entity names in the payload (`Datacenter.Name`, ...).
--
--   entities.include{ vm = {"prod-*"}, datacenter = "DC0" }
--     keeps events whose VM name matches prod-* AND whose datacenter is DC0
--     (each given kind must match; events without that entity do not match)
--   entities.exclude{ host = {"lab-*"} }
--     drops events whose host name matches
local util = require("filter.util")
local M = {}

local FIELDS = {
  datacenter = "Datacenter", cluster = "ComputeResource", computeresource = "ComputeResource",
  host = "Host", vm = "Vm", datastore = "Ds", ds = "Ds", network = "Net", net = "Net", dvs = "Dvs",
}

local function compile(spec)
  assert(type(spec) == "table", "entities: expected a table of kind = globs")
  local checks = {}
  for kind, globs in pairs(spec) do
    local field = FIELDS[string.lower(kind)]
    assert(field, "entities: unknown entity kind '" .. tostring(kind) .. "'")
    checks[#checks + 1] = { field = field, match = util.matcher(globs) }
  end
  return function(event)
    for _, c in ipairs(checks) do
      local arg = util.field(event.data, c.field)
      if not c.match(util.field(arg, "Name")) then return false end
    end
    return #checks > 0
  end
end

M.include, M.exclude = util.gates(compile)

return M

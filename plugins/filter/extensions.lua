--- Add CloudEvent extension attributes. Values may be strings or functions
-- of the event (returning a string, or nil to leave the attribute out).
--
--   extensions.add{ team = "infra", vmname = function(e) return e.data.Vm and e.data.Vm.Name end }
local M = {}

function M.add(attrs)
  assert(type(attrs) == "table", "extensions.add: expected a table")
  for name in pairs(attrs) do
    assert(type(name) == "string" and name:match("^[a-z0-9]+$"),
      "extensions.add: attribute names are lower-case letters and digits: " .. tostring(name))
  end
  return function(event)
    event.extensions = event.extensions or {}
    for name, v in pairs(attrs) do
      if type(v) == "function" then v = v(event) end
      if type(v) == "userdata" then v = nil end -- vsg.null
      if v ~= nil then event.extensions[name] = tostring(v) end
    end
    return event
  end
end

return M

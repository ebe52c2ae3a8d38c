-- Specs of the sample filters (samples/filters/*.yaml): each ConfigMap's
-- filter.lua (and its modules) runs on plain-Lua events the way the adapter
-- gives them to a script (CONTRACTS §6), with the plugins on the path.
-- The C side (lazy tables, re-encoding, sandbox) has its own tests
-- (spec/unit/test_filter_stage.c); these check what the samples decide.

--- The values of the `data:` keys of the ConfigMap in a sample file: a
-- small reader for the block scalars (`key: |`) the samples use.
local function configmap_data(path)
  local f = assert(io.open(path, "r"))
  local text = f:read("a")
  f:close()
  local cm = text:match("kind: ConfigMap\n(.-)\n%-%-%-") or text:match("kind: ConfigMap\n(.*)$")
  assert(cm, path .. ": no ConfigMap")
  local data, key, indent, lines = {}, nil, nil, nil
  local function flush()
    if key then data[key] = table.concat(lines, "\n") .. "\n" end
  end
  local in_data = false
  for line in (cm .. "\n"):gmatch("([^\n]*)\n") do
    if line:match("^data:%s*$") then
      in_data = true
    elseif in_data then
      local k = line:match("^  ([%w_.%-]+): |%s*$")
      if k then
        flush()
        key, indent, lines = k, nil, {}
      elseif key and (line == "" or line:match("^    ")) then
        indent = indent or #line:match("^(%s*)")
        lines[#lines + 1] = line:sub(indent + 1)
      elseif not line:match("^%s") then
        break
      end
    end
  end
  flush()
  return data
end

--- Loads a sample's filter like the adapter: its other keys are modules.
local function load_sample(name)
  local data = configmap_data("samples/filters/" .. name .. ".yaml")
  local env = setmetatable({}, { __index = _G })
  for k, src in pairs(data) do
    if k ~= "filter.lua" and k:match("%.lua$") then
      package.preload[k:gsub("%.lua$", "")] = assert(load(src, "=" .. k, "t", env))
    end
  end
  assert(load(assert(data["filter.lua"], name .. ": no filter.lua"), "=filter.lua", "t", env))()
  return assert(env.filter, name .. ": no filter function")
end

local vsg = require("vsg")
local null = vsg.null

local function event(class, data)
  return {
    id = "42", source = "https://vc/sdk", type = "com.vmware.vsphere." .. class .. ".v0",
    time = "2026-11-25T10:00:00.5Z", datacontenttype = "application/json",
    extensions = { eventclass = "event", vsphereapiversion = "8.0" },
    data = data,
  }
end

local function vm_event(class, vm, user)
  return event(class, {
    Key = 42, UserName = user or "VSPHERE.LOCAL\\admin", FullFormattedMessage = class .. " " .. vm,
    Vm = { Name = vm, Vm = { Type = "VirtualMachine", Value = "vm-1" } },
    Host = { Name = "esx1", Host = { Type = "HostSystem", Value = "host-1" } },
    Ds = null, ChangeTag = "",
  })
end

describe("samples/filters", function()
  before_each(function()
    _G.vsg = vsg
    package.loaded.fields = nil
  end)
  after_each(function()
    _G.vsg = nil
  end)

  it("drop-session-noise drops session events and bursts, keeps the rest", function()
    local filter = load_sample("drop-session-noise")
    assert.is_nil(filter(event("UserLoginSessionEvent", { UserName = "u", FullFormattedMessage = "in" })))
    assert.is_nil(filter(event("UserLogoutSessionEvent", { UserName = "u", FullFormattedMessage = "out" })))
    local e = vm_event("VmPoweredOnEvent", "web-1")
    assert.equal(e, filter(e))
    assert.is_nil(filter(vm_event("VmPoweredOnEvent", "web-1")), "the same event again within 60 s")
    assert.is_table(filter(vm_event("VmPoweredOnEvent", "web-2")), "another VM")
  end)

  it("vm-power-only keeps power events, renames them and names the VM", function()
    local filter = load_sample("vm-power-only")
    assert.is_nil(filter(vm_event("VmCreatedEvent", "a")))
    local on = filter(vm_event("VmPoweredOnEvent", "web-1"))
    assert.equal("com.example.vm.poweredon", on.type)
    assert.equal("web-1", on.extensions.vmname)
    assert.equal("com.example.vm.poweredoff", filter(vm_event("VmPoweredOffEvent", "a")).type)
    local novm = event("VmSuspendedEvent", { Vm = null })
    local s = filter(novm)
    assert.equal("com.example.vm.suspended", s.type)
    assert.is_nil(s.extensions.vmname, "no VM, no vmname")
  end)

  it("redact redacts user names, messages and arguments, and tags the team", function()
    local filter = load_sample("redact")
    local e = filter(vm_event("VmPoweredOnEvent", "web-1", "VSPHERE.LOCAL\\alice"))
    assert.equal("REDACTED", e.data.UserName)
    assert.equal("REDACTED", e.data.FullFormattedMessage)
    assert.equal("web-1", e.data.Vm.Name, "entities stay")
    assert.equal("platform", e.extensions.team)
    assert.equal("true", e.extensions.redacted)
    local ex = filter(event("EventEx", { UserName = "bob", Arguments = { { Key = "ip", Value = "10.0.0.1" } } }))
    assert.equal("REDACTED", ex.data.Arguments[1].Value)
    assert.equal("ip", ex.data.Arguments[1].Key)
  end)
end)

-- Specs of the ready-made filter plugins (plugins/filter/*.lua).
local chain = require("filter.chain")
local types = require("filter.types")
local entities = require("filter.entities")
local users = require("filter.users")
local redact = require("filter.redact")
local rename = require("filter.rename")
local extensions = require("filter.extensions")
local dedup = require("filter.dedup")
local severity = require("filter.severity")
local util = require("filter.util")

local function event(class, data, ext)
  return {
    id = "42", source = "https://vc/sdk", type = "com.vmware.vsphere." .. class .. ".v0",
    time = "2026-11-25T10:00:00.5Z", datacontenttype = "application/json",
    extensions = ext or { eventclass = "event", vsphereapiversion = "8.0" },
    data = data or {},
  }
end

local function vm_event(class, vm, host, dc, user)
  return event(class, {
    Key = 42, UserName = user or "admin",
    Vm = { Name = vm, Vm = { Type = "VirtualMachine", Value = "vm-1" } },
    Host = { Name = host or "esx1", Host = { Type = "HostSystem", Value = "host-1" } },
    Datacenter = { Name = dc or "DC0", Datacenter = { Type = "Datacenter", Value = "dc-1" } },
    FullFormattedMessage = "powered on",
  })
end

describe("filter.util", function()
  it("turns globs into anchored patterns and escapes magic characters", function()
    local m = util.matcher({ "Vm*Event", "a.b?" })
    assert.is_true(m("VmPoweredOnEvent"))
    assert.is_false(m("HostEvent"))
    assert.is_true(m("a.bc"))
    assert.is_false(m("axbc"), "the dot must be literal")
    assert.is_false(m("xVmEvent"), "anchored at the start")
  end)
  it("extracts the vSphere part of the type", function()
    assert.equal("VmPoweredOnEvent", util.detail(event("VmPoweredOnEvent")))
    assert.equal("com.vmware.vc.HA.Failed", util.detail({ type = "com.vmware.vsphere.com.vmware.vc.HA.Failed.v0" }))
  end)
end)

describe("filter.types", function()
  it("includes by glob on the class", function()
    local f = types.include({ "VmPowered*" })
    assert.is_table(f(event("VmPoweredOnEvent")))
    assert.is_nil(f(event("UserLoginSessionEvent")))
  end)
  it("excludes by glob and by full type", function()
    local f = types.exclude({ "User*SessionEvent", "com.vmware.vsphere.Alarm*" })
    assert.is_nil(f(event("UserLogoutSessionEvent")))
    assert.is_nil(f(event("AlarmStatusChangedEvent")))
    assert.is_table(f(event("VmCreatedEvent")))
  end)
end)

describe("filter.entities", function()
  it("requires every given kind to match", function()
    local f = entities.include({ vm = { "prod-*" }, datacenter = "DC0" })
    assert.is_table(f(vm_event("VmPoweredOnEvent", "prod-web")))
    assert.is_nil(f(vm_event("VmPoweredOnEvent", "test-web")))
    assert.is_nil(f(vm_event("VmPoweredOnEvent", "prod-web", nil, "DC1")))
    assert.is_nil(f(event("UserLoginSessionEvent", { Vm = nil })), "no VM: no match")
  end)
  it("excludes by host and rejects unknown kinds", function()
    local f = entities.exclude({ host = "lab-*" })
    assert.is_nil(f(vm_event("VmPoweredOnEvent", "a", "lab-1")))
    assert.is_table(f(vm_event("VmPoweredOnEvent", "a", "prod-1")))
    assert.has_error(function() entities.include({ planet = "x" }) end)
  end)
end)

describe("filter.users", function()
  it("drops system events with an empty user", function()
    local f = users.exclude({ "" , "vpxd-*" })
    assert.is_nil(f(vm_event("VmPoweredOnEvent", "a", nil, nil, "")))
    assert.is_nil(f(vm_event("VmPoweredOnEvent", "a", nil, nil, "vpxd-extension-1")))
    assert.is_table(f(vm_event("VmPoweredOnEvent", "a", nil, nil, "VSPHERE.LOCAL\\alice")))
  end)
end)

describe("filter.redact", function()
  it("replaces nested strings and walks arrays", function()
    local e = event("EventEx", {
      IpAddress = "10.0.0.1", Vm = { Name = "secret-vm" },
      Arguments = { { Key = "a", Value = "x" }, { Key = "b", Value = 5 } },
    })
    redact.fields({ "IpAddress", "Vm.Name", "Arguments.Value" })(e)
    assert.equal("REDACTED", e.data.IpAddress)
    assert.equal("REDACTED", e.data.Vm.Name)
    assert.equal("REDACTED", e.data.Arguments[1].Value)
    assert.equal(5, e.data.Arguments[2].Value, "non-strings kept unless forced")
    assert.equal("a", e.data.Arguments[1].Key)
  end)
end)

describe("filter.rename", function()
  it("maps types and prefixes", function()
    assert.equal("vm.started", rename.types({ VmPoweredOnEvent = "vm.started" })(event("VmPoweredOnEvent")).type)
    assert.equal("com.example.VmCreatedEvent", rename.prefix("com.example.")(event("VmCreatedEvent")).type)
    assert.equal("com.vmware.vsphere.VmCreatedEvent.v0", rename.types({})(event("VmCreatedEvent")).type)
  end)
end)

describe("filter.extensions", function()
  it("adds static and computed attributes", function()
    local e = extensions.add({
      team = "infra",
      vmname = function(ev) return ev.data.Vm and ev.data.Vm.Name end,
    })(vm_event("VmPoweredOnEvent", "web01"))
    assert.equal("infra", e.extensions.team)
    assert.equal("web01", e.extensions.vmname)
    assert.equal("event", e.extensions.eventclass)
  end)
  it("rejects invalid attribute names", function()
    assert.has_error(function() extensions.add({ ["Bad-Name"] = "x" }) end)
  end)
end)

describe("filter.dedup", function()
  it("parses RFC 3339 times with offsets", function()
    assert.equal(0, dedup.parse_time("1970-01-01T00:00:00Z"))
    assert.equal(1764064800.5, dedup.parse_time("2025-11-25T10:00:00.5Z"))
    assert.equal(dedup.parse_time("2025-11-25T10:00:00Z"), dedup.parse_time("2025-11-25T12:00:00+02:00"))
  end)
  it("reads times by vsg.time.parse: not RFC 3339 is nil", function()
    assert.equal(1764064800.123456789, dedup.parse_time("2025-11-25T10:00:00.123456789Z"))
    -- The Lua reading this replaced took these as 10:00:00 UTC.
    assert.is_nil(dedup.parse_time("2025-11-25T12:00:00+02:00x"))
    assert.is_nil(dedup.parse_time("2025-11-25T10:00:00"))
    assert.is_nil(dedup.parse_time("2025-13-25T10:00:00Z"))
    assert.is_nil(dedup.parse_time(42))
  end)
  it("drops identical events inside the window only", function()
    local f = dedup.window(60)
    local function at(t) local e = vm_event("VmPoweredOnEvent", "a"); e.time = t; return e end
    assert.is_table(f(at("2026-01-01T00:00:00Z")))
    assert.is_nil(f(at("2026-01-01T00:00:30Z")))
    assert.is_table(f(at("2026-01-01T00:02:00Z")))
    local other = vm_event("VmPoweredOnEvent", "b"); other.time = "2026-01-01T00:02:01Z"
    assert.is_table(f(other), "a different VM is a different key")
  end)
  it("forgets the oldest keys past max_keys, and a key that passed again is kept", function()
    local f = dedup.window(3600, function(e) return e.id end, 3)
    local function ev(id, sec)
      return { id = id, time = string.format("2026-01-01T00:00:%02dZ", sec) }
    end
    assert.is_table(f(ev("a", 0)))
    assert.is_table(f(ev("b", 1)))
    assert.is_table(f(ev("c", 2)))
    assert.is_nil(f(ev("a", 3)), "a is kept while there are 3 keys")
    assert.is_table(f(ev("d", 4)), "d evicts the oldest, a")
    assert.is_table(f(ev("a", 5)), "a was forgotten")
    assert.is_nil(f(ev("c", 6)))
    assert.is_table(f(ev("b", 7)), "b went when a came back")
  end)
  it("keeps its cost per event flat past max_keys (issue 15 item 8)", function()
    -- 60,000 distinct keys through a 10,000-key window: every event past
    -- 10,000 evicts one key. The old eviction rescanned all 10,000 keys
    -- for each of them (minutes); O(1) each takes well under a second.
    local f = dedup.window(3600, function(e) return e.id end)
    local t0 = os.clock()
    for i = 1, 60000 do
      assert(f({ id = i, time = "2026-01-01T00:00:00Z" }))
    end
    assert.is_nil(f({ id = 60000, time = "2026-01-01T00:00:01Z" }), "the newest keys are kept")
    assert.is_table(f({ id = 1, time = "2026-01-01T00:00:01Z" }), "the oldest are forgotten")
    assert.is_true(os.clock() - t0 < 10, "dedup took " .. (os.clock() - t0) .. " s")
  end)
  it("expires keys by the events' time", function()
    local f = dedup.window(10, function(e) return e.id end)
    assert.is_table(f({ id = "x", time = "2026-01-01T00:00:00Z" }))
    assert.is_nil(f({ id = "x", time = "2026-01-01T00:00:09Z" }))
    assert.is_table(f({ id = "y", time = "2026-01-01T00:00:10Z" }))
    assert.is_table(f({ id = "x", time = "2026-01-01T00:00:11Z" }))
    assert.is_nil(f({ id = "x", time = "2026-01-01T00:00:12Z" }))
  end)
  it("tells events apart by Message when FullFormattedMessage is empty", function()
    local f = dedup.window(60)
    local function user(msg)
      return event("GeneralUserEvent", { FullFormattedMessage = "", Message = msg })
    end
    assert.is_table(f(user("one")))
    assert.is_table(f(user("two")), "another message is another event")
    assert.is_nil(f(user("two")), "the same message again is a duplicate")
  end)
end)

describe("filter.severity", function()
  local function ex(sev)
    return event("com.example.x", { Severity = sev }, { eventclass = "eventex" })
  end
  it("tags, thresholds and routes EventEx only", function()
    assert.equal("warning", severity.tag()(ex("warning")).extensions.severity)
    assert.equal("info", severity.tag()(ex(nil)).extensions.severity)
    local gate = severity.at_least("warning")
    assert.is_nil(gate(ex("info")))
    assert.is_table(gate(ex("error")))
    assert.is_table(gate(vm_event("VmPoweredOnEvent", "a")), "plain events pass")
    assert.equal("alert", severity.route({ error = "alert" })(ex("error")).type)
  end)
end)

describe("filter.chain", function()
  it("runs stages in order and stops at a drop", function()
    local f = chain({
      types.exclude({ "User*" }),
      extensions.add({ team = "infra" }),
      rename.prefix("x."),
    })
    assert.equal("x.VmCreatedEvent", f(event("VmCreatedEvent")).type)
    assert.is_nil(f(event("UserLoginSessionEvent")))
  end)
  it("fans out and applies later stages to each", function()
    local split = function(e)
      local a, b = util.copy(e), util.copy(e)
      a.id, b.id = e.id .. "-a", e.id .. "-b"
      return { a, b }
    end
    local out = chain({ split, rename.prefix("y.") })(event("VmCreatedEvent"))
    assert.equal(2, #out)
    assert.equal("y.VmCreatedEvent", out[1].type)
    assert.equal("42-b", out[2].id)
  end)
end)

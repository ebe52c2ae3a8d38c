local conditions = require("lib.conditions")

describe("lib.conditions", function()
  local set = conditions.set("Ready", { "AuthReady", "AdapterReady" })

  it("initialises every condition to Unknown, sorted by type", function()
    local status = {}
    set:manage(status, "t0")
    local types = {}
    for i, c in ipairs(status.conditions) do
      types[i] = c.type .. "=" .. c.status
    end
    assert.same({ "AdapterReady=Unknown", "AuthReady=Unknown", "Ready=Unknown" }, types)
  end)

  it("is Ready only when every dependent is True", function()
    local status = {}
    local m = set:manage(status, "t0")
    m:mark_true("AuthReady")
    assert.equal("Unknown", m:get("Ready").status)
    assert.is_false(m:is_happy())
    m:mark_true("AdapterReady")
    assert.equal("True", m:get("Ready").status)
    assert.is_true(m:is_happy())
  end)

  it("takes reason and message from the first False dependent", function()
    local status = {}
    local m = set:manage(status, "t0")
    m:mark_true("AuthReady")
    m:mark_false("AdapterReady", "SinkNotFound", "sink %q not found", "svc")
    local r = m:get("Ready")
    assert.equal("False", r.status)
    assert.equal("SinkNotFound", r.reason)
    assert.equal('sink "svc" not found', r.message)
  end)

  it("moves lastTransitionTime only when the status changes", function()
    local status = {}
    local m = set:manage(status, "t0")
    m:mark_true("AuthReady")
    assert.equal("t0", m:get("AuthReady").lastTransitionTime)
    local m2 = set:manage(status, "t1")
    m2:mark_true("AuthReady")
    assert.equal("t0", m2:get("AuthReady").lastTransitionTime)
    m2:mark_false("AuthReady", "SecretMissing", "no secret")
    assert.equal("t1", m2:get("AuthReady").lastTransitionTime)
  end)

  it("propagates an external condition", function()
    local status = {}
    local m = set:manage(status, "t0")
    m:mark_true("AuthReady")
    m:propagate("AdapterReady", { status = "False", reason = "MinimumReplicasUnavailable", message = "m" })
    assert.equal("MinimumReplicasUnavailable", m:get("Ready").reason)
    m:propagate("AdapterReady", nil)
    assert.equal("Unknown", m:get("AdapterReady").status)
  end)

  it("refuses to mark the happy condition directly", function()
    local m = set:manage({}, "t0")
    assert.has_error(function() m:mark_true("Ready") end)
  end)
end)

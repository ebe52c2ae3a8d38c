-- admission.driver: what the webhook's Lua states run, and the selftest()
-- every version (shipped or overridden) must pass before the webhook uses
-- it, on the samples of admission.samples.
local fake = require("fake_kube")
fake.install()
local driver = require("admission.driver")
local samples = require("admission.samples")

local function req(kind, op)
  return { operation = op or "CREATE", namespace = "ns", kind = { kind = kind } }
end

describe("admission.driver", function()
  it("the shipped handlers pass the selftest", function()
    assert.has_no.errors(function() driver.selftest() end)
  end)

  it("routes by kind: VSphereSource is defaulted, other kinds pass untouched", function()
    local src = driver.defaulting(req("VSphereSource"), samples.source())
    assert.is_table(src.spec)
    local other = { kind = "Other", spec = {} }
    assert.are.equal(other, driver.defaulting(req("Other"), other))
    assert.is_nil(driver.validate(req("Other"), other, nil))
  end)

  it("validate returns the denial text for an invalid source", function()
    local bad = samples.source()
    bad.spec.address = nil
    assert.is_string(driver.validate(req("VSphereSource"), bad, nil))
  end)

  it("bind injects the binding into the sample Deployment", function()
    local d = driver.bind(req("Deployment"), samples.deployment(), samples.bindings(), {}, "exclusion")
    local env = d.spec.template.spec.containers[1].env
    assert.is_table(env)
    local names = {}
    for _, e in ipairs(env) do names[e.name] = true end
    assert.is_true(names.VC_URL)
  end)

  it("samples are fresh tables on every call", function()
    assert.are_not.equal(samples.source(), samples.source())
    assert.are.same(samples.bindings(), samples.bindings())
  end)

  describe("selftest refuses a driver that", function()
    local saved
    before_each(function() saved = { driver.defaulting, driver.validate, driver.bind } end)
    after_each(function() driver.defaulting, driver.validate, driver.bind = saved[1], saved[2], saved[3] end)

    it("returns no object from defaulting", function()
      driver.defaulting = function() return nil end
      assert.has_error(function() driver.selftest() end, "defaulting returned no object on a sample")
    end)

    it("rejects the valid sample", function()
      driver.validate = function() return "spec.address: required" end
      assert.has_error(function() driver.selftest() end, "validate rejected a valid sample: spec.address: required")
    end)

    it("returns no object from bind", function()
      driver.bind = function() return "x" end
      assert.has_error(function() driver.selftest() end, "bind returned no object on a sample")
    end)
  end)
end)

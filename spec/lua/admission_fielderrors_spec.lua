-- lib.fielderrors: Knative FieldError semantics (merge by message and
-- details, paths de-duplicated and sorted, lines sorted by message).
local fe = require("lib.fielderrors")

describe("lib.fielderrors", function()
  it("formats nothing as the empty string and an empty collector as nil", function()
    assert.equal("", fe.format(nil))
    assert.equal("", fe.format({}))
    assert.is_nil(fe.collector():result())
  end)

  it("uses Knative's helper messages", function()
    local c = fe.collector()
    c:missing("spec.a")
    c:invalid(-1, "spec.b")
    c:invalid(2.0, "spec.c")
    c:both("spec.x.name", "spec.x.selector")
    c:neither("spec.y.name", "spec.y.selector")
    c:generic(fe.NONE, "spec.sink.ref", "spec.sink.uri")
    c:invalid_key("Bad", "spec.ext", "why")
    assert.equal(table.concat({
      "expected at least one, got none: spec.sink.ref, spec.sink.uri",
      "expected exactly one, got both: spec.x.name, spec.x.selector",
      "expected exactly one, got neither: spec.y.name, spec.y.selector",
      "invalid key name \"Bad\": spec.ext\nwhy",
      "invalid value: -1: spec.b",
      "invalid value: 2: spec.c",
      "missing field(s): spec.a",
    }, "\n"), fe.format(c:result()))
  end)

  it("merges paths of equal message and details, de-duplicated and sorted", function()
    local errs = {
      { path = "spec.z", message = "missing field(s)" },
      { path = "spec.a", message = "missing field(s)" },
      { path = "spec.z", message = "missing field(s)" },
      { path = "spec.q", message = "missing field(s)", details = "d" },
    }
    assert.equal("missing field(s): spec.a, spec.z\nmissing field(s): spec.q\nd", fe.format(errs))
  end)

  it("finds an entry by path and message; also() appends lists and collectors", function()
    local a = fe.collector():missing("spec.a")
    local b = fe.collector():invalid("x", "spec.b")
    a:also(b):also({ { path = "spec.c", message = "m" } })
    local errs = a:result()
    assert.equal(3, #errs)
    assert.equal("invalid value: x", fe.find(errs, "spec.b").message)
    assert.is_nil(fe.find(errs, "spec.b", "missing field(s)"))
    assert.is_not_nil(fe.find(errs, "spec.c", "m"))
  end)
end)

local durations = require("lib.durations")

describe("lib.durations", function()
  it("formats whole seconds as Go's time.Duration.String()", function()
    local cases = {
      { 0, "0s" }, { 1, "1s" }, { 10, "10s" }, { 59, "59s" }, { 60, "1m0s" }, { 300, "5m0s" },
      { 61, "1m1s" }, { 3599, "59m59s" }, { 3600, "1h0m0s" }, { 3661, "1h1m1s" },
      { 86400, "24h0m0s" }, { 90061, "25h1m1s" }, { -5, "-5s" },
      { 9223372036, "2562047h47m16s" }, { 1 << 62, "2562047h47m16s" },
    }
    for _, c in ipairs(cases) do
      assert.equal(c[2], durations.go_seconds(c[1]), tostring(c[1]))
    end
  end)

  it("refuses non-integers", function()
    assert.has_error(function() durations.go_seconds(1.5) end)
  end)
end)

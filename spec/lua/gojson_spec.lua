local gojson = require("lib.gojson")

describe("lib.gojson", function()
  it("escapes strings as Go's encoding/json does", function()
    local cases = {
      { "plain", '"plain"' },
      { 'q"b\\', '"q\\"b\\\\"' },
      { "a\nb\r\tc", '"a\\nb\\r\\tc"' },
      { "<a href='x'>&</a>", '"\\u003ca href=\'x\'\\u003e\\u0026\\u003c/a\\u003e"' },
      { "\0\1\31\127", '"\\u0000\\u0001\\u001f\127"' },
      { "\b\f", '"\\u0008\\u000c"' },
      { "é€😀", '"é€😀"' },
      { "\226\128\168\226\128\169", '"\\u2028\\u2029"' },
      { "bad\255byte\192\128", '"bad\\ufffdbyte\\ufffd\\ufffd"' },
      { "trunc\226\128", '"trunc\\ufffd\\ufffd"' },
      { "/", '"/"' },
    }
    for _, c in ipairs(cases) do
      assert.equal(c[2], gojson.string(c[1]))
    end
  end)

  it("sorts map keys and writes structs in field order", function()
    assert.equal('{"a":"1","b":{"c":true,"d":[1,2]}}', gojson.encode({ b = { d = { 1, 2 }, c = true }, a = "1" }))
    assert.equal("{}", gojson.encode({}))
    assert.equal("null", gojson.encode(gojson.null))
    assert.equal('{"z":1,"a":"x"}', gojson.struct({ { "z", "1" }, { "skip", nil }, { "a", '"x"' } }))
  end)

  it("refuses floats", function()
    assert.has_error(function() gojson.encode(1.5) end)
  end)
end)

local names = require("lib.names")
local fake = require("fake_kube")

describe("lib.names", function()
  local md5 = fake.md5

  it("uses md5sum for the specs' digest", function()
    assert.equal("5d41402abc4b2a76b9719d911017c592", md5("hello"))
  end)

  it("appends the suffix when the name fits in 63 characters", function()
    assert.equal("source-adapter", names.child_name("source", "-adapter", md5))
    local p = string.rep("a", 55)
    assert.equal(p .. "-adapter", names.child_name(p, "-adapter", md5)) -- exactly 63
  end)

  it("hashes long names as Knative's kmeta.ChildName does", function()
    -- knative.dev/pkg/kmeta names_test.go and the Go version's names_test.go
    local parent = string.rep("f", 63)
    assert.equal("fffffffffffffffffffffff105d7597f637e83cc711605ac3ea4957-adapter",
      names.child_name(parent, "-adapter", md5))
    local p56 = string.rep("a", 56)
    local got = names.child_name(p56, "-adapter", md5)
    assert.equal(63, #got)
    assert.equal(string.rep("a", 23) .. md5(p56) .. "-adapter", got)
  end)

  it("never calls md5 for short names", function()
    assert.equal("x-configmap", names.child_name("x", "-configmap", function() error("called") end))
  end)

  it("handles suffixes longer than 31 characters like kmeta", function()
    local suffix = "-" .. string.rep("s", 40)
    assert.equal("parent" .. suffix, names.child_name("parent", suffix, md5)) -- fits
    local parent = string.rep("p", 40)
    local got = names.child_name(parent, suffix, md5)
    assert.equal(string.rep("p", 31) .. md5(parent .. suffix), got)
    local p20 = string.rep("q", 25)
    got = names.child_name(p20, suffix, md5) -- short parent: padded with the suffix, no trailing '-'
    assert.equal(p20 .. md5(p20 .. suffix) .. "-sssss", got)
  end)

  it("names every child of a source", function()
    local n = names.for_source("src", md5)
    assert.same({ deployment = "src-adapter", binding = "src-vspherebinding",
      configmap = "src-configmap", rolebinding = "src-rolebinding" }, n)
    local long = names.for_source(string.rep("f", 63), md5)
    for what, suffix in pairs(names.SUFFIX) do
      assert.equal(63, #long[what], what)
      assert.equal(suffix, long[what]:sub(-#suffix))
    end
  end)

  it("makes label values valid for names longer than 63 characters", function()
    assert.equal("short", names.label_value("short", md5))
    assert.equal(string.rep("f", 63), names.label_value(string.rep("f", 63), md5))
    local v = names.label_value(string.rep("g", 80), md5)
    assert.equal(63, #v)
    assert.equal(string.rep("g", 31) .. md5(string.rep("g", 80)), v)
  end)
end)

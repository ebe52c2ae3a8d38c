local urls = require("lib.urls")

describe("lib.urls", function()
  it("parses and formats URLs", function()
    local u = urls.parse("HTTP://user:pw@Host.example:8080/p/a?q=1#f")
    assert.equal("http", u.scheme)
    assert.equal("user:pw@Host.example:8080", u.authority)
    assert.equal("Host.example:8080", u.host)
    assert.equal("Host.example", urls.hostname(u))
    assert.equal("/p/a", u.path)
    assert.equal("q=1", u.query)
    assert.equal("f", u.fragment)
    assert.equal("http://user:pw@Host.example:8080/p/a?q=1#f", urls.format(u))
    assert.equal("::1", urls.hostname(urls.parse("http://[::1]:80/")))
    assert.equal("", urls.hostname(urls.parse("http:///x")))
    assert.is_nil(urls.parse("a b"))
    assert.is_nil(urls.parse("1:2"))
  end)

  -- net/url's resolveReferenceTests (RFC 3986 §5.4 and Go's extras).
  local base = "http://a/b/c/d;p?q"
  local cases = {
    { base, "g:h", "g:h" }, { base, "g", "http://a/b/c/g" }, { base, "./g", "http://a/b/c/g" },
    { base, "g/", "http://a/b/c/g/" }, { base, "/g", "http://a/g" }, { base, "//g", "http://g" },
    { base, "?y", "http://a/b/c/d;p?y" }, { base, "g?y", "http://a/b/c/g?y" },
    { base, "#s", "http://a/b/c/d;p?q#s" }, { base, "g#s", "http://a/b/c/g#s" },
    { base, "g?y#s", "http://a/b/c/g?y#s" }, { base, ";x", "http://a/b/c/;x" },
    { base, "g;x", "http://a/b/c/g;x" }, { base, "g;x?y#s", "http://a/b/c/g;x?y#s" },
    { base, "", "http://a/b/c/d;p?q" }, { base, ".", "http://a/b/c/" }, { base, "./", "http://a/b/c/" },
    { base, "..", "http://a/b/" }, { base, "../", "http://a/b/" }, { base, "../g", "http://a/b/g" },
    { base, "../..", "http://a/" }, { base, "../../", "http://a/" }, { base, "../../g", "http://a/g" },
    { base, "../../../g", "http://a/g" }, { base, "../../../../g", "http://a/g" },
    { base, "/./g", "http://a/g" }, { base, "/../g", "http://a/g" }, { base, "g.", "http://a/b/c/g." },
    { base, ".g", "http://a/b/c/.g" }, { base, "g..", "http://a/b/c/g.." }, { base, "..g", "http://a/b/c/..g" },
    { base, "./../g", "http://a/b/g" }, { base, "./g/.", "http://a/b/c/g/" },
    { base, "g/./h", "http://a/b/c/g/h" }, { base, "g/../h", "http://a/b/c/h" },
    { base, "g;x=1/./y", "http://a/b/c/g;x=1/y" }, { base, "g;x=1/../y", "http://a/b/c/y" },
    { base, "g?y/./x", "http://a/b/c/g?y/./x" }, { base, "g?y/../x", "http://a/b/c/g?y/../x" },
    { base, "g#s/./x", "http://a/b/c/g#s/./x" }, { base, "g#s/../x", "http://a/b/c/g#s/../x" },
    { "https://a/b/c/d;p?q", "//g?q", "https://g?q" }, { "https://a/b/c/d;p?q", "//g#s", "https://g#s" },
    { "https://a/b/c/d;p?q", "//g/d/e/f?y#s", "https://g/d/e/f?y#s" },
    { "https://a/b/c/d;p#s", "?y", "https://a/b/c/d;p?y" }, { "https://a/b/c/d;p?q#s", "?y", "https://a/b/c/d;p?y" },
    { base, "?", "http://a/b/c/d;p?" },
    -- The sink cases: a path relative to a host-only URL.
    { "http://svc.ns.svc.cluster.local", "extra", "http://svc.ns.svc.cluster.local/extra" },
    { "http://svc.ns.svc.cluster.local", "/extra?x=1", "http://svc.ns.svc.cluster.local/extra?x=1" },
    { "http://broker-ingress.knative-eventing.svc.cluster.local/ns/default", "sub",
      "http://broker-ingress.knative-eventing.svc.cluster.local/ns/sub" },
  }
  it("resolves references as Go's URL.ResolveReference", function()
    for _, c in ipairs(cases) do
      local got = urls.format(urls.resolve(assert(urls.parse(c[1])), assert(urls.parse(c[2]))))
      assert.equal(c[3], got, c[1] .. " + " .. c[2])
    end
  end)
end)

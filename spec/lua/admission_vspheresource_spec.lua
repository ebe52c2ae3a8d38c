-- admission.vspheresource: defaulting and validation of VSphereSource with
-- Knative's field paths and messages (CONTRACTS §1, upstream.md §3.2-3.3).
local vss = require("admission.vspheresource")
local samples = require("upstream_samples")
local T = require("lib.tables")

local NS = "ns"
local fake = require("fake_kube")
local NULL = fake.install().null -- JSON null, as the C core decodes it
local PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ2Fmb28x\nYWJj\n-----END CERTIFICATE-----\n"

local function source(spec, md)
  local m = md or {}
  m.namespace = m.namespace or NS
  m.name = m.name or "src"
  return { apiVersion = "sources.tanzu.vmware.com/v1alpha1", kind = "VSphereSource", metadata = m, spec = spec }
end

local function valid_spec()
  return {
    address = "https://vcenter.corp.local",
    secretRef = { name = "vsphere-credentials" },
    sink = { uri = "http://sink.example" },
  }
end

-- A valid spec with `f` applied to it.
local function with(f)
  local s = valid_spec()
  f(s)
  return source(s)
end

-- The combined message of validate(obj), "" when it is valid.
local function msg(obj, ctx)
  return vss.format(vss.validate(obj, nil, ctx))
end

describe("admission.vspheresource samples", function()
  for _, file in ipairs(samples.names("VSphereSource")) do
    it("samples/upstream/" .. file .. " is transcribed exactly", function()
      assert.same(samples.FILES[file], samples.read("samples/upstream/" .. file))
    end)

    it("samples/upstream/" .. file .. " defaults and validates cleanly", function()
      local obj = samples.get(file, NS)
      vss.default(obj)
      assert.is_nil(vss.validate(obj, nil, { operation = "CREATE" }))
      assert.equal("application/xml", obj.spec.payloadEncoding)
      assert.same({ maxAgeSeconds = 300, periodSeconds = 10 }, obj.spec.checkpointConfig)
      if obj.spec.sink.ref then assert.equal(NS, obj.spec.sink.ref.namespace) end
    end)
  end
end)

describe("admission.vspheresource defaults", function()
  it("accepts raw or percent for the ce-header-encoding annotation, and nothing else", function()
    local key = "sources.tanzu.vmware.com/ce-header-encoding"
    for _, v in ipairs({ "raw", "percent" }) do
      assert.equal("", msg(source(valid_spec(), { annotations = { [key] = v } })))
    end
    assert.equal('invalid value: spaces: metadata.annotations[' .. key .. ']\nexpected raw or percent',
      msg(source(valid_spec(), { annotations = { [key] = "spaces" } })))
  end)

  it("sets sink.ref.namespace to the source's namespace, keeping an explicit one", function()
    local obj = source({ sink = { ref = { apiVersion = "v1", kind = "Service", name = "s" } } })
    vss.default(obj)
    assert.equal(NS, obj.spec.sink.ref.namespace)
    obj = source({ sink = { ref = { apiVersion = "v1", kind = "Service", name = "s", namespace = "other" } } })
    vss.default(obj)
    assert.equal("other", obj.spec.sink.ref.namespace)
    obj = source({ sink = { ref = { apiVersion = "v1", kind = "Service", name = "s", namespace = "" } } })
    vss.default(obj)
    assert.equal(NS, obj.spec.sink.ref.namespace)
  end)

  it("takes the namespace from the request when the object has none", function()
    local obj = source({ sink = { ref = { apiVersion = "v1", kind = "Service", name = "s" } } })
    obj.metadata.namespace = nil
    vss.default(obj, { namespace = "req-ns" })
    assert.equal("req-ns", obj.spec.sink.ref.namespace)
  end)

  it("leaves a uri-only sink alone", function()
    local obj = source({ sink = { uri = "http://x" } })
    vss.default(obj)
    assert.same({ uri = "http://x" }, obj.spec.sink)
  end)

  it("defaults payloadEncoding to application/xml and lower-cases it", function()
    for _, c in ipairs({
      { nil, "application/xml" }, { "", "application/xml" }, { NULL, "application/xml" },
      { "Application/JSON", "application/json" }, { "APPLICATION/XML", "application/xml" },
      { "Text/Plain", "text/plain" },
    }) do
      local obj = source({ payloadEncoding = c[1] })
      vss.default(obj)
      assert.equal(c[2], obj.spec.payloadEncoding)
    end
  end)

  it("defaults periodSeconds 0/unset to 10 and (ours) unset maxAgeSeconds to 300", function()
    for _, c in ipairs({
      { nil, { maxAgeSeconds = 300, periodSeconds = 10 } },
      { NULL, { maxAgeSeconds = 300, periodSeconds = 10 } },
      { {}, { maxAgeSeconds = 300, periodSeconds = 10 } },
      { { periodSeconds = 0 }, { maxAgeSeconds = 300, periodSeconds = 10 } },
      { { maxAgeSeconds = 0, periodSeconds = 0 }, { maxAgeSeconds = 0, periodSeconds = 10 } },
      { { maxAgeSeconds = NULL, periodSeconds = 5 }, { maxAgeSeconds = 300, periodSeconds = 5 } },
      { { maxAgeSeconds = 60, periodSeconds = 1 }, { maxAgeSeconds = 60, periodSeconds = 1 } },
      { { maxAgeSeconds = -1, periodSeconds = -1 }, { maxAgeSeconds = -1, periodSeconds = -1 } },
    }) do
      local obj = source({ checkpointConfig = c[1] })
      vss.default(obj)
      assert.same(c[2], obj.spec.checkpointConfig)
    end
  end)

  it("defaults filter.configMapRef.key to filter.lua, filter.limits, and nothing else of filter/delivery", function()
    local defaults = { instructions = 1000000, memoryBytes = 16777216, timeoutMilliseconds = 1000 }
    local obj = source({ filter = { configMapRef = { name = "f" } }, delivery = { retry = 3 } })
    vss.default(obj)
    assert.same({ configMapRef = { name = "f", key = "filter.lua" }, limits = defaults }, obj.spec.filter)
    assert.same({ retry = 3 }, obj.spec.delivery)
    obj = source({ filter = { configMapRef = { name = "f", key = "" } } })
    vss.default(obj)
    assert.equal("filter.lua", obj.spec.filter.configMapRef.key)
    obj = source({ filter = { configMapRef = { name = "f", key = "my.lua" }, onError = "drop",
                              limits = { instructions = 5000 } } })
    vss.default(obj)
    assert.same({ configMapRef = { name = "f", key = "my.lua" }, onError = "drop",
                  limits = { instructions = 5000, memoryBytes = 16777216, timeoutMilliseconds = 1000 } },
      obj.spec.filter)
  end)

  it("sets delivery.deadLetterSink.ref.namespace", function()
    local dls = { ref = { apiVersion = "v1", kind = "Service", name = "d" } }
    local obj = source({ delivery = { deadLetterSink = dls } })
    vss.default(obj)
    assert.equal(NS, obj.spec.delivery.deadLetterSink.ref.namespace)
  end)

  it("is idempotent and leaves the spec-less object and status requests alone", function()
    local obj = source({ sink = { ref = { apiVersion = "v1", kind = "Service", name = "s" } } })
    vss.default(obj)
    local once = T.copy(obj)
    vss.default(obj)
    assert.same(once, obj)

    local bare = { metadata = { namespace = NS } }
    vss.default(bare)
    assert.same({ metadata = { namespace = NS } }, bare)

    local st = source({})
    vss.default(st, { subresource = "status" })
    assert.same({}, st.spec)
  end)

  it("returns the object", function()
    local obj = source({})
    assert.equal(obj, vss.default(obj))
  end)
end)

describe("admission.vspheresource validation", function()
  it("accepts a minimal valid source, defaulted or not", function()
    assert.equal("", msg(source(valid_spec())))
    local obj = source(valid_spec())
    vss.default(obj)
    assert.is_nil(vss.validate(obj))
  end)

  it("reports address and secretRef like VAuthSpec.Validate", function()
    assert.equal("missing field(s): spec.address.host, spec.secretRef.name",
      msg(source({ sink = { uri = "http://x" } })))
    for _, a in ipairs({ "vc.local", "vc.local:443", "https://", "", "/sdk" }) do
      assert.equal("missing field(s): spec.address.host", msg(with(function(s) s.address = a end)), a)
    end
    assert.equal("missing field(s): spec.address.scheme", msg(with(function(s) s.address = "//vc.local" end)))
    assert.equal("invalid value: http://a b: spec.address", msg(with(function(s) s.address = "http://a b" end)))
    assert.equal("", msg(with(function(s) s.address = "https://user@vc.local:8443/sdk" end)))
    assert.equal("missing field(s): spec.secretRef.name", msg(with(function(s) s.secretRef = {} end)))
    assert.equal("missing field(s): spec.secretRef.name", msg(with(function(s) s.secretRef = { name = "" } end)))
    assert.equal("missing field(s): spec.secretRef.name", msg(with(function(s) s.secretRef = NULL end)))
  end)

  it("requires a sink like duckv1.Destination", function()
    assert.equal("expected at least one, got none: spec.sink.ref, spec.sink.uri",
      msg(with(function(s) s.sink = nil end)))
    assert.equal("expected at least one, got none: spec.sink.ref, spec.sink.uri",
      msg(with(function(s) s.sink = {} end)))
    local relative = "invalid value: Relative URI is not allowed when Ref and [apiVersion, kind, name] is absent: "
      .. "spec.sink.uri"
    assert.equal(relative, msg(with(function(s) s.sink = { uri = "/path" } end)))
    assert.equal(relative, msg(with(function(s) s.sink = { uri = "http://" } end)))
    assert.equal(relative, msg(with(function(s) s.sink = { uri = "" } end)))
    assert.equal("invalid value: http://a b: spec.sink.uri", msg(with(function(s) s.sink = { uri = "http://a b" } end)))
    local ref = { apiVersion = "v1", kind = "Service", name = "svc" }
    assert.equal("Absolute URI is not allowed when Ref or [apiVersion, kind, name] is present: "
      .. "spec.sink.ref, spec.sink.uri, spec.sink[apiVersion, kind, name]",
      msg(with(function(s) s.sink = { ref = ref, uri = "http://x/y" } end)))
    assert.equal("", msg(with(function(s) s.sink = { ref = ref, uri = "/extra/path" } end)))
    assert.equal("", msg(with(function(s) s.sink = { ref = ref } end)))
    assert.equal("", msg(with(function(s) s.sink = { ref = ref, uri = NULL } end)))
    assert.equal("missing field(s): spec.sink.ref.apiVersion, spec.sink.ref.kind, spec.sink.ref.name",
      msg(with(function(s) s.sink = { ref = {} } end)))
    assert.equal("missing field(s): spec.sink.ref.name",
      msg(with(function(s) s.sink = { ref = { apiVersion = "v1", kind = "Service", name = "" } } end)))
  end)

  it("checks sink.CACerts as PEM", function()
    assert.equal("", msg(with(function(s) s.sink.CACerts = PEM end)))
    assert.equal("invalid value: no PEM certificate (-----BEGIN CERTIFICATE-----) found: spec.sink.CACerts",
      msg(with(function(s) s.sink.CACerts = "nope" end)))
  end)

  it("rejects negative checkpoint settings, zero is fine", function()
    assert.equal("invalid value: -1: spec.checkpointConfig.maxAgeSeconds\n"
      .. "invalid value: -5: spec.checkpointConfig.periodSeconds",
      msg(with(function(s) s.checkpointConfig = { maxAgeSeconds = -1, periodSeconds = -5 } end)))
    assert.equal("", msg(with(function(s) s.checkpointConfig = { maxAgeSeconds = 0, periodSeconds = 0 } end)))
    assert.equal("expected integer, got number: spec.checkpointConfig.periodSeconds",
      msg(with(function(s) s.checkpointConfig = { periodSeconds = 1.5 } end)))
    assert.equal("expected integer, got string: spec.checkpointConfig.maxAgeSeconds",
      msg(with(function(s) s.checkpointConfig = { maxAgeSeconds = "300" } end)))
  end)

  it("accepts application/json and application/xml in any case, reports the lower-cased value", function()
    for _, e in ipairs({ "application/json", "application/xml", "Application/JSON", "APPLICATION/XML", "" }) do
      assert.equal("", msg(with(function(s) s.payloadEncoding = e end)), e)
    end
    assert.equal("invalid value: text/plain: spec.payloadEncoding",
      msg(with(function(s) s.payloadEncoding = "Text/Plain" end)))
    assert.equal("invalid value: foo: spec.payloadEncoding", msg(with(function(s) s.payloadEncoding = "foo" end)))
  end)

  it("checks ceOverrides extension names against the CloudEvents rules", function()
    local ok = { foo = "bar", abc123 = "x", ["a2345678901234567890"] = "twenty" }
    assert.equal("", msg(with(function(s) s.ceOverrides = { extensions = ok } end)))
    assert.equal("", msg(with(function(s) s.ceOverrides = {} end)))
    local path = "spec.ceOverrides.extensions"
    for _, c in ipairs({
      { "Foo", "keys MUST consist of lower-case letters ('a' to 'z') or digits ('0' to '9')" },
      { "my_ext", "keys MUST consist of lower-case letters ('a' to 'z') or digits ('0' to '9')" },
      { "a23456789012345678901", "keys SHOULD NOT be longer than 20 characters" },
      { "", "keys MUST NOT be empty" },
      { "type", "keys MUST NOT be CloudEvents context attributes" },
      { "id", "keys MUST NOT be CloudEvents context attributes" },
      { "specversion", "keys MUST NOT be CloudEvents context attributes" },
    }) do
      assert.equal(string.format("invalid key name %q: %s\n%s", c[1], path, c[2]),
        msg(with(function(s) s.ceOverrides = { extensions = { [c[1]] = "v" } } end)), c[1])
    end
    assert.equal("expected string, got number: spec.ceOverrides.extensions[foo]",
      msg(with(function(s) s.ceOverrides = { extensions = { foo = 1 } } end)))
  end)

  it("checks serviceAccountName as a DNS-1123 subdomain", function()
    assert.equal("", msg(with(function(s) s.serviceAccountName = "my-sa" end)))
    assert.equal("", msg(with(function(s) s.serviceAccountName = "" end)))
    assert.equal("invalid value: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
      .. "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
      .. "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'): spec.serviceAccountName",
      msg(with(function(s) s.serviceAccountName = "My_SA" end)))
  end)

  it("checks caCerts (ours) as PEM certificates", function()
    assert.equal("", msg(with(function(s) s.caCerts = PEM end)))
    assert.equal("", msg(with(function(s) s.caCerts = PEM .. PEM end)))
    assert.equal("", msg(with(function(s) s.caCerts = "" end)))
    assert.equal("invalid value: no PEM certificate (-----BEGIN CERTIFICATE-----) found: spec.caCerts",
      msg(with(function(s) s.caCerts = "not a certificate" end)))
    assert.equal("invalid value: PEM block \"RSA PRIVATE KEY\" is not a certificate: spec.caCerts",
      msg(with(function(s)
        s.caCerts = PEM .. "-----BEGIN RSA PRIVATE KEY-----\nYWJj\n-----END RSA PRIVATE KEY-----\n"
      end)))
    assert.equal("invalid value: PEM block \"CERTIFICATE\" has no END line: spec.caCerts",
      msg(with(function(s) s.caCerts = "-----BEGIN CERTIFICATE-----\nYWJj\n" end)))
    assert.equal("invalid value: PEM block \"CERTIFICATE\" does not hold base64 data: spec.caCerts",
      msg(with(function(s) s.caCerts = "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----" end)))
  end)

  it("checks filter (ours): configMapRef.name required, key, onError deliver|drop", function()
    assert.equal("", msg(with(function(s) s.filter = { configMapRef = { name = "f" } } end)))
    assert.equal("", msg(with(function(s)
      s.filter = { configMapRef = { name = "f", key = "my-filter.lua" }, onError = "drop" }
    end)))
    assert.equal("", msg(with(function(s) s.filter = { configMapRef = { name = "f" }, onError = "deliver" } end)))
    assert.equal("missing field(s): spec.filter.configMapRef.name", msg(with(function(s) s.filter = {} end)))
    assert.equal("missing field(s): spec.filter.configMapRef.name",
      msg(with(function(s) s.filter = { configMapRef = { key = "x" } } end)))
    assert.equal("invalid value: bogus: spec.filter.onError\nexpected deliver or drop",
      msg(with(function(s) s.filter = { configMapRef = { name = "f" }, onError = "bogus" } end)))
    assert.equal("invalid value: a/b: spec.filter.configMapRef.key\na valid config key must consist of "
      .. "alphanumeric characters, '-', '_' or '.', at most 253 characters, and must not be '.', '..' or start "
      .. "with '..'", msg(with(function(s) s.filter = { configMapRef = { name = "f", key = "a/b" } } end)))
    assert.is_truthy(msg(with(function(s) s.filter = { configMapRef = { name = "F!" } } end))
      :find(": spec.filter.configMapRef.name", 1, true))
  end)

  it("checks filter.limits (ours): integers between the minimum and the controller's maximum", function()
    local function limits(l) return with(function(s) s.filter = { configMapRef = { name = "f" }, limits = l } end) end
    local max = { filter_max = { instructions = 2000000, memoryBytes = 33554432, timeoutMilliseconds = 5000 } }
    assert.equal("", msg(limits({ instructions = 2000000, memoryBytes = 1048576, timeoutMilliseconds = 10 }), max))
    assert.equal("invalid value: 999: spec.filter.limits.instructions\nmust be at least 1000",
      msg(limits({ instructions = 999 }), max))
    assert.equal("invalid value: 2000001: spec.filter.limits.instructions\nmust be at most 2000000 "
      .. "(the controller's --filter-limits-max)", msg(limits({ instructions = 2000001 }), max))
    assert.equal("invalid value: 33554433: spec.filter.limits.memoryBytes\nmust be at most 33554432 "
      .. "(the controller's --filter-limits-max)", msg(limits({ memoryBytes = 33554433 }), max))
    assert.equal("invalid value: 9: spec.filter.limits.timeoutMilliseconds\nmust be at least 10",
      msg(limits({ timeoutMilliseconds = 9 }), max))
    assert.equal("", msg(limits({ instructions = 10 ^ 9 // 1 }), nil), "no maximum known: no bound")
    assert.truthy(msg(limits({ cpu = 1 }), max):find("spec.filter.limits.cpu", 1, true), "unknown fields")
  end)

  it("checks delivery (ours): retry >= 0, backoffPolicy, ISO-8601 backoffDelay, deadLetterSink", function()
    assert.equal("", msg(with(function(s)
      s.delivery = { retry = 0, backoffPolicy = "linear", backoffDelay = "PT0.5S",
        deadLetterSink = { uri = "http://dls.example" } }
    end)))
    assert.equal("", msg(with(function(s) s.delivery = { backoffPolicy = "exponential", retry = 2147483647 } end)))
    assert.equal("invalid value: -1: spec.delivery.retry", msg(with(function(s) s.delivery = { retry = -1 } end)))
    assert.equal("invalid value: 2147483648: spec.delivery.retry",
      msg(with(function(s) s.delivery = { retry = 2147483648 } end)))
    assert.equal("invalid value: Linear: spec.delivery.backoffPolicy\nexpected linear or exponential",
      msg(with(function(s) s.delivery = { backoffPolicy = "Linear" } end)))
    -- The grammar only: P999999999999Y is well formed, if too long for the
    -- sender (vsg.time.parse_iso8601_duration says "range"); admitted.
    for _, d in ipairs({ "PT1S", "PT0.2S", "PT1M", "P1D", "P1Y2M3W4DT5H6M7.5S", "PT0,5S", "P1DT1H", "P.5D",
      "P5.D", "P999999999999Y" }) do
      assert.equal("", msg(with(function(s) s.delivery = { backoffDelay = d } end)), d)
    end
    for _, d in ipairs({ "1s", "P", "PT", "P1DT", "PT1S1M", "P1H", "-PT1S", "PT1.S.", "PTS", "P1D1D", "",
      "P.D", "P1T", "P1D\0x" }) do
      assert.equal("invalid value: " .. d .. ": spec.delivery.backoffDelay\n"
        .. "expected an ISO-8601 duration such as PT0.5S, PT1S, PT2M or P1D",
        msg(with(function(s) s.delivery = { backoffDelay = d } end)), d)
    end
    assert.equal("expected at least one, got none: spec.delivery.deadLetterSink.ref, spec.delivery.deadLetterSink.uri",
      msg(with(function(s) s.delivery = { deadLetterSink = {} } end)))
    assert.equal("invalid value: Relative URI is not allowed when Ref and [apiVersion, kind, name] is absent: "
      .. "spec.delivery.deadLetterSink.uri",
      msg(with(function(s) s.delivery = { deadLetterSink = { uri = "/x" } } end)))
    assert.equal("missing field(s): spec.delivery.deadLetterSink.ref.kind",
      msg(with(function(s) s.delivery = { deadLetterSink = { ref = { apiVersion = "v1", name = "d" } } } end)))
  end)

  it("rejects unknown fields at any depth, naming the path", function()
    assert.equal('unknown field "bogus": spec.bogus', msg(with(function(s) s.bogus = 1 end)))
    assert.equal('unknown field "foo": spec.sink.ref.foo', msg(with(function(s)
      s.sink = { ref = { apiVersion = "v1", kind = "Service", name = "x", foo = "y" } }
    end)))
    local obj = source(valid_spec())
    obj.bogus = true
    assert.equal('unknown field "bogus": bogus', msg(obj))
    assert.equal('unknown field "x": spec.checkpointConfig.x\nunknown field "y": spec.filter.configMapRef.y',
      msg(with(function(s)
        s.checkpointConfig = { x = 1 }
        s.filter = { configMapRef = { name = "f", y = 2 } }
      end)))
    assert.equal('unknown field "subject": spec.subject', msg(with(function(s) s.subject = {} end)))
    assert.equal('unknown field "z": spec.delivery.deadLetterSink.z',
      msg(with(function(s) s.delivery = { deadLetterSink = { uri = "http://d", z = 1 } } end)))
    -- Knative Destination fields are known.
    assert.equal("", msg(with(function(s)
      s.sink = { ref = { apiVersion = "v1", kind = "Service", name = "x", namespace = NS, address = "a" },
        uri = "/p", audience = "aud" }
    end)))
  end)

  it("rejects values of the wrong JSON type", function()
    assert.equal("expected string, got number: spec.address\nmissing field(s): spec.secretRef.name",
      msg(source({ address = 5, sink = { uri = "http://x" } })))
    assert.equal("expected boolean, got string: spec.skipTLSVerify",
      msg(with(function(s) s.skipTLSVerify = "yes" end)))
    assert.equal("expected at least one, got none: spec.sink.ref, spec.sink.uri\n"
      .. "expected object, got string: spec.sink",
      msg(with(function(s) s.sink = "http://x" end)))
    assert.equal("expected object, got array: spec.checkpointConfig",
      msg(with(function(s) s.checkpointConfig = { 1, 2 } end)))
  end)

  it("treats JSON null as absent", function()
    assert.equal("", msg(with(function(s)
      s.caCerts = NULL
      s.filter = NULL
      s.delivery = NULL
      s.ceOverrides = NULL
      s.checkpointConfig = { maxAgeSeconds = NULL }
    end)))
  end)

  it("reports every problem at once", function()
    assert.equal(table.concat({
      "expected at least one, got none: spec.sink.ref, spec.sink.uri",
      "invalid value: -1: spec.checkpointConfig.periodSeconds",
      "invalid value: foo: spec.payloadEncoding",
      "missing field(s): spec.address.host, spec.secretRef.name",
      'unknown field "bogus": spec.bogus',
    }, "\n"), msg(source({ address = "vc.local", payloadEncoding = "foo", bogus = 1,
      checkpointConfig = { periodSeconds = -1 } })))
  end)

  it("skips DELETE, subresource requests and objects being deleted", function()
    local bad = source({ bogus = 1 })
    assert.is_not_nil(vss.validate(bad, nil, { operation = "UPDATE" }))
    assert.is_nil(vss.validate(bad, nil, { operation = "DELETE" }))
    assert.is_nil(vss.validate(bad, nil, { operation = "UPDATE", subresource = "status" }))
    local deleting = source({ bogus = 1 }, { deletionTimestamp = "2024-01-01T00:00:00Z" })
    assert.is_nil(vss.validate(deleting, bad, { operation = "UPDATE" }))
  end)

  it("returns entries with path and message", function()
    local errs = vss.validate(with(function(s) s.payloadEncoding = "foo" end))
    assert.same({ { path = "spec.payloadEncoding", message = "invalid value: foo" } }, errs)
  end)
end)

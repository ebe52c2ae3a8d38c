local sink = require("lib.sink")
local fake = require("fake_kube")

describe("lib.sink", function()
  local kube, tracked
  local function opts()
    return { get = kube.get, track = function(...) tracked[#tracked + 1] = table.concat({ ... }, " ") end }
  end
  before_each(function()
    kube = fake.new()
    tracked = {}
    kube:seed({ apiVersion = "v1", kind = "Service", metadata = { namespace = "ns", name = "svc" } })
    kube:seed({ apiVersion = "v1", kind = "Service", metadata = { namespace = "other", name = "far" } })
    kube:seed({ apiVersion = "serving.knative.dev/v1", kind = "Service", metadata = { namespace = "ns", name = "ksvc" },
      status = { address = { url = "http://ksvc.ns.svc.cluster.local" } } })
    kube:seed({ apiVersion = "eventing.knative.dev/v1", kind = "Broker",
      metadata = { namespace = "ns", name = "default" },
      status = { address = { url = "http://broker-ingress.knative-eventing.svc.cluster.local/ns/default" },
        addresses = { { name = "http", url = "http://b.example/ns/default" },
          { name = "https", url = "https://b.example/x" } } } })
    kube:seed({ apiVersion = "eventing.knative.dev/v1", kind = "Broker",
      metadata = { namespace = "ns", name = "unready" },
      status = {} })
    kube:seed({ apiVersion = "eventing.knative.dev/v1", kind = "Broker",
      metadata = { namespace = "ns", name = "hostless" },
      status = { address = { url = "/just/a/path" } } })
  end)

  local function ref(api, kind, name, extra)
    local r = { apiVersion = api, kind = kind, name = name }
    for k, v in pairs(extra or {}) do r[k] = v end
    return r
  end

  local ok_cases = {
    { "absolute uri", { uri = "http://where.to.send.stuff" }, "http://where.to.send.stuff" },
    { "uri with path and port", { uri = "https://h:8443/p?q=1" }, "https://h:8443/p?q=1" },
    { "core v1 Service", { ref = ref("v1", "Service", "svc") }, "http://svc.ns.svc.cluster.local" },
    { "Service in another namespace", { ref = ref("v1", "Service", "far", { namespace = "other" }) },
      "http://far.other.svc.cluster.local" },
    { "Service + relative uri", { ref = ref("v1", "Service", "svc"), uri = "/extra" },
      "http://svc.ns.svc.cluster.local/extra" },
    { "Knative Service", { ref = ref("serving.knative.dev/v1", "Service", "ksvc") },
      "http://ksvc.ns.svc.cluster.local" },
    { "Broker", { ref = ref("eventing.knative.dev/v1", "Broker", "default") },
      "http://broker-ingress.knative-eventing.svc.cluster.local/ns/default" },
    { "Broker + relative uri", { ref = ref("eventing.knative.dev/v1", "Broker", "default"), uri = "sub?x=1" },
      "http://broker-ingress.knative-eventing.svc.cluster.local/ns/sub?x=1" },
    { "named address", { ref = ref("eventing.knative.dev/v1", "Broker", "default", { address = "https" }) },
      "https://b.example/x" },
  }
  for _, c in ipairs(ok_cases) do
    it("resolves " .. c[1], function()
      local uri, f = sink.resolve(c[2], "ns", opts())
      assert.is_nil(f)
      assert.equal(c[3], uri)
    end)
  end

  local bad_cases = {
    { "nothing", {}, "sink has neither ref nor uri" },
    { "relative uri alone", { uri = "/path" }, 'sink.uri "/path" is not absolute (it needs a scheme and a host)' },
    { "uri without host", { uri = "http:///x" },
      'sink.uri "http:///x" is not absolute (it needs a scheme and a host)' },
    { "missing Service", { ref = ref("v1", "Service", "nope") },
      'sink Service "nope" (v1) in namespace "ns" not found' },
    { "missing Broker", { ref = ref("eventing.knative.dev/v1", "Broker", "nope") },
      'sink Broker "nope" (eventing.knative.dev/v1) in namespace "ns" not found' },
    { "Broker without address", { ref = ref("eventing.knative.dev/v1", "Broker", "unready") },
      'sink Broker "unready" (eventing.knative.dev/v1) in namespace "ns" has no status.address.url'
      .. " (is it Addressable, and ready?)" },
    { "address without host", { ref = ref("eventing.knative.dev/v1", "Broker", "hostless") },
      'sink Broker "hostless" (eventing.knative.dev/v1) in namespace "ns" has an address without a host: '
      .. '"/just/a/path"' },
    { "unknown named address", { ref = ref("eventing.knative.dev/v1", "Broker", "default", { address = "grpc" }) },
      'sink Broker "default" (eventing.knative.dev/v1) in namespace "ns" has no status.addresses entry named "grpc"'
      .. " with a url" },
    { "incomplete ref", { ref = { kind = "Service", name = "x" } }, "sink.ref.apiVersion is missing" },
  }
  for _, c in ipairs(bad_cases) do
    it("reports " .. c[1], function()
      local uri, f = sink.resolve(c[2], "ns", opts())
      assert.is_nil(uri)
      assert.same({ reason = "SinkNotFound", message = c[3], retry = false }, f)
    end)
  end

  it("tracks the ref before reading it", function()
    sink.resolve({ ref = ref("v1", "Service", "nope") }, "ns", opts())
    assert.same({ "v1 Service ns nope" }, tracked)
  end)

  it("says when the ref's kind is not served (a CRD installed later)", function()
    kube = fake.new({ unserved = { ["eventing.knative.dev/v1|Broker"] = true } })
    local uri, f = sink.resolve({ ref = ref("eventing.knative.dev/v1", "Broker", "default") }, "ns", opts())
    assert.is_nil(uri)
    assert.same({ reason = "SinkNotFound", retry = false, unserved = true,
      message = 'sink Broker "default" (eventing.knative.dev/v1) in namespace "ns" not found: the API server '
        .. "does not serve eventing.knative.dev/v1 Broker (is its CRD installed?)" }, f)
  end)

  it("asks for a retry on API errors other than NotFound, with the given names", function()
    kube = fake.new({ forbidden = { ["eventing.knative.dev/v1|Broker"] = true } })
    local uri, f = sink.resolve({ ref = ref("eventing.knative.dev/v1", "Broker", "b") }, "ns", opts(),
      "delivery.deadLetterSink", "DeadLetterSinkNotFound")
    assert.is_nil(uri)
    assert.same({ reason = "DeadLetterSinkNotFound", retry = true,
      message = 'cannot get delivery.deadLetterSink Broker "b" (eventing.knative.dev/v1) in namespace "ns": '
        .. 'Broker "b" is forbidden' }, f)
  end)
end)

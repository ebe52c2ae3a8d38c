-- admission.vspherebinding: defaulting and validation of VSphereBinding
-- with Knative's paths and messages (CONTRACTS §1, upstream.md §6.1,
-- knative tracker.Reference.Validate).
local fake = require("fake_kube")
local NULL = fake.install().null
local vsb = require("admission.vspherebinding")
local samples = require("upstream_samples")
local T = require("lib.tables")

local NS = "ns"

local DNS_LABEL = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
  .. "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
  .. "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"

local function binding(subject, extra)
  local spec = {
    address = "https://vcenter.corp.local",
    secretRef = { name = "vsphere-credentials" },
    subject = subject,
  }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return {
    apiVersion = "sources.tanzu.vmware.com/v1alpha1", kind = "VSphereBinding",
    metadata = { namespace = NS, name = "b" }, spec = spec,
  }
end

local function by_name(name)
  return { apiVersion = "apps/v1", kind = "Deployment", namespace = NS, name = name or "app" }
end

local function by_selector(sel)
  return { apiVersion = "batch/v1", kind = "Job", namespace = NS, selector = sel }
end

local function msg(obj, ctx)
  return vsb.format(vsb.validate(obj, nil, ctx))
end

describe("admission.vspherebinding samples", function()
  for _, file in ipairs(samples.names("VSphereBinding")) do
    it("samples/upstream/" .. file .. " is transcribed exactly", function()
      assert.same(samples.FILES[file], samples.read("samples/upstream/" .. file))
    end)

    it("samples/upstream/" .. file .. " defaults and validates cleanly", function()
      local obj = samples.get(file, NS)
      vsb.default(obj)
      assert.equal(NS, obj.spec.subject.namespace)
      assert.is_nil(vsb.validate(obj, nil, { operation = "CREATE" }))
    end)
  end
end)

describe("admission.vspherebinding defaults", function()
  it("sets subject.namespace to the binding's namespace when empty", function()
    for _, v in ipairs({ false, "", NULL }) do
      local s = by_name()
      s.namespace = v or nil
      local obj = binding(s)
      vsb.default(obj)
      assert.equal(NS, obj.spec.subject.namespace)
    end
  end)

  it("keeps an explicit namespace (validation rejects a different one)", function()
    local s = by_name()
    s.namespace = "other"
    local obj = binding(s)
    vsb.default(obj)
    assert.equal("other", obj.spec.subject.namespace)
  end)

  it("uses the request namespace when metadata has none; idempotent; status requests untouched", function()
    local s = by_name()
    s.namespace = nil
    local obj = binding(s)
    obj.metadata.namespace = nil
    vsb.default(obj, { namespace = "req" })
    assert.equal("req", obj.spec.subject.namespace)
    local once = T.copy(obj)
    vsb.default(obj, { namespace = "req" })
    assert.same(once, obj)

    s = by_name()
    s.namespace = nil
    obj = binding(s)
    vsb.default(obj, { subresource = "status" })
    assert.is_nil(obj.spec.subject.namespace)
    assert.same({ metadata = {} }, vsb.default({ metadata = {} }))
  end)
end)

describe("admission.vspherebinding validation", function()
  it("accepts a subject by name and by selector", function()
    assert.equal("", msg(binding(by_name())))
    assert.equal("", msg(binding(by_selector({ matchLabels = { foo = "bar" } }))))
    assert.equal("", msg(binding(by_selector({}))))
    assert.equal("", msg(binding(by_selector({ matchExpressions = {
      { key = "app", operator = "In", values = { "a", "b" } },
      { key = "tier", operator = "NotIn", values = { "db" } },
      { key = "example.com/team", operator = "Exists" },
      { key = "legacy", operator = "DoesNotExist", values = {} },
    } }))))
  end)

  it("requires exactly one of name and selector", function()
    local s = by_name()
    s.selector = { matchLabels = { a = "b" } }
    assert.equal("expected exactly one, got both: spec.subject.name, spec.subject.selector", msg(binding(s)))
    s = by_name()
    s.name = nil
    assert.equal("expected exactly one, got neither: spec.subject.name, spec.subject.selector", msg(binding(s)))
    s.name = ""
    assert.equal("expected exactly one, got neither: spec.subject.name, spec.subject.selector", msg(binding(s)))
    s.name, s.selector = "", NULL
    assert.equal("expected exactly one, got neither: spec.subject.name, spec.subject.selector", msg(binding(s)))
  end)

  it("requires apiVersion and kind (and namespace when not defaulted)", function()
    assert.equal("expected exactly one, got neither: spec.subject.name, spec.subject.selector\n"
      .. "missing field(s): spec.subject.apiVersion, spec.subject.kind, spec.subject.namespace",
      msg(binding({})))
    assert.equal("expected exactly one, got neither: spec.subject.name, spec.subject.selector\n"
      .. "missing field(s): spec.subject.apiVersion, spec.subject.kind, spec.subject.namespace",
      msg(binding(nil)))
    local obj = binding(nil)
    vsb.default(obj)
    assert.equal("expected exactly one, got neither: spec.subject.name, spec.subject.selector\n"
      .. "missing field(s): spec.subject.apiVersion, spec.subject.kind, spec.subject.namespace", msg(obj))
  end)

  it("requires the subject in the binding's namespace", function()
    local s = by_name()
    s.namespace = "other"
    assert.equal("invalid value: other: spec.subject.namespace", msg(binding(s)))
    s.namespace = "Bad_NS"
    assert.equal("invalid value: Bad_NS: spec.subject.namespace\n"
      .. "invalid value: " .. DNS_LABEL .. ": spec.subject.namespace", msg(binding(s)))
  end)

  it("checks name, apiVersion and kind like tracker.Reference", function()
    assert.equal("invalid value: " .. DNS_LABEL .. ": spec.subject.name", msg(binding(by_name("My_App"))))
    assert.equal("invalid value: must be no more than 63 characters: spec.subject.name",
      msg(binding(by_name(string.rep("a", 64)))))
    local s = by_name()
    s.apiVersion = "a/b/c"
    assert.equal("invalid value: a qualified name must consist of alphanumeric characters, '-', '_' or '.', and "
      .. "must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
      .. "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
      .. "and '/' (e.g. 'example.com/MyName'): spec.subject.apiVersion", msg(binding(s)))
    s = by_name()
    s.kind = "Deploy-ment"
    assert.equal("invalid value: a valid C identifier must start with alphabetic character or '_', followed by a "
      .. "string of alphanumeric characters or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName', regex used for "
      .. "validation is '[A-Za-z_][A-Za-z0-9_]*'): spec.subject.kind", msg(binding(s)))
    for _, api in ipairs({ "v1", "apps/v1", "serving.knative.dev/v1", "sources.tanzu.vmware.com/v1alpha1" }) do
      s = by_name()
      s.apiVersion = api
      assert.equal("", msg(binding(s)), api)
    end
  end)

  it("checks the selector like metav1.LabelSelectorAsSelector", function()
    local p = ": spec.subject.selector"
    for _, c in ipairs({
      { { matchExpressions = { { key = "a", operator = "In" } } },
        "invalid value: for 'in', 'notin' operators, values set can't be empty" },
      { { matchExpressions = { { key = "a", operator = "NotIn", values = {} } } },
        "invalid value: for 'in', 'notin' operators, values set can't be empty" },
      { { matchExpressions = { { key = "a", operator = "Exists", values = { "x" } } } },
        "invalid value: values set must be empty for exists and does not exist" },
      { { matchExpressions = { { key = "a", operator = "Equals", values = { "x" } } } },
        'invalid value: "Equals" is not a valid label selector operator' },
      { { matchLabels = { ["bad key!"] = "x" } },
        'invalid value: invalid label key "bad key!": name part must consist of alphanumeric characters, \'-\', '
          .. "'_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
          .. "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')" },
      { { matchLabels = { a = "-x" } },
        'invalid value: invalid label value: "-x": at key: "a": a valid label must be an empty string or consist '
          .. "of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
          .. "(e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
          .. "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')" },
    }) do
      assert.equal(c[2] .. p, msg(binding(by_selector(c[1]))))
    end
    assert.equal('expected string, got number: spec.subject.selector.matchExpressions[0].values[1]\n'
      .. 'invalid value: values must be strings: spec.subject.selector\n'
      .. 'unknown field "bogus": spec.subject.selector.matchExpressions[0].bogus',
      msg(binding(by_selector({
        matchExpressions = { { key = "a", operator = "In", values = { "x", 2 }, bogus = 1 } },
      }))))
  end)

  it("checks address and secretRef as for sources", function()
    local obj = binding(by_name())
    obj.spec.address = "vc.local"
    obj.spec.secretRef = nil
    assert.equal("missing field(s): spec.address.host, spec.secretRef.name", msg(obj))
    obj.spec.address, obj.spec.secretRef = nil, { name = "" }
    assert.equal("missing field(s): spec.address.host, spec.secretRef.name", msg(obj))
  end)

  it("rejects unknown fields, including source-only ones", function()
    assert.equal('unknown field "sink": spec.sink', msg(binding(by_name(), { sink = { uri = "http://x" } })))
    assert.equal('unknown field "caCerts": spec.caCerts', msg(binding(by_name(), { caCerts = "x" })))
    local s = by_name()
    s.bogus = 1
    assert.equal('unknown field "bogus": spec.subject.bogus', msg(binding(s)))
    assert.equal("expected boolean, got string: spec.skipTLSVerify", msg(binding(by_name(), { skipTLSVerify = "no" })))
  end)

  it("skips DELETE, subresource requests and objects being deleted", function()
    local bad = binding({})
    assert.is_not_nil(vsb.validate(bad, nil, { operation = "CREATE" }))
    assert.is_nil(vsb.validate(bad, nil, { operation = "DELETE" }))
    assert.is_nil(vsb.validate(bad, nil, { operation = "UPDATE", subresource = "status" }))
    bad.metadata.deletionTimestamp = "2024-01-01T00:00:00Z"
    assert.is_nil(vsb.validate(bad, nil, { operation = "UPDATE" }))
  end)
end)

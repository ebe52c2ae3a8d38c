-- The VSphereBinding reconciler against fake_kube.lua: subjects by name and
-- by selector are bound (exactly once), exclusion labels are honoured,
-- conditions (Ready, SubjectMissing, SubjectUnavailable, BindingFailed),
-- observedGeneration, no writes in a steady state, finalize undoes.
local fake = require("fake_kube")
local vsg = fake.install()
local reconciler = require("reconcilers.vspherebinding")
local bind = require("binding.vsphere")

local NS = "ns"
local NOW = "2024-05-01T10:00:00Z"
local API = "sources.tanzu.vmware.com/v1alpha1"

local kube, tracked

local function deployment(name, labels)
  return {
    apiVersion = "apps/v1", kind = "Deployment",
    metadata = { name = name, namespace = NS, labels = labels },
    spec = { template = { spec = {
      initContainers = { { name = "init", image = "i" } },
      containers = { { name = "a", image = "a", env = { { name = "KEEP", value = "1" } } } },
    } } },
  }
end

local function binding(subject, extra_md)
  local md = { name = "b", namespace = NS, generation = 3 }
  for k, v in pairs(extra_md or {}) do md[k] = v end
  subject.apiVersion = subject.apiVersion or "apps/v1"
  subject.kind = subject.kind or "Deployment"
  subject.namespace = subject.namespace or NS
  return {
    apiVersion = API, kind = "VSphereBinding", metadata = md,
    spec = { subject = subject, address = "https://vc.example", skipTLSVerify = false,
             secretRef = { name = "creds" } },
  }
end

local function run(fn, b)
  local stored = kube:seed(b)
  local ctx = {
    now = NOW, namespace = NS, name = b.metadata.name, config = {},
    log = { info = function() end, warn = function() end, debug = function() end },
    track = function(...) tracked[#tracked + 1] = table.concat({ ... }, " ") end,
  }
  return reconciler[fn](ctx, fake.copy(stored))
end

local function ready(name)
  local b = kube:find(API, "VSphereBinding", NS, name or "b")
  for _, c in ipairs(b.status and b.status.conditions or {}) do
    if c.type == "Ready" then return c end
  end
end

-- Whether the stored Deployment carries the binding exactly once (the
-- fake adds the API server's defaults, so count what the binding adds).
local function bound(name)
  local ps = kube:find("apps/v1", "Deployment", NS, name).spec.template.spec
  local vols = 0
  for _, v in ipairs(ps.volumes or {}) do
    if v.name == bind.VOLUME and v.secret.secretName == "creds" then vols = vols + 1 end
  end
  if vols ~= 1 then return false end
  for _, key in ipairs({ "initContainers", "containers" }) do
    for _, c in ipairs(ps[key] or {}) do
      local envs, mounts = {}, 0
      for _, e in ipairs(c.env or {}) do
        if e.name:sub(1, 3) == "VC_" then envs[#envs + 1] = e.name end
      end
      for _, m in ipairs(c.volumeMounts or {}) do
        if m.name == bind.VOLUME then mounts = mounts + 1 end
      end
      if table.concat(envs, ",") ~= "VC_URL,VC_INSECURE,VC_USERNAME,VC_PASSWORD" or mounts ~= 1 then return false end
    end
  end
  return true
end

describe("VSphereBinding reconciler", function()
  before_each(function()
    kube = fake.new()
    vsg.kube = kube
    tracked = {}
    kube:seed({ apiVersion = "v1", kind = "Namespace", metadata = { name = NS } })
  end)

  it("declares its kind, finalizer and watches", function()
    assert.equal("VSphereBinding", reconciler.kind)
    assert.equal("vspherebindings.sources.tanzu.vmware.com", reconciler.finalizer)
    assert.is_function(reconciler.finalize)
    assert.equal(5, #reconciler.watches)
  end)

  it("binds a subject by name, tracks it, sets Ready and observedGeneration", function()
    kube:seed(deployment("web"))
    local res, err = run("reconcile", binding({ name = "web" }))
    assert.is_nil(res)
    assert.is_nil(err)
    assert.is_true(bound("web"))
    assert.same({ "apps/v1 Deployment ns web" }, tracked)
    assert.equal("True", ready().status)
    assert.equal(3, kube:find(API, "VSphereBinding", NS, "b").status.observedGeneration)
    -- A second pass writes nothing.
    kube:writes() -- reads and clears the log
    run("reconcile", kube:find(API, "VSphereBinding", NS, "b"))
    assert.same({}, kube:writes())
  end)

  it("reports SubjectMissing", function()
    run("reconcile", binding({ name = "nothere" }))
    assert.equal("False", ready().status)
    assert.equal("SubjectMissing", ready().reason)
  end)

  it("reports SubjectUnavailable when the kind cannot be read", function()
    kube = fake.new({ forbidden = { ["apps/v1|Deployment"] = true } })
    vsg.kube = kube
    run("reconcile", binding({ name = "web" }))
    assert.equal("SubjectUnavailable", ready().reason)
  end)

  it("reports BindingFailed when the write fails, and returns the error", function()
    kube:seed(deployment("web"))
    local real = kube.update
    kube.update = function(obj)
      if obj.kind == "Deployment" then return nil, { code = "Invalid", message = "nope" } end
      return real(obj)
    end
    local _, err = run("reconcile", binding({ name = "web" }))
    assert.is_not_nil(err)
    assert.equal("BindingFailed", ready().reason)
  end)

  it("binds every subject a selector matches, and honours the exclude label", function()
    kube:seed(deployment("one", { app = "x" }))
    kube:seed(deployment("two", { app = "x" }))
    kube:seed(deployment("other", { app = "y" }))
    kube:seed(deployment("skip", { app = "x", ["bindings.knative.dev/exclude"] = "true" }))
    run("reconcile", binding({ selector = { matchLabels = { app = "x" } } }))
    assert.is_true(bound("one"))
    assert.is_true(bound("two"))
    assert.is_false(bound("other"))
    assert.is_false(bound("skip"))
    assert.equal("True", ready().status)
    -- Any Deployment of the namespace may start matching: all are tracked.
    assert.same({ "apps/v1 Deployment ns *" }, tracked)
  end)

  it("labels the subject namespace for inclusion unless it has an include or exclude label", function()
    kube:seed(deployment("web"))
    run("reconcile", binding({ name = "web" }))
    assert.is_truthy(table.concat(kube.log, "\n"):find("patch Namespace /" .. NS, 1, true))
    assert.equal("True", ready().status)
    for _, label in ipairs({ "bindings.knative.dev/include", "bindings.knative.dev/exclude" }) do
      kube = fake.new()
      vsg.kube = kube
      kube:seed({ apiVersion = "v1", kind = "Namespace", metadata = { name = NS, labels = { [label] = "false" } } })
      kube:seed(deployment("web"))
      run("reconcile", binding({ name = "web" }))
      assert.is_nil(table.concat(kube.log, "\n"):find("patch Namespace", 1, true))
    end
  end)

  it("builds label selectors", function()
    assert.equal("a=1,b in (x,y),c,!d", reconciler.label_selector({
      matchLabels = { a = "1" },
      matchExpressions = { { key = "b", operator = "In", values = { "x", "y" } },
                           { key = "c", operator = "Exists" }, { key = "d", operator = "DoesNotExist" } },
    }))
  end)

  it("finalize undoes exactly what was added", function()
    kube:seed(deployment("web"))
    run("reconcile", binding({ name = "web" }))
    assert.is_true(bound("web"))
    local _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_nil(err)
    local ps = kube:find("apps/v1", "Deployment", NS, "web").spec.template.spec
    assert.is_nil(ps.volumes)
    assert.same({ { name = "KEEP", value = "1" } }, ps.containers[1].env)
    assert.is_nil(ps.containers[1].volumeMounts)
    assert.is_nil(ps.initContainers[1].env)
  end)

  it("finalize tolerates a missing subject", function()
    local res, err = run("finalize", binding({ name = "gone" }))
    assert.is_nil(res)
    assert.is_nil(err)
  end)
end)

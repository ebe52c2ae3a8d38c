-- The VSphereBinding reconciler against fake_kube.lua: subjects by name and
-- by selector are bound (exactly once), exclusion labels are honoured,
-- conditions (Ready, SecretMissing, SecretInvalid, SubjectMissing,
-- SubjectUnavailable, BindingFailed),
-- observedGeneration, no writes in a steady state, finalize undoes; the
-- subject namespace is labelled bindings.knative.dev/include=true (and
-- marked as labelled by vsgate) before the subjects are looked at, in both
-- selection modes, and the label vsgate set goes with the namespace's last
-- binding (never one the user set; a binding created meanwhile keeps it).
local fake = require("fake_kube")
local vsg = fake.install()
local reconciler = require("reconcilers.vspherebinding")
local bind = require("binding.vsphere")

local NS = "ns"
local NOW = "2024-05-01T10:00:00Z"
local API = "sources.tanzu.vmware.com/v1alpha1"

local kube, tracked, config
local INCLUDE, EXCLUDE = "bindings.knative.dev/include", "bindings.knative.dev/exclude"
local SET_BY = "sources.tanzu.vmware.com/include-set-by"

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
    now = NOW, namespace = NS, name = b.metadata.name, config = config,
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
    config = {}
    kube:seed({ apiVersion = "v1", kind = "Namespace", metadata = { name = NS } })
    kube:seed({ apiVersion = "v1", kind = "Secret", type = "kubernetes.io/basic-auth",
                metadata = { name = "creds", namespace = NS }, data = { username = "dQ==", password = "cA==" } })
  end)

  it("declares its kind, finalizer and watches", function()
    assert.equal("VSphereBinding", reconciler.kind)
    assert.equal("vspherebindings.sources.tanzu.vmware.com", reconciler.finalizer)
    assert.is_function(reconciler.finalize)
    assert.equal(5, #reconciler.watches)
  end)

  describe("checks the Secret it names", function()
    local function secret(data)
      kube.delete("v1", "Secret", NS, "creds")
      if data then
        kube:seed({ apiVersion = "v1", kind = "Secret", metadata = { name = "creds", namespace = NS }, data = data })
      end
    end

    it("is SecretMissing while the Secret is not there, binds all the same, and looks again", function()
      kube:seed(deployment("web"))
      secret(nil)
      local res, err = run("reconcile", binding({ name = "web" }))
      assert.is_nil(err)
      assert.same({ requeue_after = 5 }, res)
      assert.is_true(bound("web"))
      local c = ready()
      assert.same({ "False", "SecretMissing", 'Secret "creds" not found in namespace "ns"' },
        { c.status, c.reason, c.message })
      -- The Secret comes: Ready, and no more polling.
      secret({ username = "dQ==", password = "cA==" })
      res, err = run("reconcile", kube:find(API, "VSphereBinding", NS, "b"))
      assert.is_nil(err)
      assert.is_nil(res)
      assert.equal("True", ready().status)
    end)

    it("is SecretInvalid without a non-empty username and password", function()
      kube:seed(deployment("web"))
      secret({ username = "dQ==" })
      run("reconcile", binding({ name = "web" }))
      assert.same({ "SecretInvalid", 'Secret "creds" has no "password" key' }, { ready().reason, ready().message })
      secret({ username = "", password = "" })
      run("reconcile", kube:find(API, "VSphereBinding", NS, "b"))
      assert.same({ "SecretInvalid", 'Secret "creds" has an empty "username" and an empty "password"' },
        { ready().reason, ready().message })
    end)

    it("names the Secret before a missing subject, and waits longer the longer it is missing", function()
      secret(nil)
      local b = binding({ name = "web" })
      b.status = { conditions = { { type = "Ready", status = "False", reason = "SecretMissing",
                                    lastTransitionTime = "2024-05-01T09:59:00Z" } } }
      -- A minute missing: look again in 30 s.
      vsg.time = { parse = function(t) return ({ ["2024-05-01T09:59:00Z"] = 0, [NOW] = 60 })[t] end }
      local res = run("reconcile", b)
      vsg.time = nil
      assert.equal("SecretMissing", ready().reason)
      assert.same({ requeue_after = 30 }, res)
    end)

    it("does not judge a Secret it may not read", function()
      kube:seed(deployment("web"))
      secret(nil)
      kube.opts.forbidden = { ["v1|Secret"] = true }
      local res, err = run("reconcile", binding({ name = "web" }))
      assert.is_nil(res)
      assert.is_nil(err)
      assert.equal("True", ready().status)
    end)
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

  it("is Ready when a selector matches nothing yet (as psbinding)", function()
    run("reconcile", binding({ kind = "Job", apiVersion = "batch/v1", selector = { matchLabels = { foo = "bar" } } }))
    assert.equal("True", ready().status)
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

  local function ns_md() return kube:find("v1", "Namespace", nil, NS).metadata end
  local function fresh_ns(labels, annotations)
    kube = fake.new()
    vsg.kube = kube
    kube:seed({ apiVersion = "v1", kind = "Namespace",
                metadata = { name = NS, labels = labels, annotations = annotations } })
  end
  local function ns_patched() return table.concat(kube.log, "\n"):find("patch Namespace /" .. NS, 1, true) ~= nil end

  it("labels the subject namespace include=true and marks it as set by vsgate", function()
    kube:seed(deployment("web"))
    run("reconcile", binding({ name = "web" }))
    assert.equal("true", ns_md().labels[INCLUDE])
    assert.equal("vsgate", ns_md().annotations[SET_BY])
    assert.equal("True", ready().status)
    -- Once labelled, later passes leave the namespace alone.
    kube:writes()
    run("reconcile", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_false(ns_patched())
  end)

  it("labels the namespace before the subject exists (by name and by an empty selector)", function()
    run("reconcile", binding({ name = "later" }))
    assert.equal("SubjectMissing", ready().reason)
    assert.equal("true", ns_md().labels[INCLUDE])
    fresh_ns()
    run("reconcile", binding({ kind = "Job", apiVersion = "batch/v1", selector = { matchLabels = { team = "blue" } } }))
    assert.equal("true", ns_md().labels[INCLUDE])
    assert.equal("vsgate", ns_md().annotations[SET_BY])
  end)

  it("leaves a namespace with an include or exclude label alone in inclusion mode (as psbinding)", function()
    for _, label in ipairs({ INCLUDE, EXCLUDE }) do
      for _, value in ipairs({ "true", "false" }) do
        fresh_ns({ [label] = value })
        config = { binding_selection_mode = "inclusion" }
        kube:seed(deployment("web"))
        run("reconcile", binding({ name = "web" }))
        assert.is_false(ns_patched(), label .. "=" .. value)
        assert.same({ [label] = value }, ns_md().labels)
      end
    end
    fresh_ns()
    config = { binding_selection_mode = "inclusion" }
    run("reconcile", binding({ name = "web" }))
    assert.equal("true", ns_md().labels[INCLUDE])
  end)

  it("in exclusion mode labels every namespace psbinding would intercept (exclude not \"true\")", function()
    -- exclude=false: psbinding intercepts it; the webhook needs include=true.
    fresh_ns({ [EXCLUDE] = "false" })
    run("reconcile", binding({ name = "web" }))
    assert.equal("true", ns_md().labels[INCLUDE])
    -- exclude=true: excluded either way; an include label: the user's.
    for _, labels in ipairs({ { [EXCLUDE] = "true" }, { [INCLUDE] = "false" }, { [INCLUDE] = "true" } }) do
      fresh_ns(labels)
      run("reconcile", binding({ name = "web" }))
      assert.is_false(ns_patched())
      assert.is_nil((ns_md().annotations or {})[SET_BY])
    end
  end)

  it("wants_label per mode", function()
    local w = reconciler.wants_label
    assert.is_true(w({}, nil))
    assert.is_true(w(nil, "exclusion"))
    assert.is_true(w({ [EXCLUDE] = "false" }, "exclusion"))
    assert.is_false(w({ [EXCLUDE] = "true" }, "exclusion"))
    assert.is_false(w({ [INCLUDE] = "false" }, "exclusion"))
    assert.is_true(w({ other = "x" }, "inclusion"))
    assert.is_false(w({ [EXCLUDE] = "false" }, "inclusion"))
    assert.is_false(w({ [INCLUDE] = "true" }, "inclusion"))
  end)

  it("reports BindingFailed when the namespace cannot be labelled, and binds nothing", function()
    kube:seed(deployment("web"))
    kube.patch = function() return nil, { code = "Forbidden", message = "no patch for you" } end
    local _, err = run("reconcile", binding({ name = "web" }))
    assert.is_not_nil(err)
    assert.equal("BindingFailed", ready().reason)
    assert.matches("binding namespace: no patch for you", ready().message, 1, true)
    assert.is_false(bound("web"))
  end)

  it("finalize of the namespace's last binding removes the label vsgate set", function()
    kube:seed(deployment("web"))
    run("reconcile", binding({ name = "web" }))
    assert.equal("true", ns_md().labels[INCLUDE])
    local b = kube:find(API, "VSphereBinding", NS, "b")
    b.metadata.deletionTimestamp = NOW
    local _, err = run("finalize", b)
    assert.is_nil(err)
    assert.is_nil((ns_md().labels or {})[INCLUDE])
    assert.is_nil((ns_md().annotations or {})[SET_BY])
    assert.is_false(bound("web"))
  end)

  it("finalize keeps the label while another live binding of the namespace is left", function()
    kube:seed(deployment("web"))
    run("reconcile", binding({ name = "web" }))
    kube:seed(binding({ name = "web" }, { name = "b2" }))
    local _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_nil(err)
    assert.equal("true", ns_md().labels[INCLUDE])
    -- The other one being deleted too does not count.
    kube:find(API, "VSphereBinding", NS, "b2").metadata.deletionTimestamp = NOW
    _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_nil(err)
    assert.is_nil((ns_md().labels or {})[INCLUDE])
  end)

  it("finalize never removes an include label vsgate did not set", function()
    fresh_ns({ [INCLUDE] = "true" })
    config = { binding_selection_mode = "inclusion" }
    kube:seed(deployment("web", { [INCLUDE] = "true" }))
    run("reconcile", binding({ name = "web" }))
    assert.is_true(bound("web"))
    kube:writes()
    local _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_nil(err)
    assert.equal("true", ns_md().labels[INCLUDE])
    assert.is_false(ns_patched())
  end)

  it("finalize drops only the mark when the user changed the label since", function()
    kube:seed(deployment("web"))
    run("reconcile", binding({ name = "web" }))
    ns_md().labels[INCLUDE] = "false"
    local _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_nil(err)
    assert.equal("false", ns_md().labels[INCLUDE])
    assert.is_nil(ns_md().annotations[SET_BY])
  end)

  it("finalize puts the label back when a binding was created while it removed it", function()
    kube:seed(deployment("web"))
    run("reconcile", binding({ name = "web" }))
    local real = kube.patch
    kube.patch = function(api, kind, ns, name, p, ptype)
      local out, err = real(api, kind, ns, name, p, ptype)
      -- A new binding lands right after the label went (its reconcile saw
      -- the label still there and left the namespace alone).
      if kind == "Namespace" and not kube:find(API, "VSphereBinding", NS, "new") then
        kube:seed(binding({ name = "web" }, { name = "new" }))
      end
      return out, err
    end
    local _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_nil(err)
    assert.equal("true", ns_md().labels[INCLUDE])
    assert.equal("vsgate", ns_md().annotations[SET_BY])
  end)

  it("finalize returns a Conflict on the namespace (retried), tolerates a namespace that is gone", function()
    kube:seed(deployment("web"))
    run("reconcile", binding({ name = "web" }))
    local real_get = kube.get
    kube.get = function(api, kind, ns, name)
      local o, e = real_get(api, kind, ns, name)
      if kind == "Namespace" and o then o.metadata.resourceVersion = "stale" end
      return o, e
    end
    local _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.equal("Conflict", err and err.code)
    assert.equal("true", ns_md().labels[INCLUDE])
    kube.get = real_get
    kube.objects["v1|Namespace||" .. NS] = nil
    _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_nil(err)
  end)

  it("finalize retries a retryable error on the namespace, logs and goes on after any other", function()
    kube:seed(deployment("web"))
    run("reconcile", binding({ name = "web" }))
    kube.patch = function() return nil, { code = "InternalError", status = 500, message = "etcd", retryable = true } end
    local _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.equal("InternalError", err and err.code)
    kube.patch = function()
      return nil, { code = "Invalid", status = 422, message = "policy says no", retryable = false }
    end
    _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_nil(err)
    assert.equal("true", ns_md().labels[INCLUDE])
  end)

  it("lists selector subjects with the binding's LabelSelector as it is", function()
    local sel = {
      matchLabels = { a = "1" },
      matchExpressions = { { key = "b", operator = "In", values = { "x", "y" } } },
    }
    local seen
    kube.list = function(_, _, _, opts)
      seen = opts
      return { items = {} }
    end
    run("reconcile", binding({ selector = sel }))
    assert.are.same({ labelSelector = sel }, seen)
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

  it("finalize skips a subject the API server refuses to change (immutable Job template)", function()
    kube:seed(deployment("one", { app = "x" }))
    kube:seed(deployment("two", { app = "x" }))
    run("reconcile", binding({ selector = { matchLabels = { app = "x" } } }))
    assert.is_true(bound("one"))
    assert.is_true(bound("two"))
    local real = kube.update
    kube.update = function(obj)
      if obj.metadata.name == "one" then
        return nil, { code = "Invalid", status = 422, message = "spec.template: field is immutable" }
      end
      return real(obj)
    end
    local _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_nil(err)
    assert.is_true(bound("one"))
    assert.is_false(bound("two"))
    assert.equal("UndoSkipped", kube.events[#kube.events].reason)
    assert.truthy(kube.events[#kube.events].message:find("Deployment/one", 1, true))
    -- Any other failure still holds the finalizer (retried).
    kube.update = function() return nil, { code = "InternalError", status = 500, message = "x" } end
    run("reconcile", kube:find(API, "VSphereBinding", NS, "b"))
    kube.update = real
    run("reconcile", kube:find(API, "VSphereBinding", NS, "b"))
    kube.update = function() return nil, { code = "InternalError", status = 500, message = "x" } end
    _, err = run("finalize", kube:find(API, "VSphereBinding", NS, "b"))
    assert.is_not_nil(err)
  end)

  it("finalize tolerates a missing subject", function()
    local res, err = run("finalize", binding({ name = "gone" }))
    assert.is_nil(res)
    assert.is_nil(err)
  end)
end)

-- binding.vsphere: do/undo of CONTRACTS §5 on any spec.template.spec,
-- selection modes and subject matching (upstream.md §6.2-6.3).
local vb = require("binding.vsphere")
local T = require("lib.tables")

local NS = "ns"

local function binding(spec, md)
  local s = {
    address = "https://vcenter.corp.local",
    secretRef = { name = "vsphere-credentials" },
    subject = { apiVersion = "apps/v1", kind = "Deployment", namespace = NS, name = "app" },
  }
  for k, v in pairs(spec or {}) do s[k] = v end
  return {
    apiVersion = "sources.tanzu.vmware.com/v1alpha1", kind = "VSphereBinding",
    metadata = md or { namespace = NS, name = "b" }, spec = s,
  }
end

local function workload(api, kind, podspec, labels)
  return {
    apiVersion = api, kind = kind,
    metadata = { namespace = NS, name = "app", labels = labels },
    spec = { template = { metadata = { labels = { app = "x" } }, spec = podspec } },
  }
end

local MOUNT = { name = "vsphere-binding", readOnly = true, mountPath = "/var/bindings/vsphere" }
local function env(url, insecure, secret)
  secret = secret or "vsphere-credentials"
  return {
    { name = "VC_URL", value = url or "https://vcenter.corp.local" },
    { name = "VC_INSECURE", value = insecure or "false" },
    { name = "VC_USERNAME", valueFrom = { secretKeyRef = { name = secret, key = "username" } } },
    { name = "VC_PASSWORD", valueFrom = { secretKeyRef = { name = secret, key = "password" } } },
  }
end
local function volume(secret)
  return { name = "vsphere-binding", secret = { secretName = secret or "vsphere-credentials" } }
end

local KINDS = {
  { "apps/v1", "Deployment" }, { "apps/v1", "StatefulSet" }, { "apps/v1", "DaemonSet" },
  { "apps/v1", "ReplicaSet" }, { "batch/v1", "Job" },
  { "serving.knative.dev/v1", "Service" }, { "serving.knative.dev/v1", "Configuration" },
}

-- A pod spec with its own volume, mount and env, plus an init container.
local function rich_podspec()
  return {
    serviceAccountName = "sa",
    volumes = { { name = "data", emptyDir = {} } },
    initContainers = {
      { name = "init", image = "busybox", env = { { name = "A", value = "1" } } },
    },
    containers = {
      {
        name = "main", image = "app:1",
        env = { { name = "LOG", value = "debug" }, { name = "POD", valueFrom = { fieldRef = { fieldPath = "x" } } } },
        volumeMounts = { { name = "data", mountPath = "/data" } },
      },
      { name = "sidecar", image = "side:1" },
    },
  }
end

describe("binding.vsphere do_binding", function()
  for _, k in ipairs(KINDS) do
    it("injects volume, mounts and env into every (init) container of a " .. k[2], function()
      local obj = workload(k[1], k[2], rich_podspec())
      assert.is_true(vb.do_binding(obj, binding()))
      local ps = obj.spec.template.spec
      assert.same({ { name = "data", emptyDir = {} }, volume() }, ps.volumes)
      local want_env = env()
      assert.same({ { name = "A", value = "1" }, table.unpack(want_env) }, ps.initContainers[1].env)
      assert.same({ MOUNT }, ps.initContainers[1].volumeMounts)
      local main_env = {
        { name = "LOG", value = "debug" }, { name = "POD", valueFrom = { fieldRef = { fieldPath = "x" } } },
      }
      for _, e in ipairs(want_env) do main_env[#main_env + 1] = e end
      assert.same(main_env, ps.containers[1].env)
      assert.same({ { name = "data", mountPath = "/data" }, MOUNT }, ps.containers[1].volumeMounts)
      assert.same(env(), ps.containers[2].env)
      assert.same({ MOUNT }, ps.containers[2].volumeMounts)
      -- Nothing else moved.
      assert.equal("sa", ps.serviceAccountName)
      assert.equal("app:1", ps.containers[1].image)
      assert.same({ labels = { app = "x" } }, obj.spec.template.metadata)
    end)
  end

  it("writes VC_INSECURE true/false, the normalised address and the binding's secret", function()
    local obj = workload("apps/v1", "Deployment", { containers = { { name = "c" } } })
    vb.do_binding(obj, binding({ skipTLSVerify = true, address = "HTTPS://VC.example:8443/sdk",
      secretRef = { name = "creds" } }))
    local ps = obj.spec.template.spec
    assert.same(env("https://VC.example:8443/sdk", "true", "creds"), ps.containers[1].env)
    assert.same({ volume("creds") }, ps.volumes)
  end)

  it("is idempotent: applying twice equals applying once", function()
    for _, k in ipairs(KINDS) do
      local obj = workload(k[1], k[2], rich_podspec())
      assert.is_true(vb.do_binding(obj, binding()))
      local once = T.copy(obj)
      assert.is_false(vb.do_binding(obj, binding()))
      assert.same(once, obj)
    end
  end)

  it("changes nothing on an object read back from the API server (secret.defaultMode filled in)", function()
    local obj = workload("apps/v1", "Deployment", rich_podspec())
    assert.is_true(vb.do_binding(obj, binding()))
    -- What the API server stores: the secret volume's defaultMode defaulted.
    obj.spec.template.spec.volumes[2].secret.defaultMode = 420
    local stored = T.copy(obj)
    assert.is_false(vb.do_binding(obj, binding()))
    assert.same(stored, obj)
    -- Another secret: the volume is made anew (without the old defaultMode).
    assert.is_true(vb.do_binding(obj, binding({ secretRef = { name = "s2" } })))
    assert.same({ { name = "data", emptyDir = {} }, volume("s2") }, obj.spec.template.spec.volumes)
  end)

  it("replaces an existing env var of the same name (moved after the others, as the Go version)", function()
    local obj = workload("apps/v1", "Deployment", { containers = { { name = "c", env = {
      { name = "VC_URL", value = "https://old" }, { name = "KEEP", value = "k" },
      { name = "VC_PASSWORD", value = "plain" },
    } } } })
    assert.is_true(vb.do_binding(obj, binding()))
    local want = { { name = "KEEP", value = "k" } }
    for _, e in ipairs(env()) do want[#want + 1] = e end
    assert.same(want, obj.spec.template.spec.containers[1].env)
  end)

  it("updates the injected values when the binding changes", function()
    local obj = workload("apps/v1", "Deployment", rich_podspec())
    vb.do_binding(obj, binding())
    assert.is_true(vb.do_binding(obj, binding({ address = "https://vc2.local", secretRef = { name = "s2" } })))
    local ps = obj.spec.template.spec
    assert.same({ { name = "data", emptyDir = {} }, volume("s2") }, ps.volumes)
    assert.same(env("https://vc2.local", "false", "s2"), ps.containers[2].env)
    assert.same({ MOUNT }, ps.containers[2].volumeMounts)
  end)

  it("adds the volume even without containers, and fails without spec.template.spec", function()
    local obj = workload("apps/v1", "Deployment", {})
    assert.is_true(vb.do_binding(obj, binding()))
    assert.same({ volumes = { volume() } }, obj.spec.template.spec)
    for _, o in ipairs({ { spec = {} }, { spec = { template = {} } }, {}, { spec = { containers = {} } } }) do
      local before = T.copy(o)
      local changed, err = vb.do_binding(o, binding())
      assert.is_false(changed)
      assert.equal("object has no spec.template.spec", err)
      assert.same(before, o)
    end
  end)
end)

describe("binding.vsphere undo_binding", function()
  it("undo(do(x)) == x for objects with their own env, mounts and volumes", function()
    for _, k in ipairs(KINDS) do
      local orig = workload(k[1], k[2], rich_podspec())
      local obj = T.copy(orig)
      vb.do_binding(obj, binding())
      assert.is_true(vb.undo_binding(obj, binding()))
      assert.same(orig, obj)
    end
    local bare = workload("batch/v1", "Job", { containers = { { name = "c" } } })
    local obj = T.copy(bare)
    vb.do_binding(obj, binding())
    vb.undo_binding(obj, binding())
    assert.same(bare, obj)
  end)

  it("removes exactly the volume, its mounts and the four env vars", function()
    local obj = workload("apps/v1", "Deployment", {
      volumes = { volume(), { name = "other", secret = { secretName = "x" } } },
      containers = { {
        name = "c",
        env = { { name = "VC_URL", value = "u" }, { name = "VC_SECRET_PATH", value = "/p" },
          { name = "VC_INSECURE", value = "true" }, { name = "VC_USERNAME", value = "u" },
          { name = "VC_PASSWORD", value = "p" } },
        volumeMounts = { MOUNT, { name = "other", mountPath = "/o" },
          { name = "vsphere-binding", mountPath = "/elsewhere" } },
      } },
    })
    assert.is_true(vb.undo_binding(obj))
    assert.same({
      volumes = { { name = "other", secret = { secretName = "x" } } },
      containers = { {
        name = "c",
        env = { { name = "VC_SECRET_PATH", value = "/p" } },
        volumeMounts = { { name = "other", mountPath = "/o" } },
      } },
    }, obj.spec.template.spec)
  end)

  it("changes nothing on an unbound object (empty lists included)", function()
    local obj = workload("apps/v1", "Deployment", rich_podspec())
    obj.spec.template.spec.containers[2].env = {}
    local before = T.copy(obj)
    assert.is_false(vb.undo_binding(obj))
    assert.same(before, obj)
    local changed, err = vb.undo_binding({ spec = {} })
    assert.is_false(changed)
    assert.equal("object has no spec.template.spec", err)
  end)
end)

describe("binding.vsphere selection", function()
  local EX, IN = vb.EXCLUDE_LABEL, vb.INCLUDE_LABEL
  it("exclusion mode (default) skips objects or namespaces labelled exclude=true", function()
    for _, mode in ipairs({ "exclusion", "", false }) do
      local m = mode or nil
      assert.is_true(vb.selection(nil, nil, m))
      assert.is_true(vb.selection({ app = "x" }, {}, m))
      assert.is_false(vb.selection({ [EX] = "true" }, {}, m))
      assert.is_false(vb.selection({}, { [EX] = "true" }, m))
      assert.is_true(vb.selection({ [EX] = "false" }, { [EX] = "True" }, m))
      assert.is_true(vb.selection({ [IN] = "true" }, nil, m))
    end
  end)

  it("inclusion mode requires include=true on the object and its namespace", function()
    assert.is_true(vb.selection({ [IN] = "true" }, { [IN] = "true" }, "inclusion"))
    assert.is_false(vb.selection({ [IN] = "true" }, {}, "inclusion"))
    assert.is_false(vb.selection({}, { [IN] = "true" }, "inclusion"))
    assert.is_false(vb.selection(nil, nil, "inclusion"))
    assert.is_false(vb.selection({ [IN] = "yes" }, { [IN] = "true" }, "inclusion"))
  end)
end)

describe("binding.vsphere subject_matches", function()
  local function job(name, labels, ns, api, kind)
    return { apiVersion = api or "batch/v1", kind = kind or "Job",
      metadata = { namespace = ns or NS, name = name, labels = labels } }
  end
  local function sel_binding(selector)
    return binding({ subject = { apiVersion = "batch/v1", kind = "Job", namespace = NS, selector = selector } })
  end

  it("matches by name, group, kind and namespace (version ignored)", function()
    local b = binding()
    assert.is_true(vb.subject_matches(b, workload("apps/v1", "Deployment", {})))
    assert.is_true(vb.subject_matches(b, workload("apps/v1beta1", "Deployment", {})))
    assert.is_false(vb.subject_matches(b, workload("apps/v1", "StatefulSet", {})))
    assert.is_false(vb.subject_matches(b, workload("extensions/v1", "Deployment", {})))
    local other = workload("apps/v1", "Deployment", {})
    other.metadata.name = "other"
    assert.is_false(vb.subject_matches(b, other))
    other = workload("apps/v1", "Deployment", {})
    other.metadata.namespace = "elsewhere"
    assert.is_false(vb.subject_matches(b, other))
  end)

  it("uses the binding's namespace when the subject has none", function()
    local b = binding({ subject = { apiVersion = "apps/v1", kind = "Deployment", name = "app" } })
    assert.is_true(vb.subject_matches(b, workload("apps/v1", "Deployment", {})))
    assert.is_false(vb.subject_matches(binding({ subject = { apiVersion = "apps/v1", kind = "Deployment",
      name = "app" } }, {}), workload("apps/v1", "Deployment", {})))
  end)

  it("matches core kinds by empty group", function()
    local b = binding({ subject = { apiVersion = "v1", kind = "ReplicationController", namespace = NS, name = "rc" } })
    assert.is_true(vb.subject_matches(b, job("rc", nil, NS, "v1", "ReplicationController")))
    assert.is_false(vb.subject_matches(b, job("rc", nil, NS, "apps/v1", "ReplicationController")))
  end)

  it("matches by label selector", function()
    local b = sel_binding({ matchLabels = { foo = "bar" } })
    assert.is_true(vb.subject_matches(b, job("j1", { foo = "bar", x = "y" })))
    assert.is_false(vb.subject_matches(b, job("j2", { foo = "baz" })))
    assert.is_false(vb.subject_matches(b, job("j3", nil)))
    assert.is_false(vb.subject_matches(b, job("j4", { foo = "bar" }, "elsewhere")))
    assert.is_false(vb.subject_matches(b, job("j5", { foo = "bar" }, NS, "apps/v1", "Deployment")))
    assert.is_true(vb.subject_matches(sel_binding({}), job("any", nil)))
  end)

  it("supports matchExpressions In, NotIn, Exists, DoesNotExist (ANDed with matchLabels)", function()
    local b = sel_binding({
      matchLabels = { team = "a" },
      matchExpressions = {
        { key = "env", operator = "In", values = { "prod", "staging" } },
        { key = "tier", operator = "NotIn", values = { "db" } },
        { key = "owner", operator = "Exists" },
        { key = "legacy", operator = "DoesNotExist" },
      },
    })
    local base = { team = "a", env = "prod", owner = "me" }
    assert.is_true(vb.subject_matches(b, job("ok", base)))
    local function with(k, v)
      local l = T.copy(base)
      l[k] = v
      return job("x", l)
    end
    assert.is_true(vb.subject_matches(b, with("tier", "web")))
    assert.is_true(vb.subject_matches(b, with("env", "staging")))
    assert.is_false(vb.subject_matches(b, with("env", "dev")))
    assert.is_false(vb.subject_matches(b, with("env", nil)))
    assert.is_false(vb.subject_matches(b, with("tier", "db")))
    assert.is_false(vb.subject_matches(b, with("owner", nil)))
    assert.is_false(vb.subject_matches(b, with("legacy", "yes")))
    assert.is_false(vb.subject_matches(b, with("team", "b")))
  end)

  it("matches nothing with both name and selector, neither, or an invalid selector", function()
    local b = binding({ subject = { apiVersion = "batch/v1", kind = "Job", namespace = NS, name = "j",
      selector = { matchLabels = { foo = "bar" } } } })
    assert.is_false(vb.subject_matches(b, job("j", { foo = "bar" })))
    b = binding({ subject = { apiVersion = "batch/v1", kind = "Job", namespace = NS } })
    assert.is_false(vb.subject_matches(b, job("j", {})))
    b = sel_binding({ matchExpressions = { { key = "a", operator = "In" } } })
    assert.is_false(vb.subject_matches(b, job("j", { a = "x" })))
    assert.is_false(vb.subject_matches({}, job("j", {})))
  end)
end)

-- The VSphereSource reconciler against the in-memory API server of
-- fake_kube.lua: table-driven like Knative's TableTest rows (objects
-- before, reconcile, exact writes and objects after).
local fake = require("fake_kube")
local vsg = fake.install()
local reconciler = require("reconcilers.vspheresource")

local NS = "ns"
local NOW = "2024-05-01T10:00:00Z"
local LATER = "2024-05-01T10:05:00Z"
local API = "sources.tanzu.vmware.com/v1alpha1"
local LABEL = "vspheresources.sources.tanzu.vmware.com/name"
local IMAGE = "vsgate:test"
local LOGGING = '{"_example":"x","loglevel.vsphere-source-webhook":"info",'
  .. '"zap-logger-config":"{\\"level\\":\\"info\\"}"}'
local METRICS = '{"_example":"x"}'
local K_LOGGING = '{"loglevel.vsphere-source-webhook":"info","zap-logger-config":"{\\"level\\":\\"info\\"}"}'
local K_METRICS = '{"Domain":"tanzu.vmware.com/sources","Component":"vspheresource","PrometheusPort":0,'
  .. '"PrometheusHost":"","ConfigMap":{}}'

-- samples/upstream/source*.yaml as tables (checked against the files below).
local SAMPLES = {
  ["source.yaml"] = {
    name = "source",
    spec = {
      address = "https://vcenter.corp.local", skipTLSVerify = true,
      secretRef = { name = "vsphere-credentials" },
      sink = { uri = "http://where.to.send.stuff" },
      checkpointConfig = { maxAgeSeconds = 300, periodSeconds = 10 },
    },
    sink = "http://where.to.send.stuff",
  },
  ["source-sink-service.yaml"] = {
    name = "source-to-service",
    spec = {
      address = "https://vcenter.corp.local", skipTLSVerify = true,
      secretRef = { name = "vsphere-credentials" },
      sink = { ref = { apiVersion = "v1", kind = "Service", name = "the-service-name" } },
      checkpointConfig = { maxAgeSeconds = 300, periodSeconds = 10 },
    },
    seed = { { apiVersion = "v1", kind = "Service", metadata = { namespace = NS, name = "the-service-name" } } },
    sink = "http://the-service-name.ns.svc.cluster.local",
  },
  ["source-sink-ksvc.yaml"] = {
    name = "source-to-ksvc",
    spec = {
      address = "https://vcenter.corp.local", skipTLSVerify = true,
      secretRef = { name = "vsphere-credentials" },
      sink = { ref = { apiVersion = "serving.knative.dev/v1", kind = "Service", name = "the-knative-service-name" } },
      checkpointConfig = { maxAgeSeconds = 300, periodSeconds = 10 },
    },
    seed = { { apiVersion = "serving.knative.dev/v1", kind = "Service",
      metadata = { namespace = NS, name = "the-knative-service-name" },
      status = { address = { url = "http://the-knative-service-name.ns.svc.cluster.local" } } } },
    sink = "http://the-knative-service-name.ns.svc.cluster.local",
  },
  ["source-sink-broker.yaml"] = {
    name = "source-to-broker",
    spec = {
      address = "https://vcenter.corp.local", skipTLSVerify = true,
      secretRef = { name = "vsphere-credentials" },
      sink = { ref = { apiVersion = "eventing.knative.dev/v1beta1", kind = "Broker", name = "default" } },
      checkpointConfig = { maxAgeSeconds = 300, periodSeconds = 10 },
    },
    seed = { { apiVersion = "eventing.knative.dev/v1beta1", kind = "Broker",
      metadata = { namespace = NS, name = "default" },
      status = { address = { url = "http://broker-ingress.knative-eventing.svc.cluster.local/ns/default" } } } },
    sink = "http://broker-ingress.knative-eventing.svc.cluster.local/ns/default",
  },
}

local function owner(name)
  return { apiVersion = API, kind = "VSphereSource", name = name, uid = "uid-" .. name,
    controller = true, blockOwnerDeletion = true }
end

local function fieldref(name, path)
  return { name = name, valueFrom = { fieldRef = { apiVersion = "v1", fieldPath = path } } }
end

-- What CONTRACTS §2 says the controller creates, written out by hand.
local function expected_deployment(name, sink, o)
  o = o or {}
  local child = o.child or name
  local label = { [LABEL] = o.label or name }
  local env = {
    fieldref("NAMESPACE", "metadata.namespace"),
    fieldref("NAME", "metadata.name"),
    { name = "K_METRICS_CONFIG", value = K_METRICS },
    { name = "K_LOGGING_CONFIG", value = K_LOGGING },
    { name = "VSPHERE_KVSTORE_CONFIGMAP", value = child .. "-configmap" },
    { name = "VSPHERE_CHECKPOINT_CONFIG", value = o.checkpoint or '{"maxAge":"5m0s","period":"10s"}' },
    { name = "VSPHERE_PAYLOAD_ENCODING", value = o.encoding or "application/xml" },
    { name = "K_CE_OVERRIDES", value = o.overrides or "" },
    { name = "K_SINK", value = sink },
    { name = "VSPHERE_SESSION_FILE", value = "/var/run/vsgate/vcenter-session" },
    { name = "VSPHERE_SOURCE_NAME", value = name },
    { name = "VSPHERE_HEALTH_PORT", value = "8080" },
  }
  for _, e in ipairs(o.extra_env or {}) do env[#env + 1] = e end
  return {
    apiVersion = "apps/v1", kind = "Deployment",
    metadata = { name = (o.deployment or child .. "-adapter"), namespace = NS, labels = label,
      ownerReferences = { owner(name) } },
    spec = {
      replicas = 1,
      selector = { matchLabels = label },
      strategy = { type = "Recreate" },
      template = {
        metadata = { labels = label },
        spec = {
          serviceAccountName = o.sa or "default",
          containers = { { name = "adapter", image = IMAGE, args = { "adapter" }, env = env,
            ports = { { name = "metrics", containerPort = 9090 }, { name = "health", containerPort = 8080 } },
            readinessProbe = { httpGet = { path = "/readyz", port = 8080 }, periodSeconds = 5, timeoutSeconds = 2,
              failureThreshold = 2 },
            volumeMounts = { { name = "vsgate-session", mountPath = "/var/run/vsgate" } } } },
          volumes = { { name = "vsgate-session", emptyDir = { medium = "Memory", sizeLimit = "1Mi" } } },
        },
      },
    },
  }
end

local function expected_binding(name, spec, child)
  child = child or name
  return {
    apiVersion = API, kind = "VSphereBinding",
    metadata = { name = child .. "-vspherebinding", namespace = NS, ownerReferences = { owner(name) } },
    spec = {
      address = spec.address, skipTLSVerify = spec.skipTLSVerify, secretRef = { name = spec.secretRef.name },
      subject = { apiVersion = "apps/v1", kind = "Deployment", namespace = NS, name = child .. "-adapter" },
    },
  }
end

local function expected_rolebinding(name, sa)
  return {
    apiVersion = "rbac.authorization.k8s.io/v1", kind = "RoleBinding",
    metadata = { name = name .. "-rolebinding", namespace = NS, ownerReferences = { owner(name) } },
    roleRef = { apiGroup = "rbac.authorization.k8s.io", kind = "ClusterRole", name = "vsphere-receive-adapter-cm" },
    subjects = { { kind = "ServiceAccount", namespace = NS, name = sa or "default" } },
  }
end

local function expected_configmap(name)
  return { apiVersion = "v1", kind = "ConfigMap",
    metadata = { name = name .. "-configmap", namespace = NS, ownerReferences = { owner(name) } } }
end

local function cond(ctype, status, reason, message, t)
  return { type = ctype, status = status, reason = reason, message = message, lastTransitionTime = t or NOW }
end

-- ---------------------------------------------------------------------------
local kube, tracked

local function new_cluster(opts)
  kube = fake.new(opts or { binding_webhook = true })
  vsg.kube = kube
  tracked = {}
  kube:seed({ apiVersion = "v1", kind = "ServiceAccount", metadata = { namespace = NS, name = "default" } })
  kube:seed({ apiVersion = "v1", kind = "Secret", metadata = { namespace = NS, name = "vsphere-credentials" } })
end

local function add_source(name, spec)
  return kube:seed({ apiVersion = API, kind = "VSphereSource",
    metadata = { namespace = NS, name = name, uid = "uid-" .. name }, spec = fake.copy(spec) })
end

local function reconcile(name, now, config)
  local obj = assert(kube.get(API, "VSphereSource", NS, name))
  local ctx = {
    now = now or NOW, namespace = NS, name = name,
    config = config or { adapter_image = IMAGE, logging_config = LOGGING, metrics_config = METRICS,
      system_namespace = "vmware-sources", metrics_domain = "tanzu.vmware.com/sources" },
    track = function(...) tracked[#tracked + 1] = table.concat({ ... }, " ") end,
    log = vsg.log,
  }
  return reconciler.reconcile(ctx, obj)
end

local function status(name)
  return kube:find(API, "VSphereSource", NS, name).status
end

-- Writes without the Events (asserted separately where they matter).
local function writes()
  local out = {}
  for _, w in ipairs(kube:writes()) do
    if not w:find("^event ") then out[#out + 1] = w end
  end
  return out
end

-- Plays the other controllers: the binding is Ready, the Deployment Available.
local function children_ready(child)
  local b = kube:find(API, "VSphereBinding", NS, child .. "-vspherebinding")
  b.status = { conditions = { { type = "Ready", status = "True" } } }
  local d = kube:find("apps/v1", "Deployment", NS, child .. "-adapter")
  d.status = { conditions = { { type = "Available", status = "True", reason = "MinimumReplicasAvailable",
    message = "Deployment has minimum availability." } } }
end

describe("reconcilers.vspheresource", function()
  before_each(function() new_cluster() end)

  it("declares what the C driver watches", function()
    assert.equal(API, reconciler.apiVersion)
    assert.equal("VSphereSource", reconciler.kind)
    assert.equal("vspheresources", reconciler.resource)
    assert.same({
      { apiVersion = "apps/v1", kind = "Deployment", resource = "deployments", owned = true },
      { apiVersion = API, kind = "VSphereBinding", resource = "vspherebindings", owned = true },
      { apiVersion = "rbac.authorization.k8s.io/v1", kind = "RoleBinding", resource = "rolebindings", owned = true },
      { apiVersion = "v1", kind = "ServiceAccount", resource = "serviceaccounts" },
    }, reconciler.watches)
  end)

  it("has its sample tables in step with samples/upstream", function()
    for file, s in pairs(SAMPLES) do
      local yaml = assert(io.open("samples/upstream/" .. file)):read("*a")
      assert.truthy(yaml:find("name: " .. s.name .. "\n", 1, true), file)
      local function walk(t)
        for k, v in pairs(t) do
          if type(v) == "table" then walk(v)
          else assert.truthy(yaml:find(k .. ": " .. tostring(v) .. "\n", 1, true), file .. ": " .. k) end
        end
      end
      walk(s.spec)
    end
  end)

  for file, s in pairs(SAMPLES) do
    describe("with " .. file, function()
      before_each(function()
        for _, o in ipairs(s.seed or {}) do kube:seed(o) end
        add_source(s.name, s.spec)
      end)

      it("creates exactly the children of CONTRACTS §2 and reports the status", function()
        assert.is_nil(reconcile(s.name))
        local n = s.name
        assert.same({
          "create VSphereBinding ns/" .. n .. "-vspherebinding",
          "create ConfigMap ns/" .. n .. "-configmap",
          "create RoleBinding ns/" .. n .. "-rolebinding",
          "create Deployment ns/" .. n .. "-adapter",
          "update_status VSphereSource ns/" .. n,
        }, writes())
        assert.same({ expected_binding(n, s.spec) }, kube:sent_of("VSphereBinding"))
        assert.same({ expected_configmap(n) }, kube:sent_of("ConfigMap"))
        assert.same({ expected_rolebinding(n) }, kube:sent_of("RoleBinding"))
        assert.same({ expected_deployment(n, s.sink) }, kube:sent_of("Deployment"))
        assert.same({
          observedGeneration = 1,
          sinkUri = s.sink,
          conditions = {
            cond("AdapterReady", "Unknown"), cond("AuthReady", "Unknown"), cond("Ready", "Unknown"),
          },
        }, status(n))
      end)

      it("follows the children to Ready, then writes nothing", function()
        reconcile(s.name)
        kube:writes()
        children_ready(s.name)
        assert.is_nil(reconcile(s.name, LATER))
        assert.same({ "update_status VSphereSource ns/" .. s.name }, writes())
        assert.same({
          cond("AdapterReady", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", LATER),
          cond("AuthReady", "True", nil, nil, LATER),
          cond("Ready", "True", nil, nil, LATER),
        }, status(s.name).conditions)
        -- Steady state: reads only, not even an Event.
        assert.is_nil(reconcile(s.name, "2024-05-01T11:00:00Z"))
        assert.same({}, kube:writes())
      end)
    end)
  end

  it("tracks the sink, the service account and the checkpoint ConfigMap", function()
    local s = SAMPLES["source-sink-broker.yaml"]
    kube:seed(s.seed[1])
    add_source(s.name, s.spec)
    reconcile(s.name)
    assert.same({ "v1 ServiceAccount ns default", "eventing.knative.dev/v1beta1 Broker ns default",
      "v1 ConfigMap ns source-to-broker-configmap" }, tracked)
  end)

  it("Ready follows AdapterReady when the Deployment becomes unavailable", function()
    local s = SAMPLES["source.yaml"]
    add_source(s.name, s.spec)
    reconcile(s.name)
    children_ready(s.name)
    reconcile(s.name)
    local d = kube:find("apps/v1", "Deployment", NS, "source-adapter")
    d.status.conditions[1] = { type = "Available", status = "False", reason = "MinimumReplicasUnavailable",
      message = "Deployment does not have minimum availability." }
    reconcile(s.name, LATER)
    local r = status(s.name).conditions[3]
    assert.same(cond("Ready", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.",
      LATER), r)
  end)

  describe("spec changes", function()
    local base = SAMPLES["source.yaml"]
    local changes = {
      { "payloadEncoding", function(sp) sp.payloadEncoding = "application/JSON" end,
        { encoding = "application/json" } },
      { "checkpointConfig", function(sp) sp.checkpointConfig = { maxAgeSeconds = 3661, periodSeconds = 0 } end,
        { checkpoint = '{"maxAge":"1h1m1s","period":"10s"}' } },
      { "ceOverrides", function(sp) sp.ceOverrides = { extensions = { foo = "bar", a = "<b>" } } end,
        { overrides = '{"extensions":{"a":"\\u003cb\\u003e","foo":"bar"}}' } },
      { "sink", function(sp) sp.sink = { uri = "https://other.example/path" } end,
        {}, "https://other.example/path" },
      { "serviceAccountName", function(sp) sp.serviceAccountName = "robot" end, { sa = "robot" } },
      { "caCerts", function(sp) sp.caCerts = "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n" end,
        { extra_env = { { name = "VSPHERE_CA_CERTS",
          value = "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n" } } } },
      { "delivery", function(sp) sp.delivery = { retry = 5, backoffPolicy = "exponential", backoffDelay = "PT1S",
          deadLetterSink = { uri = "http://dls.example" } } end,
        { extra_env = { { name = "VSPHERE_DELIVERY",
          value = '{"backoffDelay":"PT1S","backoffPolicy":"exponential","deadLetterSink":"http://dls.example",'
            .. '"retry":5}' } } } },
    }
    for _, c in ipairs(changes) do
      it("of " .. c[1] .. " update the Deployment, keeping what the binding injected", function()
        kube:seed({ apiVersion = "v1", kind = "ServiceAccount", metadata = { namespace = NS, name = "robot" } })
        add_source(base.name, base.spec)
        reconcile(base.name)
        children_ready(base.name)
        reconcile(base.name)
        kube:writes()
        kube:edit(API, "VSphereSource", NS, base.name, function(o) c[2](o.spec) end)
        assert.is_nil(reconcile(base.name, LATER))
        local w = writes()
        local want_writes = { "update Deployment ns/source-adapter", "update_status VSphereSource ns/source" }
        if c[1] == "serviceAccountName" then
          table.insert(want_writes, 1, "update RoleBinding ns/source-rolebinding")
        end
        assert.same(want_writes, w)
        local sent = kube:sent_of("Deployment")
        local got = sent[#sent]
        local want = expected_deployment(base.name, c[4] or base.sink, c[3])
        -- What we sent is what we want plus what others own (kept as is).
        local env = got.spec.template.spec.containers[1].env
        assert.same({ "VC_URL", "VC_INSECURE", "VC_USERNAME", "VC_PASSWORD" },
          { env[#env - 3].name, env[#env - 2].name, env[#env - 1].name, env[#env].name })
        for _ = 1, 4 do table.remove(env) end
        assert.same(want.spec.template.spec.containers[1].env, env)
        assert.equal(want.spec.template.spec.serviceAccountName, got.spec.template.spec.serviceAccountName)
        local vols = {}
        for _, v in ipairs(got.spec.template.spec.volumes) do vols[#vols + 1] = v.name end
        assert.same({ "vsgate-session", "vsphere-binding" }, vols)
        assert.equal(2, status(base.name).observedGeneration)
        assert.equal(c[4] or base.sink, status(base.name).sinkUri)
        assert.equal("DeploymentUpdated", kube.events[#kube.events].reason)
        -- And nothing more on the next pass.
        kube:writes()
        assert.is_nil(reconcile(base.name, LATER))
        assert.same({}, kube:writes())
      end)
    end

    it("of the address update the binding only", function()
      add_source(base.name, base.spec)
      reconcile(base.name)
      kube:writes()
      kube:edit(API, "VSphereSource", NS, base.name, function(o)
        o.spec.address = "https://vc2.corp.local"
        o.spec.skipTLSVerify = false
      end)
      reconcile(base.name)
      assert.same({ "update VSphereBinding ns/source-vspherebinding", "update_status VSphereSource ns/source" },
        writes())
      local b = kube:find(API, "VSphereBinding", NS, "source-vspherebinding")
      assert.equal("https://vc2.corp.local", b.spec.address)
      assert.is_nil(b.spec.skipTLSVerify)
    end)

    it("of config-logging reach the adapter env", function()
      add_source(base.name, base.spec)
      reconcile(base.name)
      kube:writes()
      reconcile(base.name, NOW, { adapter_image = IMAGE, metrics_config = METRICS,
        logging_config = '{"zap-logger-config":"{}","loglevel.vsphere-source-adapter":"debug"}' })
      assert.same({ "update Deployment ns/source-adapter" }, writes())
      local env = kube:find("apps/v1", "Deployment", NS, "source-adapter").spec.template.spec.containers[1].env
      assert.same({ name = "K_LOGGING_CONFIG",
        value = '{"loglevel.vsphere-source-adapter":"debug","zap-logger-config":"{}"}' }, env[4])
    end)

    it("of the adapter image roll the adapter", function()
      add_source(base.name, base.spec)
      reconcile(base.name)
      kube:writes()
      reconcile(base.name, NOW, { adapter_image = "vsgate:v2", logging_config = LOGGING, metrics_config = METRICS })
      assert.same({ "update Deployment ns/source-adapter" }, writes())
      assert.equal("vsgate:v2", kube:find("apps/v1", "Deployment", NS, "source-adapter")
        .spec.template.spec.containers[1].image)
    end)
  end)

  it("repairs a Deployment someone edited, and re-creates one with another selector", function()
    local s = SAMPLES["source.yaml"]
    add_source(s.name, s.spec)
    reconcile(s.name)
    local d = kube:find("apps/v1", "Deployment", NS, "source-adapter")
    d.spec.replicas = 0
    d.spec.template.spec.containers[1].env[9].value = "http://hijacked"
    kube:writes()
    reconcile(s.name)
    assert.same({ "update Deployment ns/source-adapter" }, writes())
    d = kube:find("apps/v1", "Deployment", NS, "source-adapter")
    assert.equal(1, d.spec.replicas)
    assert.equal(s.sink, d.spec.template.spec.containers[1].env[9].value)
    d.spec.selector.matchLabels = { other = "x" }
    reconcile(s.name)
    assert.same({ "delete Deployment ns/source-adapter", "create Deployment ns/source-adapter" }, writes())
  end)

  it("uses hashed child names for a long source name", function()
    local name = string.rep("f", 63)
    local spec = SAMPLES["source.yaml"].spec
    add_source(name, spec)
    assert.is_nil(reconcile(name))
    local h = fake.md5(name)
    local dep = "fffffffffffffffffffffff105d7597f637e83cc711605ac3ea4957-adapter"
    assert.equal(string.rep("f", 23) .. h .. "-adapter", dep)
    local binding = string.rep("f", 16) .. h .. "-vspherebinding"
    local cm = string.rep("f", 21) .. h .. "-configmap"
    local rb = string.rep("f", 19) .. h .. "-rolebinding"
    assert.same({
      "create VSphereBinding ns/" .. binding, "create ConfigMap ns/" .. cm,
      "create RoleBinding ns/" .. rb, "create Deployment ns/" .. dep,
      "update_status VSphereSource ns/" .. name,
    }, writes())
    local want = expected_deployment(name, SAMPLES["source.yaml"].sink, { deployment = dep })
    want.spec.template.spec.containers[1].env[5].value = cm
    assert.same({ want }, kube:sent_of("Deployment"))
    assert.equal(dep, kube:sent_of("VSphereBinding")[1].spec.subject.name)
  end)

  it("labels children of names longer than 63 characters with a valid label value", function()
    local name = string.rep("g", 70)
    add_source(name, SAMPLES["source.yaml"].spec)
    reconcile(name)
    local d = kube:sent_of("Deployment")[1]
    local v = string.rep("g", 31) .. fake.md5(name)
    assert.equal(v, d.metadata.labels[LABEL])
    assert.equal(v, d.spec.selector.matchLabels[LABEL])
  end)

  describe("a missing service account", function()
    local spec
    before_each(function()
      spec = fake.copy(SAMPLES["source.yaml"].spec)
      spec.serviceAccountName = "robot"
      add_source("source", spec)
    end)

    it("stops before the RoleBinding and Deployment, naming the account; creating it heals", function()
      assert.is_nil(reconcile("source"))
      assert.same({ "create VSphereBinding ns/source-vspherebinding", "create ConfigMap ns/source-configmap",
        "update_status VSphereSource ns/source" }, writes())
      local msg = 'service account "robot" not found in namespace "ns": create it, '
        .. "or set spec.serviceAccountName to an existing one"
      assert.same({
        cond("AdapterReady", "False", "ServiceAccountMissing", msg), cond("AuthReady", "Unknown"),
        cond("Ready", "False", "ServiceAccountMissing", msg),
      }, status("source").conditions)
      assert.is_nil(status("source").sinkUri)
      assert.same({ "v1 ServiceAccount ns robot" }, tracked)

      kube:seed({ apiVersion = "v1", kind = "ServiceAccount", metadata = { namespace = NS, name = "robot" } })
      assert.is_nil(reconcile("source", LATER))
      assert.same({ "create RoleBinding ns/source-rolebinding", "create Deployment ns/source-adapter",
        "update_status VSphereSource ns/source" }, writes())
      assert.same({ expected_rolebinding("source", "robot") }, kube:sent_of("RoleBinding"))
      assert.same({ expected_deployment("source", "http://where.to.send.stuff", { sa = "robot" }) },
        kube:sent_of("Deployment"))
      assert.same(cond("AdapterReady", "Unknown", nil, nil, LATER), status("source").conditions[1])
    end)
  end)

  describe("the adapter's view of vCenter", function()
    local function vcenter(text)
      local cm = kube:find("v1", "ConfigMap", NS, "source-configmap")
      cm.data = { checkpoint = "{}", vcenter = text }
    end
    before_each(function()
      add_source("source", fake.copy(SAMPLES["source.yaml"].spec))
      reconcile("source")
      children_ready("source")
    end)

    it("makes AdapterReady False with the adapter's last error while it cannot reach vCenter", function()
      vcenter('{"ready":false,"message":"vCenter login failed: Login: ServerFaultCode: Cannot complete login'
        .. ' (InvalidLogin)"}')
      reconcile("source", LATER)
      assert.same(cond("AdapterReady", "False", "VCenterNotReady",
        "vCenter login failed: Login: ServerFaultCode: Cannot complete login (InvalidLogin)", LATER),
        status("source").conditions[1])
      assert.equal("VCenterNotReady", status("source").conditions[3].reason) -- Ready
      vcenter('{"ready":true}')
      reconcile("source", LATER)
      assert.equal("True", status("source").conditions[1].status)
    end)

    it("redacts a URL's user info in the message, and ignores a value that is not JSON", function()
      vcenter('{"ready":false,"message":"vCenter call failed: POST https://u:Pw-vc-1@vc/sdk: refused"}')
      reconcile("source", LATER)
      local c = status("source").conditions[1]
      assert.is_nil(c.message:find("Pw-vc-1", 1, true))
      vcenter("not json")
      reconcile("source", LATER)
      assert.equal("True", status("source").conditions[1].status)
    end)
  end)

  describe("a missing sink", function()
    local spec
    before_each(function()
      spec = fake.copy(SAMPLES["source-sink-broker.yaml"].spec)
      add_source("source", spec)
    end)

    it("is reported until the Broker exists and is addressable", function()
      assert.is_nil(reconcile("source"))
      assert.same({ "create VSphereBinding ns/source-vspherebinding", "create ConfigMap ns/source-configmap",
        "create RoleBinding ns/source-rolebinding", "update_status VSphereSource ns/source" }, writes())
      local msg = 'sink Broker "default" (eventing.knative.dev/v1beta1) in namespace "ns" not found'
      assert.same(cond("Ready", "False", "SinkNotFound", msg), status("source").conditions[3])

      kube:seed({ apiVersion = "eventing.knative.dev/v1beta1", kind = "Broker",
        metadata = { namespace = NS, name = "default" }, status = {} })
      reconcile("source")
      assert.same(cond("AdapterReady", "False", "SinkNotFound",
        'sink Broker "default" (eventing.knative.dev/v1beta1) in namespace "ns" has no status.address.url'
        .. " (is it Addressable, and ready?)"), status("source").conditions[1])
      assert.same({}, kube:sent_of("Deployment"))

      kube:find("eventing.knative.dev/v1beta1", "Broker", NS, "default").status =
        { address = { url = "http://broker.example/ns/default" } }
      kube:writes()
      assert.is_nil(reconcile("source", LATER))
      assert.same({ "create Deployment ns/source-adapter", "update_status VSphereSource ns/source" }, writes())
      assert.equal("http://broker.example/ns/default", status("source").sinkUri)
      assert.same(cond("AdapterReady", "Unknown", nil, nil, LATER), status("source").conditions[1])
    end)

    it("redacts credentials of a URI it quotes in the condition", function()
      kube:seed({ apiVersion = "eventing.knative.dev/v1beta1", kind = "Broker",
        metadata = { namespace = NS, name = "default" },
        status = { address = { url = "http://u:Pw-cond-1@" } } })
      reconcile("source")
      local c = status("source").conditions[1]
      assert.equal("SinkNotFound", c.reason)
      assert.truthy(c.message:find('has an address without a host: "http://***@"', 1, true))
      assert.is_nil(c.message:find("Pw-cond-1", 1, true))
    end)

    it("resolves a relative uri against the ref", function()
      kube:seed({ apiVersion = "eventing.knative.dev/v1beta1", kind = "Broker",
        metadata = { namespace = NS, name = "default" },
        status = { address = { url = "http://b.example/ns/default" } } })
      kube:edit(API, "VSphereSource", NS, "source", function(o) o.spec.sink.uri = "other?x=1" end)
      reconcile("source")
      assert.equal("http://b.example/ns/other?x=1", status("source").sinkUri)
    end)

    it("keeps the Deployment when the sink goes away, and says so", function()
      kube:seed({ apiVersion = "eventing.knative.dev/v1beta1", kind = "Broker",
        metadata = { namespace = NS, name = "default" }, status = { address = { url = "http://b.example/" } } })
      reconcile("source")
      kube:writes()
      kube.delete("eventing.knative.dev/v1beta1", "Broker", NS, "default")
      kube:writes()
      reconcile("source", LATER)
      assert.same({ "update_status VSphereSource ns/source" }, writes())
      assert.equal("SinkNotFound", status("source").conditions[1].reason)
      assert.truthy(kube:find("apps/v1", "Deployment", NS, "source-adapter"))
    end)

    it("looks again later while the sink's kind is not served (its CRD comes later)", function()
      new_cluster({ binding_webhook = true, unserved = { ["eventing.knative.dev/v1beta1|Broker"] = true } })
      add_source("source", spec)
      local res, err = reconcile("source")
      assert.is_nil(err)
      assert.same({ requeue_after = 5 }, res)
      local c = status("source").conditions[1]
      assert.equal("SinkNotFound", c.reason)
      assert.truthy(c.message:find("does not serve eventing.knative.dev/v1beta1 Broker (is its CRD installed?)",
        1, true))
      -- Half the time waited, between 5 s and 60 s.
      assert.equal(5, require("lib.conditions").recheck_after(0))
      assert.equal(15, require("lib.conditions").recheck_after(30))
      assert.equal(60, require("lib.conditions").recheck_after(3600))
    end)

    it("backs off on API errors reading the sink", function()
      new_cluster({ forbidden = { ["eventing.knative.dev/v1beta1|Broker"] = true } })
      add_source("source", spec)
      local res, err = reconcile("source")
      assert.is_nil(res)
      assert.truthy(tostring(err):find("forbidden", 1, true))
      assert.equal("SinkNotFound", status("source").conditions[1].reason)
    end)
  end)

  describe("a filter", function()
    local function with_filter(f, data)
      local spec = fake.copy(SAMPLES["source.yaml"].spec)
      spec.filter = f
      add_source("source", spec)
      if data then
        kube:seed({ apiVersion = "v1", kind = "ConfigMap", metadata = { namespace = NS, name = "filters" },
          data = data })
      end
    end

    it("that compiles sets FilterReady and the adapter's filter env", function()
      with_filter({ configMapRef = { name = "filters" }, onError = "drop" },
        { ["filter.lua"] = "function filter(ev) return ev end" })
      reconcile("source")
      assert.same({ cond("AdapterReady", "Unknown"), cond("AuthReady", "Unknown"), cond("FilterReady", "True"),
        cond("Ready", "Unknown") }, status("source").conditions)
      local env = kube:sent_of("Deployment")[1].spec.template.spec.containers[1].env
      assert.same({
        { name = "VSPHERE_FILTER_CONFIGMAP", value = "filters" },
        { name = "VSPHERE_FILTER_KEY", value = "filter.lua" },
        { name = "VSPHERE_FILTER_ON_ERROR", value = "drop" },
      }, { env[13], env[14], env[15] })
      assert.same({ "v1 ConfigMap ns filters", "v1 ServiceAccount ns default", "v1 ConfigMap ns source-configmap" },
        tracked)
    end)

    it("that does not compile is FilterInvalid with the Lua error; fixing it heals", function()
      with_filter({ configMapRef = { name = "filters", key = "f.lua" } },
        { ["f.lua"] = "function filter(ev)\n  return ev +\nend\n" })
      reconcile("source")
      children_ready("source")
      reconcile("source")
      local msg = "f.lua:3: unexpected symbol near 'end'" .. reconciler.FILTER_INVALID_EFFECT
      assert.same(cond("FilterReady", "False", "FilterInvalid", msg), status("source").conditions[3])
      assert.same(cond("Ready", "False", "FilterInvalid", msg), status("source").conditions[4])
      kube:find("v1", "ConfigMap", NS, "filters").data["f.lua"] = "return { filter = function(ev) return ev end }"
      reconcile("source", LATER)
      assert.same(cond("Ready", "True", nil, nil, LATER), status("source").conditions[4])
    end)

    it("whose ConfigMap or key is missing is FilterNotFound", function()
      with_filter({ configMapRef = { name = "filters" } })
      reconcile("source")
      assert.same(cond("FilterReady", "False", "FilterNotFound",
        'filter ConfigMap "filters" not found in namespace "ns"'),
        status("source").conditions[3])
      kube:seed({ apiVersion = "v1", kind = "ConfigMap", metadata = { namespace = NS, name = "filters" },
        data = { other = "x" } })
      reconcile("source")
      assert.same(cond("FilterReady", "False", "FilterNotFound", 'filter ConfigMap "filters" has no key "filter.lua"'),
        status("source").conditions[3])
    end)

    it("removed drops FilterReady and the env", function()
      with_filter({ configMapRef = { name = "filters" } }, { ["filter.lua"] = "x = 1" })
      reconcile("source")
      kube:edit(API, "VSphereSource", NS, "source", function(o) o.spec.filter = nil end)
      kube:writes()
      reconcile("source")
      assert.same({ "update Deployment ns/source-adapter", "update_status VSphereSource ns/source" }, writes())
      for _, c in ipairs(status("source").conditions) do assert.not_equal("FilterReady", c.type) end
      local env = kube:find("apps/v1", "Deployment", NS, "source-adapter").spec.template.spec.containers[1].env
      for _, e in ipairs(env) do assert.is_nil(e.name:find("^VSPHERE_FILTER")) end
    end)
  end)

  describe("a dead-letter sink", function()
    it("is resolved into VSPHERE_DELIVERY, or reported", function()
      local spec = fake.copy(SAMPLES["source.yaml"].spec)
      spec.delivery = { retry = 2, deadLetterSink = { ref = { apiVersion = "v1", kind = "Service", name = "dls" } } }
      add_source("source", spec)
      reconcile("source")
      assert.same(cond("AdapterReady", "False", "DeadLetterSinkNotFound",
        'delivery.deadLetterSink Service "dls" (v1) in namespace "ns" not found'), status("source").conditions[1])
      kube:seed({ apiVersion = "v1", kind = "Service", metadata = { namespace = NS, name = "dls" } })
      reconcile("source")
      local env = kube:sent_of("Deployment")[1].spec.template.spec.containers[1].env
      assert.same({ name = "VSPHERE_DELIVERY",
        value = '{"deadLetterSink":"http://dls.ns.svc.cluster.local","retry":2}' }, env[13])
    end)
  end)

  describe("children it does not own", function()
    it("a Deployment is reported as NotOwned and left alone", function()
      kube:seed({ apiVersion = "apps/v1", kind = "Deployment", metadata = { namespace = NS, name = "source-adapter" },
        spec = { replicas = 1 } })
      add_source("source", SAMPLES["source.yaml"].spec)
      local res, err = reconcile("source")
      assert.is_nil(res)
      local msg = 'Deployment "source-adapter" already exists and is not owned by VSphereSource "source"'
      assert.equal(msg, err)
      assert.same(cond("AdapterReady", "False", "NotOwned", msg), status("source").conditions[1])
      assert.same({}, kube:sent_of("Deployment"))
    end)

    it("a pre-existing checkpoint ConfigMap or RoleBinding is used as is", function()
      kube:seed({ apiVersion = "v1", kind = "ConfigMap", metadata = { namespace = NS, name = "source-configmap" },
        data = { checkpoint = "{}" } })
      kube:seed({ apiVersion = "rbac.authorization.k8s.io/v1", kind = "RoleBinding",
        metadata = { namespace = NS, name = "source-rolebinding" }, roleRef = {}, subjects = {} })
      add_source("source", SAMPLES["source.yaml"].spec)
      assert.is_nil(reconcile("source"))
      assert.same({ "create VSphereBinding ns/source-vspherebinding", "create Deployment ns/source-adapter",
        "update_status VSphereSource ns/source" }, writes())
      assert.same({ checkpoint = "{}" }, kube:find("v1", "ConfigMap", NS, "source-configmap").data)
    end)
  end)

  describe("API failures", function()
    it("mark the condition and back off; conflicts only back off", function()
      new_cluster({ fail_create = {
        Deployment = { code = "Invalid", status = 422, message = "spec: Invalid value" } } })
      add_source("source", SAMPLES["source.yaml"].spec)
      local _, err = reconcile("source")
      assert.equal("Invalid", err.code)
      assert.same(cond("AdapterReady", "False", "DeploymentFailed",
        'creating Deployment "source-adapter": spec: Invalid value'), status("source").conditions[1])

      new_cluster({ fail_create = { VSphereBinding = { code = "Conflict", status = 409, message = "x" } } })
      add_source("source", SAMPLES["source.yaml"].spec)
      _, err = reconcile("source")
      assert.equal("Conflict", err.code)
      assert.same(cond("AuthReady", "Unknown"), status("source").conditions[2])
    end)

    it("return the status conflict so the source is read again", function()
      add_source("source", SAMPLES["source.yaml"].spec)
      local obj = kube.get(API, "VSphereSource", NS, "source")
      kube:edit(API, "VSphereSource", NS, "source", function() end)
      local ctx = { now = NOW, config = { adapter_image = IMAGE }, track = function() end }
      local _, err = reconciler.reconcile(ctx, obj)
      assert.equal("Conflict", err.code)
    end)

    it("refuse to run without an adapter image", function()
      add_source("source", SAMPLES["source.yaml"].spec)
      local _, err = reconcile("source", NOW, {})
      assert.truthy(err:find("VSPHERE_ADAPTER", 1, true))
      assert.same({}, kube:writes())
    end)
  end)

  it("does nothing for a source being deleted", function()
    add_source("source", SAMPLES["source.yaml"].spec)
    kube:find(API, "VSphereSource", NS, "source").metadata.deletionTimestamp = NOW
    assert.is_nil(reconcile("source"))
    assert.same({}, kube:writes())
  end)
end)

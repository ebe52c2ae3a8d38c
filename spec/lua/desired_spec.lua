local desired = require("lib.desired")
local fake = require("fake_kube")

local function source(spec, name)
  return {
    apiVersion = "sources.tanzu.vmware.com/v1alpha1", kind = "VSphereSource",
    metadata = { namespace = "ns", name = name or "src", uid = "uid-src", generation = 1 },
    spec = spec or {},
  }
end

describe("lib.desired environment values", function()
  it("formats VSPHERE_CHECKPOINT_CONFIG with Go durations and our defaults", function()
    local cases = {
      { nil, '{"maxAge":"5m0s","period":"10s"}' }, -- unset maxAge: 300 (ours)
      { {}, '{"maxAge":"5m0s","period":"10s"}' },
      { { maxAgeSeconds = 300, periodSeconds = 10 }, '{"maxAge":"5m0s","period":"10s"}' },
      { { maxAgeSeconds = 0, periodSeconds = 0 }, '{"maxAge":"0s","period":"10s"}' },
      { { maxAgeSeconds = 3600, periodSeconds = 1 }, '{"maxAge":"1h0m0s","period":"1s"}' },
      { { maxAgeSeconds = 3661, periodSeconds = 90 }, '{"maxAge":"1h1m1s","period":"1m30s"}' },
      { { maxAgeSeconds = -1, periodSeconds = -1 }, '{"maxAge":"0s","period":"10s"}' },
      { { maxAgeSeconds = 60.0 }, '{"maxAge":"1m0s","period":"10s"}' },
    }
    for i, c in ipairs(cases) do
      assert.equal(c[2], desired.checkpoint_config(source({ checkpointConfig = c[1] })), i)
    end
  end)

  it("lower-cases VSPHERE_PAYLOAD_ENCODING, default application/xml", function()
    assert.equal("application/xml", desired.payload_encoding(source({})))
    assert.equal("application/xml", desired.payload_encoding(source({ payloadEncoding = "" })))
    assert.equal("application/json", desired.payload_encoding(source({ payloadEncoding = "Application/JSON" })))
  end)

  it("writes K_CE_OVERRIDES as Go's json.Marshal of CloudEventOverrides", function()
    assert.equal("", desired.ce_overrides(source({})))
    assert.equal("{}", desired.ce_overrides(source({ ceOverrides = {} })))
    assert.equal("{}", desired.ce_overrides(source({ ceOverrides = { extensions = {} } })))
    assert.equal('{"extensions":{"a":"1","foo":"bar","z":"\\u003cz\\u003e"}}',
      desired.ce_overrides(source({ ceOverrides = { extensions = { z = "<z>", foo = "bar", a = "1" } } })))
  end)

  it("writes K_LOGGING_CONFIG from config-logging", function()
    assert.equal("", desired.logging_config(nil))
    assert.equal("{}", desired.logging_config({ _example = "x" }))
    assert.equal('{"loglevel.vsphere-source-adapter":"debug","zap-logger-config":"{\\n  \\"level\\": \\"info\\"\\n}"}',
      desired.logging_config({
        ["zap-logger-config"] = '{\n  "level": "info"\n}',
        ["loglevel.vsphere-source-adapter"] = "debug",
        _example = "ignored",
      }))
  end)

  it("writes K_METRICS_CONFIG as knative metrics.ExporterOptions", function()
    assert.equal("", desired.metrics_config(nil))
    assert.equal('{"Domain":"tanzu.vmware.com/sources","Component":"vspheresource","PrometheusPort":0,'
      .. '"PrometheusHost":"","ConfigMap":{}}', desired.metrics_config({ _example = "x" }))
    assert.equal('{"Domain":"d","Component":"vspheresource","PrometheusPort":0,'
      .. '"PrometheusHost":"","ConfigMap":{"metrics.backend-destination":"prometheus"}}',
      desired.metrics_config({ ["metrics.backend-destination"] = "prometheus" }, "d"))
    assert.equal('{"Domain":"tanzu.vmware.com/sources","Component":"vspheresource","PrometheusPort":0,'
      .. '"PrometheusHost":"","ConfigMap":{}}', desired.metrics_config({}, ""),
      "an empty METRICS_DOMAIN means the default")
  end)

  it("writes VSPHERE_DELIVERY with the resolved dead-letter sink, sorted keys", function()
    assert.is_nil(desired.delivery(source({})))
    assert.is_nil(desired.delivery(source({ delivery = {} })))
    assert.equal('{"backoffDelay":"PT2S","backoffPolicy":"linear","deadLetterSink":"http://dls","retry":3}',
      desired.delivery(source({ delivery = { retry = 3, backoffPolicy = "linear", backoffDelay = "PT2S",
        deadLetterSink = { uri = "http://ignored" } } }), "http://dls"))
    assert.equal('{"retry":0}', desired.delivery(source({ delivery = { retry = 0 } })))
  end)
end)

describe("lib.desired children", function()
  local n
  before_each(function() n = desired.names(source(), fake.md5) end)

  it("builds the adapter env in order, ours last and only when set", function()
    local src = source({
      sink = { uri = "http://x" }, caCerts = "PEM", payloadEncoding = "application/json",
      delivery = { retry = 1 },
      filter = { configMapRef = { name = "f" }, onError = "drop" },
    })
    local names = {}
    for i, e in ipairs(desired.adapter_env(src, n, { sink_uri = "http://x" })) do names[i] = e.name end
    assert.same({ "NAMESPACE", "NAME", "K_METRICS_CONFIG", "K_LOGGING_CONFIG", "VSPHERE_KVSTORE_CONFIGMAP",
      "VSPHERE_CHECKPOINT_CONFIG", "VSPHERE_PAYLOAD_ENCODING", "K_CE_OVERRIDES", "K_SINK",
      "VSPHERE_SESSION_FILE", "VSPHERE_SOURCE_NAME", "VSPHERE_HEALTH_PORT", "VSPHERE_CA_CERTS", "VSPHERE_DELIVERY",
      "VSPHERE_FILTER_CONFIGMAP", "VSPHERE_FILTER_KEY",
      "VSPHERE_FILTER_ON_ERROR" }, names)
    local env = desired.adapter_env(src, n, { sink_uri = "http://x" })
    assert.same({ name = "VSPHERE_FILTER_KEY", value = "filter.lua" }, env[16])
    assert.same({ name = "VSPHERE_SOURCE_NAME", value = src.metadata.name }, env[11])
  end)

  it("passes spec.filter.limits to the adapter, capped by the controller's maximum", function()
    local function limits_env(l, max)
      local src = source({ sink = { uri = "http://x" }, filter = { configMapRef = { name = "f" }, limits = l } })
      for _, e in ipairs(desired.adapter_env(src, n, { sink_uri = "http://x", filter_max = max })) do
        if e.name == "VSPHERE_FILTER_LIMITS" then return e.value end
      end
    end
    assert.is_nil(limits_env(nil))
    assert.equal("instructions=5000,memory=2097152,timeoutMs=250",
      limits_env({ instructions = 5000, memoryBytes = 2097152, timeoutMilliseconds = 250 }))
    assert.equal("instructions=3000,timeoutMs=250",
      limits_env({ instructions = 5000, timeoutMilliseconds = 250 },
        { instructions = 3000, timeoutMilliseconds = 900 }))
    assert.same({ instructions = 3000 }, desired.filter(source({ filter = { configMapRef = { name = "f" },
      limits = { instructions = 5000, memoryBytes = -1 } } }), { instructions = 3000 }).limits)
  end)

  it("passes the ce-header-encoding annotation to the adapter, only when set", function()
    local src = source({ sink = { uri = "http://x" } })
    local function value()
      for _, e in ipairs(desired.adapter_env(src, n, { sink_uri = "http://x" })) do
        if e.name == "VSPHERE_CE_HEADER_ENCODING" then return e.value end
      end
    end
    assert.is_nil(value())
    src.metadata.annotations = { ["sources.tanzu.vmware.com/ce-header-encoding"] = "percent" }
    assert.equal("percent", value())
  end)

  it("gives the adapter a readinessProbe on /readyz, and adds it to a Deployment without one", function()
    local src = source({ sink = { uri = "http://x" } })
    local want = desired.make_deployment(src, n, { image = "img", sink_uri = "http://x" })
    assert.same({ httpGet = { path = "/readyz", port = 8080 }, periodSeconds = 5, timeoutSeconds = 2,
      failureThreshold = 2 }, want.spec.template.spec.containers[1].readinessProbe)
    local old = fake.copy(want)
    old.spec.template.spec.containers[1].readinessProbe = nil
    assert.same({ "spec.template.spec.containers[adapter].readinessProbe" }, desired.deployment_diff(old, want))
    desired.apply_deployment(old, want)
    assert.same({}, desired.deployment_diff(old, want))
    -- Fields the API server fills in are not a difference.
    old.spec.template.spec.containers[1].readinessProbe.successThreshold = 1
    old.spec.template.spec.containers[1].readinessProbe.httpGet.scheme = "HTTP"
    assert.same({}, desired.deployment_diff(old, want))
  end)

  it("exposes the metrics port (9090: K_METRICS_CONFIG's PrometheusPort 0) and the health port", function()
    local src = source({ sink = { uri = "http://x" } })
    local want = desired.make_deployment(src, n, { image = "img", sink_uri = "http://x" })
    assert.same({ { name = "metrics", containerPort = 9090 }, { name = "health", containerPort = 8080 } },
      want.spec.template.spec.containers[1].ports)
    -- A Deployment from before the ports gets them; ports of others stay.
    local old = fake.copy(want)
    old.spec.template.spec.containers[1].ports = { { name = "debug", containerPort = 6060, protocol = "TCP" } }
    assert.same({ "spec.template.spec.containers[adapter].ports" }, desired.deployment_diff(old, want))
    desired.apply_deployment(old, want)
    assert.same({}, desired.deployment_diff(old, want))
    assert.same({ { name = "metrics", containerPort = 9090 }, { name = "health", containerPort = 8080 },
      { name = "debug", containerPort = 6060, protocol = "TCP" } }, old.spec.template.spec.containers[1].ports)
    -- What the API server fills in is not a difference; a moved port is.
    for _, p in ipairs(old.spec.template.spec.containers[1].ports) do p.protocol = "TCP" end
    assert.same({}, desired.deployment_diff(old, want))
    old.spec.template.spec.containers[1].ports[1].containerPort = 9091
    assert.same({ "spec.template.spec.containers[adapter].ports" }, desired.deployment_diff(old, want))
    desired.apply_deployment(old, want)
    assert.same(9090, old.spec.template.spec.containers[1].ports[1].containerPort)
    assert.same(3, #old.spec.template.spec.containers[1].ports)
  end)

  it("copies the auth spec into the binding", function()
    local b = desired.make_binding(source({ address = "https://vc", skipTLSVerify = true,
      secretRef = { name = "creds" }, caCerts = "not copied" }), n)
    assert.same({ address = "https://vc", skipTLSVerify = true, secretRef = { name = "creds" },
      subject = { apiVersion = "apps/v1", kind = "Deployment", namespace = "ns", name = "src-adapter" } }, b.spec)
    local b2 = desired.make_binding(source({ address = "https://vc", skipTLSVerify = false,
      secretRef = { name = "creds" } }), n)
    assert.is_nil(b2.spec.skipTLSVerify)
  end)

  describe("deployment comparison", function()
    local src, want, kube
    before_each(function()
      src = source({ sink = { uri = "http://x" }, ceOverrides = { extensions = { a = "b" } } })
      want = desired.make_deployment(src, n, { image = "img", sink_uri = "http://x" })
      kube = fake.new({ binding_webhook = true })
    end)

    local function stored()
      return kube.get("apps/v1", "Deployment", "ns", "src-adapter")
    end

    it("sees no difference in what the API server and the binding webhook stored", function()
      kube.create(fake.copy(want))
      local cur = stored()
      assert.is_nil(cur.spec.template.spec.containers[1].env[3].value, "empty value dropped")
      assert.same({}, desired.deployment_diff(cur, want))
    end)

    local changes = {
      { "image", function(s) s.spec.template.spec.containers[1].image = "old" end,
        { "spec.template.spec.containers[adapter].image" } },
      { "env value", function(s) s.spec.template.spec.containers[1].env[9].value = "http://old" end,
        { "spec.template.spec.containers[adapter].env" } },
      { "env order", function(s)
          local e = s.spec.template.spec.containers[1].env
          e[8], e[9] = e[9], e[8]
        end, { "spec.template.spec.containers[adapter].env" } },
      { "extra env", function(s)
          table.insert(s.spec.template.spec.containers[1].env, { name = "EXTRA", value = "1" })
        end, { "spec.template.spec.containers[adapter].env" } },
      { "args", function(s) s.spec.template.spec.containers[1].args = nil end,
        { "spec.template.spec.containers[adapter].args" } },
      { "replicas", function(s) s.spec.replicas = 3 end, { "spec.replicas" } },
      { "strategy", function(s) s.spec.strategy = { type = "RollingUpdate", rollingUpdate = {} } end,
        { "spec.strategy" } },
      { "service account", function(s) s.spec.template.spec.serviceAccountName = "other" end,
        { "spec.template.spec.serviceAccountName" } },
      { "labels", function(s)
          s.metadata.labels[desired.LABEL] = nil
          s.spec.template.metadata.labels[desired.LABEL] = "x"
        end, { "metadata.labels", "spec.template.metadata.labels" } },
      { "selector", function(s) s.spec.selector.matchLabels = { app = "x" } end, { "spec.selector" } },
      { "container", function(s) s.spec.template.spec.containers[1].name = "renamed" end,
        { "spec.template.spec.containers" } },
    }
    for _, c in ipairs(changes) do
      it("notices a different " .. c[1] .. " and repairs it, keeping the binding's injection", function()
        kube.create(fake.copy(want))
        local cur = stored()
        c[2](cur)
        assert.same(c[3], desired.deployment_diff(cur, want))
        local fixed = desired.apply_deployment(cur, want)
        assert.same({}, desired.deployment_diff(fixed, want))
        if c[1] ~= "container" then
          local env = fixed.spec.template.spec.containers[1].env
          assert.equal("VC_URL", env[#env - 3].name)
          assert.equal("VC_PASSWORD", env[#env].name)
          local vols = {}
          for _, v in ipairs(fixed.spec.template.spec.volumes) do vols[#vols + 1] = v.name end
          assert.same({ "vsgate-session", "vsphere-binding" }, vols)
        end
      end)
    end

    it("adds the session volume and mount to an adapter Deployment from before them", function()
      local old = fake.copy(want)
      old.spec.template.spec.volumes = nil
      old.spec.template.spec.containers[1].volumeMounts = nil
      kube.create(old)
      local cur = stored()
      assert.same({ "spec.template.spec.containers[adapter].volumeMounts", "spec.template.spec.volumes" },
        desired.deployment_diff(cur, want))
      local fixed = desired.apply_deployment(cur, want)
      assert.same({}, desired.deployment_diff(fixed, want))
      local mounts = {}
      for _, m in ipairs(fixed.spec.template.spec.containers[1].volumeMounts) do mounts[m.name] = m.mountPath end
      assert.same({ ["vsgate-session"] = "/var/run/vsgate", ["vsphere-binding"] = "/var/bindings/vsphere" }, mounts)
    end)

    it("ignores labels, annotations and containers others add", function()
      kube.create(fake.copy(want))
      local cur = stored()
      cur.metadata.labels.team = "a"
      cur.metadata.annotations = { ["deployment.kubernetes.io/revision"] = "3" }
      cur.spec.template.metadata.annotations = { ["kubectl.kubernetes.io/restartedAt"] = "now" }
      table.insert(cur.spec.template.spec.containers, { name = "sidecar", image = "s" })
      cur.spec.template.spec.containers[1].resources = { limits = { cpu = "1" } }
      assert.same({}, desired.deployment_diff(cur, want))
    end)
  end)

  it("compares bindings on the spec fields it sets", function()
    local want = desired.make_binding(source({ address = "https://vc", secretRef = { name = "c" } }), n)
    local cur = fake.copy(want)
    cur.spec.skipTLSVerify = false
    cur.status = { conditions = {} }
    assert.same({}, desired.binding_diff(cur, want))
    cur.spec.address = "https://other"
    assert.same({ "spec" }, desired.binding_diff(cur, want))
    cur.spec.address = "https://vc"
    cur.spec.subject.selector = { matchLabels = { a = "b" } }
    assert.same({ "spec" }, desired.binding_diff(cur, want))
    assert.same(want.spec, desired.apply_binding(cur, want).spec)
  end)

  it("compares role bindings on roleRef and the one subject", function()
    local want = desired.make_rolebinding(source(), n, "sa")
    local cur = fake.copy(want)
    assert.same({}, desired.rolebinding_diff(cur, want))
    cur.subjects[1].name = "old"
    assert.same({ "subjects" }, desired.rolebinding_diff(cur, want))
    cur.roleRef.name = "other"
    assert.same({ "roleRef", "subjects" }, desired.rolebinding_diff(cur, want))
  end)

  it("knows its controller", function()
    local src = source()
    local o = { metadata = { ownerReferences = { desired.owner_ref(src) } } }
    assert.is_true(desired.is_controlled_by(o, src))
    o.metadata.ownerReferences[1].uid = "other"
    assert.is_false(desired.is_controlled_by(o, src))
    assert.is_false(desired.is_controlled_by({ metadata = {} }, src))
  end)
end)

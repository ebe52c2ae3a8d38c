-- lua/webhook/configurations.lua: the webhook configurations' one source
-- (spec/tools/webhook_configurations.sh compares the shipped YAML with it).
local C = require("webhook.configurations")
local podspecable = require("lib.podspecable")

local function build(o)
  o = o or {}
  o.system_namespace = o.system_namespace or "vmware-sources"
  if not o.url_base then o.service = o.service or "vsphere-source-webhook" end
  return C.build(o)
end

local function by_hook(out, name)
  for _, c in ipairs(out.configurations) do
    if c.webhooks[1].name == name then return c, c.webhooks[1] end
  end
end

describe("webhook.configurations", function()
  it("the built-in rules name each podspecable kind once, one rule per group and version", function()
    local seen = {}
    for _, r in ipairs(C.builtin_rules()) do
      assert.are.same({ "CREATE", "UPDATE" }, r.operations)
      assert.are.equal(1, #r.apiGroups)
      for _, res in ipairs(r.resources) do
        local key = r.apiGroups[1] .. "/" .. r.apiVersions[1] .. "/" .. res
        assert.is_nil(seen[key], key)
        seen[key] = true
      end
    end
    for _, k in ipairs(podspecable) do
      assert.is_true(seen[k.apiVersion .. "/" .. k.resource], k.kind)
    end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    assert.are.equal(#podspecable, n)
  end)

  it("Service mode: four configurations reaching the Service, the binding webhook as in the release", function()
    local out = build()
    assert.are.equal(4, #out.configurations)
    assert.are.equal(C.BINDINGS, out.bindings)
    local conf, h = by_hook(out, C.BINDINGS)
    assert.are.equal("MutatingWebhookConfiguration", conf.kind)
    assert.are.equal(C.BINDINGS, conf.metadata.name)
    assert.are.same({ name = "vsphere-source-webhook", namespace = "vmware-sources", path = "/vspherebindings" },
      h.clientConfig.service)
    assert.are.same(C.builtin_rules(), h.rules)
    assert.are.equal("IfNeeded", h.reinvocationPolicy)
    for _, f in ipairs(out.leader_fields) do assert.is_not_nil(h[f], f) end
  end)

  it("selection modes give psbinding's selectors; the system namespace is never sent", function()
    local _, ex = by_hook(build({ system_namespace = "sys" }), C.BINDINGS)
    assert.are.same({ matchExpressions = { { key = "bindings.knative.dev/exclude", operator = "NotIn",
      values = { "true" } } } }, ex.objectSelector)
    assert.are.same({ "kube-system", "sys" }, ex.namespaceSelector.matchExpressions[3].values)
    local _, inc = by_hook(build({ selection_mode = "inclusion" }), C.BINDINGS)
    assert.are.same({ matchExpressions = { { key = "bindings.knative.dev/include", operator = "In",
      values = { "true" } } } }, inc.objectSelector)
    assert.are.equal(2, #inc.namespaceSelector.matchExpressions)
  end)

  it("URL mode: own names and labels, the address as URL, never the uninstall webhook", function()
    local out = build({ url_base = "https://127.0.0.1:8443" })
    assert.are.equal(3, #out.configurations)
    for _, c in ipairs(out.configurations) do
      local h = c.webhooks[1]
      assert.are.equal(C.URL_PREFIX .. h.name, c.metadata.name)
      assert.are.same({ ["sources.tanzu.vmware.com/webhook-mode"] = "url" }, c.metadata.labels)
      assert.is_nil(h.clientConfig.service)
      assert.matches("^https://127%.0%.0%.1:8443/", h.clientConfig.url)
      assert.is_not.matches("uninstall", h.name)
    end
  end)

  it("the same options build the same objects (the leader compares them)", function()
    assert.are.same(build({ selection_mode = "inclusion" }), build({ selection_mode = "inclusion" }))
  end)
end)

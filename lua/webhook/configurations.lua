-- The admission webhook configurations of `vsgate controller`: one source
-- for the objects the controller registers in URL mode, the fields its
-- leader keeps in line in Service mode, and the shipped
-- deploy/webhooks/700-webhook-configurations.yaml (a test compares that
-- file with build{} in Service mode, so the two cannot drift apart).
--
--   build(opts) -> {
--     configurations = { <MutatingWebhookConfiguration | Validating...>, ... },
--     bindings = <name of the binding webhook>,
--     leader_fields = { <fields of the binding webhook the leader rewrites
--                        in Service mode>, ... },
--   }
--   opts: system_namespace (where the controller runs), selection_mode
--   ("exclusion" | "inclusion"), and either service (the Service's name:
--   Service mode, what the release ships) or url_base ("https://host:port":
--   URL mode, the controller registers itself by address).
--
-- What the C side adds: each webhook's clientConfig.caBundle (the CA of
-- the Secret vsphere-webhook-certs), and the binding webhook's rules grow
-- by the resource of every kind a live VSphereBinding targets (found
-- through discovery; the rules here are the built-in ones).
local podspecable = require("lib.podspecable")

local M = {}

local GROUP = "sources.tanzu.vmware.com"
local INCLUDE = "bindings.knative.dev/include"
local EXCLUDE = "bindings.knative.dev/exclude"
M.BINDINGS = "vspherebindings.webhook.vsphere.sources.tanzu.vmware.com"
-- URL-mode objects carry this prefix, so they never replace the release's.
M.URL_PREFIX = "url-mode."

-- The built-in rules of the binding webhook: one per group and version,
-- CREATE and UPDATE, resources sorted (the same order the C side keeps
-- when it adds subject kinds).
function M.builtin_rules()
  local by, keys = {}, {}
  for _, k in ipairs(podspecable) do
    local group, version = k.apiVersion:match("^(.*)/([^/]+)$")
    if not group then group, version = "", k.apiVersion end
    local key = group .. "\0" .. version
    if not by[key] then
      by[key] = { group = group, version = version, resources = {} }
      keys[#keys + 1] = key
    end
    table.insert(by[key].resources, k.resource)
  end
  table.sort(keys)
  local rules = {}
  for _, key in ipairs(keys) do
    local g = by[key]
    table.sort(g.resources)
    rules[#rules + 1] = {
      apiGroups = { g.group }, apiVersions = { g.version }, operations = { "CREATE", "UPDATE" },
      resources = g.resources, scope = "Namespaced",
    }
  end
  return rules
end

local function expr(key, op, values)
  return { key = key, operator = op, values = values }
end

-- Namespaces: only those labelled include=true (the VSphereBinding
-- reconciler labels the namespaces of subjects), so workloads elsewhere
-- never wait on this webhook; in exclusion mode also not exclude=true;
-- never kube-system nor the controller's own namespace.
local function namespace_selector(opts)
  local e = { expr(INCLUDE, "In", { "true" }) }
  if opts.selection_mode ~= "inclusion" then e[#e + 1] = expr(EXCLUDE, "NotIn", { "true" }) end
  e[#e + 1] = expr("kubernetes.io/metadata.name", "NotIn", { "kube-system", opts.system_namespace })
  return { matchExpressions = e }
end

-- Objects, as psbinding: exclusion mode not exclude=true, inclusion mode
-- include=true.
local function object_selector(opts)
  if opts.selection_mode == "inclusion" then
    return { matchExpressions = { expr(INCLUDE, "In", { "true" }) } }
  end
  return { matchExpressions = { expr(EXCLUDE, "NotIn", { "true" }) } }
end

-- Not for an update of the metadata alone (labels, annotations,
-- finalizers): there is nothing to default or validate, and the
-- controller's own finalizer writes during an uninstall must not wait on
-- the webhook that makes them.
local SPEC_CHANGED = {
  name = "spec-changed",
  expression = "request.operation != 'UPDATE' || !has(object.spec) || !has(oldObject.spec) || "
    .. "object.spec != oldObject.spec",
}

local OUR_RESOURCES = {
  apiGroups = { GROUP }, apiVersions = { "v1alpha1" }, operations = { "CREATE", "UPDATE" },
  resources = { "vspheresources", "vspherebindings" }, scope = "Namespaced",
}

-- The webhooks: name, kind of configuration, path, and the fields beside
-- clientConfig. url = false: never registered by URL (it would see the
-- whole cluster's namespaces).
local function webhooks(opts)
  return {
    {
      kind = "MutatingWebhookConfiguration", path = "/defaulting",
      hook = {
        name = "defaulting.webhook.vsphere.sources.tanzu.vmware.com",
        failurePolicy = "Fail", sideEffects = "None", timeoutSeconds = 10,
        matchPolicy = "Equivalent", reinvocationPolicy = "IfNeeded",
        matchConditions = { SPEC_CHANGED }, rules = { OUR_RESOURCES },
      },
    },
    {
      kind = "ValidatingWebhookConfiguration", path = "/resource-validation",
      hook = {
        name = "validation.webhook.vsphere.sources.tanzu.vmware.com",
        failurePolicy = "Fail", sideEffects = "None", timeoutSeconds = 10,
        matchPolicy = "Equivalent",
        matchConditions = { SPEC_CHANGED }, rules = { OUR_RESOURCES },
      },
    },
    {
      kind = "MutatingWebhookConfiguration", path = "/vspherebindings",
      hook = {
        name = M.BINDINGS,
        failurePolicy = "Fail", sideEffects = "None", timeoutSeconds = 10,
        matchPolicy = "Equivalent", reinvocationPolicy = "IfNeeded",
        namespaceSelector = namespace_selector(opts), objectSelector = object_selector(opts),
        rules = M.builtin_rules(),
      },
    },
    {
      kind = "ValidatingWebhookConfiguration", path = "/uninstall", url = false,
      hook = {
        name = "uninstall.webhook.vsphere.sources.tanzu.vmware.com",
        failurePolicy = "Ignore", sideEffects = "NoneOnDryRun", timeoutSeconds = 30,
        matchPolicy = "Equivalent",
        objectSelector = { matchLabels = { ["kubernetes.io/metadata.name"] = opts.system_namespace } },
        rules = { {
          apiGroups = { "" }, apiVersions = { "v1" }, operations = { "DELETE" },
          resources = { "namespaces" }, scope = "Cluster",
        } },
      },
    },
  }
end

function M.build(opts)
  assert(type(opts) == "table" and type(opts.system_namespace) == "string", "build: system_namespace")
  local url = opts.url_base
  local out = {}
  for _, w in ipairs(webhooks(opts)) do
    if not url or w.url ~= false then
      local h = w.hook
      h.admissionReviewVersions = { "v1" }
      if url then
        h.clientConfig = { url = url .. w.path }
      else
        h.clientConfig = { service = { name = opts.service, namespace = opts.system_namespace, path = w.path } }
      end
      out[#out + 1] = {
        apiVersion = "admissionregistration.k8s.io/v1",
        kind = w.kind,
        metadata = {
          name = url and (M.URL_PREFIX .. h.name) or h.name,
          labels = url and { ["sources.tanzu.vmware.com/webhook-mode"] = "url" }
            or { ["sources.tanzu.vmware.com/release"] = "devel" },
        },
        webhooks = { h },
      }
    end
  end
  return {
    configurations = out,
    bindings = M.BINDINGS,
    leader_fields = { "namespaceSelector", "objectSelector", "rules", "matchPolicy", "reinvocationPolicy" },
  }
end

return M

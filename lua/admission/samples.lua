-- Valid objects the admission driver's selftest() runs each handler on
-- before the webhook takes a version of the admission code into use: a
-- VSphereSource that defaulting must return and validation must allow, and
-- a Deployment with a VSphereBinding that targets it, which bind must
-- return. Each call returns fresh tables (handlers change them in place).
local M = {}

function M.source()
  return {
    apiVersion = "sources.tanzu.vmware.com/v1alpha1", kind = "VSphereSource",
    metadata = { name = "s", namespace = "ns" },
    spec = { address = "https://vc", secretRef = { name = "c" }, sink = { uri = "http://x" } },
  }
end

function M.deployment()
  return {
    apiVersion = "apps/v1", kind = "Deployment",
    metadata = { name = "d", namespace = "ns" },
    spec = { template = { spec = { containers = { { name = "c" } } } } },
  }
end

function M.bindings()
  return { {
    apiVersion = "sources.tanzu.vmware.com/v1alpha1", kind = "VSphereBinding",
    metadata = { name = "b", namespace = "ns" },
    spec = {
      address = "https://vc", secretRef = { name = "c" },
      subject = { apiVersion = "apps/v1", kind = "Deployment", name = "d", namespace = "ns" },
    },
  } }
end

return M

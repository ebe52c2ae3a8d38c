-- The PodSpec-able kinds VSphereBindings always cover (CONTRACTS §5): the
-- one list the binding webhook's built-in rules (webhook.configurations,
-- and through it the shipped deploy/webhooks YAML, which a test compares
-- with it), the controller's ClusterRole and the binding reconciler's
-- watches follow. Any other kind a binding names is added at run time
-- (rules through discovery, watches through ctx.track).
--
-- `optional`: served only where Knative Serving is installed, so the
-- reconciler does not watch it from the start (a watch on a resource the
-- API server does not serve would fail); it tracks such subjects through
-- ctx.track like any other kind a binding names.
return {
  { apiVersion = "apps/v1", kind = "DaemonSet", resource = "daemonsets" },
  { apiVersion = "apps/v1", kind = "Deployment", resource = "deployments" },
  { apiVersion = "apps/v1", kind = "ReplicaSet", resource = "replicasets" },
  { apiVersion = "apps/v1", kind = "StatefulSet", resource = "statefulsets" },
  { apiVersion = "batch/v1", kind = "Job", resource = "jobs" },
  { apiVersion = "serving.knative.dev/v1", kind = "Configuration", resource = "configurations",
    optional = true },
  { apiVersion = "serving.knative.dev/v1", kind = "Service", resource = "services", optional = true },
}

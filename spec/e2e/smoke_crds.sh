# The CRDs and namespace in deploy/crds apply to a real API server, become
# Established, and `kubectl explain` shows their schema.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
out=$(k apply -f "$VSG_SOURCE_DIR/deploy/crds/")
expect_contains "$out" "customresourcedefinition.apiextensions.k8s.io/vspheresources.sources.tanzu.vmware.com"
expect_contains "$out" "namespace/vmware-sources"
k wait --for=condition=Established --timeout=60s \
  crd/vspheresources.sources.tanzu.vmware.com crd/vspherebindings.sources.tanzu.vmware.com

# Discovery knows the short names and categories.
retry 30 k get vss -A >/dev/null 2>&1 || fail "short name vss not served"
k get vsb -A >/dev/null 2>&1
out=$(k api-resources --api-group=sources.tanzu.vmware.com -o wide)
expect_contains "$out" "vss" "api-resources"
expect_contains "$out" "all,knative,vsphere,sources" "api-resources categories"

explain() { k explain vspheresource.spec.checkpointConfig 2>/dev/null; }
out=$(retry 30 explain)
expect_contains "$out" "maxAgeSeconds" "explain checkpointConfig"
expect_contains "$out" "periodSeconds" "explain checkpointConfig"
out=$(k explain vspherebinding.spec.subject)
expect_contains "$out" "selector" "explain binding subject"

# The CRD labels that Knative's duck typing and `kubectl get sources` need.
labels=$(k get crd vspheresources.sources.tanzu.vmware.com -o jsonpath='{.metadata.labels}')
expect_contains "$labels" '"duck.knative.dev/source":"true"' "source CRD labels"
expect_contains "$labels" '"eventing.knative.dev/source":"true"' "source CRD labels"
echo "smoke_crds: ok"

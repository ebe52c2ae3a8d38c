# The API server itself rejects malformed sources (structural schema), with a
# message naming the field.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
k apply -f "$VSG_SOURCE_DIR/deploy/crds/" >/dev/null
k wait --for=condition=Established --timeout=60s crd/vspheresources.sources.tanzu.vmware.com >/dev/null
ns=$(new_ns invalid)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/wrongtype.yaml" <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: wrong-type, namespace: $ns}
spec:
  address: https://vcenter.corp.local
  secretRef: {name: vsphere-credentials}
  sink: {uri: http://where.to.send.stuff}
  checkpointConfig: {periodSeconds: "ten"}
YAML
expect_fail_with "spec.checkpointConfig.periodSeconds" k create -f "$tmp/wrongtype.yaml"

cat >"$tmp/noaddress.yaml" <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: no-address, namespace: $ns}
spec:
  secretRef: {name: vsphere-credentials}
  sink: {uri: http://where.to.send.stuff}
YAML
expect_fail_with "spec.address" k create -f "$tmp/noaddress.yaml"

cat >"$tmp/nosubjectkind.yaml" <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereBinding
metadata: {name: no-kind, namespace: $ns}
spec:
  address: https://vcenter.corp.local
  secretRef: {name: vsphere-credentials}
  subject: {apiVersion: apps/v1, name: x}
YAML
expect_fail_with "spec.subject.kind" k create -f "$tmp/nosubjectkind.yaml"

cat >"$tmp/negative.yaml" <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: negative, namespace: $ns}
spec:
  address: https://vcenter.corp.local
  secretRef: {name: vsphere-credentials}
  sink: {uri: http://where.to.send.stuff}
  checkpointConfig: {maxAgeSeconds: -1}
YAML
expect_fail_with "spec.checkpointConfig.maxAgeSeconds" k create -f "$tmp/negative.yaml"

# Nothing of the rejected objects was stored.
[ -z "$(k -n "$ns" get vss,vsb -o name)" ] || fail "a rejected object was stored"
echo "smoke_invalid: ok"

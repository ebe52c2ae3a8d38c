# The uninstall mark (controller/uninstall.h): while the system namespace carries a fresh
# sources.tanzu.vmware.com/uninstalling, the controller adds no VSphereBinding finalizer (it
# would hold the CRDs' deletion forever) but still reconciles; a mark older than 120 s (an
# uninstall that never happened, or a forged request) stops counting, and a binding that was
# left without its finalizer gets it back.
. "$E2E_LIB"
. "$(dirname "$0")/controller_lib.sh"
e2e_begin controller_uninstall_mark
ctl_setup
ann=sources.tanzu.vmware.com/uninstalling
unmark() { k annotate namespace vmware-sources "$ann-" >/dev/null 2>&1 || true; }
trap 'rc=$?; unmark; _e2e_cleanup $rc' EXIT
ns=$(new_ns ctl-unmark)
k -n "$ns" apply -f "$VSG_SOURCE_DIR/samples/upstream/vsphere-credentials.yaml" >/dev/null
binding() { # NAME
  k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereBinding
metadata: {name: $1}
spec:
  address: https://vcenter.corp.local
  secretRef: {name: vsphere-credentials}
  subject: {apiVersion: batch/v1, kind: Job, selector: {matchLabels: {app: $1}}}
YAML
}
ready() { [ "$(k -n "$ns" get vspherebinding "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
fins() { k -n "$ns" get vspherebinding "$1" -o jsonpath='{.metadata.finalizers}'; }

k annotate --overwrite namespace vmware-sources "$ann=$(date -u +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
ctl_start a --lease-name "ctl-unmark-$ns" --reconcilers vspherebinding
binding marked
wait_for 30 "marked reconciled" ready marked
sleep 1
[ -z "$(fins marked)" ] || fail "a finalizer was added during an uninstall: $(fins marked)"

# A stale mark: finalizers as usual, for new bindings and for the one left without.
k annotate --overwrite namespace vmware-sources "$ann=2020-01-01T00:00:00Z" >/dev/null
binding stale
wait_for 30 "stale reconciled" ready stale
expect_contains "$(fins stale)" vspherebindings.sources.tanzu.vmware.com "finalizer with a stale mark"
k -n "$ns" annotate vspherebinding marked touched=yes >/dev/null # a change: reconciled again
wait_for 30 "the finalizer back on marked" sh -c "$KUBECTL --kubeconfig $KUBECONFIG -n $ns get vspherebinding marked -o jsonpath='{.metadata.finalizers}' | grep -q vspherebindings"
echo "controller_uninstall_mark: ok"

# The controller's log level follows config-logging as Knative components'
# does (issue 16 item 8): read at start (loglevel.vsphere-source-webhook:
# debug gives debug lines from the first reconcile) and changed live
# (back to info: no debug line after the change is applied), without a
# restart. Every line a Lua reconciler writes carries knative.dev/key
# (item 9). The harness's config-logging is put back at exit.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin controller_logging
ctl_setup
if k -n vmware-sources get configmap config-logging -o json >"$E2E_DIR/saved.json" 2>/dev/null; then
  more_on_exit "jq 'del(.metadata.resourceVersion, .metadata.uid, .metadata.creationTimestamp, .metadata.managedFields)' '$E2E_DIR/saved.json' | $KUBECTL --kubeconfig '$KUBECONFIG' replace -f -"
else
  more_on_exit k -n vmware-sources delete configmap config-logging --ignore-not-found
fi
logging() { # logging LEVEL: config-logging with the controller's level LEVEL (default info)
  k -n vmware-sources create configmap config-logging --dry-run=client -o yaml \
    --from-literal=zap-logger-config='{"level": "info", "encoding": "json"}' \
    --from-literal=loglevel.vsphere-source-webhook="$1" | k replace --force -f - >/dev/null
}
logging debug
ns=$(new_ns ctl-log)
k -n "$ns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
k -n "$ns" create serviceaccount default >/dev/null
src() { # src NAME
  cat <<YAML | k -n "$ns" apply -f - >/dev/null
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: $1}
spec:
  address: https://vcenter.corp.local
  secretRef: {name: vsphere-credentials}
  sink: {uri: http://sink.example}
YAML
}
debug_lines() { grep -c '"level":"debug"' "$CTL_LOG" || true; }
ctl_start a --lease-name "ctl-log-$ns" --reconcilers vspheresource
src first
wait_for 30 "debug lines (config-logging read at start)" sh -c "grep -q '\"level\":\"debug\"' '$CTL_LOG'"
grep -q 'log level debug (from config-logging)' "$CTL_LOG" || fail "the level change was not logged"

# Live: back to info, no restart.
logging info
wait_for 30 "the change to info" grep -q 'log level info (from config-logging)' "$CTL_LOG"
n=$(debug_lines)
src second
wait_jp 30 "$ns" deploy second-adapter '{.metadata.name}' second-adapter
sleep 1
[ "$(debug_lines)" = "$n" ] || fail "debug lines after the level went back to info: $(grep '"level":"debug"' "$CTL_LOG" | tail -n 2)"
_e2e_alive "$CTL_PID" || fail "the controller stopped"

# Lines the Lua reconciler writes name the object (knative.dev/key), as the
# C driver's do: a source whose sink Service does not exist.
cat <<YAML | k -n "$ns" apply -f - >/dev/null
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: third}
spec:
  address: https://vcenter.corp.local
  secretRef: {name: vsphere-credentials}
  sink: {ref: {apiVersion: v1, kind: Service, name: nowhere}}
YAML
keyed() { grep '"msg":"sink not resolved"' "$CTL_LOG" | grep "\"knative.dev/key\":\"$ns/third\"" >/dev/null; }
wait_for 30 "a Lua log line with knative.dev/key $ns/third" keyed
echo "controller_logging: debug from config-logging at start, info live ($n debug lines before)"

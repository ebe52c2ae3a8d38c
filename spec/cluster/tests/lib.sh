# spec/cluster/tests/lib.sh - helpers for the tests that run in the real cluster (sourced by
# run-test.sh after the cluster's env). Everything that talks to the cluster runs inside its
# network namespace (spec/cluster/exec); nothing here reaches an address outside it.
# Provides: cx (a command in the cluster's namespaces), kc (kubectl), govc_ (govc on the
# cluster's vcsim), t_begin (scratch folder + cleanup of the namespaces a test made), t_ns,
# release_file, credentials, sink_deploy, sink_lines, ce_ids, ce_types, source_apply,
# binding_apply, adapter_pod, wait_source_ready, checkpoint_key, vm_power, has_type,
# contiguous; and fail, expect_contains, retry from spec/e2e/lib.sh.
# shellcheck source=spec/e2e/lib.sh
# shellcheck disable=SC2034  # a library: its variables are for the tests that source it
. "$VSG_SOURCE_DIR/spec/e2e/lib.sh"

CLUSTER=$VSG_SOURCE_DIR/spec/cluster
cx() { "$CLUSTER/exec" "$VSG_CLUSTER_DIR" "$@"; }
kc() { cx "$VSG_KUBECTL" "$@"; }
govc_() { cx "$VSG_GOVC" "$@"; }

say() { echo "[$(date -u +%T)] $*"; }

# t_begin NAME: scratch folder $T; namespaces from t_ns are deleted at exit (kept when the test
# fails, with their pods' logs written to $T).
_t_ns=()
t_begin() {
  T=$(mktemp -d "${TMPDIR:-/tmp}/vsg-cluster-$1.XXXXXX")
  _t_name=$1
  trap '_t_cleanup $?' EXIT
}
_t_cleanup() {
  local rc=$1 ns
  trap - EXIT
  if [ "$rc" -ne 0 ]; then
    for ns in "${_t_ns[@]}" vmware-sources; do
      kc -n "$ns" get all,vspheresources,vspherebindings,events -o wide >"$T/$ns.objects.txt" 2>&1 || true
      for p in $(kc -n "$ns" get pods -o name 2>/dev/null); do
        kc -n "$ns" logs --all-containers --prefix "$p" >"$T/$ns.${p#pod/}.log" 2>&1 || true
      done
    done
    echo "cluster test $_t_name failed; objects and logs in $T" >&2
  else
    for ns in "${_t_ns[@]}"; do kc delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; done
    rm -rf "$T"
  fi
  exit "$rc"
}
# t_ns PREFIX: a fresh namespace (with the default service account, made by the controller-manager).
t_ns() {
  local ns="$1-$RANDOM"
  kc create namespace "$ns" >/dev/null || fail "creating namespace $ns"
  _t_ns+=("$ns")
  retry 30 kc -n "$ns" get serviceaccount default >/dev/null 2>&1 || fail "no default service account in $ns"
  T_NS=$ns
}

# release_file IMAGE: the release as users render it.
release_file() {
  "$VSG_SOURCE_DIR/scripts/render-release" "$1" >"$T/release-${1##*:}.yaml"
  echo "$T/release-${1##*:}.yaml"
}

# The vCenter credentials of the cluster's vcsim as users write them (samples/upstream).
credentials() { # NS
  kc -n "$1" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: {name: vsphere-credentials}
type: kubernetes.io/basic-auth
stringData: {username: "$VSG_VCSIM_USER", password: "$VSG_VCSIM_PASSWORD"}
YAML
}

# sink_deploy NS NAME: a Deployment running `vsgate sink` (one JSON line per event on stdout)
# and a Service NAME on port 80.
sink_deploy() {
  kc -n "$1" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $2, labels: {app: $2}}
spec:
  replicas: 1
  selector: {matchLabels: {app: $2}}
  template:
    metadata: {labels: {app: $2}}
    spec:
      containers:
      - name: sink
        image: $VSG_IMAGE
        imagePullPolicy: IfNotPresent
        args: [sink, --addr, 0.0.0.0, --port, "8080"]
        ports: [{containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: $2}
spec:
  selector: {app: $2}
  ports: [{port: 80, targetPort: 8080}]
YAML
  kc -n "$1" rollout status "deploy/$2" --timeout=90s >/dev/null || fail "sink $2 not ready"
}
# sink_lines NS NAME: the event lines the sink pod printed.
sink_lines() { kc -n "$1" logs "deploy/$2" 2>/dev/null | grep '^{"mode"' || true; }
# ce_ids: the CloudEvent ids (vCenter event keys) of the sink lines on stdin, sorted, unique.
ce_ids() { jq -r '.attributes.id' | sort -n | uniq; }
# ce_types: "type" attribute per line.
ce_types() { jq -r '.attributes.type'; }

# source_apply NS NAME SINKYAML [EXTRA SPEC YAML]: a VSphereSource on the cluster's vcsim in the
# upstream samples' shape; payload JSON unless PAYLOAD names another encoding.
source_apply() {
  kc -n "$1" apply -f - >/dev/null <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: $2}
spec:
  address: $VSG_VCSIM_ADDRESS
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
  sink:
$3
  checkpointConfig: {maxAgeSeconds: 300, periodSeconds: 1}
  payloadEncoding: ${PAYLOAD:-application/json}
${4:-}
YAML
}
# binding_apply NS NAME SUBJECT-YAML: a VSphereBinding on the cluster's vcsim (the subject's
# fields indented by four spaces, or one flow mapping).
binding_apply() {
  kc -n "$1" apply -f - >/dev/null <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereBinding
metadata: {name: $2}
spec:
  address: $VSG_VCSIM_ADDRESS
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
  subject:
$3
YAML
}
JOBS_FOO_BAR="    {apiVersion: batch/v1, kind: Job, selector: {matchLabels: {foo: bar}}}"
# adapter_pod NS SOURCE: the name of the adapter's running pod.
adapter_pod() {
  kc -n "$1" get pods -l "vspheresources.sources.tanzu.vmware.com/name=$2" \
    --field-selector=status.phase=Running -o jsonpath='{.items[*].metadata.name}'
}
# wait_source_ready NS SOURCE
wait_source_ready() {
  kc -n "$1" wait --for=condition=Ready "vspheresource/$2" --timeout=120s >/dev/null ||
    fail "VSphereSource $1/$2 not Ready: $(kc -n "$1" get vspheresource "$2" -o jsonpath='{.status.conditions}')"
  kc -n "$1" rollout status "deploy/$2-adapter" --timeout=120s >/dev/null || fail "adapter of $1/$2 not available"
}
# checkpoint_key NS SOURCE: lastEventKey of its checkpoint ConfigMap (0 if none yet).
checkpoint_key() {
  local j
  j=$(kc -n "$1" get configmap "$2-configmap" -o jsonpath='{.data.checkpoint}' 2>/dev/null) || j=
  [ -n "$j" ] && jq -r '.lastEventKey // 0' <<<"$j" || echo 0
}
# vm_power VM on|off
vm_power() { govc_ vm.power "-$2" "$1" >/dev/null 2>&1 || fail "govc vm.power -$2 $1"; }

# has_type NS SINK TYPE: the sink got an event of TYPE.
has_type() { sink_lines "$1" "$2" | ce_types | grep -qx "$3"; }
# contiguous: ids on stdin (sorted unique) have no gap; prints "first last count".
contiguous() {
  awk 'NR == 1 { first = $1; prev = $1; n = 1; next }
       { if ($1 != prev + 1) { printf "gap after %s (next %s)\n", prev, $1 > "/dev/stderr"; bad = 1 }
         prev = $1; n++ }
       END { print first, prev, n; exit bad }'
}

# spec/e2e/controller_more_lib.sh - more helpers for the controller e2e tests
# (sourced after lib.sh, controller_lib.sh and e2e_begin).
# Provides: more_on_exit CMD (run CMD, best effort, before e2e_begin's EXIT
# cleanup), jp NS KIND NAME JSONPATH, cond NS NAME TYPE (status/reason of a
# VSphereSource condition), cond_msg, wait_cond NS NAME TYPE STATUS[/REASON],
# set_available NS DEPLOYMENT STATUS (writes the Deployment's Available
# condition through the status subresource), test_addressable_crds (the
# Knative Service- and Broker-shaped test CRDs and a role for them bound to
# the controller identity, as the aggregated addressable-resolver role would
# give in a real cluster), adapter_env (an adapter Deployment's env as
# NAME=value words), sa_kubeconfig (a token of a namespace's default
# service account).

# (lib.sh's e2e_on_exit, which other EXIT traps ending in _e2e_cleanup keep.)
more_on_exit() { e2e_on_exit "$@"; }

jp() { k -n "$1" get "$2" "$3" -o jsonpath="$4"; }

# cond NS NAME TYPE: "Status/Reason" of a VSphereSource condition.
cond() { jp "$1" vss "$2" "{.status.conditions[?(@.type==\"$3\")].status}/{.status.conditions[?(@.type==\"$3\")].reason}"; }
cond_msg() { jp "$1" vss "$2" "{.status.conditions[?(@.type==\"$3\")].message}"; }
_cond_is() { local c; c=$(cond "$1" "$2" "$3" 2>/dev/null) || return 1; [ "$c" = "$4" ] || [ "${c%/*}" = "$4" ]; }
# wait_cond SECS NS NAME TYPE WANT: WANT is "True" or "False/Reason".
wait_cond() {
  retry "$1" _cond_is "$2" "$3" "$4" "$5" ||
    fail "timed out after $1s waiting for $4=$5 of $2/$3 (now: $(cond "$2" "$3" "$4") $(cond_msg "$2" "$3" "$4"))"
}
# wait_jp SECS NS KIND NAME JSONPATH WANT
_jp_is() { [ "$(jp "$1" "$2" "$3" "$4" 2>/dev/null)" = "$5" ]; }
wait_jp() {
  retry "$1" _jp_is "$2" "$3" "$4" "$5" "$6" ||
    fail "timed out after $1s waiting for $3/$4 $5 = '$6' (now: '$(jp "$2" "$3" "$4" "$5" 2>&1)')"
}

# set_available NS DEPLOYMENT True|False: what the deployment controller
# would write (there is none in the harness).
set_available() {
  local now; now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  k -n "$1" patch deploy "$2" --subresource=status --type merge -p "{\"status\":{\"observedGeneration\":1,\"conditions\":[{\"type\":\"Available\",\"status\":\"$3\",\"reason\":\"TestSet$3\",\"message\":\"set by the e2e test\",\"lastTransitionTime\":\"$now\",\"lastUpdateTime\":\"$now\"}]}}" >/dev/null
}

# test_addressable_crds: services.serving.knative.dev (v1) and
# brokers.eventing.knative.dev (v1beta1, v1), namespaced, with status, and
# ClusterRole vsgate-e2e-addressables (labelled duck.knative.dev/addressable
# like Knative's own) bound to group vsgate:controllers. Removed at exit.
test_addressable_crds() {
  local c
  for c in services.serving.knative.dev brokers.eventing.knative.dev; do # left terminating by an earlier run
    [ -z "$(k get crd "$c" -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null)" ] ||
      k wait --for=delete --timeout=60s "crd/$c" >/dev/null 2>&1 || true
  done
  k apply -f - >/dev/null <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: services.serving.knative.dev
  labels: {vsgate-e2e: "true"}
spec:
  group: serving.knative.dev
  scope: Namespaced
  names: {plural: services, singular: service, kind: Service, listKind: ServiceList, shortNames: [ksvc]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: brokers.eventing.knative.dev
  labels: {vsgate-e2e: "true"}
spec:
  group: eventing.knative.dev
  scope: Namespaced
  names: {plural: brokers, singular: broker, kind: Broker, listKind: BrokerList}
  versions:
  - name: v1beta1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
  - name: v1
    served: true
    storage: false
    subresources: {status: {}}
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: vsgate-e2e-addressables
  labels: {duck.knative.dev/addressable: "true", vsgate-e2e: "true"}
rules:
- apiGroups: [serving.knative.dev]
  resources: [services, services/status]
  verbs: [get, list, watch]
- apiGroups: [eventing.knative.dev]
  resources: [brokers, brokers/status]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: vsgate-e2e-addressables
  labels: {vsgate-e2e: "true"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vsgate-e2e-addressables}
subjects:
- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "vsgate:controllers"}
YAML
  k wait --for=condition=Established --timeout=60s \
    crd/services.serving.knative.dev crd/brokers.eventing.knative.dev >/dev/null
}

# adapter_env DEPLOYMENT-JSON NS POD: fills the array `envs` with the adapter
# container's env as NAME=value words: NAMESPACE/NAME (fieldRefs of the pod)
# as NS and POD; VC_USERNAME/VC_PASSWORD (from the Secret, when the binding
# reconciler got there first) left out: tests give VC_SECRET_PATH instead.
adapter_env() {
  # shellcheck disable=SC2034  # envs is this function's result, read by the caller
  mapfile -d '' envs < <(jq -j --arg ns "$2" --arg pod "$3" '.spec.template.spec.containers[0].env[]
    | if .valueFrom.fieldRef.fieldPath == "metadata.namespace" then "\(.name)=\($ns)"
      elif .valueFrom.fieldRef.fieldPath == "metadata.name" then "\(.name)=\($pod)"
      elif .valueFrom.secretKeyRef then empty
      elif .valueFrom then error("unexpected valueFrom in \(.name)")
      else "\(.name)=\(.value // "")" end | . + "\u0000"' "$1")
}

# sa_kubeconfig NS FILE: a kubeconfig for a token of NS's default service
# account (the adapter's own identity: only what the controller's
# RoleBinding gives it).
sa_kubeconfig() {
  local token server
  token=$(k -n "$1" create token default --duration=1h)
  server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
  cat >"$2" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "$server", certificate-authority: "$VSG_TEST_CA"}}]
users: [{name: sa, user: {token: "$token"}}]
contexts: [{name: c, context: {cluster: c, user: sa, namespace: $1}}]
current-context: c
KC
}

# A VSphereSource whose sink is of a kind the API server does not serve yet
# (a Broker, Knative Service or Channel whose CRD is installed after the
# source): SinkNotFound saying so, then, with nobody touching the source,
# the CRD and the Addressable appear and the source resolves its sink and
# creates its adapter by itself (issue 16 item 3). The kind gets a group of
# its own per run, so no other test's CRD is in the way.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin controller_sink_later
ctl_setup
group="late$RANDOM$RANDOM.e2e.vsgate.dev"
more_on_exit k delete crd "sinks.$group" --wait=false
more_on_exit k delete clusterrolebinding,clusterrole "vsgate-e2e-$group" --wait=false
ns=$(new_ns sink-later)
k -n "$ns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
k -n "$ns" create serviceaccount default >/dev/null
# What the aggregated addressable-resolver role gives in a real cluster
# (removed at exit, after the controller stopped).
e2e_after_exit "k delete clusterrolebinding,clusterrole vsgate-e2e-$group --ignore-not-found"
k apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: vsgate-e2e-$group}
rules:
- {apiGroups: [$group], resources: [sinks], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: vsgate-e2e-$group}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vsgate-e2e-$group}
subjects:
- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "vsgate:controllers"}
YAML
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: src}
spec:
  address: https://vcenter.corp.local
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
  sink:
    ref: {apiVersion: $group/v1, kind: Sink, name: default}
YAML
ctl_start a --lease-name "ctl-sl-$ns" --reconcilers vspheresource
wait_cond 60 "$ns" src AdapterReady False/SinkNotFound
expect_contains "$(cond_msg "$ns" src AdapterReady)" "does not serve $group/v1 Sink (is its CRD installed?)" "SinkNotFound message"

# The CRD, then the Addressable, installed later.
k apply -f - >/dev/null <<YAML
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: sinks.$group}
spec:
  group: $group
  scope: Namespaced
  names: {plural: sinks, singular: sink, kind: Sink, listKind: SinkList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
YAML
k wait --for=condition=Established --timeout=30s "crd/sinks.$group" >/dev/null
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: $group/v1
kind: Sink
metadata: {name: default}
status:
  address: {url: "http://late-sink.$ns.svc.cluster.local/"}
YAML
t0=$SECONDS
wait_jp 90 "$ns" vss src '{.status.sinkUri}' "http://late-sink.$ns.svc.cluster.local/"
wait_jp 30 "$ns" deploy src-adapter '{.metadata.name}' src-adapter
echo "controller_sink_later: resolved $((SECONDS - t0)) s after the sink appeared"

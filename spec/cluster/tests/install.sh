# Install: the release users render (scripts/render-release <image>) applied as is. The
# controller becomes Ready through its own probes within 60 s; every shipped object exists and
# is healthy; the webhooks answer through their Service (a bad VSphereSource is denied by the
# validating webhook, with the field named); a Deployment in a namespace with no binding is
# admitted and left alone; the image's kn-vsphere works in a pod (in-cluster configuration).
# shellcheck source=spec/cluster/tests/lib.sh
. "$T_LIB"
t_begin install
rel=$(release_file "$VSG_IMAGE")
t0=$SECONDS
kc apply -f "$rel" >"$T/apply.out" || fail "kubectl apply -f release.yaml: $(cat "$T/apply.out")"
kc -n vmware-sources rollout status deploy/vsphere-source-webhook --timeout=60s >/dev/null ||
  fail "controller not Ready within 60 s: $(kc -n vmware-sources get pods -o wide)"
ready=$((SECONDS - t0))
say "release applied; controller Ready after ${ready}s"
[ "$ready" -le 60 ] || fail "controller Ready after ${ready}s (> 60 s)"
restarts=$(kc -n vmware-sources get pods -l role=vsphere-source-webhook -o jsonpath='{.items[*].status.containerStatuses[*].restartCount}')
[ "$restarts" = 0 ] || fail "controller restarted ($restarts)"

# Every shipped object exists.
kc get -f "$rel" -o name >"$T/objects" 2>"$T/objects.err" || fail "kubectl get -f release.yaml: $(cat "$T/objects.err")"
n=$(wc -l <"$T/objects")
say "$n shipped objects present"
for crd in vspheresources vspherebindings; do
  kc wait --for=condition=Established "crd/$crd.sources.tanzu.vmware.com" --timeout=10s >/dev/null ||
    fail "CRD $crd not Established"
done
ep=$(kc -n vmware-sources get endpointslices -l kubernetes.io/service-name=vsphere-source-webhook \
  -o jsonpath='{.items[*].endpoints[?(@.conditions.ready==true)].addresses[*]}')
[ -n "$ep" ] || fail "the webhook Service has no ready endpoints"
for w in $(kc get mutatingwebhookconfigurations,validatingwebhookconfigurations \
             -l sources.tanzu.vmware.com/release -o name); do
  ca=$(kc get "$w" -o jsonpath='{.webhooks[0].clientConfig.caBundle}')
  # shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
  [ -n "$ca" ] || retry 30 eval '[ -n "$(kc get "$w" -o jsonpath="{.webhooks[0].clientConfig.caBundle}")" ]' ||
    fail "$w has no caBundle (the controller writes it)"
done
# The controller's own health: /readyz through the pod IP (kubelet did the same).
pod=$(kc -n vmware-sources get pods -l role=vsphere-source-webhook -o jsonpath='{.items[0].metadata.name}')
logs=$(kc -n vmware-sources logs "$pod")
case "$logs" in *"controller running"*) ;; *) fail "controller log has no 'controller running': $logs" ;; esac

# The validating webhook, called by the API server through the Service.
t_ns install
ns=$T_NS
credentials "$ns"
out=$(kc -n "$ns" apply -f - 2>&1 <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: bad}
spec:
  address: $VSG_VCSIM_ADDRESS
  secretRef: {name: vsphere-credentials}
  sink: {uri: http://sink.example}
  filter: {configMapRef: {name: f, key: a/b}}
YAML
) && fail "a VSphereSource with filter key a/b was admitted: $out"
expect_contains "$out" "validation.webhook.vsphere.sources.tanzu.vmware.com" "denial of a bad source"
expect_contains "$out" "spec.filter.configMapRef.key" "denial of a bad source"
# The defaulting webhook: a good one is admitted and defaulted.
source_apply "$ns" good "    uri: http://sink.example" || fail "a good VSphereSource was refused"
kc -n "$ns" get vspheresource good >/dev/null

# A Deployment in a namespace without bindings: admitted, not mutated, runs.
kc -n "$ns" create deployment plain --image="$VSG_PAUSE_IMAGE" >/dev/null || fail "a plain Deployment was refused"
kc -n "$ns" rollout status deploy/plain --timeout=60s >/dev/null || fail "the plain Deployment does not run"
envs=$(kc -n "$ns" get deploy plain -o jsonpath='{.spec.template.spec.containers[0].env}')
[ -z "$envs" ] || fail "a Deployment in a namespace without bindings was mutated: $envs"
# The image's kn-vsphere (a link to vsgate) in the controller's pod: in-cluster configuration,
# the pod's service account, and its namespace when -n is not given.
out=$(kc -n vmware-sources exec "$pod" -- /usr/bin/kn-vsphere source list -n "$ns" 2>&1) ||
  fail "kn-vsphere source list in the pod: $out"
expect_contains "$out" "good" "kn-vsphere in the pod lists the source"
out=$(kc -n vmware-sources exec "$pod" -- /usr/bin/kn-vsphere source list 2>&1) || fail "kn-vsphere in the pod: $out"
[ "$out" = "No sources found." ] || fail "kn-vsphere in the pod, its own namespace: $out"
say "install ok: Ready in ${ready}s, $n objects, webhooks by Service, kn-vsphere in the image"

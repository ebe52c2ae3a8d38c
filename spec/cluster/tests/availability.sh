# Availability: two controller replicas; the leader's pod deleted, the other takes over the Lease
# and reconciles, and the webhooks keep answering through the Service the whole time
# (admission requests back to back from three clients, none may fail). Then the controller scaled to 0, what
# happens to workload creation, as the README states it:
#   - a namespace with no VSphereBinding: workloads are admitted (the binding webhook only
#     intercepts namespaces labelled bindings.knative.dev/include=true);
#   - a namespace with a VSphereBinding: workloads are refused (failurePolicy: Fail, as the Go
#     version: admitting them unbound would silently run them without credentials);
#   - VSphereSources and VSphereBindings: refused (their webhooks are down).
# Finally one replica again, Ready.
# shellcheck source=spec/cluster/tests/lib.sh
. "$T_LIB"
t_begin availability
t_ns avail
ns=$T_NS
credentials "$ns"
S=vmware-sources
kc -n $S scale deploy/vsphere-source-webhook --replicas=2 >/dev/null
kc -n $S rollout status deploy/vsphere-source-webhook --timeout=90s >/dev/null || fail "2 replicas not Ready"
holder() { kc -n $S get lease vsgate-controller -o jsonpath='{.spec.holderIdentity}'; }
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 30 eval '[ -n "$(holder)" ]' || fail "no Lease holder"
leader=$(holder)
lpod=${leader%%_*}
kc -n $S get pod "$lpod" >/dev/null || fail "the Lease holder $leader is not a pod name"
say "leader $lpod"

cat >"$T/probe.yaml" <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: probe, namespace: $ns}
spec:
  address: $VSG_VCSIM_ADDRESS
  secretRef: {name: vsphere-credentials}
  sink: {uri: http://sink.example}
YAML
# Admission requests through the Service, back to back from three clients, while the leader
# goes: some request is nearly always in flight on a connection to the leaving pod, so a pod
# that closes its connections under a request (instead of after an answer) fails one.
probe_loop() {
  local end=$((SECONDS + 40)) ok=0 bad=0
  while [ $SECONDS -lt $end ] && [ ! -e "$T/stop" ]; do
    if kc create --dry-run=server -f "$T/probe.yaml" >/dev/null 2>>"$T/probe.err"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
  done
  echo "$ok $bad" >"$T/probe.count.$1"
}
probes=()
for i in 1 2 3; do probe_loop $i & probes+=($!); done
sleep 2
t0=$SECONDS
kc -n $S delete pod "$lpod" --wait=false >/dev/null
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 60 eval '[ -n "$(holder)" ] && [ "$(holder)" != "$leader" ]' || fail "no new leader after deleting $lpod"
took=$((SECONDS - t0))
newpod=$(holder); newpod=${newpod%%_*}
[ "$newpod" != "$lpod" ] || fail "the deleted pod still leads"
say "new leader $newpod after ${took}s"
# The new leader reconciles.
source_apply "$ns" after-failover "    uri: http://sink.example"
retry 60 kc -n "$ns" get deploy after-failover-adapter >/dev/null 2>&1 || fail "the new leader does not reconcile"
sleep 5
touch "$T/stop"
wait "${probes[@]}"
ok=0 bad=0
for i in 1 2 3; do read -r o b <"$T/probe.count.$i"; ok=$((ok + o)); bad=$((bad + b)); done
say "admission during failover: $ok answered, $bad failed"
[ "$bad" = 0 ] || fail "$bad admission requests failed during the failover: $(sort -u "$T/probe.err" | head -n 3)"
[ "$ok" -ge 30 ] || fail "only $ok admission requests ran"

# The controller scaled to 0.
t_ns avail-bound
bns=$T_NS
credentials "$bns"
binding_apply "$bns" jobs "$JOBS_FOO_BAR"
kc -n "$bns" wait --for=condition=Ready vspherebinding/jobs --timeout=60s >/dev/null || fail "binding jobs not Ready"
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 30 eval '[ "$(kc get namespace "$bns" -o jsonpath="{.metadata.labels.bindings\.knative\.dev/include}")" = true ]' ||
  fail "the namespace of a binding is not labelled bindings.knative.dev/include=true"
kc -n $S scale deploy/vsphere-source-webhook --replicas=0 >/dev/null
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 60 eval '[ -z "$(kc -n $S get pods -l role=vsphere-source-webhook -o name)" ]' || fail "controller pods still there"
t_ns avail-free
fns=$T_NS
kc -n "$fns" create deployment free --image="$VSG_PAUSE_IMAGE" >/dev/null ||
  fail "with the controller down, a Deployment in a namespace without bindings was refused"
kc -n "$fns" create job free --image="$VSG_PAUSE_IMAGE" >/dev/null ||
  fail "with the controller down, a Job in a namespace without bindings was refused"
out=$(kc -n "$bns" create job bound --image="$VSG_PAUSE_IMAGE" 2>&1) &&
  fail "with the controller down, a Job in a namespace with a binding was admitted unbound"
expect_contains "$out" "vspherebindings.webhook.vsphere.sources.tanzu.vmware.com" "refusal in a bound namespace"
out=$(kc create -f "$T/probe.yaml" 2>&1) && fail "with the controller down, a VSphereSource was admitted"
expect_contains "$out" "webhook.vsphere.sources.tanzu.vmware.com" "refusal of a source"
say "controller at 0: unbound namespaces unaffected; bound namespace and CRs refused"

kc -n $S scale deploy/vsphere-source-webhook --replicas=1 >/dev/null
kc -n $S rollout status deploy/vsphere-source-webhook --timeout=90s >/dev/null || fail "1 replica not Ready again"
kc -n "$bns" create job bound --image="$VSG_PAUSE_IMAGE" >/dev/null || fail "Job refused after the controller came back"
say "availability ok"

# Source: the upstream samples' shapes on the cluster's vcsim, delivered to `vsgate sink` pods,
# one through a sink ref (a Service) and one through sink.uri. Events from vcsim arrive with the
# right CloudEvent attributes; the checkpoint ConfigMap advances; the adapter pod deleted, a new
# pod replays from the checkpoint with nothing lost (the event keys at the sink have no gap,
# including the events posted while no adapter ran); a source whose vCenter does not answer
# shows it (adapter not Ready, AdapterReady=False VCenterNotReady), as does one without its Secret
# (AuthReady=False SecretMissing); the adapter serves Knative's event_count on its metrics port;
# the source deleted, garbage
# collection removes its Deployment, ConfigMap and RoleBinding.
# shellcheck source=spec/cluster/tests/lib.sh
. "$T_LIB"
t_begin source
t_ns source
ns=$T_NS
credentials "$ns"
sink_deploy "$ns" sink
sink_deploy "$ns" sinkb
source_apply "$ns" src "    ref: {apiVersion: v1, kind: Service, name: sink}"
# srcb: the Go adapter's default payload (XML), through sink.uri.
PAYLOAD=application/xml source_apply "$ns" srcb "    uri: http://sinkb.$ns.svc.cluster.local/"
wait_source_ready "$ns" src
wait_source_ready "$ns" srcb
uri=$(kc -n "$ns" get vspheresource src -o jsonpath='{.status.sinkUri}')
case "$uri" in "http://sink.$ns.svc.cluster.local"|"http://sink.$ns.svc.cluster.local/") ;; *) fail "src status.sinkUri: $uri" ;; esac

vm=DC0_H0_VM0
vm_power "$vm" off
vm_power "$vm" on
for s in sink sinkb; do
  retry 60 has_type "$ns" "$s" com.vmware.vsphere.VmPoweredOnEvent.v0 ||
    fail "$s: no VmPoweredOnEvent within 60 s: $(sink_lines "$ns" "$s" | tail -n 3)"
done
line=$(sink_lines "$ns" sink | jq -c 'select(.attributes.type == "com.vmware.vsphere.VmPoweredOffEvent.v0")' | tail -n 1)
[ -n "$line" ] || fail "no VmPoweredOffEvent at the sink"
a() { jq -r ".attributes.$1 // empty" <<<"$line"; }
[ "$(a specversion)" = 1.0 ] || fail "specversion: $line"
[ "$(a source)" = "$VSG_VCSIM_URL" ] || fail "source $(a source), want $VSG_VCSIM_URL"
[[ $(a id) =~ ^[0-9]+$ ]] || fail "id is not an event key: $(a id)"
[ "$(a datacontenttype)" = application/json ] || fail "datacontenttype: $line"
{ [ -n "$(a time)" ] && [ -n "$(a vsphereapiversion)" ]; } || fail "time/vsphereapiversion missing: $line"
vmname=$(jq -r '.data | fromjson | .Vm.Name' <<<"$line")
[ "$vmname" = "$vm" ] || fail "data.Vm.Name = $vmname"
xml=$(sink_lines "$ns" sinkb | jq -c 'select(.attributes.type == "com.vmware.vsphere.VmPoweredOffEvent.v0")' | tail -n 1)
[ "$(jq -r .attributes.datacontenttype <<<"$xml")" = application/xml ] || fail "srcb datacontenttype: $xml"
expect_contains "$(jq -r .data <<<"$xml")" "$vm" "srcb XML payload"
say "events at both sinks; attributes ok"

# The adapter's Knative metrics, on the port its Deployment declares (issue 16 item 7).
pod=$(adapter_pod "$ns" src)
port=$(kc -n "$ns" get pod "$pod" -o jsonpath='{.spec.containers[0].ports[?(@.name=="metrics")].containerPort}')
ip=$(kc -n "$ns" get pod "$pod" -o jsonpath='{.status.podIP}')
[ "$port" = 9090 ] || fail "the adapter pod declares no metrics port 9090 (got '$port')"
on_metrics() {
  cx curl -fsS --max-time 5 "http://$ip:$port/metrics" |
    grep '^vspheresource_event_count{' | grep -F 'event_type="com.vmware.vsphere.VmPoweredOnEvent.v0"' |
    grep -F "namespace_name=\"$ns\"" | grep -qF 'response_code_class="2xx"'
}
retry 30 on_metrics || fail "no vspheresource_event_count for VmPoweredOnEvent at $ip:$port: $(cx curl -sS --max-time 5 "http://$ip:$port/metrics" | grep event_count | head -n 5)"
say "adapter metrics: $(cx curl -fsS --max-time 5 "http://$ip:$port/metrics" | grep -c '^vspheresource_event_count{') event_count series"

# The checkpoint advances to what was delivered.
# shellcheck disable=SC2034  # read by the eval'd check below
id0=$(a id)
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 30 eval '[ "$(checkpoint_key "$ns" src)" -ge "$id0" ]' ||
  fail "checkpoint of src stuck at $(checkpoint_key "$ns" src) (delivered $(a id))"
cp1=$(checkpoint_key "$ns" src)
say "checkpoint at $cp1"

# Adapter pod deleted; events happen while none runs; the new pod replays them.
old=$(adapter_pod "$ns" src)
[ -n "$old" ] || fail "no running adapter pod"
kc -n "$ns" delete pod "$old" --wait=true >/dev/null
vm_power DC0_H0_VM1 off
vm_power DC0_H0_VM1 on
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 120 eval '[ -n "$(adapter_pod "$ns" src)" ] && [ "$(adapter_pod "$ns" src)" != "$old" ]' || fail "no new adapter pod"
new=$(adapter_pod "$ns" src)
[ "$new" != "$old" ] || fail "the adapter pod was not replaced"
has_vm1_on() { sink_lines "$ns" sink | jq -r 'select(.attributes.type == "com.vmware.vsphere.VmPoweredOnEvent.v0") | .data | fromjson | .Vm.Name' | grep -qx DC0_H0_VM1; }
retry 90 has_vm1_on || fail "the event posted while the adapter was down did not arrive"
ids=$(sink_lines "$ns" sink | ce_ids)
read -r first last count < <(contiguous <<<"$ids") || fail "event keys at the sink have gaps (events lost)"
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 30 eval '[ "$(checkpoint_key "$ns" src)" -gt "$cp1" ]' || fail "checkpoint did not advance after the restart"
dups=$(( $(sink_lines "$ns" sink | wc -l) - count ))
say "replay ok: keys $first..$last contiguous ($count events, $dups re-delivered), checkpoint $(checkpoint_key "$ns" src)"

# A source whose vCenter does not answer (nothing listens on that port): its adapter pod
# runs but is never Ready (the readinessProbe on /readyz), is not restarted (no liveness
# probe), and the source says why: AdapterReady=False, VCenterNotReady, the adapter's error.
bad=$(sed -E 's#^(https?://[^/:]+):[0-9]+#\1#; s#^(https?://[^/]+)#\1:1#' <<<"$VSG_VCSIM_ADDRESS")
kc -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: srcdown}
spec:
  address: $bad
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
  sink: {uri: "http://sinkb.$ns.svc.cluster.local/"}
YAML
reason() { kc -n "$ns" get vspheresource srcdown -o jsonpath='{.status.conditions[?(@.type=="AdapterReady")].reason}'; }
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 120 eval '[ "$(reason)" = VCenterNotReady ]' ||
  fail "srcdown: AdapterReady reason $(reason): $(kc -n "$ns" get vspheresource srcdown -o jsonpath='{.status.conditions}')"
msg=$(kc -n "$ns" get vspheresource srcdown -o jsonpath='{.status.conditions[?(@.type=="AdapterReady")].message}')
expect_contains "$msg" "vCenter" "srcdown's AdapterReady message"
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 60 eval '[ -n "$(adapter_pod "$ns" srcdown)" ]' || fail "srcdown: no running adapter pod"
pod=$(adapter_pod "$ns" srcdown)
sleep 12 # a few probe periods: failing readiness must not restart it
st=$(kc -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].ready} {.status.containerStatuses[0].restartCount}')
[ "$st" = "false 0" ] || fail "srcdown's adapter pod: ready and restarts = $st (want false 0)"
say "a vCenter that does not answer: pod not Ready, not restarted; AdapterReady False: $msg"
kc -n "$ns" delete vspheresource srcdown --wait=false >/dev/null

# A source whose Secret does not exist: the controller's service account may get it by name
# (and nothing more), so the source says so: AuthReady=False, SecretMissing.
kc -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: srcnosecret}
spec:
  address: $VSG_VCSIM_ADDRESS
  skipTLSVerify: true
  secretRef: {name: no-such-secret}
  sink: {uri: "http://sinkb.$ns.svc.cluster.local/"}
YAML
auth() { kc -n "$ns" get vspheresource srcnosecret -o jsonpath='{.status.conditions[?(@.type=="AuthReady")].reason}: {.status.conditions[?(@.type=="AuthReady")].message}'; }
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 60 eval '[ "$(auth)" = "SecretMissing: Secret \"no-such-secret\" not found in namespace \"$ns\"" ]' ||
  fail "srcnosecret: AuthReady $(auth)"
say "a missing Secret: AuthReady False: $(auth)"
kc -n "$ns" delete vspheresource srcnosecret --wait=false >/dev/null

# The source deleted: its children go (ownerReferences, garbage collector).
kc -n "$ns" get deploy/src-adapter configmap/src-configmap rolebinding/src-rolebinding >/dev/null ||
  fail "children of src missing before delete"
kc -n "$ns" delete vspheresource src --wait=true --timeout=60s >/dev/null || fail "deleting src"
gone() { ! kc -n "$ns" get "$1" >/dev/null 2>&1; }
for o in deploy/src-adapter configmap/src-configmap rolebinding/src-rolebinding; do
  retry 60 gone "$o" || fail "$o left after the source was deleted"
done
kc -n "$ns" get deploy/srcb-adapter >/dev/null || fail "srcb's adapter went with src"
say "source deleted: children collected"

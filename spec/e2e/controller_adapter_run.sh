# `vsgate adapter` on the host with exactly the env of the adapter Deployment
# that `vsgate controller` wrote for a VSphereSource (sink uri = a local
# `vsgate sink`, address = the harness vcsim, caCerts = the harness CA,
# ceOverrides, checkpoint period 1 s), plus what the binding webhook would
# inject (not running here): VC_URL / VC_INSECURE from the child
# VSphereBinding's spec and VC_SECRET_PATH = the Secret's username/password
# in a temp folder; KUBECONFIG = a token of the adapter's service account
# (TokenRequest), so the adapter only has what the controller's RoleBinding
# gives it. govc vm.power -off/-on reach the sink; after SIGTERM the
# checkpoint ConfigMap <n>-configmap has key checkpoint with the compat key
# order and names the last delivered event. The adapter's Events (a broken
# filter version) are recorded on the VSphereSource itself. With the shipped
# config-observability, the Deployment's K_METRICS_CONFIG and its `metrics`
# port (9090) give a /metrics (moved to a free loopback port here with
# METRICS_PROMETHEUS_HOST/PORT, as Knative's env contract allows) with
# vspheresource_event_count for the pod's NAME and NAMESPACE, one per event
# the sink got, and the filter's outcomes.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin controller_adapter_run
d=$E2E_DIR
ctl_setup
ns=$(new_ns ctl-run)
n=run-source
e2e_sink sink
state=$("$GOVC" vm.info -json DC0_H0_VM0 | jq -r '.virtualMachines[0].runtime.powerState')
[ "$state" = poweredOn ] || "$GOVC" vm.power -on DC0_H0_VM0 >/dev/null
vmid=$("$GOVC" ls -i vm/DC0_H0_VM0); vmid=${vmid#VirtualMachine:}

k -n "$ns" create secret generic vsphere-credentials --type=kubernetes.io/basic-auth \
  --from-literal=username="$VCSIM_USER" --from-literal=password="$VCSIM_PASSWORD" >/dev/null
k -n "$ns" create serviceaccount default >/dev/null
# A filter that passes everything (broken later: its Event must reach the source).
k -n "$ns" create configmap run-filter --from-literal=filter.lua='function filter(e) return e end' >/dev/null
# What a release has (smoke_deploy.sh applies it too): K_METRICS_CONFIG is made from it.
k apply -f "$VSG_SOURCE_DIR/deploy/system/401-config-observability.yaml" >/dev/null
jq -n --arg n "$n" --arg addr "$VCSIM_URL" --arg ca "$(cat "$VSG_TEST_CA")" --arg sink "$E2E_SINK_URL" '{
  apiVersion: "sources.tanzu.vmware.com/v1alpha1", kind: "VSphereSource", metadata: {name: $n},
  spec: {address: $addr, secretRef: {name: "vsphere-credentials"}, caCerts: $ca, sink: {uri: $sink},
         ceOverrides: {extensions: {team: "vsgate-e2e"}}, filter: {configMapRef: {name: "run-filter"}},
         checkpointConfig: {maxAgeSeconds: 300, periodSeconds: 1}, payloadEncoding: "application/json"}}' |
  k -n "$ns" apply -f - >/dev/null
ctl_start a --lease-name "ctl-run-$ns"
wait_for 60 "the adapter Deployment" kq -n "$ns" get deploy "$n-adapter"
wait_for 30 "the checkpoint ConfigMap" kq -n "$ns" get configmap "$n-configmap"
wait_jp 30 "$ns" rolebinding "$n-rolebinding" '{.subjects[0].name}' default
# The controller is not needed any more (and must not fight the adapter).
e2e_stop "$CTL_PID"
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"

# ---- the adapter's environment: the Deployment's, plus the binding's part ----
k -n "$ns" get deploy "$n-adapter" -o json >"$d/deploy.json"
k -n "$ns" get vspherebinding "$n-vspherebinding" -o json >"$d/binding.json"
jq -e '.spec.template.spec.containers[0].args == ["adapter"]' "$d/deploy.json" >/dev/null || fail "adapter args"
jq -e '.spec.template.spec.containers[0].ports | map(select(.name == "metrics"))[0].containerPort == 9090' \
  "$d/deploy.json" >/dev/null || fail "no port metrics 9090: $(jq -c '.spec.template.spec.containers[0].ports' "$d/deploy.json")"
adapter_env "$d/deploy.json" "$ns" "$n-adapter-e2e"   # NAMESPACE and a made-up pod NAME
[ "${#envs[@]}" -ge 9 ] || fail "the Deployment's env: ${envs[*]}"
printf '%s\n' "${envs[@]}" | grep -x "K_SINK=$E2E_SINK_URL" >/dev/null || fail "K_SINK is not the sink"
printf '%s\n' "${envs[@]}" | grep '^VSPHERE_CA_CERTS=-----BEGIN CERTIFICATE' >/dev/null || fail "no VSPHERE_CA_CERTS from spec.caCerts"
mkdir -p "$d/secret"
sec=$(jq -r .spec.secretRef.name "$d/binding.json")
k -n "$ns" get secret "$sec" -o jsonpath='{.data.username}' | base64 -d >"$d/secret/username"
k -n "$ns" get secret "$sec" -o jsonpath='{.data.password}' | base64 -d >"$d/secret/password"
vc_url=$(jq -r .spec.address "$d/binding.json")
vc_insecure=$(jq -r '.spec.skipTLSVerify // false' "$d/binding.json")
# The adapter's own identity: a token of its service account.
sa_kubeconfig "$ns" "$d/kubeconfig"
"$KUBECTL" --kubeconfig "$d/kubeconfig" auth can-i update "configmaps/$n-configmap" -n "$ns" >/dev/null ||
  fail "the adapter's service account may not update its checkpoint ConfigMap"
! "$KUBECTL" --kubeconfig "$d/kubeconfig" auth can-i get secrets -n "$ns" >/dev/null 2>&1 ||
  fail "the adapter's service account may read secrets"

printf '%s\n' "${envs[@]}" | grep '^K_METRICS_CONFIG={"Domain":"tanzu.vmware.com/sources","Component":"vspheresource","PrometheusPort":0,' >/dev/null ||
  fail "K_METRICS_CONFIG: $(printf '%s\n' "${envs[@]}" | grep '^K_METRICS_CONFIG=')"
mport=$(_e2e_free_port)
e2e_bg adapter "$d/adapter.log" env -i PATH="$PATH" KUBECONFIG="$d/kubeconfig" \
  ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" "${envs[@]}" \
  VC_URL="$vc_url" VC_INSECURE="$vc_insecure" VC_SECRET_PATH="$d/secret" VSPHERE_HEALTH_PORT=0 \
  METRICS_PROMETHEUS_HOST=127.0.0.1 METRICS_PROMETHEUS_PORT="$mport" \
  "$VSG_BIN" adapter
pid_ad=$E2E_PID
retry 30 grep -q "event collector created" "$d/adapter.log" ||
  fail "the adapter did not create its collector: $(tail -n 5 "$d/adapter.log")"
t_start=$(date -u +%s)

"$GOVC" vm.power -off DC0_H0_VM0 >/dev/null
"$GOVC" vm.power -on DC0_H0_VM0 >/dev/null
vm_events() {
  rec_ok "$E2E_SINK_REC" | jq -c --arg vm "$vmid" 'select(.attributes.type | test("^com\\.vmware\\.vsphere\\.Vm(PoweredOff|PoweredOn)Event\\.v0$"))
    | select(.data | contains("\"Value\":\"" + $vm + "\""))'
}
got_on() { vm_events | grep VmPoweredOnEvent >/dev/null; }
wait_for 30 "VmPoweredOnEvent at the sink" got_on
types=$(vm_events | jq -r '.attributes.type' | tr '\n' ' ')
[ "$types" = "com.vmware.vsphere.VmPoweredOffEvent.v0 com.vmware.vsphere.VmPoweredOnEvent.v0 " ] || fail "VM events: $types"
vm_events | jq -e --arg src "$VCSIM_URL" --arg ns "$ns" 'select(.attributes.source != $src or .attributes.team != "vsgate-e2e")' >/dev/null &&
  fail "events without the source URL or the ceOverrides extension: $(vm_events | jq -c .attributes)"
# /metrics: one event_count per event the sink got, for this pod and namespace.
prom() { python3 "$(dirname "$E2E_LIB")/prom.py" "$@"; }
counted() {
  curl -fsS -o "$d/metrics.txt" "http://127.0.0.1:$mport/metrics" &&
    [ "$(prom get "$d/metrics.txt" vspheresource_event_count name="$n-adapter-e2e" namespace_name="$ns" \
      event_source="$VCSIM_URL" response_code_class=2xx)" = "$(rec_ok "$E2E_SINK_REC" | wc -l)" ]
}
wait_for 10 "vspheresource_event_count to match the sink" counted
prom check "$d/metrics.txt" || fail "/metrics is not well formed"
[ "$(prom get "$d/metrics.txt" vsgate_adapter_filter_events_total outcome=kept)" -ge 2 ] ||
  fail "the filter's outcomes: $(grep vsgate_adapter_filter "$d/metrics.txt")"
# The adapter's Kubernetes Events name the source (VSPHERE_SOURCE_NAME), not a
# VSphereSource called after the pod (NAME): a broken filter version is one.
k -n "$ns" create configmap run-filter --from-literal=filter.lua='function filter(e) return e' \
  --dry-run=client -o yaml | k -n "$ns" replace -f - >/dev/null
events_of() { k -n "$ns" get events --field-selector "involvedObject.kind=VSphereSource,involvedObject.name=$1" \
  -o jsonpath='{range .items[*]}{.type} {.reason}{"\n"}{end}'; }
wait_for 30 "a Warning FilterInvalid Event on VSphereSource $n" sh -c "$(declare -f k events_of); ns=$ns; events_of $n | grep -q '^Warning FilterInvalid'"
[ -z "$(events_of "$n-adapter-e2e")" ] || fail "Events on a VSphereSource named after the pod: $(events_of "$n-adapter-e2e")"
sleep 2   # > the 1 s checkpoint period

e2e_stop "$pid_ad"
[ "$E2E_RC" = 0 ] || fail "adapter exit status $E2E_RC after SIGTERM: $(tail -n 5 "$d/adapter.log")"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$d/adapter.log" "$CTL_LOG" || fail "sanitizer report"
cp=$(k -n "$ns" get configmap "$n-configmap" -o jsonpath='{.data.checkpoint}')
cp_re='^\{"vCenter":"[^"]+","lastEventKey":[0-9]+,"lastEventType":"[A-Za-z0-9_.]+","lastEventKeyTimestamp":"[^"]+","createdTimestamp":"[^"]+"\}$'
[[ $cp =~ $cp_re ]] || fail "checkpoint not compact JSON with keys vCenter, lastEventKey, lastEventType, lastEventKeyTimestamp, createdTimestamp: '$cp'"
last=$(rec_ok "$E2E_SINK_REC" | tail -n 1)
jq -e --arg src "$VCSIM_URL" --argjson last "$last" --argjson t0 "$t_start" '
  .vCenter == $src and .lastEventKey == ($last.attributes.id | tonumber)
  and ("com.vmware.vsphere." + .lastEventType + ".v0") == $last.attributes.type
  and .lastEventKeyTimestamp == $last.attributes.time
  and ((.createdTimestamp | sub("\\.[0-9]+Z$"; "Z") | fromdate) >= $t0 - 5)' <<<"$cp" >/dev/null ||
  fail "checkpoint $cp does not name the last delivered event $(jq -c .attributes <<<"$last")"
# Its owner is still the source (the adapter updated, did not replace it).
[ "$(jp "$ns" configmap "$n-configmap" '{.metadata.ownerReferences[0].name}')" = "$n" ] || fail "checkpoint ConfigMap lost its owner"
echo "controller_adapter_run: ok ($(vm_events | wc -l) VM events; checkpoint $cp)"

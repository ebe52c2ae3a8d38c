# The source tells the truth about vCenter (issue 16 item 1). The adapter
# Deployment the controller writes has a readinessProbe on /readyz (no
# liveness probe); `vsgate adapter`, run with exactly that Deployment's env
# and a wrong password for a vcsim that checks it, answers /readyz 503 with
# the login fault (and /healthz 200), writes {"ready":false,...} as key
# `vcenter` of its checkpoint ConfigMap, and the controller turns it into
# AdapterReady=False, VCenterNotReady, with that message (no password in
# any of them). With the right password: /readyz 200, ready true, and
# AdapterReady follows the Deployment again.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin adapter_vcenter_status
d=$E2E_DIR
ctl_setup
ns=$(new_ns vc-status)
n=vc-status
E2E_VCSIM_LOGIN='vc-admin:r1ght-pass' e2e_vcsim vc -username vc-admin -password r1ght-pass
e2e_sink sink
k -n "$ns" create secret generic creds --type=kubernetes.io/basic-auth \
  --from-literal=username=vc-admin --from-literal=password=wr0ng-pass >/dev/null
k -n "$ns" create serviceaccount default >/dev/null
jq -n --arg n "$n" --arg addr "$E2E_VC_URL" --arg ca "$(cat "$VSG_TEST_CA")" --arg sink "$E2E_SINK_URL" '{
  apiVersion: "sources.tanzu.vmware.com/v1alpha1", kind: "VSphereSource", metadata: {name: $n},
  spec: {address: $addr, secretRef: {name: "creds"}, caCerts: $ca, sink: {uri: $sink}}}' |
  k -n "$ns" apply -f - >/dev/null
ctl_start a --lease-name "ctl-vcs-$ns" --reconcilers vspheresource
wait_for 60 "the adapter Deployment" kq -n "$ns" get deploy "$n-adapter"
k -n "$ns" get deploy "$n-adapter" -o json >"$d/deploy.json"
jq -e '.spec.template.spec.containers[0] | .readinessProbe.httpGet.path == "/readyz"
  and .readinessProbe.httpGet.port == 8080 and (has("livenessProbe") | not)' "$d/deploy.json" >/dev/null ||
  fail "the adapter's probes: $(jq -c '.spec.template.spec.containers[0] | {readinessProbe, livenessProbe}' "$d/deploy.json")"
set_available "$ns" "$n-adapter" True
wait_cond 30 "$ns" "$n" AdapterReady True

# The adapter with the Deployment's env, its health port moved to a free one here
# and its /metrics (9090 by that env) off.
adapter_env "$d/deploy.json" "$ns" "$n-adapter-e2e"
printf '%s\n' "${envs[@]}" | grep -x 'VSPHERE_HEALTH_PORT=8080' >/dev/null || fail "no VSPHERE_HEALTH_PORT=8080 in the env"
hp=$(_e2e_free_port)
sa_kubeconfig "$ns" "$d/kubeconfig"
adapter() { # adapter PASSWORD
  mkdir -p "$d/secret"
  printf 'vc-admin' >"$d/secret/username"
  printf '%s' "$1" >"$d/secret/password"
  e2e_bg adapter "$d/adapter-$1.log" env -i PATH="$PATH" KUBECONFIG="$d/kubeconfig" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" "${envs[@]}" \
    VSPHERE_HEALTH_PORT="$hp" VSPHERE_HEALTH_ADDR=127.0.0.1 METRICS_PROMETHEUS_PORT=0 \
    VC_URL="$E2E_VC_URL" VC_INSECURE=false VC_SECRET_PATH="$d/secret" "$VSG_BIN" adapter
}
readyz() { curl -s -o "$d/readyz.body" -w '%{http_code}' "http://127.0.0.1:$hp/readyz"; }
vc_key() { jp "$ns" configmap "$n-configmap" '{.data.vcenter}'; }

# ---- a wrong password -------------------------------------------------------------------
adapter wr0ng-pass
pid=$E2E_PID
wait_for 30 "/readyz 503" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$hp/readyz)\" = 503 ]"
readyz >/dev/null
expect_contains "$(cat "$d/readyz.body")" "login failed" "the /readyz body"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hp/healthz")" = 200 ] || fail "/healthz is not 200"
wait_for 30 "ready false in the ConfigMap" sh -c "$(declare -f k jp vc_key); ns=$ns n=$n; vc_key | grep -q '\"ready\":false'"
expect_contains "$(vc_key)" "InvalidLogin" "the vcenter key"
wait_cond 30 "$ns" "$n" AdapterReady False/VCenterNotReady
msg=$(cond_msg "$ns" "$n" AdapterReady)
expect_contains "$msg" "vCenter login failed" "AdapterReady's message"
[ "$(cond "$ns" "$n" Ready)" = "False/VCenterNotReady" ] || fail "Ready: $(cond "$ns" "$n" Ready)"
case "$(cat "$d/readyz.body") $(vc_key) $msg $(cat "$d/adapter-wr0ng-pass.log")" in
  *wr0ng-pass*) fail "the password appears in the status or the log" ;;
esac
e2e_stop "$pid"
[ "$E2E_RC" = 0 ] || fail "adapter exit status $E2E_RC: $(tail -n 3 "$d/adapter-wr0ng-pass.log")"

# ---- the right one ----------------------------------------------------------------------
adapter r1ght-pass
pid=$E2E_PID
wait_for 30 "/readyz 200" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$hp/readyz)\" = 200 ]"
wait_for 30 "ready true in the ConfigMap" sh -c "$(declare -f k jp vc_key); ns=$ns n=$n; [ \"\$(vc_key)\" = '{\"ready\":true}' ]"
wait_cond 30 "$ns" "$n" AdapterReady True
e2e_stop "$pid"
[ "$E2E_RC" = 0 ] || fail "adapter exit status $E2E_RC: $(tail -n 3 "$d/adapter-r1ght-pass.log")"
# Counts in the log are JSON numbers, as zap writes them (issue 16 item 9).
grep '"msg":"adapter stopped"' "$d/adapter-r1ght-pass.log" |
  jq -e '[.events, .sent, .deadLettered, .dropped] | all(type == "number")' >/dev/null ||
  fail "the adapter's closing counts are not JSON numbers: $(grep '"adapter stopped"' "$d/adapter-r1ght-pass.log")"
echo "adapter_vcenter_status: ok (503 then 200; AdapterReady False/VCenterNotReady then True)"

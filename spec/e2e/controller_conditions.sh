# Conditions a user can act on, and recovery without a controller restart:
# - no service account => Ready=False ServiceAccountMissing naming it;
#   creating it lets the reconcile go on (Deployment, AdapterReady from its
#   Available, Ready=True);
# - a v1 Service sink that does not exist => SinkNotFound naming it;
#   creating the Service => status.sinkUri and the Deployment;
# - spec.filter pointing at a ConfigMap with a Lua syntax error =>
#   FilterReady=False FilterInvalid "filter.lua:N: ...", Ready=False; fixing
#   the ConfigMap => FilterReady=True, Ready=True.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin controller_conditions
ctl_setup
ns=$(new_ns ctl-cond)
S=$VSG_SOURCE_DIR/samples/upstream
k -n "$ns" apply -f "$S/vsphere-credentials.yaml" >/dev/null
# No `default` service account yet (no controller-manager makes one).
k -n "$ns" apply -f "$S/source.yaml" >/dev/null
ctl_start a --lease-name "ctl-cond-$ns"

# binding_ready NAME: what the binding reconciler (not running here) would write.
binding_ready() {
  wait_for 30 "$1-vspherebinding" kq -n "$ns" get vspherebinding "$1-vspherebinding"
  k -n "$ns" patch vspherebinding "$1-vspherebinding" --subresource=status --type merge \
    -p '{"status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-01-01T00:00:00Z"}]}}' >/dev/null
}

# ---- missing service account ---------------------------------------------------
wait_cond 60 "$ns" source Ready False/ServiceAccountMissing
msg=$(cond_msg "$ns" source Ready)
expect_contains "$msg" 'service account "default" not found in namespace "'"$ns"'"' "Ready message"
expect_contains "$msg" "spec.serviceAccountName" "Ready message (what to do)"
[ "$(cond "$ns" source AdapterReady)" = False/ServiceAccountMissing ] || fail "AdapterReady: $(cond "$ns" source AdapterReady)"
! kq -n "$ns" get deploy source-adapter || fail "a Deployment without its service account"
binding_ready source
k -n "$ns" create serviceaccount default >/dev/null
wait_for 30 "the Deployment after the service account came" kq -n "$ns" get deploy source-adapter
wait_jp 30 "$ns" rolebinding source-rolebinding '{.subjects[0].name}' default
retry 30 sh -c "! $KUBECTL --kubeconfig $KUBECONFIG -n $ns get vss source -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].reason}' | grep -q ServiceAccountMissing" ||
  fail "Ready still says ServiceAccountMissing"
set_available "$ns" source-adapter True
wait_cond 30 "$ns" source AdapterReady True
wait_cond 30 "$ns" source Ready True
# A named service account that is missing is named too.
k -n "$ns" patch vss source --type merge -p '{"spec":{"serviceAccountName":"adapter-sa"}}' >/dev/null
wait_cond 30 "$ns" source Ready False/ServiceAccountMissing
expect_contains "$(cond_msg "$ns" source Ready)" 'service account "adapter-sa"' "Ready message"
k -n "$ns" create serviceaccount adapter-sa >/dev/null
wait_jp 30 "$ns" deploy source-adapter '{.spec.template.spec.serviceAccountName}' adapter-sa
wait_jp 30 "$ns" rolebinding source-rolebinding '{.subjects[0].name}' adapter-sa
wait_cond 30 "$ns" source Ready True

# ---- missing sink --------------------------------------------------------------
k -n "$ns" apply -f "$S/source-sink-service.yaml" >/dev/null
wait_cond 60 "$ns" source-to-service Ready False/SinkNotFound
expect_contains "$(cond_msg "$ns" source-to-service Ready)" \
  'sink Service "the-service-name" (v1) in namespace "'"$ns"'" not found' "SinkNotFound message"
[ -z "$(jp "$ns" vss source-to-service '{.status.sinkUri}')" ] || fail "sinkUri set without a sink"
! kq -n "$ns" get deploy source-to-service-adapter || fail "a Deployment without a sink"
binding_ready source-to-service
k -n "$ns" create service clusterip the-service-name --tcp=80:8080 >/dev/null
wait_jp 30 "$ns" vss source-to-service '{.status.sinkUri}' "http://the-service-name.$ns.svc.cluster.local"
wait_for 30 "the Deployment after the sink came" kq -n "$ns" get deploy source-to-service-adapter
[ "$(env_of "$ns" source-to-service-adapter K_SINK)" = "http://the-service-name.$ns.svc.cluster.local" ] || fail "K_SINK"
set_available "$ns" source-to-service-adapter True
wait_cond 30 "$ns" source-to-service Ready True

# ---- broken filter --------------------------------------------------------------
k -n "$ns" create configmap my-filter --from-literal=filter.lua=$'-- keeps VM events\nfunction filter(e)\n  if e.type == then return e end\nend\n' >/dev/null
k -n "$ns" patch vss source --type merge -p '{"spec":{"filter":{"configMapRef":{"name":"my-filter"}}}}' >/dev/null
wait_cond 30 "$ns" source FilterReady False/FilterInvalid
msg=$(cond_msg "$ns" source FilterReady)
expect_contains "$msg" "filter.lua:3:" "FilterInvalid message (chunk and line)"
wait_cond 30 "$ns" source Ready False/FilterInvalid
wait_jp 30 "$ns" deploy source-adapter '{.spec.template.spec.containers[0].env[?(@.name=="VSPHERE_FILTER_CONFIGMAP")].value}' my-filter
k -n "$ns" create configmap my-filter --from-literal=filter.lua=$'-- keeps VM events\nfunction filter(e)\n  if e.type ~= nil then return e end\nend\n' \
  --dry-run=client -o yaml | k -n "$ns" replace -f - >/dev/null
wait_cond 30 "$ns" source FilterReady True
wait_cond 30 "$ns" source Ready True
# A filter ConfigMap that is missing.
k -n "$ns" patch vss source --type merge -p '{"spec":{"filter":{"configMapRef":{"name":"no-such-filter"}}}}' >/dev/null
wait_cond 30 "$ns" source FilterReady False/FilterNotFound
expect_contains "$(cond_msg "$ns" source FilterReady)" 'filter ConfigMap "no-such-filter" not found' "FilterNotFound message"

kill -0 "$CTL_PID" || fail "the controller died"
[ "$(grep -c 'became the leader' "$CTL_LOG")" -le 1 ] || fail "the controller restarted its leadership"
e2e_stop "$CTL_PID"
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$CTL_LOG" || fail "sanitizer report in $CTL_LOG"
echo "controller_conditions: ok"

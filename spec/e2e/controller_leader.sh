# Two `vsgate controller` processes on one Lease (durations from
# config-leader-election): one leads and reconciles, the other reconciles
# nothing; kill -9 the leader and the other takes over within the lease
# duration and reconciles the next change.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
e2e_begin controller_leader
ctl_setup
ns=$(new_ns ctl-le)
lease=ctl-le-$ns
# Short durations, Knative's keys (lease 3s: a dead leader is replaced within ~3.5 s).
# The shared config map is put back as it was at the end.
had_cm=0
kq -n vmware-sources get configmap config-leader-election && had_cm=1
k -n vmware-sources create configmap config-leader-election --dry-run=client -o yaml \
  --from-literal=lease-duration=3s --from-literal=renew-deadline=2s --from-literal=retry-period=500ms |
  k apply -f - >/dev/null 2>&1
ctl_source "$ns"

ctl_start a --lease-name "$lease" --identity ctl-a
pa=$CTL_PID la=$CTL_LOG
wait_for 30 "a to lead" grep -q 'ctl-a: became the leader' "$la"
wait_for 60 "the adapter Deployment" kq -n "$ns" get deploy source-adapter
ctl_start b --lease-name "$lease" --identity ctl-b
pb=$CTL_PID mb=$CTL_METRICS lb=$CTL_LOG
wait_for 30 "b to be ready" curl -fsS "http://127.0.0.1:$CTL_HEALTH/readyz" -o /dev/null

# B stands by: no reconcile even when a source changes (A does it).
k -n "$ns" patch vss source --type merge -p '{"spec":{"sink":{"uri":"http://by-a.example/"}}}' >/dev/null
wait_for 30 "a to reconcile the change" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get deploy source-adapter -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name==\"K_SINK\")].value}')\" = http://by-a.example/ ]"
sleep 1
[ "$(ctl_metric "$mb" vsgate_leader)" = 0 ] || fail "b leads while a is alive"
for r in success error requeue; do
  [ "$(ctl_metric "$mb" "vsgate_reconcile_total{kind=\"VSphereSource\",result=\"$r\"}")" = 0 ] ||
    fail "b reconciled ($r) while a led"
done
[ "$(k -n vmware-sources get lease "$lease" -o jsonpath='{.spec.holderIdentity}')" = ctl-a ] || fail "lease holder is not a"

# A dies without handing the lease back.
t0=$(date +%s%N)
e2e_stop "$pa" KILL
wait_for 15 "b to take over" grep -q 'ctl-b: became the leader' "$lb"
took=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$took" -le 6000 ] || fail "takeover took $took ms (lease 3s)"
[ "$took" -ge 1500 ] || fail "takeover after $took ms: before the dead leader's lease ran out"
[ "$(k -n vmware-sources get lease "$lease" -o jsonpath='{.spec.holderIdentity}')" = ctl-b ] || fail "lease holder is not b"
k -n "$ns" patch vss source --type merge -p '{"spec":{"sink":{"uri":"http://by-b.example/"}}}' >/dev/null
wait_for 30 "b to reconcile the change" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get deploy source-adapter -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name==\"K_SINK\")].value}')\" = http://by-b.example/ ]"
[ "$(ctl_metric "$mb" vsgate_leader)" = 1 ] || fail "b does not report leading"
e2e_stop "$pb"
[ "$E2E_RC" = 0 ] || fail "b exit status $E2E_RC"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$lb" || fail "sanitizer report in $lb"
if [ "$had_cm" = 1 ] && [ -f "$VSG_SOURCE_DIR/deploy/system/402-config-leader-election.yaml" ]; then
  k apply -f "$VSG_SOURCE_DIR/deploy/system/402-config-leader-election.yaml" >/dev/null 2>&1 || true
else
  k -n vmware-sources delete configmap config-leader-election >/dev/null 2>&1 || true
fi
echo "controller_leader: ok (takeover after $took ms)"

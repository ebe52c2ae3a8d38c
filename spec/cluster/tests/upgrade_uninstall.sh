# Upgrade and uninstall. The release re-applied with a new image tag rolls the controller and the
# adapters over while VMs are powered off and on once a second: no event is lost (the event keys
# at the sink have no gap from before the upgrade to after it). Then `kubectl delete -f
# release.yaml`: no webhook configuration, CRD, custom resource or finalizer is left blocking
# anything, the adapters are collected, and workloads are created as before, in a namespace that
# had a binding too.
# shellcheck source=spec/cluster/tests/lib.sh
. "$T_LIB"
t_begin upgrade_uninstall
t_ns upgrade
ns=$T_NS
credentials "$ns"
sink_deploy "$ns" sink
source_apply "$ns" src "    ref: {apiVersion: v1, kind: Service, name: sink}"
wait_source_ready "$ns" src
binding_apply "$ns" jobs "$JOBS_FOO_BAR"
kc -n "$ns" wait --for=condition=Ready vspherebinding/jobs --timeout=60s >/dev/null || fail "binding not Ready"
vm_power DC0_H0_VM0 off; vm_power DC0_H0_VM0 on
retry 60 has_type "$ns" sink com.vmware.vsphere.VmPoweredOnEvent.v0 || fail "no events before the upgrade"
first=$(sink_lines "$ns" sink | ce_ids | head -n 1)

# The same image under a new tag, as a user's next release would be.
tag="${VSG_IMAGE%:*}:upgrade-$RANDOM"
cx ctr --address "$VSG_CONTAINERD_SOCK" -n k8s.io images tag "$VSG_IMAGE" "$tag" >/dev/null || fail "ctr images tag"
old_adapter=$(adapter_pod "$ns" src)
( for i in $(seq 30); do
    [ -e "$T/stop" ] && break
    vm_power DC0_H0_VM1 off; vm_power DC0_H0_VM1 on; sleep 1
  done; touch "$T/toggles.done" ) >"$T/toggles.log" 2>&1 &
tog=$!
rel2=$(release_file "$tag")
kc apply -f "$rel2" >/dev/null || fail "applying the release with $tag"
kc -n vmware-sources rollout status deploy/vsphere-source-webhook --timeout=120s >/dev/null || fail "controller rollout"
img=$(kc -n vmware-sources get deploy vsphere-source-webhook -o jsonpath='{.spec.template.spec.containers[0].image}')
[ "$img" = "$tag" ] || fail "controller image $img"
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 90 eval '[ "$(kc -n "$ns" get deploy src-adapter -o jsonpath="{.spec.template.spec.containers[0].image}")" = "$tag" ]' ||
  fail "the adapter Deployment was not moved to $tag"
kc -n "$ns" rollout status deploy/src-adapter --timeout=120s >/dev/null || fail "adapter rollout"
[ "$(adapter_pod "$ns" src)" != "$old_adapter" ] || fail "the adapter pod was not replaced"
touch "$T/stop"; wait "$tog"
last_on() { sink_lines "$ns" sink | jq -r 'select(.attributes.type == "com.vmware.vsphere.VmPoweredOnEvent.v0") | .data | fromjson | .Vm.Name' | grep -c DC0_H0_VM1 || true; }
sleep 5
ids=$(sink_lines "$ns" sink | ce_ids | awk -v f="$first" '$1 >= f')
read -r a b n < <(contiguous <<<"$ids") || fail "events lost across the upgrade (gaps in the keys)"
on=$(last_on)
say "upgrade to $tag: keys $a..$b contiguous ($n events), $on VM1 power-ons delivered"
[ "$on" -ge 3 ] || fail "too few events during the upgrade ($on); toggles log: $(tail -n 3 "$T/toggles.log")"

# Uninstall.
t0=$SECONDS
kc delete -f "$rel2" --timeout=180s >"$T/delete.out" 2>&1 || fail "kubectl delete -f release.yaml: $(tail -n 5 "$T/delete.out")"
took=$((SECONDS - t0))
left=$(kc get mutatingwebhookconfigurations,validatingwebhookconfigurations -o name | grep -i vsphere || true)
[ -z "$left" ] || fail "webhook configurations left: $left"
crds=$(kc get crd -o name | grep sources.tanzu.vmware.com || true)
[ -z "$crds" ] || fail "CRDs left: $crds"
# The garbage collector finds the owners gone once its discovery drops the CRDs (up to a minute).
t1=$SECONDS
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 180 eval '! kc -n "$ns" get deploy src-adapter >/dev/null 2>&1' || fail "the adapter Deployment was not collected"
gc=$((SECONDS - t1))
retry 120 eval '! kc get namespace vmware-sources >/dev/null 2>&1' ||
  fail "namespace vmware-sources stuck: $(kc get namespace vmware-sources -o jsonpath='{.status}')"
kc -n "$ns" create deployment after --image="$VSG_PAUSE_IMAGE" >/dev/null || fail "Deployment refused after uninstall"
kc -n "$ns" create job after --image="$VSG_PAUSE_IMAGE" >/dev/null || fail "Job refused after uninstall"
say "uninstalled in ${took}s (adapters collected ${gc}s later): nothing left blocking"

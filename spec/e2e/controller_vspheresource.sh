# `vsgate controller` with lua/reconcilers/vspheresource.lua against the real
# API server, as the controller's own identity bound to deploy/'s RBAC: the
# sample source gets its children and status; a spec change updates the
# Deployment; a steady state writes nothing; a long name gets hashed child
# names; /healthz, /readyz and /metrics answer; Lua overrides from the
# ConfigMap: a broken one is rejected (Warning Event) while the old code
# keeps reconciling, a good one takes effect without a restart, removing it
# goes back to the shipped code. Bad settings (limit flags, the binding
# selection mode) stop it at start, exit 2, naming the setting.
. "$E2E_LIB"
. "$(dirname "$0")/controller_lib.sh"
e2e_begin controller_vspheresource
ctl_setup
ns=$(new_ns ctl)
ovr=ctl-overrides-$RANDOM$RANDOM
ctl_source "$ns"
bad_start() { # NEEDLE ARGS...: the controller refuses to start
  local needle=$1 out rc=0; shift
  out=$(timeout 20 "$@" 2>&1) || rc=$?
  [ "$rc" = 2 ] || fail "exit status $rc (want 2) for: ${*: -2}: $out"
  expect_contains "$out" "$needle" "the refusal"
}
bad_start '--filter-limits-max: unknown limit "cpu"' "$VSG_BIN" controller --no-webhook --filter-limits-max cpu=1
bad_start '--reconciler-limits: instructions: expected a positive integer' \
  "$VSG_BIN" controller --no-webhook --reconciler-limits instructions=0
bad_start 'VSPHERE_BINDING_SELECTION_MODE must be exclusion or inclusion, not "sometimes"' \
  env VSPHERE_BINDING_SELECTION_MODE=sometimes "$VSG_BIN" controller --no-webhook \
  --kubeconfig "$VSG_CONTROLLER_KUBECONFIG" --health-port 0 --metrics-addr ""
ctl_start a --lease-name "ctl-vss-$ns" --overrides "$ovr"

# ---- children and status ---------------------------------------------------
wait_for 60 "the adapter Deployment" kq -n "$ns" get deploy source-adapter
k -n "$ns" get vspherebinding source-vspherebinding >/dev/null
k -n "$ns" get configmap source-configmap >/dev/null
rb=$(k -n "$ns" get rolebinding source-rolebinding -o jsonpath='{.roleRef.kind}/{.roleRef.name} {.subjects[0].name}')
[ "$rb" = "ClusterRole/vsphere-receive-adapter-cm default" ] || fail "rolebinding: $rb"
owner=$(k -n "$ns" get deploy source-adapter -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}')
[ "$owner" = "VSphereSource/source/true" ] || fail "owner of the Deployment: $owner"
subj=$(k -n "$ns" get vspherebinding source-vspherebinding -o jsonpath='{.spec.subject.kind}/{.spec.subject.name}')
[ "$subj" = "Deployment/source-adapter" ] || fail "binding subject: $subj"
[ "$(env_of "$ns" source-adapter K_SINK)" = "http://where.to.send.stuff" ] || fail "K_SINK: $(env_of "$ns" source-adapter K_SINK)"
[ "$(env_of "$ns" source-adapter VSPHERE_CHECKPOINT_CONFIG)" = '{"maxAge":"5m0s","period":"10s"}' ] ||
  fail "checkpoint config: $(env_of "$ns" source-adapter VSPHERE_CHECKPOINT_CONFIG)"
image=$(k -n "$ns" get deploy source-adapter -o jsonpath='{.spec.template.spec.containers[0].image}')
[ "$image" = "registry.example/vsgate:e2e" ] || fail "image: $image"
wait_for 30 "status.sinkUri" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get vss source -o jsonpath='{.status.sinkUri}')\" = http://where.to.send.stuff ]"
gen=$(k -n "$ns" get vss source -o jsonpath='{.metadata.generation}/{.status.observedGeneration}')
[ "${gen%/*}" = "${gen#*/}" ] || fail "observedGeneration: $gen"

# ---- probes and metrics ------------------------------------------------------
curl -fsS "http://127.0.0.1:$CTL_HEALTH/readyz" >/dev/null || fail "/readyz not ready"
ok=$(ctl_metric "$CTL_METRICS" 'vsgate_reconcile_total{kind="VSphereSource",result="success"}')
[ "$ok" -ge 1 ] || fail "no successful reconcile counted"
[ "$(ctl_metric "$CTL_METRICS" vsgate_leader)" = 1 ] || fail "not the leader"
# Read whole first: with pipefail, `curl | grep -q` fails when grep exits
# before curl has written everything (curl: (23) Failed writing body).
metrics=$(curl -fsS "http://127.0.0.1:$CTL_METRICS/metrics")
grep -q '^vsgate_reconcile_duration_seconds_count{kind="VSphereSource"}' <<<"$metrics" ||
  fail "no latency histogram"

# ---- a steady state writes nothing ------------------------------------------
rv1=$(k -n "$ns" get deploy source-adapter -o jsonpath='{.metadata.resourceVersion}')
rvs1=$(k -n "$ns" get vss source -o jsonpath='{.metadata.resourceVersion}')
sleep 3
[ "$(k -n "$ns" get deploy source-adapter -o jsonpath='{.metadata.resourceVersion}')" = "$rv1" ] || fail "the Deployment was rewritten without a change"
[ "$(k -n "$ns" get vss source -o jsonpath='{.metadata.resourceVersion}')" = "$rvs1" ] || fail "the status was rewritten without a change"

# ---- a spec change reaches the Deployment -----------------------------------
k -n "$ns" patch vss source --type merge -p '{"spec":{"sink":{"uri":"http://changed.example/"}}}' >/dev/null
wait_for 30 "K_SINK to follow the spec" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get deploy source-adapter -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name==\"K_SINK\")].value}')\" = http://changed.example/ ]"

# ---- a long name: Knative's ChildName with the md5 of the name ---------------
long=$(printf 'l%.0s' $(seq 60))
sed "s/^  name: source$/  name: $long/" "$SEED/source.yaml" >"$E2E_DIR/long.yaml"
k -n "$ns" apply -f "$E2E_DIR/long.yaml" >/dev/null
want="${long:0:23}$(printf %s "$long" | md5sum | cut -c1-32)-adapter"
wait_for 60 "the hashed Deployment name $want" kq -n "$ns" get deploy "$want"

# ---- Lua overrides -------------------------------------------------------------
# A broken override is rejected; the shipped code keeps reconciling.
k -n vmware-sources create configmap "$ovr" --from-literal='reconcilers.vspheresource.lua=return {' >/dev/null
wait_for 30 "the LuaOverrideRejected event" sh -c \
  "$KUBECTL --kubeconfig $KUBECONFIG -n vmware-sources get events --field-selector involvedObject.name=$ovr -o jsonpath='{.items[*].reason}' | grep -q LuaOverrideRejected"
msg=$(k -n vmware-sources get events --field-selector "involvedObject.name=$ovr" -o jsonpath='{.items[0].message}')
expect_contains "$msg" "reconcilers.vspheresource.lua:1:" "the rejection names chunk and line"
grep -q 'Lua overrides in vmware-sources/'"$ovr"' rejected' "$CTL_LOG" || fail "the rejection is not logged"
k -n "$ns" patch vss source --type merge -p '{"spec":{"sink":{"uri":"http://still-working.example/"}}}' >/dev/null
wait_for 30 "the old code to keep reconciling" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get deploy source-adapter -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name==\"K_SINK\")].value}')\" = http://still-working.example/ ]"

# A good override takes effect without a restart (it marks the status).
cat >"$E2E_DIR/override.lua" <<'LUA'
local vsg = require "vsg"
return {
  apiVersion = "sources.tanzu.vmware.com/v1alpha1", kind = "VSphereSource", resource = "vspheresources",
  reconcile = function(ctx, src)
    src.status = src.status or {}
    if src.status.sinkUri == "http://overridden.example/" then return nil end
    src.status.sinkUri = "http://overridden.example/"
    local _, err = vsg.kube.update_status(src)
    return nil, err
  end,
}
LUA
k -n vmware-sources create configmap "$ovr" --from-file=reconcilers.vspheresource.lua="$E2E_DIR/override.lua" \
  --dry-run=client -o yaml | k replace -f - >/dev/null
wait_for 30 "the override to take effect" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get vss source -o jsonpath='{.status.sinkUri}')\" = http://overridden.example/ ]"
kill -0 "$CTL_PID" || fail "the controller died"
[ "$(ctl_metric "$CTL_METRICS" 'vsgate_lua_reloads_total{kind="VSphereSource",result="error"}')" -ge 1 ] || fail "no rejected reload counted"

# Removing the ConfigMap goes back to the shipped code.
k -n vmware-sources delete configmap "$ovr" >/dev/null
wait_for 30 "the shipped code to come back" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get vss source -o jsonpath='{.status.sinkUri}')\" = http://still-working.example/ ]"

# ---- clean stop: the lease is handed back --------------------------------------
e2e_stop "$CTL_PID"
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$CTL_LOG" || fail "sanitizer report in $CTL_LOG"
holder=$(k -n vmware-sources get lease "ctl-vss-$ns" -o jsonpath='{.spec.holderIdentity}')
[ -z "$holder" ] || fail "the lease still names $holder"
echo "controller_vspheresource: ok"

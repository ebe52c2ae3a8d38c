# The adapter container killed (-9) in its Pod: the kubelet restarts it, and the new container
# logs out the vCenter session the killed one left (its cookie kept in VSPHERE_SESSION_FILE, on
# the in-memory emptyDir the reconciler adds), so no session and event collector are left on
# vCenter until they expire. The Deployment carries the volume and its mount.
# shellcheck source=spec/cluster/tests/lib.sh
. "$T_LIB"
t_begin adapter_restart
t_ns restart
ns=$T_NS
credentials "$ns"
source_apply "$ns" src "    uri: http://sink.example"
wait_source_ready "$ns" src
vols=$(kc -n "$ns" get deploy src-adapter -o jsonpath='{range .spec.template.spec.volumes[*]}{.name}={.emptyDir.medium}{" "}{end}')
expect_contains "$vols" "vsgate-session=Memory" "the adapter Deployment's volumes"
pod=$(adapter_pod "$ns" src)
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 60 eval 'kc -n "$ns" logs "$pod" | grep -q "logged in to vCenter"' || fail "adapter $pod did not log in"
# The adapter's process, found by its Pod's cgroup (the host sees every container's processes).
uid=$(kc -n "$ns" get pod "$pod" -o jsonpath='{.metadata.uid}')
pid=
for p in $(pgrep -f "vsgate adapter"); do
  grep -qE "$uid|${uid//-/_}" "/proc/$p/cgroup" 2>/dev/null && pid=$p
done
[ -n "$pid" ] || fail "no vsgate adapter process in the cgroup of pod $pod"
kill -9 "$pid"
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 60 eval '[ "$(kc -n "$ns" get pod "$pod" -o jsonpath="{.status.containerStatuses[0].restartCount}")" -ge 1 ]' ||
  fail "the adapter container was not restarted after kill -9"
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 60 eval 'kc -n "$ns" logs "$pod" | grep -q "logged in to vCenter"' || fail "the restarted adapter did not log in"
kc -n "$ns" logs "$pod" | grep -q "logged out the vCenter session a previous process left" ||
  fail "the restarted adapter did not log out the killed one's session: $(kc -n "$ns" logs "$pod" | grep -i session | head -n 3)"
say "adapter killed and restarted in its Pod: the old vCenter session logged out"

# Binding: a VSphereBinding by name on a Deployment (that existed before the binding) and one by
# selector on Jobs (created after it, injected at admission through the Service). The sample bound
# app, in C (vsgate-list-vms) and in Lua (list-vms.lua), lists vcsim's VMs using only what was
# injected. Deleting the bindings un-injects the Deployment, and new Jobs are no longer bound.
# shellcheck source=spec/cluster/tests/lib.sh
. "$T_LIB"
t_begin binding
t_ns binding
ns=$T_NS
credentials "$ns"

# The subject exists first: the reconciler patches it.
kc -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-simple-app, labels: {app: my-simple-app}}
spec:
  replicas: 1
  selector: {matchLabels: {app: my-simple-app}}
  template:
    metadata: {labels: {app: my-simple-app}}
    spec:
      containers:
      - name: list-vms
        image: $VSG_BOUND_APP_IMAGE
        imagePullPolicy: IfNotPresent
        command: ["/bin/sh", "-c", "trap 'exit 0' TERM; vsgate-list-vms; sleep 3600 & wait"]
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true}
YAML
binding_apply "$ns" binding "    apiVersion: apps/v1
    kind: Deployment
    name: my-simple-app"
binding_apply "$ns" binding-jobs "$JOBS_FOO_BAR"
for b in binding binding-jobs; do
  kc -n "$ns" wait --for=condition=Ready "vspherebinding/$b" --timeout=60s >/dev/null ||
    fail "VSphereBinding $b not Ready: $(kc -n "$ns" get vspherebinding "$b" -o jsonpath='{.status}')"
done
fin=$(kc -n "$ns" get vspherebinding binding -o jsonpath='{.metadata.finalizers}')
expect_contains "$fin" vspherebindings.sources.tanzu.vmware.com "finalizer of the binding"

tmpl_env() { kc -n "$ns" get "$1" -o jsonpath='{.spec.template.spec.containers[0].env[*].name}'; }
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 30 eval '[[ $(tmpl_env deploy/my-simple-app) == *VC_URL* ]]' ||
  fail "the Deployment was not injected: $(tmpl_env deploy/my-simple-app)"
kc -n "$ns" rollout status deploy/my-simple-app --timeout=90s >/dev/null || fail "my-simple-app not available"
lists_vms() { # LOGS
  grep -Eq '^DC0_H0_VM0 +(poweredOn|poweredOff|suspended) +vm-' <<<"$1" &&
    grep -q "^SOAP: logged in to $VSG_VCSIM_URL" <<<"$1"
}
# The pod of the injected template (not one of the old ReplicaSet's, which may still be leaving).
app_pod() {
  kc -n "$ns" get pods -l app=my-simple-app -o json |
    jq -r '.items[] | select(.metadata.deletionTimestamp == null)
           | select([.spec.containers[0].env[]?.name] | index("VC_URL")) | .metadata.name' | head -n 1
}
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 30 eval '[ -n "$(app_pod)" ] && lists_vms "$(kc -n "$ns" logs "$(app_pod)" 2>&1)"' ||
  fail "the bound Deployment did not list the VMs: $(kc -n "$ns" logs "$(app_pod)" 2>&1 | tail -n 5)"
say "Deployment bound by name lists the VMs"

job() { # NAME LABELS-YAML COMMAND-JSON
  kc -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: $1, labels: $2}
spec:
  backoffLimit: 0
  template:
    metadata: {labels: $2}
    spec:
      restartPolicy: Never
      containers:
      - name: app
        image: $VSG_BOUND_APP_IMAGE
        imagePullPolicy: IfNotPresent
        command: $3
YAML
}
job list-c "{foo: bar}" '["vsgate-list-vms"]'
job list-lua "{foo: bar}" '["lua5.4", "/app/list-vms.lua"]'
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
job unbound "{foo: baz}" '["/bin/sh", "-c", "test -z \"$VC_URL\""]'
for j in list-c list-lua unbound; do
  kc -n "$ns" wait --for=condition=Complete "job/$j" --timeout=90s >/dev/null ||
    fail "Job $j did not complete: $(kc -n "$ns" logs "job/$j" 2>&1 | tail -n 5)"
done
for j in list-c list-lua; do
  lists_vms "$(kc -n "$ns" logs "job/$j")" || fail "Job $j did not list the VMs: $(kc -n "$ns" logs "job/$j")"
done
[[ $(tmpl_env job/unbound) != *VC_URL* ]] || fail "Job unbound (foo=baz) was injected"
say "Jobs bound by selector list the VMs (C and Lua); others untouched"

# Bindings deleted: the existing subject is un-injected, new Jobs are not bound.
kc -n "$ns" delete vspherebinding binding binding-jobs --timeout=60s >/dev/null || fail "deleting the bindings"
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 30 eval '[[ $(tmpl_env deploy/my-simple-app) != *VC_URL* ]]' ||
  fail "the Deployment keeps the injection after its binding was deleted: $(tmpl_env deploy/my-simple-app)"
vols=$(kc -n "$ns" get deploy/my-simple-app -o jsonpath='{.spec.template.spec.volumes[*].name}')
[[ $vols != *vsphere-binding* ]] || fail "the binding volume stayed: $vols"
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
job after "{foo: bar}" '["/bin/sh", "-c", "test -z \"$VC_URL\""]'
[[ $(tmpl_env job/after) != *VC_URL* ]] || fail "a Job created after the binding was deleted was injected"
kc -n "$ns" wait --for=condition=Complete job/after --timeout=60s >/dev/null || fail "Job after did not complete"
say "bindings deleted: Deployment un-injected, new Jobs unbound"

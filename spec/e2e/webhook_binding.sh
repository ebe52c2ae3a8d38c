# The admission webhooks of `vsgate controller`, registered by URL on
# 127.0.0.1 in the harness API server, with the VSphereBinding reconciler:
# validation (field paths), defaulting, binding by name on an existing
# Deployment (exact volume/mount/env in every container and init
# container, no duplicate on update), a Deployment created after the
# binding mutated at admission, deleting the binding undoes and drops the
# finalizer, and the sample VSphereSource's adapter Deployment gets the
# credentials through its child binding; a bound subject is not written
# again by later reconciles; SIGTERM during a long reconcile (a selector
# over many Deployments) stops it at its next write and the controller
# exits promptly.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/webhook_lib.sh
. "$(dirname "$0")/webhook_lib.sh"
e2e_begin webhook_binding
ctl_setup
ns=$(new_ns wh)
wh_start a --lease-name "ctl-wh-$ns" --reconcilers vspheresource,vspherebinding \
  --filter-limits-max instructions=2000000,memory=32Mi,timeoutMs=5000
wh_canary "$ns"

# ---- validation -------------------------------------------------------------
src() { # src NAME SPEC-JSON -> JSON of a VSphereSource
  printf '{"apiVersion":"sources.tanzu.vmware.com/v1alpha1","kind":"VSphereSource","metadata":{"name":"%s","namespace":"%s"},"spec":%s}' "$1" "$ns" "$2"
}
good='"secretRef":{"name":"vsphere-credentials"},"sink":{"uri":"http://sink.example"}'
reject() { # reject WHAT JSON FIELD [crd]: denied by the webhook (or, with crd, the CRD schema)
  local out
  if out=$(printf '%s' "$2" | k create --validate=false -f - 2>&1); then fail "$1 was accepted"; fi
  [ "${4:-}" = crd ] || expect_contains "$out" "denied the request" "$1 is denied by the webhook"
  expect_contains "$out" "$3" "$1 names the field"
}
reject "address without scheme" "$(src bad1 "{\"address\":\"vcenter.corp.local\",$good}")" "spec.address"
reject "negative period" "$(src bad2 "{\"address\":\"https://vc\",$good,\"checkpointConfig\":{\"periodSeconds\":-1}}")" "spec.checkpointConfig.periodSeconds" crd
reject "bad payloadEncoding" "$(src bad3 "{\"address\":\"https://vc\",$good,\"payloadEncoding\":\"text/plain\"}")" "spec.payloadEncoding" crd
# spec.filter.limits (issue 15 item 6): the CRD's minimums, the controller's maximum.
flt='"filter":{"configMapRef":{"name":"f"},"limits":'
reject "filter instructions below the minimum" "$(src bad5 "{\"address\":\"https://vc\",$good,$flt{\"instructions\":10}}}")" "spec.filter.limits.instructions" crd
reject "filter instructions above --filter-limits-max" "$(src bad6 "{\"address\":\"https://vc\",$good,$flt{\"instructions\":2000001}}}")" "invalid value: 2000001: spec.filter.limits.instructions"
reject "filter memory above --filter-limits-max" "$(src bad7 "{\"address\":\"https://vc\",$good,$flt{\"memoryBytes\":33554433}}}")" "spec.filter.limits.memoryBytes"
# Unknown fields: the API server prunes them before admission (structural
# schema), so strict field validation is what rejects them here.
out=$(src bad4 "{\"address\":\"https://vc\",$good,\"bogus\":1}" | k create --validate=strict -f - 2>&1) && fail "unknown field accepted"
expect_contains "$out" "bogus" "the unknown field is named"
reject "binding in another namespace" "$(printf '{"apiVersion":"sources.tanzu.vmware.com/v1alpha1","kind":"VSphereBinding","metadata":{"name":"b","namespace":"%s"},"spec":{"address":"https://vc","secretRef":{"name":"c"},"subject":{"apiVersion":"apps/v1","kind":"Deployment","name":"x","namespace":"other"}}}' "$ns")" "spec.subject.namespace"

# ---- defaulting ---------------------------------------------------------------
src defaults "{\"address\":\"https://vc.example\",$good}" | k create -f - >/dev/null
d=$(k -n "$ns" get vss defaults -o jsonpath='{.spec.payloadEncoding} {.spec.checkpointConfig.maxAgeSeconds} {.spec.checkpointConfig.periodSeconds}')
[ "$d" = "application/xml 300 10" ] || fail "defaults: $d"
k -n "$ns" delete vss defaults >/dev/null
src fdefaults "{\"address\":\"https://vc.example\",$good,$flt{\"timeoutMilliseconds\":250}}}" | k create -f - >/dev/null
d=$(k -n "$ns" get vss fdefaults -o jsonpath='{.spec.filter.limits}')
[ "$d" = '{"instructions":1000000,"memoryBytes":16777216,"timeoutMilliseconds":250}' ] || fail "filter limits defaults: $d"
k -n "$ns" delete vss fdefaults >/dev/null

# ---- binding by name on an existing Deployment --------------------------------
k -n "$ns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
dep() { # dep NAME
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, namespace: $ns}
spec:
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      initContainers:
      - {name: init, image: busybox, env: [{name: KEEP, value: "1"}]}
      containers:
      - {name: a, image: busybox}
      - {name: b, image: busybox, volumeMounts: [{name: other, mountPath: /other}]}
      volumes:
      - {name: other, emptyDir: {}}
YAML
}
dep web | k apply -f - >/dev/null
before=$(k -n "$ns" get deploy web -o json | jq -S '.spec.template.spec')
binding() { # binding NAME SUBJECT-NAME
  cat <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereBinding
metadata: {name: $1, namespace: $ns}
spec:
  subject: {apiVersion: apps/v1, kind: Deployment, name: $2}
  address: https://vcenter.corp.local
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
YAML
}
binding vb web | k apply -f - >/dev/null
wait_for 30 "the Deployment to be bound" sh -c \
  "$KUBECTL --kubeconfig $KUBECONFIG -n $ns get deploy web -o jsonpath='{.spec.template.spec.volumes[*].name}' | grep -q vsphere-binding"
check_bound() { # check_bound DEPLOYMENT
  local ps
  ps=$(k -n "$ns" get deploy "$1" -o json | jq -c '.spec.template.spec')
  [ "$(jq -c '[.volumes[] | select(.name=="vsphere-binding")]' <<<"$ps")" = '[{"name":"vsphere-binding","secret":{"defaultMode":420,"secretName":"vsphere-credentials"}}]' ] ||
    fail "$1: volume: $(jq -c .volumes <<<"$ps")"
  local c
  for c in $(jq -r '(.initContainers // [])[], .containers[] | .name' <<<"$ps"); do
    local ctr
    ctr=$(jq -c --arg n "$c" '[(.initContainers // [])[], .containers[]] | map(select(.name==$n))[0]' <<<"$ps")
    [ "$(jq -c '[.volumeMounts[] | select(.name=="vsphere-binding")]' <<<"$ctr")" = '[{"mountPath":"/var/bindings/vsphere","name":"vsphere-binding","readOnly":true}]' ] ||
      fail "$1/$c: mounts: $(jq -c .volumeMounts <<<"$ctr")"
    [ "$(jq -c '[.env[] | select(.name|startswith("VC_"))]' <<<"$ctr")" = '[{"name":"VC_URL","value":"https://vcenter.corp.local"},{"name":"VC_INSECURE","value":"true"},{"name":"VC_USERNAME","valueFrom":{"secretKeyRef":{"key":"username","name":"vsphere-credentials"}}},{"name":"VC_PASSWORD","valueFrom":{"secretKeyRef":{"key":"password","name":"vsphere-credentials"}}}]' ] ||
      fail "$1/$c: env: $(jq -c .env <<<"$ctr")"
  done
}
check_bound web
k -n "$ns" get deploy web -o jsonpath='{.spec.template.spec.initContainers[0].env[0].name}' | grep -x KEEP >/dev/null || fail "KEEP env lost"
wait_for 30 "binding Ready" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get vspherebinding vb -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
k -n "$ns" get vspherebinding vb -o jsonpath='{.metadata.finalizers}' | grep vspherebindings.sources.tanzu.vmware.com >/dev/null || fail "no finalizer"

# An update of the subject duplicates nothing.
k -n "$ns" patch deploy web --type merge -p '{"metadata":{"labels":{"touched":"yes"}}}' >/dev/null
dep web | k apply -f - >/dev/null 2>&1 || true
check_bound web
# Reconciles after that (each change of web requeues vb) find nothing to
# write: the API server's defaults (secret defaultMode) count as bound.
reconciled() { ctl_metric "$CTL_METRICS" 'vsgate_reconcile_total{kind="VSphereBinding",result="success"}'; }
more_than() { [ "$(reconciled)" -gt "$1" ]; }
n0=$(reconciled)
k -n "$ns" annotate vspherebinding vb e2e/touched=1 >/dev/null
wait_for 30 "another reconcile of vb" more_than "$n0"
sleep 1
[ "$(grep -c '"subject":"Deployment/web"' "$CTL_LOG")" = 1 ] ||
  fail "web was written again after it was bound: $(grep -c '"subject":"Deployment/web"' "$CTL_LOG") updates"

# ---- a Deployment created after the binding is bound at admission ------------
binding vb2 late | k apply -f - >/dev/null
dep late | k create -f - >/dev/null
check_bound late

# ---- missing subject ------------------------------------------------------------
binding vb3 nothere | k apply -f - >/dev/null
wait_for 30 "SubjectMissing" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get vspherebinding vb3 -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].reason}')\" = SubjectMissing ]"

# ---- deleting the binding undoes exactly what it added ----------------------
k -n "$ns" delete vspherebinding vb --wait=false >/dev/null
wait_for 30 "the binding to go" sh -c "! $KUBECTL --kubeconfig $KUBECONFIG -n $ns get vspherebinding vb >/dev/null 2>&1"
after=$(k -n "$ns" get deploy web -o json | jq -S '.spec.template.spec')
[ "$(jq -c . <<<"$before")" = "$(jq -c . <<<"$after")" ] || fail "undo left: $(diff <(echo "$before") <(echo "$after"))"

# ---- the sample source: adapter Deployment with the credentials ---------------
ctl_source "$ns"
wait_for 60 "the adapter Deployment" kq -n "$ns" get deploy source-adapter
wait_for 30 "the adapter to be bound" sh -c \
  "$KUBECTL --kubeconfig $KUBECONFIG -n $ns get deploy source-adapter -o jsonpath='{.spec.template.spec.volumes[*].name}' | grep -q vsphere-binding"
[ "$(env_of "$ns" source-adapter VC_URL)" = https://vcenter.corp.local ] || fail "adapter VC_URL: $(env_of "$ns" source-adapter VC_URL)"
u=$(k -n "$ns" get deploy source-adapter -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="VC_USERNAME")].valueFrom.secretKeyRef.name}')
[ "$u" = vsphere-credentials ] || fail "adapter VC_USERNAME secret: $u"

# ---- SIGTERM while a long reconcile runs: it stops at its next write ------------------
N=300
pki=$VSG_HARNESS_DIR/pki
mkdir -p "$E2E_DIR/bulk"
for i in $(seq 1 "$N"); do
  printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bulk-%03d","namespace":"%s","labels":{"bulk":"yes"}},"spec":{"selector":{"matchLabels":{"app":"bulk"}},"template":{"metadata":{"labels":{"app":"bulk"}},"spec":{"containers":[{"name":"a","image":"busybox"}]}}}}' \
    "$i" "$ns" >"$E2E_DIR/bulk/$i.json"
done
# The half-done binding and its Deployments would keep later controllers on
# this harness busy: they go at the end, also when the test fails (no
# controller is left to remove the finalizer).
bulk_cleanup() {
  k -n "$ns" patch vspherebinding vb-bulk --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  k -n "$ns" delete vspherebinding vb-bulk --ignore-not-found >/dev/null 2>&1 || true
  curl -fsS -o /dev/null -X DELETE --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "$VSG_APISERVER/apis/apps/v1/namespaces/$ns/deployments?labelSelector=bulk%3Dyes" || true
}
trap 'rc=$?; wh_unregister; bulk_cleanup; _e2e_cleanup $rc' EXIT
seq 1 "$N" | xargs -P 8 -I{} curl -fsS -o /dev/null --cacert "$pki/ca.crt" --cert "$pki/admin.crt" \
  --key "$pki/admin.key" -H 'Content-Type: application/json' --data-binary "@$E2E_DIR/bulk/{}.json" \
  "$VSG_APISERVER/apis/apps/v1/namespaces/$ns/deployments" || fail "creating the Deployments failed"
cat <<YAML | k apply -f - >/dev/null
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereBinding
metadata: {name: vb-bulk, namespace: $ns}
spec:
  subject: {apiVersion: apps/v1, kind: Deployment, selector: {matchLabels: {bulk: "yes"}}}
  address: https://vcenter.corp.local
  secretRef: {name: vsphere-credentials}
YAML
wait_for 60 "the bulk reconcile to start" grep -q '"subject":"Deployment/bulk-' "$CTL_LOG"
t0=$(date +%s%N)
e2e_stop "$CTL_PID"
took=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
done_n=$(grep -c '"subject":"Deployment/bulk-' "$CTL_LOG")
[ "$done_n" -lt "$N" ] || fail "all $N subjects were written: the reconcile was not interrupted (or ended before the signal)"
grep -q 'vb-bulk: reconcile interrupted by the shutdown' "$CTL_LOG" || fail "the reconcile was not interrupted"
[ "$took" -le 4000 ] || fail "the controller took $took ms to stop after SIGTERM"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$CTL_LOG" || fail "sanitizer report in $CTL_LOG"
wh_unregister
echo "webhook_binding: ok (stopped in $took ms, $done_n of $N subjects written)"

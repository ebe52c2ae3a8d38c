# The binding webhook and reconciler on every kind of subject: by name on a
# StatefulSet, a DaemonSet, a Job (created after the binding: a Job's
# template is immutable) and a Knative-Service-shaped object from a test
# CRD (group serving.knative.dev, which the webhook's rules name); by
# selector over Jobs (matching ones bound at admission, others untouched);
# the bindings.knative.dev/exclude label on objects and namespaces;
# inclusion mode (VSPHERE_BINDING_SELECTION_MODE=inclusion) requires
# bindings.knative.dev/include (the reconciler labels subject namespaces
# include=true unless they carry an include or exclude label).
# The webhook only sees namespaces labelled include=true (ours): a binding
# labels its namespace before any subject exists (a Job created in a fresh
# namespace after its binding is bound at admission), and the namespace's
# last binding deleted takes away the label vsgate set (and only that one).
# Webhook down (the controller stopped) with failurePolicy Fail: creates in
# a namespace with a binding fail with a clear API error, while namespaces
# without one (never had one, or its last binding deleted) create
# Deployments as usual; once back everything works, nothing corrupted.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/webhook_lib.sh
. "$(dirname "$0")/webhook_lib.sh"
e2e_begin webhook_subjects
ctl_setup
ns=$(new_ns whs)
# The Knative-Service-shaped test CRD, and the test-only RBAC that lets the
# controller read and update it (deploy/ does not name Knative kinds). The
# role goes at exit, after the controller stopped.
e2e_after_exit "k delete clusterrolebinding,clusterrole vsgate-e2e-knative-subjects --ignore-not-found"
cat <<YAML | k apply -f - >/dev/null
$(wh_crd serving.knative.dev Service services)
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: vsgate-e2e-knative-subjects}
rules:
- apiGroups: [serving.knative.dev]
  resources: [services]
  verbs: [get, list, watch, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: vsgate-e2e-knative-subjects}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vsgate-e2e-knative-subjects}
subjects:
- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "vsgate:controllers"}
YAML
k wait --for=condition=Established --timeout=60s crd/services.serving.knative.dev >/dev/null
wh_start a --lease-name "ctl-whs-$ns" --reconcilers vspherebinding
wh_canary "$ns"
k -n "$ns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null

# ---- helpers -------------------------------------------------------------------
podspec() { # podspec INDENT [extra labels json] -> template YAML lines
  cat <<YAML
$1template:
$1  metadata: {labels: {app: x}}
$1  spec:
$1    restartPolicy: $2
$1    initContainers:
$1    - {name: init, image: busybox}
$1    containers:
$1    - {name: a, image: busybox, env: [{name: KEEP, value: "1"}]}
$1    - {name: b, image: busybox}
YAML
}
obj() { # obj KIND NAME [NS] [LABELS-FLOW] -> YAML
  local kind=$1 name=$2 n=${3:-$ns} labels=${4:-"{}"}
  case $kind in
    StatefulSet|DaemonSet|Deployment)
      printf 'apiVersion: apps/v1\nkind: %s\nmetadata: {name: %s, namespace: %s, labels: %s}\nspec:\n  selector: {matchLabels: {app: x}}\n' "$kind" "$name" "$n" "$labels"
      [ "$kind" = StatefulSet ] && printf '  serviceName: %s\n' "$name"
      podspec "  " Always ;;
    Job)
      printf 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: %s, namespace: %s, labels: %s}\nspec:\n' "$name" "$n" "$labels"
      podspec "  " Never ;;
    Service)
      printf 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: %s, namespace: %s, labels: %s}\nspec:\n' "$name" "$n" "$labels"
      podspec "  " Always ;;
  esac
}
res() { case $1 in StatefulSet) echo statefulsets.apps ;; DaemonSet) echo daemonsets.apps ;;
  Deployment) echo deployments.apps ;; Job) echo jobs.batch ;; Service) echo services.serving.knative.dev ;; esac; }
apiv() { case $1 in Job) echo batch/v1 ;; Service) echo serving.knative.dev/v1 ;; *) echo apps/v1 ;; esac; }
binding() { # binding NAME KIND SUBJECT-YAML-FLOW-TAIL [NS]
  cat <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereBinding
metadata: {name: $1, namespace: ${4:-$ns}}
spec:
  subject: {apiVersion: $(apiv "$2"), kind: $2, $3}
  address: https://vcenter.corp.local
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
YAML
}
pspec() { k -n "${3:-$ns}" get "$(res "$1")" "$2" -o json | jq -c '.spec.template.spec'; }
is_bound() { # is_bound KIND NAME [NS]: the binding's volume is there
  pspec "$@" | jq -e '[(.volumes // [])[] | select(.name=="vsphere-binding")] | length == 1' >/dev/null
}
check_bound() { # check_bound KIND NAME [NS]: exactly CONTRACTS §5 in every container
  local ps c ctr
  ps=$(pspec "$@")
  [ "$(jq -c '[.volumes[] | select(.name=="vsphere-binding")]' <<<"$ps")" = '[{"name":"vsphere-binding","secret":{"defaultMode":420,"secretName":"vsphere-credentials"}}]' ] ||
    [ "$(jq -c '[.volumes[] | select(.name=="vsphere-binding")]' <<<"$ps")" = '[{"name":"vsphere-binding","secret":{"secretName":"vsphere-credentials"}}]' ] ||
    fail "$1/$2: volume: $(jq -c .volumes <<<"$ps")"
  for c in init a b; do
    ctr=$(jq -c --arg n "$c" '[(.initContainers // [])[], .containers[]] | map(select(.name==$n))[0]' <<<"$ps")
    [ "$(jq -c '[.volumeMounts[] | select(.name=="vsphere-binding")]' <<<"$ctr")" = '[{"mountPath":"/var/bindings/vsphere","name":"vsphere-binding","readOnly":true}]' ] ||
      fail "$1/$2/$c: mounts: $(jq -c .volumeMounts <<<"$ctr")"
    [ "$(jq -c '[.env[] | select(.name|startswith("VC_"))]' <<<"$ctr")" = '[{"name":"VC_URL","value":"https://vcenter.corp.local"},{"name":"VC_INSECURE","value":"true"},{"name":"VC_USERNAME","valueFrom":{"secretKeyRef":{"key":"username","name":"vsphere-credentials"}}},{"name":"VC_PASSWORD","valueFrom":{"secretKeyRef":{"key":"password","name":"vsphere-credentials"}}}]' ] ||
      fail "$1/$2/$c: env: $(jq -c .env <<<"$ctr")"
  done
  [ "$(jq -r '.containers[] | select(.name=="a") | .env[0].name' <<<"$ps")" = KEEP ] || fail "$1/$2: KEEP env lost"
}
wait_bound() { # wait_bound KIND NAME [NS]
  wait_for 30 "$1/$2 to be bound" is_bound "$@"
  check_bound "$@"
}
check_untouched() { # check_untouched KIND NAME [NS]
  pspec "$@" | jq -e '[.. | objects | select(.name? == "vsphere-binding" or ((.name? // "") | startswith("VC_")))] | length == 0' >/dev/null ||
    fail "$1/$2 was touched: $(pspec "$@")"
}

# ---- by name on existing StatefulSet, DaemonSet and Knative Service ------------
for kind in StatefulSet DaemonSet Service; do
  obj "$kind" "e-$(tr '[:upper:]' '[:lower:]' <<<"$kind")" | k create -f - >/dev/null
  binding "b-$(tr '[:upper:]' '[:lower:]' <<<"$kind")" "$kind" "name: e-$(tr '[:upper:]' '[:lower:]' <<<"$kind")" | k apply -f - >/dev/null
done
for kind in StatefulSet DaemonSet Service; do
  wait_bound "$kind" "e-$(tr '[:upper:]' '[:lower:]' <<<"$kind")"
  # An update of the subject duplicates nothing.
  k -n "$ns" patch "$(res "$kind")" "e-$(tr '[:upper:]' '[:lower:]' <<<"$kind")" --type merge -p '{"metadata":{"labels":{"touched":"yes"}}}' >/dev/null
  check_bound "$kind" "e-$(tr '[:upper:]' '[:lower:]' <<<"$kind")"
done
# ---- by name, created after the binding: Job and Knative Service ----------------
binding b-job Job "name: late-job" | k apply -f - >/dev/null
binding b-ksvc Service "name: late-ksvc" | k apply -f - >/dev/null
wait_for 30 "b-ksvc Ready reason" sh -c "[ -n \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get vspherebinding b-ksvc -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].reason}')\" ]"
obj Job late-job | k create -f - >/dev/null
obj Service late-ksvc | k create -f - >/dev/null
check_bound Job late-job
check_bound Service late-ksvc

# ---- a fresh namespace: labelled with the binding, before any subject -------------
fns=$(new_ns whsf)
k -n "$fns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
binding b-first Job "selector: {matchLabels: {team: first}}" "$fns" | k apply -f - >/dev/null
# A selector that matches nothing yet: Ready, as psbinding.
wait_for 30 "b-first Ready=True" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $fns get vspherebinding b-first -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
[ "$(k get namespace "$fns" -o jsonpath='{.metadata.labels.bindings\.knative\.dev/include} {.metadata.annotations.sources\.tanzu\.vmware\.com/include-set-by}')" = "true vsgate" ] ||
  fail "$fns not labelled (and marked) with its first binding: $(k get namespace "$fns" -o jsonpath='{.metadata}')"
obj Job first-1 "$fns" "{team: first}" | k create -f - >/dev/null
check_bound Job first-1 "$fns"

# ---- by selector over Jobs --------------------------------------------------------
binding b-sel Job "selector: {matchLabels: {team: blue}}" | k apply -f - >/dev/null
wait_for 30 "b-sel Ready=True" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get vspherebinding b-sel -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
for i in 1 2 3; do obj Job "blue-$i" "$ns" "{team: blue}" | k create -f - >/dev/null; done
obj Job red-1 "$ns" "{team: red}" | k create -f - >/dev/null
obj Job plain "$ns" | k create -f - >/dev/null
for i in 1 2 3; do check_bound Job "blue-$i"; done
check_untouched Job red-1
check_untouched Job plain
wait_for 30 "b-sel Ready" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get vspherebinding b-sel -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
for i in 1 2 3; do check_bound Job "blue-$i"; done
obj Job blue-4 "$ns" "{team: blue}" | k create -f - >/dev/null
check_bound Job blue-4

# ---- the exclude label, on the object and on the namespace ----------------------
obj Deployment ex-obj "$ns" "{bindings.knative.dev/exclude: \"true\"}" | k create -f - >/dev/null
binding b-exobj Deployment "name: ex-obj" | k apply -f - >/dev/null
binding b-exlate Deployment "name: ex-late" | k apply -f - >/dev/null
obj Deployment ex-late "$ns" "{bindings.knative.dev/exclude: \"true\"}" | k create -f - >/dev/null
xns=$(new_ns whsx)
k label namespace "$xns" bindings.knative.dev/exclude=true >/dev/null
k -n "$xns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
obj Deployment ex-ns "$xns" | k create -f - >/dev/null
binding b-exns Deployment "name: ex-ns" "$xns" | k apply -f - >/dev/null
binding b-exns2 Deployment "name: ex-ns2" "$xns" | k apply -f - >/dev/null
obj Deployment ex-ns2 "$xns" | k create -f - >/dev/null
# A control binding made after them is done, so the reconciler got to them.
obj Deployment ctrl "$ns" | k create -f - >/dev/null
binding b-ctrl Deployment "name: ctrl" | k apply -f - >/dev/null
wait_bound Deployment ctrl
sleep 2
check_untouched Deployment ex-obj
check_untouched Deployment ex-late
check_untouched Deployment ex-ns "$xns"
check_untouched Deployment ex-ns2 "$xns"
# The reconciler labels a subject namespace for inclusion (as psbinding),
# unless it already has an include or exclude label.
[ "$(k get namespace "$ns" -o jsonpath='{.metadata.labels.bindings\.knative\.dev/include}')" = true ] || fail "$ns not labelled include=true"
[ -z "$(k get namespace "$xns" -o jsonpath='{.metadata.labels.bindings\.knative\.dev/include}')" ] || fail "$xns (excluded) got an include label"

# ---- the namespace's last binding deleted: the label vsgate set goes ------------------
uns=$(new_ns whsu)
k -n "$uns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
obj Deployment u-dep "$uns" | k create -f - >/dev/null
binding b-u1 Deployment "name: u-dep" "$uns" | k apply -f - >/dev/null
binding b-u2 Deployment "name: u-dep" "$uns" | k apply -f - >/dev/null
wait_bound Deployment u-dep "$uns"
ns_mark() { k get namespace "$1" -o jsonpath='{.metadata.labels.bindings\.knative\.dev/include}/{.metadata.annotations.sources\.tanzu\.vmware\.com/include-set-by}'; }
[ "$(ns_mark "$uns")" = true/vsgate ] || fail "$uns: $(ns_mark "$uns")"
k -n "$uns" delete vspherebinding b-u1 >/dev/null
sleep 1
[ "$(ns_mark "$uns")" = true/vsgate ] || fail "$uns lost its label while b-u2 is left: $(ns_mark "$uns")"
k -n "$uns" delete vspherebinding b-u2 >/dev/null
unmarked() { [ "$(ns_mark "$1")" = / ]; }
wait_for 30 "$uns to lose the include label vsgate set" unmarked "$uns"
check_untouched Deployment u-dep "$uns"
# A namespace the user labelled include=true keeps its label.
pns=$(new_ns whsp)
k label namespace "$pns" bindings.knative.dev/include=true >/dev/null
k -n "$pns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
obj Deployment p-dep "$pns" | k create -f - >/dev/null
binding b-p Deployment "name: p-dep" "$pns" | k apply -f - >/dev/null
wait_bound Deployment p-dep "$pns"
k -n "$pns" delete vspherebinding b-p >/dev/null
check_untouched Deployment p-dep "$pns"
[ "$(ns_mark "$pns")" = true/ ] || fail "$pns: the user's include label was changed: $(ns_mark "$pns")"

# ---- webhook down with failurePolicy Fail -------------------------------------------
WHB=$WHB_URL
[ "$(k get "$WHB" -o jsonpath='{.webhooks[0].failurePolicy}')" = Fail ] || fail "the binding webhook is not failurePolicy Fail"
free=$(new_ns whsz)
trap 'rc=$?; kill -CONT "$CTL_PID" 2>/dev/null || true; wh_unregister; _e2e_cleanup $rc' EXIT
kill -STOP "$CTL_PID"
# Namespaces without a binding do not depend on the controller.
for n in "$free" "$uns"; do
  if ! out=$(obj Deployment down-free "$n" | k create -f - 2>&1); then
    kill -CONT "$CTL_PID"; fail "a Deployment in $n (no binding) was refused with the webhook down: $out"
  fi
done
if out=$(obj Job down-1 "$ns" "{team: blue}" | k create -f - 2>&1); then
  kill -CONT "$CTL_PID"; fail "a Job was admitted with the webhook down"
fi
if out2=$(obj Deployment down-dep "$ns" | k create -f - 2>&1); then
  kill -CONT "$CTL_PID"; fail "a Deployment in $ns (with bindings) was admitted with the webhook down"
fi
kill -CONT "$CTL_PID"
expect_contains "$out" 'failed calling webhook "vspherebindings.webhook.vsphere.sources.tanzu.vmware.com"' "the API error names the webhook"
expect_contains "$out2" 'failed calling webhook "vspherebindings.webhook.vsphere.sources.tanzu.vmware.com"' "the API error names the webhook"
kq -n "$ns" get job down-1 && fail "the rejected Job exists"
kq -n "$ns" get deploy down-dep && fail "the rejected Deployment exists"
check_untouched Deployment down-free "$free"
obj Job down-1 "$ns" "{team: blue}" | k create -f - >/dev/null
check_bound Job down-1
for i in 1 2 3 4; do check_bound Job "blue-$i"; done
check_bound StatefulSet e-statefulset
check_untouched Job red-1
check_untouched Deployment ex-obj

# ---- inclusion mode ------------------------------------------------------------------
wh_unregister
e2e_stop "$CTL_PID"
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$CTL_LOG" || fail "sanitizer report in $CTL_LOG"
export VSPHERE_BINDING_SELECTION_MODE=inclusion
wh_start b --lease-name "ctl-whs2-$ns" --reconcilers vspherebinding
unset VSPHERE_BINDING_SELECTION_MODE
trap 'rc=$?; kill -CONT "$CTL_PID" 2>/dev/null || true; wh_unregister; _e2e_cleanup $rc' EXIT
wh_canary "$ns"
# The leader writes the selectors of inclusion mode: include=true on both.
[ "$(k get "$WHB" -o json | jq -c '.webhooks[0] | [.namespaceSelector, .objectSelector]')" = '[{"matchExpressions":[{"key":"bindings.knative.dev/include","operator":"In","values":["true"]},{"key":"kubernetes.io/metadata.name","operator":"NotIn","values":["kube-system","vmware-sources"]}]},{"matchExpressions":[{"key":"bindings.knative.dev/include","operator":"In","values":["true"]}]}]' ] ||
  fail "inclusion-mode selectors: $(k get "$WHB" -o json | jq -c '.webhooks[0] | [.namespaceSelector, .objectSelector]')"
ins=$(new_ns whsi)
k label namespace "$ins" bindings.knative.dev/include=true >/dev/null
k -n "$ins" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
binding b-in Deployment "selector: {matchLabels: {tier: inc}}" "$ins" | k apply -f - >/dev/null
# A namespace with include=false: the reconciler leaves its label alone.
nons=$(new_ns whsn)
k label namespace "$nons" bindings.knative.dev/include=false >/dev/null
k -n "$nons" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
binding b-in-other Deployment "selector: {matchLabels: {tier: inc}}" "$nons" | k apply -f - >/dev/null
obj Deployment in-yes "$ins" "{tier: inc, bindings.knative.dev/include: \"true\"}" | k create -f - >/dev/null
obj Deployment in-nolabel "$ins" "{tier: inc}" | k create -f - >/dev/null
obj Deployment in-nsno "$nons" "{tier: inc, bindings.knative.dev/include: \"true\"}" | k create -f - >/dev/null
check_bound Deployment in-yes "$ins"
wait_for 30 "b-in Ready" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ins get vspherebinding b-in -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
wait_for 30 "b-in-other reconciled" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $nons get vspherebinding b-in-other -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
sleep 2
check_untouched Deployment in-nolabel "$ins"
check_untouched Deployment in-nsno "$nons"
[ "$(k get namespace "$nons" -o jsonpath='{.metadata.labels.bindings\.knative\.dev/include}')" = false ] || fail "the include=false label was changed"

# ---- clean stop: configurations first ----------------------------------------------
wh_unregister
e2e_stop "$CTL_PID"
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$CTL_LOG" || fail "sanitizer report in $CTL_LOG"
echo "webhook_subjects: ok"

# The binding webhook's rules follow the kinds the bindings target (as
# psbinding keeps its MutatingWebhookConfiguration in step): with no
# binding the rules hold the built-in PodSpecable kinds only; a binding
# over a PodSpecable CRD kind (widgets.example.com) adds its resource,
# found through discovery, after which a new Widget is mutated at
# admission (the create response already carries the credentials) and an
# existing one is bound by the reconciler; the rule stays while any binding
# targets the kind and goes with the last one; a binding over a kind
# that is not served yet is left out of the rules (and logged) until its
# CRD appears; the selection selectors of exclusion mode stay as they are
# and are those deploy/webhooks ships (namespaces labelled
# bindings.knative.dev/include=true only).
# Webhooks registered by URL on 127.0.0.1; then the same in Service mode
# on deploy/webhooks as shipped (made to match nothing here): the leader
# writes the caBundles and the binding webhook's rules and selectors (back
# to the shipped ones), and nothing else; re-applying the shipped file
# then changes nothing the leader would write back (no fight). Last, URL mode
# next to those shipped configurations registers its own (url-mode.*) and
# leaves the shipped ones as they are, also when it stops.
. "$E2E_LIB"
. "$(dirname "$0")/controller_lib.sh"
. "$(dirname "$0")/webhook_lib.sh"
e2e_begin webhook_rules
ctl_setup
ns=$(new_ns whk)
G=example.com
crd() { wh_crd "$G" "$1" "$2"; } # crd KIND PLURAL: a PodSpecable-shaped CRD of group $G
# The role such kinds come with (labelled for deploy/'s aggregated
# vsphere-source-podspecable-binding); the harness runs no aggregation
# controller, so it is bound to the controller's group directly.
cat <<YAML | k apply -f - >/dev/null
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: vsgate-e2e-widgets-podspecable
  labels: {duck.knative.dev/podspecable: "true"}
rules:
- apiGroups: [$G]
  resources: [widgets, gadgets]
  verbs: [get, list, watch, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: vsgate-e2e-widgets-podspecable}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: vsgate-e2e-widgets-podspecable}
subjects:
- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "vsgate:controllers"}
YAML
crd Widget widgets | k apply -f - >/dev/null
k wait --for=condition=Established --timeout=60s "crd/widgets.$G" >/dev/null
# Nothing of an earlier run in this harness: no bindings over these kinds,
# no Gadget CRD.
k get vspherebindings -A -o json |
  jq -r --arg g "$G/" '.items[] | select((.spec.subject.apiVersion // "") | startswith($g)) | "\(.metadata.namespace) \(.metadata.name)"' |
  while read -r n b; do
    k -n "$n" patch vspherebinding "$b" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
    k -n "$n" delete vspherebinding "$b" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  done
k delete crd "gadgets.$G" --ignore-not-found >/dev/null
trap 'rc=$?; wh_unregister; k delete crd "widgets.$G" "gadgets.$G" --ignore-not-found --wait=false >/dev/null 2>&1; _e2e_cleanup $rc' EXIT
wh_start a --lease-name "ctl-whk-$ns" --reconcilers vspherebinding --cert-check 4s
wh_canary "$ns"
k -n "$ns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null

WHB=$WHB_URL
rules() { k get "$WHB" -o json | jq -c '.webhooks[0].rules'; }
rule_of() { # rule_of PLURAL: the rule naming it, or nothing
  rules | jq -c --arg g "$G" --arg r "$1" '.[] | select(.apiGroups == [$g] and (.resources | index($r)))'
}
has_rule() { [ -n "$(rule_of "$1")" ]; }
no_rule() { [ -z "$(rule_of "$1")" ]; }
R='"operations":["CREATE","UPDATE"]'
# The built-in rules, from their one source (lua/lib/podspecable.lua through
# lua/webhook/configurations.lua), not a copy.
# (lib.gojson uses the real vsg module, vsg.so, from VSG_LUA_CMODULES.)
[ -f "${VSG_LUA_CMODULES:-}/vsg.so" ] || fail "VSG_LUA_CMODULES (<build>/lua-cmodules with vsg.so) is not set"
BUILTIN=$(VSG_SRC=$VSG_SOURCE_DIR lua5.4 -e 'package.path = os.getenv("VSG_SRC") .. "/lua/?.lua;" .. package.path
  package.cpath = os.getenv("VSG_LUA_CMODULES") .. "/?.so;" .. package.cpath
  print(require("lib.gojson").encode(require("webhook.configurations").builtin_rules()))' | jq -c .)
[ "$(jq length <<<"$BUILTIN")" -ge 3 ] || fail "no built-in rules from lua/webhook/configurations.lua: $BUILTIN"
selectors() { k get "$WHB" -o json | jq -c '.webhooks[0] | [.namespaceSelector, .objectSelector]'; }
sel0=$(selectors)
expect_contains "$sel0" '{"key":"bindings.knative.dev/exclude","operator":"NotIn","values":["true"]}' "exclusion-mode selectors"
expect_contains "$sel0" '[{"matchExpressions":[{"key":"bindings.knative.dev/include","operator":"In","values":["true"]}' "only namespaces labelled include=true"
shipped_sel=$(k create --dry-run=client -o json -f "$VSG_SOURCE_DIR/deploy/webhooks/" |
  jq -c 'select(.metadata.name == "vspherebindings.webhook.vsphere.sources.tanzu.vmware.com") | .webhooks[0] | [.namespaceSelector, .objectSelector]')
[ "$sel0" = "$shipped_sel" ] || fail "the selectors the leader writes are not the shipped ones: $sel0 vs $shipped_sel"

widget() { # widget NAME [LABELS-FLOW]
  cat <<YAML
apiVersion: $G/v1
kind: Widget
metadata: {name: $1, namespace: $ns, labels: ${2:-"{}"}}
spec:
  template:
    metadata: {labels: {app: w}}
    spec:
      containers:
      - {name: a, image: busybox, env: [{name: KEEP, value: "1"}]}
YAML
}
binding() { # binding NAME KIND SUBJECT-FLOW-TAIL
  cat <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereBinding
metadata: {name: $1, namespace: $ns}
spec:
  subject: {apiVersion: $G/v1, kind: $2, $3}
  address: https://vcenter.corp.local
  secretRef: {name: vsphere-credentials}
YAML
}
bound_json() { # bound_json: stdin an object; prints its binding volume and VC_ env names
  jq -c '[((.spec.template.spec.volumes // [])[] | select(.name == "vsphere-binding") | .secret.secretName),
          ((.spec.template.spec.containers[0].env // [])[] | .name)]'
}
BOUND='["vsphere-credentials","KEEP","VC_URL","VC_INSECURE","VC_USERNAME","VC_PASSWORD"]'

# ---- no binding: the built-in kinds only ----------------------------------------
[ "$(rules)" = "$BUILTIN" ] || fail "rules without bindings: $(rules)"
widget w-early | k create -f - >/dev/null

# ---- a binding over Widgets adds widgets.example.com ---------------------------
binding b-late Widget "name: w-late" | k apply -f - >/dev/null
wait_for 30 "a rule for widgets" has_rule widgets
[ "$(rule_of widgets)" = '{"apiGroups":["'$G'"],"apiVersions":["v1"],'$R',"resources":["widgets"],"scope":"Namespaced"}' ] ||
  fail "widgets rule: $(rule_of widgets)"
[ "$(rules | jq -c '[.[] | select(.apiGroups != ["'$G'"])]')" = "$BUILTIN" ] || fail "built-in rules changed: $(rules)"
[ "$(selectors)" = "$sel0" ] || fail "the selectors changed: $(selectors)"
# The API server learns the new rules through its informer: wait for a
# server-side dry run to come back mutated, then create for real. The
# create response is the object as admitted: the reconciler cannot have
# touched it yet.
dry_bound() { [ "$(widget "$1" | k create --dry-run=server -o json -f - 2>/dev/null | bound_json)" = "$BOUND" ]; }
wait_for 30 "the API server to call the webhook for Widgets" dry_bound w-late
created=$(widget w-late | k create -o json -f - | bound_json)
[ "$created" = "$BOUND" ] || fail "w-late not mutated at admission: $created"
# An existing Widget, bound by the reconciler (update through the aggregated role).
binding b-early Widget "name: w-early" | k apply -f - >/dev/null
is_bound() { [ "$(k -n "$ns" get "widgets.$G" "$1" -o json | bound_json)" = "$BOUND" ]; }
wait_for 30 "w-early to be bound" is_bound w-early

# ---- a kind not served yet: left out until its CRD appears ------------------------
binding b-gadget Gadget "name: g1" | k apply -f - >/dev/null
wait_for 30 "the controller to report gadgets left out" grep -q 'left out of its rules.*Gadget' "$CTL_LOG"
no_rule gadgets || fail "a rule for a kind that is not served"
has_rule widgets || fail "the widgets rule went"
crd Gadget gadgets | k apply -f - >/dev/null
k wait --for=condition=Established --timeout=60s "crd/gadgets.$G" >/dev/null
wait_for 30 "a rule for gadgets once served" has_rule gadgets
[ "$(rule_of widgets)" = '{"apiGroups":["'$G'"],"apiVersions":["v1"],'$R',"resources":["gadgets","widgets"],"scope":"Namespaced"}' ] ||
  fail "one rule per group and version: $(rules)"

# ---- removed with the last binding of the kind ----------------------------------------
k -n "$ns" delete vspherebinding b-gadget >/dev/null
wait_for 30 "the gadgets rule to go" no_rule gadgets
has_rule widgets || fail "the widgets rule went with the gadget binding"
k -n "$ns" delete vspherebinding b-late >/dev/null
sleep 2
has_rule widgets || fail "the widgets rule went while b-early still targets Widgets"
k -n "$ns" delete vspherebinding b-early >/dev/null
wait_for 30 "the widgets rule to go" no_rule widgets
[ "$(rules)" = "$BUILTIN" ] || fail "rules after the last binding: $(rules)"
[ "$(selectors)" = "$sel0" ] || fail "the selectors changed: $(selectors)"
# Deleting b-early undid its injection (the reconciler's finalizer).
[ "$(k -n "$ns" get "widgets.$G" w-early -o json | bound_json)" = '["KEEP"]' ] || fail "w-early not undone"

wh_unregister
e2e_stop "$CTL_PID"
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$CTL_LOG" || fail "sanitizer report in $CTL_LOG"

# ---- Service mode: deploy/webhooks as shipped, kept in place ------------------------------
# The shipped configurations (reaching the Service), except that here they
# never match anything: there is no Service behind them in the harness.
WHB=$WHB_SHIPPED WH_CONFS=$WH_SHIPPED_CONFS
k create --dry-run=client -o json -f "$VSG_SOURCE_DIR/deploy/webhooks/" |
  jq '.webhooks[] |= (.failurePolicy = "Ignore" | .namespaceSelector = {"matchLabels": {"vsgate-e2e": "never"}})' |
  k apply -f - >/dev/null
[ "$(rules)" = "$BUILTIN" ] || fail "the shipped rules are not the built-in set: $(rules)"
others() { # the defaulting and validation webhooks, as set (without caBundle)
  local c
  for c in $WH_CONFS; do
    [ "$c" = "$WHB" ] || k get "$c" -o json | jq -c '.webhooks[0] | del(.clientConfig.caBundle)'
  done
}
others0=$(others) bsel0=$(selectors) svc0=$(k get "$WHB" -o json | jq -c '.webhooks[0].clientConfig.service')
CTL_WEBHOOK=1 ctl_start s --lease-name "ctl-whk-svc-$ns" --reconcilers vspherebinding --cert-check 4s \
  --webhook-addr 127.0.0.1 --webhook-port "$(_e2e_free_port)" --webhook-threads 1
bundles_are() { # every configuration's caBundle is the Secret's CA
  local c ca
  ca=$(k -n vmware-sources get secret vsphere-webhook-certs -o jsonpath='{.data.ca-cert\.pem}')
  [ -n "$ca" ] || return 1
  for c in $WH_CONFS; do
    [ "$(k get "$c" -o jsonpath='{.webhooks[0].clientConfig.caBundle}')" = "$ca" ] || return 1
  done
}
wait_for 30 "the caBundles (Service mode)" bundles_are
# The selectors go back to the shipped ones (they were set to match nothing).
[ "$bsel0" != "$shipped_sel" ] || fail "the test's selectors are the shipped ones"
sel_shipped() { [ "$(selectors)" = "$shipped_sel" ]; }
wait_for 30 "the shipped selectors (Service mode)" sel_shipped
binding b-svc Widget "name: w-svc" | k apply -f - >/dev/null
wait_for 30 "a rule for widgets (Service mode)" has_rule widgets
[ "$(k get "$WHB" -o json | jq -c '.webhooks[0].clientConfig.service')" = "$svc0" ] || fail "the Service reference changed"
[ "$(selectors)" = "$shipped_sel" ] || fail "Service mode: the selectors are not the shipped ones: $(selectors)"
[ "$(others)" = "$others0" ] || fail "the other webhooks changed: $(others)"
k -n "$ns" delete vspherebinding b-svc >/dev/null
wait_for 30 "the widgets rule to go (Service mode)" no_rule widgets
[ "$(rules)" = "$BUILTIN" ] || fail "rules after the last binding (Service mode): $(rules)"
# No fight with the file: re-applied as shipped (but Ignore), the leader
# writes nothing back over two check periods.
k create --dry-run=client -o json -f "$VSG_SOURCE_DIR/deploy/webhooks/" |
  jq '.webhooks[] |= (.failurePolicy = "Ignore")' | k apply -f - >/dev/null
n_upd=$(grep -c 'updated vspherebindings.webhook' "$CTL_LOG" || true)
sleep 9
[ "$(grep -c 'updated vspherebindings.webhook' "$CTL_LOG" || true)" = "$n_upd" ] ||
  fail "the leader rewrote the shipped binding webhook: $(grep 'updated vspherebindings.webhook' "$CTL_LOG" | tail -n 3)"
[ "$(selectors)" = "$shipped_sel" ] && [ "$(rules)" = "$BUILTIN" ] || fail "after re-applying: $(selectors) $(rules)"

e2e_stop "$CTL_PID"
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$CTL_LOG" || fail "sanitizer report in $CTL_LOG"

# ---- URL mode next to a release's configurations: its own ones, nothing taken over ---------
shipped() { local c; for c in $WH_SHIPPED_CONFS; do k get "$c" -o json | jq -c '.webhooks'; done; }
shipped0=$(shipped)
WH_CONFS=$(sed 's|/|/url-mode.|' <<<"$WH_SHIPPED_CONFS")
wh_start u --lease-name "ctl-whk-url2-$ns" --reconcilers vspherebinding
[ "$(shipped)" = "$shipped0" ] || fail "URL mode changed the shipped configurations"
e2e_stop "$CTL_PID" # URL mode removes its own configurations as it stops
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
for c in $WH_CONFS; do kq get "$c" && fail "URL mode left $c behind"; done
[ "$(shipped)" = "$shipped0" ] || fail "URL mode deleted or changed the shipped configurations at exit"
WH_CONFS=$WH_SHIPPED_CONFS

# ---- clean stop ---------------------------------------------------------------------------
wh_unregister
k delete crd "widgets.$G" "gadgets.$G" --ignore-not-found --wait=false >/dev/null 2>&1 || true
echo "webhook_rules: ok"

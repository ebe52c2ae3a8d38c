# spec/e2e/webhook_lib.sh - run `vsgate controller` with its webhooks
# registered by URL on 127.0.0.1 (test-peers.md §4), sourced after
# controller_lib.sh. wh_start TAG [args]: grants the test-only RBAC (create
# and delete of webhook configurations), starts the controller with
# --webhook-url-base https://127.0.0.1:<free port>, waits for the three
# configurations and a canary dry-run; at exit (also on failure) the
# configurations are deleted before the controller stops, and the test-only
# RBAC after it stopped (e2e_on_exit / e2e_after_exit).
# URL mode's configurations have names of their own (prefix url-mode.), so
# it never takes over the shipped ones; the webhooks in them keep theirs.
# shellcheck disable=SC2034  # a library: its variables are for the tests that source it
WH_SHIPPED_CONFS="mutatingwebhookconfiguration/defaulting.webhook.vsphere.sources.tanzu.vmware.com
validatingwebhookconfiguration/validation.webhook.vsphere.sources.tanzu.vmware.com
mutatingwebhookconfiguration/vspherebindings.webhook.vsphere.sources.tanzu.vmware.com"
WH_CONFS=${WH_SHIPPED_CONFS//\//\/url-mode.}
WHB_SHIPPED=mutatingwebhookconfiguration/vspherebindings.webhook.vsphere.sources.tanzu.vmware.com
WHB_URL=mutatingwebhookconfiguration/url-mode.vspherebindings.webhook.vsphere.sources.tanzu.vmware.com

wh_unregister() {
  local c
  for c in $WH_CONFS; do k delete "$c" --ignore-not-found --wait=false >/dev/null 2>&1 || true; done
}

# wh_url_mode_rbac NAME: lets the controllers' group create, update and
# delete webhook configurations (URL mode registers its own; deploy/ does
# not grant it).
wh_url_mode_rbac() {
  cat <<YAML | k apply -f - >/dev/null
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: $1}
rules:
- apiGroups: [admissionregistration.k8s.io]
  resources: [mutatingwebhookconfigurations, validatingwebhookconfigurations]
  verbs: [create, delete, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: $1}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: $1}
subjects:
- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: "vsgate:controllers"}
YAML
}

# wh_rbac_cleanup NAME: deletes what wh_url_mode_rbac NAME made, so that
# later tests (smoke_deploy checks what the controllers' group may not do)
# do not see it.
wh_rbac_cleanup() {
  k delete clusterrolebinding "$1" --ignore-not-found >/dev/null 2>&1 || true
  k delete clusterrole "$1" --ignore-not-found >/dev/null 2>&1 || true
}

_wh_cleanup_set=""
wh_start() {
  local tag=$1; shift
  wh_url_mode_rbac vsgate-e2e-webhook-url-mode
  WH_PORT=$(_e2e_free_port)
  # At exit (lib.sh's _e2e_cleanup, also from the tests' own EXIT traps):
  # the registered configurations go before the controller stops, the
  # test-only RBAC once it has stopped.
  if [ -z "$_wh_cleanup_set" ]; then
    _wh_cleanup_set=1
    e2e_on_exit wh_unregister
    e2e_after_exit wh_rbac_cleanup vsgate-e2e-webhook-url-mode
  fi
  CTL_WEBHOOK=1 ctl_start "$tag" --webhook-url-base "https://127.0.0.1:$WH_PORT" \
    --webhook-addr 127.0.0.1 --webhook-port "$WH_PORT" --webhook-threads 2 "$@"
  local c
  for c in $WH_CONFS; do
    wait_for 30 "$c" _wh_registered "$c"
  done
}

# _wh_registered CONF: it exists; fails the test at once when the
# controller has exited (a webhook that could not start, say).
_wh_registered() {
  _e2e_alive "$CTL_PID" || fail "the controller exited before registering $1: $(tail -n 3 "$CTL_LOG")"
  kq get "$1"
}

# wh_canary NS: repeats a server-side dry run until the defaulting webhook
# answers (the API server learns configurations through an informer).
wh_canary() {
  cat >"$E2E_DIR/canary.yaml" <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: canary, namespace: $1}
spec:
  address: https://vc.example
  secretRef: {name: c}
  sink: {uri: http://sink.example}
YAML
  wait_for 30 "the defaulting webhook (canary)" sh -c \
    "$KUBECTL --kubeconfig $KUBECONFIG create --dry-run=server -o jsonpath='{.spec.payloadEncoding}' -f $E2E_DIR/canary.yaml | grep -q application/xml"
}

# wh_crd GROUP KIND PLURAL: a namespaced CRD whose objects keep any spec
# (PodSpecable-shaped test kinds), as YAML on stdout.
wh_crd() {
  cat <<YAML
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: $3.$1}
spec:
  group: $1
  names: {kind: $2, plural: $3, singular: $(tr '[:upper:]' '[:lower:]' <<<"$2"), listKind: $2List}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
YAML
}

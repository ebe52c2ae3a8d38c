# spec/e2e/controller_lib.sh - helpers for the controller e2e tests (sourced
# after lib.sh and e2e_begin).
# Provides: SEED (the upstream samples), ctl_setup (CRDs, the deploy/ RBAC and
# bindings of the controller's client-certificate identity to it), ctl_start
# TAG [args] (a `vsgate controller` as that identity on free loopback ports;
# sets CTL_PID, CTL_METRICS, CTL_HEALTH, CTL_LOG), ctl_metric NAME-AND-LABELS,
# ctl_source NS (credentials, default service account, the sample source).

# The seed samples as committed in samples/upstream (identical to ../shared/seed/samples).
SEED=$VSG_SOURCE_DIR/samples/upstream

# The controller runs with VSG_CONTROLLER_KUBECONFIG (user vsphere-controller,
# group vsgate:controllers), bound to exactly the roles deploy/ gives the
# controller's service account, so missing RBAC fails the test.
ctl_setup() {
  [ -n "${VSG_CONTROLLER_KUBECONFIG:-}" ] || fail "the harness env has no VSG_CONTROLLER_KUBECONFIG"
  k apply -f "$VSG_SOURCE_DIR/deploy/crds/" >/dev/null
  k wait --for=condition=Established --timeout=60s \
    crd/vspheresources.sources.tanzu.vmware.com crd/vspherebindings.sources.tanzu.vmware.com >/dev/null
  local f
  for f in "$VSG_SOURCE_DIR"/deploy/system/2*-clusterrole*.yaml "$VSG_SOURCE_DIR"/deploy/system/203-role-controller.yaml; do
    [ -f "$f" ] && k apply -f "$f" >/dev/null
  done
  # deploy/'s bindings, with the controller identity's group as the subject.
  python3 - "$VSG_SOURCE_DIR/deploy/system/210-bindings.yaml" >"$E2E_DIR/bindings.yaml" <<'PY'
import re, sys
docs = [d for d in re.split(r'(?m)^---\s*$', open(sys.argv[1]).read()) if 'kind:' in d]
out = []
for d in docs:
    d = re.sub(r'(?ms)^subjects:.*\Z',
               'subjects:\n- kind: Group\n  apiGroup: rbac.authorization.k8s.io\n  name: vsgate:controllers\n', d)
    d = re.sub(r'(?m)^(  name: )(\S+)$', lambda m: m.group(1) + m.group(2) + '-e2e-group', d, count=1)
    out.append(d.strip())
print('\n---\n'.join(out))
PY
  k apply -f "$E2E_DIR/bindings.yaml" >/dev/null
}

# ctl_start TAG [controller args...]: without the webhooks unless
# CTL_WEBHOOK=1 (they would listen on 8443 and need certificates).
ctl_start() {
  local tag=$1; shift
  # With webhooks: no drain at SIGTERM unless the args ask for one (they come later and win).
  if [ "${CTL_WEBHOOK:-0}" = 1 ]; then set -- --drain 0 "$@"; else set -- --no-webhook "$@"; fi
  CTL_METRICS=$(_e2e_free_port)
  CTL_HEALTH=$(_e2e_free_port)
  CTL_LOG=$E2E_DIR/controller-$tag.log
  e2e_bg "ctl-$tag" "$CTL_LOG" env VSPHERE_ADAPTER=registry.example/vsgate:e2e \
    "$VSG_BIN" controller --kubeconfig "$VSG_CONTROLLER_KUBECONFIG" --namespace vmware-sources \
    --lua-root "$VSG_SOURCE_DIR/lua" \
    --metrics-addr "127.0.0.1:$CTL_METRICS" --health-addr 127.0.0.1 --health-port "$CTL_HEALTH" "$@"
  CTL_PID=$E2E_PID
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$CTL_HEALTH/healthz" >/dev/null 2>&1 && return 0
    _e2e_alive "$CTL_PID" || break
    sleep 0.1
  done
  fail "controller $tag did not start: $(tail -n 5 "$CTL_LOG")"
}

# ctl_metric PORT 'name{labels}': the value, or 0.
ctl_metric() {
  curl -fsS "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'
}

# ctl_source NS [FILE]: credentials, the default service account (no
# controller-manager makes it) and a source (default: the seed's sample).
ctl_source() {
  k -n "$1" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
  k -n "$1" create serviceaccount default >/dev/null 2>&1 || true
  k -n "$1" apply -f "${2:-$SEED/source.yaml}" >/dev/null
}

# env_of NS DEPLOYMENT NAME: the value of one env var of its first container.
env_of() {
  k -n "$1" get deploy "$2" -o jsonpath="{.spec.template.spec.containers[0].env[?(@.name==\"$3\")].value}"
}

# kq ARGS...: k, quietly (for wait_for).
kq() { k "$@" >/dev/null 2>&1; }

# The shipped controller Deployment agrees with what `vsgate controller` serves: the binary is
# started with exactly the container's args and env (fieldRefs resolved; only --kubeconfig added,
# since there is no in-cluster service account here) and then
#   - every probe answers 200 on the port it names (the pod would never be Ready otherwise, and
#     the binding webhook behind the Service would refuse workloads: issue #12);
#   - the process listens on exactly the declared containerPorts, no more, no fewer;
#   - http-metrics serves /metrics with a reconcile counter for every reconciler shipped in
#     lua/reconcilers/ (all of them run by default; the Deployment passes no --reconcilers);
#   - https-webhook speaks TLS;
#   - every env var the Deployment sets is one the binary reads (its --help lists it);
#   - the Service's targetPorts and selector, and the webhook configurations' service
#     references, land on those container ports and pod labels.
# The controller binds the Deployment's fixed ports (8443, 9090, 8080) on all addresses of the
# host for the few seconds of the test; ctest runs e2e tests one at a time.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$E2E_LIB")/controller_lib.sh"
e2e_begin deploy_consistency
D=$VSG_SOURCE_DIR/deploy

# ---- What deploy/ declares, as shell assignments (python3-yaml parses the manifests).
python3 - "$D/system/600-controller.yaml" "$D/system/500-service.yaml" \
  "$D/webhooks/700-webhook-configurations.yaml" >"$E2E_DIR/decl.sh" <<'PY'
import shlex, sys, yaml
dep = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "Deployment")
svc = next(d for d in yaml.safe_load_all(open(sys.argv[2])) if d and d.get("kind") == "Service")
whs = [d for d in yaml.safe_load_all(open(sys.argv[3])) if d]
pod = dep["spec"]["template"]
c = pod["spec"]["containers"]
if len(c) != 1: sys.exit("expected one container, found %d" % len(c))
c = c[0]
out = []
def put(name, value): out.append("%s=%s" % (name, shlex.quote(str(value))))
put("ARGS", " ".join(c.get("args", [])))
if c.get("command"): sys.exit("the container sets command; the image's ENTRYPOINT is vsgate")
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
put("PORTS", " ".join("%s=%s" % kv for kv in sorted(ports.items())))
env = []
for e in c.get("env", []):
    if "value" in e:
        env.append("%s=%s" % (e["name"], e["value"]))
    else:
        ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        val = {"metadata.namespace": dep["metadata"]["namespace"],
               "metadata.name": "vsphere-source-webhook-consistency"}.get(ref)
        if val is None: sys.exit("env %s: unsupported valueFrom %r" % (e["name"], e.get("valueFrom")))
        env.append("%s=%s" % (e["name"], val))
put("ENVS", "\n".join(env))
probes = []
for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
    p = c.get(kind)
    if not p: continue
    h = p.get("httpGet")
    if not h: sys.exit("%s is not an httpGet probe" % kind)
    port = h["port"]
    if not isinstance(port, int):
        if port not in ports: sys.exit("%s names port %r, which the container does not declare" % (kind, port))
        port = ports[port]
    probes.append("%s %s %s %s" % (kind, h.get("scheme", "HTTP").lower(), port, h.get("path", "/")))
if not any(p.startswith("readinessProbe") for p in probes): sys.exit("no readinessProbe")
put("PROBES", "\n".join(probes))
# Service: selector ⊆ pod labels, targetPorts name declared container ports.
labels = pod["metadata"].get("labels", {})
for k, v in svc["spec"]["selector"].items():
    if labels.get(k) != v: sys.exit("Service selector %s=%s does not match the pod labels" % (k, v))
svcports = {}
for p in svc["spec"]["ports"]:
    t = p.get("targetPort", p["port"])
    if isinstance(t, str) and t not in ports:
        sys.exit("Service port %s targets %r, not a container port" % (p["port"], t))
    svcports[p["port"]] = ports[t] if isinstance(t, str) else t
# Webhook configurations: by this Service, on a Service port that reaches https-webhook.
for d in whs:
    for w in d.get("webhooks", []):
        s = w["clientConfig"].get("service")
        if not s: sys.exit("webhook %s is not called through the Service" % w["name"])
        if (s["name"], s["namespace"]) != (svc["metadata"]["name"], svc["metadata"]["namespace"]):
            sys.exit("webhook %s calls Service %s/%s" % (w["name"], s["namespace"], s["name"]))
        if svcports.get(s.get("port", 443)) != ports.get("https-webhook"):
            sys.exit("webhook %s: Service port %s does not reach https-webhook" % (w["name"], s.get("port", 443)))
put("NS", dep["metadata"]["namespace"])
print("\n".join(out))
PY
# shellcheck source=/dev/null  # written at run time
. "$E2E_DIR/decl.sh"
[ -n "$ARGS" ] || fail "the controller container passes no args (expected the subcommand)"
sub=${ARGS%% *}

# ---- Every env var is one the binary reads.
help=$("$VSG_BIN" "$sub" --help)
while IFS= read -r kv; do
  [ -n "$kv" ] || continue
  name=${kv%%=*}
  case "$help" in *"$name"*) ;; *) fail "the Deployment sets $name, which \`vsgate $sub\` does not read (not in its --help)" ;; esac
done <<<"$ENVS"

# ---- The ports are ours for the test.
for pp in $PORTS; do
  p=${pp#*=}
  ! ss -Hltn "sport = :$p" | grep . >/dev/null || fail "port $p (${pp%%=*}) is in use on this machine; cannot run the Deployment's ports"
done

ctl_setup
k apply -f "$D/system/400-config-logging.yaml" -f "$D/system/401-config-observability.yaml" \
  -f "$D/system/402-config-leader-election.yaml" -f "$D/system/300-secret-webhook-certs.yaml" >/dev/null

mapfile -t envarr <<<"$ENVS"
# shellcheck disable=SC2086 # ARGS is the container's args, split as the kubelet would
e2e_bg ctl "$E2E_DIR/controller.log" env -i PATH="$PATH" HOME="$E2E_DIR" "${envarr[@]}" \
  ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
  "$VSG_BIN" $ARGS --kubeconfig "$VSG_CONTROLLER_KUBECONFIG"
pid=$E2E_PID

# ---- Probes: readiness within 60 s, then every probe 200.
probe_ok() { # scheme port path
  [ "$(curl -ks -o /dev/null -w '%{http_code}' "$1://127.0.0.1:$2$3")" = 200 ]
}
ready=$(awk '$1 == "readinessProbe" {print $2, $3, $4}' <<<"$PROBES")
# shellcheck disable=SC2086
retry 60 probe_ok $ready || { _e2e_alive "$pid" || fail "controller exited: $(tail -n 5 "$E2E_DIR/controller.log")"
  fail "readiness probe ($ready) not 200 within 60 s: $(tail -n 5 "$E2E_DIR/controller.log")"; }
while read -r kind scheme port path; do
  probe_ok "$scheme" "$port" "$path" || fail "$kind $scheme://:$port$path does not answer 200"
done <<<"$PROBES"

# ---- Listening ports: exactly the declared ones.
want=$(for pp in $PORTS; do echo "${pp#*=}"; done | sort -n | tr '\n' ' ')
got=$(ss -Hltnp | awk -v p="pid=$pid," 'index($0, p) { n = split($4, a, ":"); print a[n] }' | sort -nu | tr '\n' ' ')
[ "$got" = "$want" ] || fail "the controller listens on [$got]; the Deployment declares [$want] ($PORTS)"

port_of() { for pp in $PORTS; do [ "${pp%%=*}" = "$1" ] && { echo "${pp#*=}"; return; }; done; fail "no container port named $1"; }
# ---- Metrics: a reconcile counter for every shipped reconciler.
metrics=$(curl -fsS "http://127.0.0.1:$(port_of http-metrics)/metrics")
kinds=$(sed -n 's/^vsgate_reconcile_total{kind="\([A-Za-z]*\)".*/\1/p' <<<"$metrics" | tr '[:upper:]' '[:lower:]' | sort -u)
for f in "$VSG_SOURCE_DIR"/lua/reconcilers/*.lua; do
  m=$(basename "$f" .lua) # a reconciler module is named after its kind, lower case
  grep -qx "$m" <<<"$kinds" || fail "reconciler $m does not run with the Deployment's args (reconciled kinds: $(paste -sd ' ' <<<"$kinds"))"
done
# ---- The webhook port speaks TLS.
code=$(curl -ks -o /dev/null -w '%{http_code}' "https://127.0.0.1:$(port_of https-webhook)/")
[ "$code" != 000 ] || fail "https-webhook does not answer HTTPS"
# ---- SIGTERM: not ready at once, admission still answered during the drain, then a clean exit.
kill -TERM "$pid"
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 3 eval '! probe_ok $ready' || fail "/readyz still 200 after SIGTERM"
code2=$(curl -ks -o /dev/null -w '%{http_code}' "https://127.0.0.1:$(port_of https-webhook)/")
[ "$code2" != 000 ] || fail "the webhook stopped answering at once on SIGTERM (no drain)"
e2e_stop "$pid" TERM
[ "$E2E_RC" = 0 ] || fail "the controller exited with $E2E_RC after SIGTERM"
echo "deploy_consistency: probes [$(tr '\n' ';' <<<"$PROBES")], ports [$want], reconcilers ok, TLS $code"

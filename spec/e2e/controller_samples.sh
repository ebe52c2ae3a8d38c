# The upstream sample VSphereSources (samples/upstream/source*.yaml: sink by
# uri, by v1 Service, by a Knative-Service-shaped and a Broker-shaped
# Addressable from test CRDs) reconciled by `vsgate controller` as its own
# identity (deploy/ RBAC + a test role for the test CRDs, which the
# aggregated addressable-resolver role would give in a real cluster): every
# child exactly as CONTRACTS §2 says (names, labels, ownerReferences, env),
# status.sinkUri, an Addressable without address => SinkNotFound until its
# status.address.url is written, Ready follows AdapterReady (the Deployment's
# Available, written through /status), a long name gets hashed child names.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin controller_samples
ctl_setup
test_addressable_crds
more_on_exit k delete clusterrolebinding,clusterrole -l vsgate-e2e=true --wait=false
more_on_exit k delete crd -l vsgate-e2e=true --wait=false
ns=$(new_ns ctl-samples)
S=$VSG_SOURCE_DIR/samples/upstream
k -n "$ns" apply -f "$S/vsphere-credentials.yaml" >/dev/null
k -n "$ns" create serviceaccount default >/dev/null
# The sinks: a v1 Service, a Broker with its address; the Knative Service
# first without one.
k -n "$ns" create service clusterip the-service-name --tcp=80:8080 >/dev/null
k -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: eventing.knative.dev/v1beta1
kind: Broker
metadata: {name: default}
spec: {}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: the-knative-service-name}
spec: {}
YAML
k -n "$ns" patch broker.eventing.knative.dev default --subresource=status --type merge \
  -p "{\"status\":{\"address\":{\"url\":\"http://broker-ingress.knative-eventing.svc.cluster.local/$ns/default\"}}}" >/dev/null
for f in source source-sink-service source-sink-ksvc source-sink-broker; do
  k -n "$ns" apply -f "$S/$f.yaml" >/dev/null
done
# The source reconciler alone: the children as it writes them (the binding
# reconciler, on by default, would add CONTRACTS §5's VC_* env to the
# adapter, and write the bindings' status that this test writes below).
ctl_start a --lease-name "ctl-samples-$ns" --reconcilers vspheresource

# ---- the Knative Service has no address yet: SinkNotFound, then tracked -----
wait_cond 60 "$ns" source-to-ksvc AdapterReady False/SinkNotFound
expect_contains "$(cond_msg "$ns" source-to-ksvc AdapterReady)" 'Service "the-knative-service-name" (serving.knative.dev/v1)' "SinkNotFound message"
expect_contains "$(cond_msg "$ns" source-to-ksvc AdapterReady)" "status.address.url" "SinkNotFound message"
[ "$(cond "$ns" source-to-ksvc Ready)" = "False/SinkNotFound" ] || fail "Ready of source-to-ksvc: $(cond "$ns" source-to-ksvc Ready)"
k -n "$ns" patch services.serving.knative.dev the-knative-service-name --subresource=status --type merge \
  -p "{\"status\":{\"address\":{\"url\":\"http://the-knative-service-name.$ns.svc.cluster.local\"}}}" >/dev/null

declare -A SINK=(
  [source]="http://where.to.send.stuff"
  [source-to-service]="http://the-service-name.$ns.svc.cluster.local"
  [source-to-ksvc]="http://the-knative-service-name.$ns.svc.cluster.local"
  [source-to-broker]="http://broker-ingress.knative-eventing.svc.cluster.local/$ns/default"
)
for n in "${!SINK[@]}"; do
  wait_jp 60 "$ns" vss "$n" '{.status.sinkUri}' "${SINK[$n]}"
  wait_for 30 "$n-adapter" kq -n "$ns" get deploy "$n-adapter"
done

# The config maps the env is made from (maybe absent in the harness).
k -n vmware-sources get configmap config-logging -o json >"$E2E_DIR/logging.json" 2>/dev/null || echo null >"$E2E_DIR/logging.json"
k -n vmware-sources get configmap config-observability -o json >"$E2E_DIR/obs.json" 2>/dev/null || echo null >"$E2E_DIR/obs.json"

# child_name NAME SUFFIX: Knative's kmeta.ChildName (CONTRACTS §2).
child_name() {
  local n=$1 s=$2
  if [ $(( ${#n} + ${#s} )) -le 63 ]; then echo "$n$s"
  else echo "${n:0:$((31 - ${#s}))}$(printf %s "$n" | md5sum | cut -c1-32)$s"; fi
}
# check_children NS NAME SINK: CONTRACTS §2 field by field.
check_children() {
  local ns=$1 n=$2 sink=$3
  {
    k -n "$ns" get vss "$n" -o json
    k -n "$ns" get vspherebinding "$(child_name "$n" -vspherebinding)" -o json
    k -n "$ns" get configmap "$(child_name "$n" -configmap)" -o json
    k -n "$ns" get rolebinding "$(child_name "$n" -rolebinding)" -o json
    k -n "$ns" get deploy "$(child_name "$n" -adapter)" -o json
  } | jq -s . >"$E2E_DIR/children-$n.json" || fail "children of $n missing"
  python3 - "$E2E_DIR/children-$n.json" "$ns" "$n" "$sink" "$E2E_DIR/logging.json" "$E2E_DIR/obs.json" <<'PY' || fail "children of $n differ from CONTRACTS §2"
import hashlib, json, sys
objs, ns, n, sink, logf, obsf = json.load(open(sys.argv[1])), *sys.argv[2:7]
h = hashlib.md5(n.encode()).hexdigest()
def child(suffix): return n + suffix if len(n) + len(suffix) <= 63 else n[:31 - len(suffix)] + h + suffix
label = n if len(n) <= 63 else n[:31] + h
src, vsb, cm, rb, dep = objs
errs = []
def eq(what, got, want):
    if got != want: errs.append(f"{what}: got {got!r}, want {want!r}")
owner = [{"apiVersion": "sources.tanzu.vmware.com/v1alpha1", "kind": "VSphereSource", "name": n,
          "uid": src["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}]
for o, name in ((vsb, child("-vspherebinding")), (cm, child("-configmap")), (rb, child("-rolebinding")), (dep, child("-adapter"))):
    if len(name) > 63: errs.append(f"name too long: {name}")
    eq(o["kind"] + " name", o["metadata"]["name"], name)
    eq(o["kind"] + " ownerReferences", o["metadata"].get("ownerReferences"), owner)
s = src["spec"]
eq("binding spec", vsb["spec"], {"address": s["address"], "skipTLSVerify": True,
   "secretRef": {"name": "vsphere-credentials"},
   "subject": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": ns, "name": child("-adapter")}})
eq("configmap data", cm.get("data"), None)
eq("rolebinding roleRef", rb["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "vsphere-receive-adapter-cm"})
eq("rolebinding subjects", rb["subjects"], [{"kind": "ServiceAccount", "name": "default", "namespace": ns}])
L = {"vspheresources.sources.tanzu.vmware.com/name": label}
ds = dep["spec"]
eq("deployment labels", dep["metadata"].get("labels"), L)
eq("selector", ds["selector"], {"matchLabels": L})
eq("template labels", ds["template"]["metadata"].get("labels"), L)
eq("replicas", ds["replicas"], 1)
eq("strategy", ds["strategy"], {"type": "Recreate"})
pod = ds["template"]["spec"]
eq("serviceAccountName", pod.get("serviceAccountName"), "default")
eq("containers", [x["name"] for x in pod["containers"]], ["adapter"])
ct = pod["containers"][0]
eq("image", ct["image"], "registry.example/vsgate:e2e")
env = ct["env"]
def val(e): return e.get("value", "")
eq("env names", [e["name"] for e in env], ["NAMESPACE", "NAME", "K_METRICS_CONFIG", "K_LOGGING_CONFIG",
   "VSPHERE_KVSTORE_CONFIGMAP", "VSPHERE_CHECKPOINT_CONFIG", "VSPHERE_PAYLOAD_ENCODING", "K_CE_OVERRIDES", "K_SINK",
   "VSPHERE_SESSION_FILE", "VSPHERE_SOURCE_NAME", "VSPHERE_HEALTH_PORT"])
E = {e["name"]: e for e in env}
eq("NAMESPACE", E["NAMESPACE"].get("valueFrom"), {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}})
eq("NAME", E["NAME"].get("valueFrom"), {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}})
eq("VSPHERE_KVSTORE_CONFIGMAP", val(E["VSPHERE_KVSTORE_CONFIGMAP"]), child("-configmap"))
eq("VSPHERE_CHECKPOINT_CONFIG", val(E["VSPHERE_CHECKPOINT_CONFIG"]), '{"maxAge":"5m0s","period":"10s"}')
eq("VSPHERE_PAYLOAD_ENCODING", val(E["VSPHERE_PAYLOAD_ENCODING"]), "application/xml")
eq("K_CE_OVERRIDES", val(E["K_CE_OVERRIDES"]), "")
eq("K_SINK", val(E["K_SINK"]), sink)
# Ours: the vCenter session survives a container restart in memory only.
eq("VSPHERE_SESSION_FILE", val(E["VSPHERE_SESSION_FILE"]), "/var/run/vsgate/vcenter-session")
# Ours: the adapter's Events go to the source, not to a VSphereSource named after the pod.
eq("VSPHERE_SOURCE_NAME", val(E["VSPHERE_SOURCE_NAME"]), n)
# Ours: readiness means logged in to vCenter; no liveness probe (outages are retried, not restarted).
eq("VSPHERE_HEALTH_PORT", val(E["VSPHERE_HEALTH_PORT"]), "8080")
eq("readinessProbe", {k: ct["readinessProbe"][k] for k in ("httpGet", "periodSeconds", "timeoutSeconds", "failureThreshold")},
   {"httpGet": {"path": "/readyz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 2})
eq("livenessProbe", ct.get("livenessProbe"), None)
eq("session mount", [m for m in ct.get("volumeMounts", []) if m["name"] == "vsgate-session"],
   [{"name": "vsgate-session", "mountPath": "/var/run/vsgate"}])
eq("session volume", [v for v in pod.get("volumes", []) if v["name"] == "vsgate-session"],
   [{"name": "vsgate-session", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}}])
logcm, obscm = json.load(open(logf)), json.load(open(obsf))
if logcm is None: eq("K_LOGGING_CONFIG", val(E["K_LOGGING_CONFIG"]), "")
else:
    want = {k: v for k, v in (logcm.get("data") or {}).items() if k == "zap-logger-config" or k.startswith("loglevel.")}
    eq("K_LOGGING_CONFIG", json.loads(val(E["K_LOGGING_CONFIG"])), want)
if obscm is None: eq("K_METRICS_CONFIG", val(E["K_METRICS_CONFIG"]), "")
else:
    got = val(E["K_METRICS_CONFIG"])
    want = {k: v for k, v in (obscm.get("data") or {}).items() if k != "_example"}
    eq("K_METRICS_CONFIG keys", list(json.loads(got).keys()), ["Domain", "Component", "PrometheusPort", "PrometheusHost", "ConfigMap"])
    eq("K_METRICS_CONFIG", json.loads(got), {"Domain": "tanzu.vmware.com/sources", "Component": "vspheresource",
       "PrometheusPort": 0, "PrometheusHost": "", "ConfigMap": want})
st = src.get("status", {})
eq("status.sinkUri", st.get("sinkUri"), sink)
eq("observedGeneration", st.get("observedGeneration"), src["metadata"]["generation"])
for e in errs: print("  " + e, file=sys.stderr)
sys.exit(1 if errs else 0)
PY
}
for n in "${!SINK[@]}"; do check_children "$ns" "$n" "${SINK[$n]}"; done

# ---- Ready follows AdapterReady (Available of the Deployment) ----------------
# AuthReady mirrors the binding's Ready, which the binding reconciler writes
# (not running here): the test writes it, as for the Deployment.
for n in "${!SINK[@]}"; do
  k -n "$ns" patch vspherebinding "$n-vspherebinding" --subresource=status --type merge \
    -p '{"status":{"conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2024-01-01T00:00:00Z"}]}}' >/dev/null
done
for n in "${!SINK[@]}"; do
  wait_cond 30 "$ns" "$n" AuthReady True
  set_available "$ns" "$n-adapter" True
done
for n in "${!SINK[@]}"; do
  wait_cond 30 "$ns" "$n" AdapterReady True
  wait_cond 30 "$ns" "$n" Ready True
done
set_available "$ns" source-to-broker-adapter False
wait_cond 30 "$ns" source-to-broker AdapterReady False/TestSetFalse
wait_cond 30 "$ns" source-to-broker Ready False/TestSetFalse
expect_contains "$(cond_msg "$ns" source-to-broker Ready)" "set by the e2e test" "Ready's message copied from Available"
_cond_is "$ns" source Ready True || fail "another source's Ready changed: $(cond "$ns" source Ready)"
set_available "$ns" source-to-broker-adapter True
wait_cond 30 "$ns" source-to-broker Ready True

# ---- a long name: hashed child names, hashed label ---------------------------
long=sample-$(printf 'x%.0s' $(seq 70))
sed "s/^  name: source-to-service$/  name: $long/" "$S/source-sink-service.yaml" >"$E2E_DIR/long.yaml"
k -n "$ns" apply -f "$E2E_DIR/long.yaml" >/dev/null
h=$(printf %s "$long" | md5sum | cut -c1-32)
[ "$(child_name "$long" -adapter)" = "${long:0:23}$h-adapter" ] || fail "child_name"
wait_for 60 "the hashed Deployment name" kq -n "$ns" get deploy "${long:0:23}$h-adapter"
wait_jp 30 "$ns" vss "$long" '{.status.sinkUri}' "http://the-service-name.$ns.svc.cluster.local"
check_children "$ns" "$long" "http://the-service-name.$ns.svc.cluster.local"

e2e_stop "$CTL_PID"
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$CTL_LOG" || fail "sanitizer report in $CTL_LOG"
echo "controller_samples: ok"

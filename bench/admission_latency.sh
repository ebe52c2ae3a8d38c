#!/usr/bin/env bash
# bench/admission_latency.sh - the admission webhook figures (issue 6,
# "Figures"): a PRIVATE etcd + kube-apiserver (spec/harness/up --no-vcsim),
# `vsgate controller` from a Release build with its webhooks registered by
# URL on 127.0.0.1 (the configurations are deleted before it stops) and the
# VSphereBinding reconciler. Reports:
#   - admission latency p50/p99 (and throughput) at 1 and BENCH_CONC
#     concurrent requests, load from a second process (bench/admission_load.c,
#     keep-alive TLS on loopback) POSTing a recorded AdmissionReview straight
#     to the webhook port: defaulting of a VSphereSource (/defaulting) and
#     binding mutation of a Deployment (/vspherebindings, one binding names it);
#   - the controller's RSS before and VmHWM under that load;
#   - the time to bind BENCH_DEPLOYMENTS existing Deployments with one
#     selector binding (from the binding's POST until all have VC_URL).
# Figures are printed, not asserted.
#
# Environment (defaults in brackets):
#   BENCH_DEPLOYMENTS [500]  BENCH_CONC [50]  BENCH_SECONDS [10] per load run
#   BENCH_WH_THREADS [4] webhook workers  BENCH_PARALLEL [16] concurrent POSTs
#   BENCH_BUILD [build-bench]  Release build without sanitizers (built if missing)
#   BENCH_KEEP=1 keeps the logs' folder.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
N=${BENCH_DEPLOYMENTS:-500}
C=${BENCH_CONC:-50}
secs=${BENCH_SECONDS:-10}
threads=${BENCH_WH_THREADS:-4}
P=${BENCH_PARALLEL:-16}
timeout_s=${BENCH_TIMEOUT_S:-600}


load=$build/bench/admission-load
bench_release_build vsgate admission-load

# ---- everything started is stopped on exit; configurations go first ----------
tmp=$(mktemp -d /tmp/vsgate-whbench.XXXXXX)
ctl_pid=""
WH_CONFS=""  # set by spec/e2e/webhook_lib.sh once the peers are up
cleanup() {
  local rc=$? c
  trap - EXIT INT TERM
  if [ -n "$ctl_pid" ]; then
    for c in $WH_CONFS; do k delete "$c" --ignore-not-found --wait=false >/dev/null 2>&1 || true; done
    kill -TERM "$ctl_pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$ctl_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$ctl_pid" 2>/dev/null; then
      note "the controller did not stop within 15 s of SIGTERM: killed"
      kill -KILL "$ctl_pid" 2>/dev/null || true
    fi
    wait "$ctl_pid" 2>/dev/null || true
  fi
  { [ -e "$tmp/peers/env" ] && "$root/spec/harness/down" "$tmp/peers" >/dev/null 2>&1; } || true
  if [ "$rc" -ne 0 ] || [ "${BENCH_KEEP:-0}" = 1 ]; then note "logs kept in $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- private peers, CRDs, RBAC ----------------------------------------------
bench_kube_peers
# shellcheck source=spec/e2e/webhook_lib.sh
. "$root/spec/e2e/webhook_lib.sh"
wh_url_mode_rbac vsgate-bench-webhook-url-mode
ns=bench
k create namespace "$ns" >/dev/null
k -n "$ns" apply -f "$root/samples/upstream/vsphere-credentials.yaml" >/dev/null
pki=$VSG_HARNESS_DIR/pki
api() { curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$@"; }

# ---- the controller, webhooks by URL ---------------------------------------------
mport=$(_e2e_free_port); hport=$(_e2e_free_port); wport=$(_e2e_free_port)
"$vsgate" controller --kubeconfig "$VSG_CONTROLLER_KUBECONFIG" --namespace vmware-sources --lua-root "$root/lua" \
  --lease-name vsgate-whbench --reconcilers vspherebinding \
  --webhook-url-base "https://127.0.0.1:$wport" --webhook-addr 127.0.0.1 --webhook-port "$wport" \
  --webhook-threads "$threads" \
  --metrics-addr "127.0.0.1:$mport" --health-addr 127.0.0.1 --health-port "$hport" \
  >"$tmp/controller.log" 2>&1 </dev/null &
ctl_pid=$!
retry 30 curl -fsS "http://127.0.0.1:$hport/readyz" -o /dev/null 2>/dev/null || die "controller not ready: $(tail -n 5 "$tmp/controller.log")"
for c in $WH_CONFS; do retry 30 kq get "$c" || die "no $c"; done
retry 30 kq -n vmware-sources get secret vsphere-webhook-certs || die "no webhook certificate Secret"
k -n vmware-sources get secret vsphere-webhook-certs -o jsonpath='{.data.ca-cert\.pem}' | base64 -d >"$tmp/ca.pem"
rss_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$ctl_pid/status"; }

# ---- the recorded AdmissionReviews ----------------------------------------------------
cat <<YAML | k apply -f - >/dev/null
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereBinding
metadata: {name: bench-web, namespace: $ns}
spec:
  subject: {apiVersion: apps/v1, kind: Deployment, name: web}
  address: https://vcenter.corp.local
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
YAML
dep_json() { # dep_json NAME LABELS-JSON
  printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"%s","namespace":"%s","labels":%s},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"%s"}},"template":{"metadata":{"labels":{"app":"%s"}},"spec":{"initContainers":[{"name":"init","image":"busybox"}],"containers":[{"name":"a","image":"busybox","env":[{"name":"KEEP","value":"1"}]},{"name":"b","image":"busybox"}]}}}}' "$1" "$ns" "$2" "$1" "$1"
}
review() { # review GROUP VERSION KIND RESOURCE OBJECT-JSON
  printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"0b2c6a43-0c3c-4b5c-9f3e-000000000001","kind":{"group":"%s","version":"%s","kind":"%s"},"resource":{"group":"%s","version":"%s","resource":"%s"},"requestKind":{"group":"%s","version":"%s","kind":"%s"},"name":"x","namespace":"%s","operation":"CREATE","userInfo":{"username":"admin","groups":["system:masters"]},"object":%s,"oldObject":null,"dryRun":false,"options":{"apiVersion":"meta.k8s.io/v1","kind":"CreateOptions"}}}' \
    "$1" "$2" "$3" "$1" "$2" "$4" "$1" "$2" "$3" "$ns" "$5"
}
review sources.tanzu.vmware.com v1alpha1 VSphereSource vspheresources \
  "{\"apiVersion\":\"sources.tanzu.vmware.com/v1alpha1\",\"kind\":\"VSphereSource\",\"metadata\":{\"name\":\"x\",\"namespace\":\"$ns\"},\"spec\":{\"address\":\"https://vcenter.corp.local\",\"skipTLSVerify\":true,\"secretRef\":{\"name\":\"vsphere-credentials\"},\"sink\":{\"uri\":\"http://sink.example/\"}}}" \
  >"$tmp/review-defaulting.json"
review apps v1 Deployment deployments "$(dep_json web '{"app":"web"}')" >"$tmp/review-binding.json"
# The binding must be in the webhook's cache, and each answer must patch.
retry 30 sh -c "curl -fsS --cacert $tmp/ca.pem -H 'Content-Type: application/json' --data-binary @$tmp/review-binding.json https://127.0.0.1:$wport/vspherebindings | grep -q '\"patch\"'" ||
  die "the binding webhook does not patch the recorded Deployment"
curl -fsS --cacert "$tmp/ca.pem" -H 'Content-Type: application/json' --data-binary @"$tmp/review-defaulting.json" \
  "https://127.0.0.1:$wport/defaulting" | grep -q '"patch"' || die "the defaulting webhook does not patch the recorded source"

# ---- admission latency ------------------------------------------------------------------
sleep 1
rss0=$(rss_kb VmRSS); hwm0=$(rss_kb VmHWM)
results=()
for path in defaulting vspherebindings; do
  body=$tmp/review-defaulting.json
  [ "$path" = vspherebindings ] && body=$tmp/review-binding.json
  for conc in 1 "$C"; do
    note "load: /$path, $conc concurrent, ${secs}s"
    line=$("$load" "https://127.0.0.1:$wport/$path" "$body" "$tmp/ca.pem" "$conc" "$secs") || die "load /$path x$conc: $line"
    results+=("/$path c=$conc $line")
  done
done
hwm_load=$(rss_kb VmHWM); rss_load=$(rss_kb VmRSS)

# ---- N existing Deployments, one selector binding -----------------------------------------
mkdir -p "$tmp/dep"
for i in $(seq 1 "$N"); do dep_json "$(printf 'many-%05d' "$i")" '{"bench":"many"}' >"$tmp/dep/$i.json"; done
durl="$VSG_APISERVER/apis/apps/v1/namespaces/$ns/deployments"
note "creating $N Deployments ($P parallel POSTs)"
seq 1 "$N" | xargs -P "$P" -I{} curl -fsS -o /dev/null --cacert "$pki/ca.crt" --cert "$pki/admin.crt" \
  --key "$pki/admin.key" -H 'Content-Type: application/json' --data-binary "@$tmp/dep/{}.json" "$durl" ||
  die "creating the Deployments failed"
bound() { api "$durl?labelSelector=bench%3Dmany" | jq '[.items[] | select([.spec.template.spec.containers[].env[]? | select(.name=="VC_URL")] | length > 0)] | length'; }
[ "$(bound)" = 0 ] || die "Deployments bound before the binding"
note "binding them with one selector binding"
t0=$(date +%s.%N)
cat <<YAML | k apply -f - >/dev/null
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereBinding
metadata: {name: bench-many, namespace: $ns}
spec:
  subject: {apiVersion: apps/v1, kind: Deployment, selector: {matchLabels: {bench: many}}}
  address: https://vcenter.corp.local
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
YAML
end=$(( SECONDS + timeout_s ))
until [ "$(bound)" -ge "$N" ]; do
  [ $SECONDS -lt $end ] || die "not all bound after ${timeout_s}s: $(bound)/$N"
  kill -0 "$ctl_pid" 2>/dev/null || die "the controller died: $(tail -n 5 "$tmp/controller.log")"
  sleep 0.2
done
t_done=$(date +%s.%N)

# ---- the table ----------------------------------------------------------------------
printf '\nvsgate controller admission webhooks (%s workers), private etcd + kube-apiserver, %d CPUs, load from admission-load (keep-alive TLS, loopback)\n' "$threads" "$(nproc)"
printf '%-34s %8s %8s %8s %8s %8s\n' "route / concurrency" "requests" "req/s" "p50 ms" "p99 ms" "max ms"
for r in "${results[@]}"; do
  read -r -a fields <<<"$r"
  set -- "${fields[@]}"
  awk -v route="$1 $2" -v l="$*" 'BEGIN {
    n = split(l, f, " "); for (i = 1; i <= n; i++) { split(f[i], kv, "="); v[kv[1]] = kv[2] }
    printf "%-34s %8d %8d %8.2f %8.2f %8.2f\n", route, v["n"], v["rps"], v["p50_ms"], v["p99_ms"], v["max_ms"] }'
done
awk -v r0="$rss0" -v h0="$hwm0" -v hl="$hwm_load" -v rl="$rss_load" -v n="$N" -v t0="$t0" -v td="$t_done" 'BEGIN {
  printf "%-52s %.1f MiB (VmHWM %.1f MiB)\n", "controller RSS before the load", r0 / 1024, h0 / 1024
  printf "%-52s %.1f MiB (VmRSS after: %.1f MiB)\n", "controller peak RSS (VmHWM) under the load", hl / 1024, rl / 1024
  printf "%-52s %.2f s (%.0f Deployments/s)\n", "bind " n " existing Deployments (one selector binding)", td - t0, n / (td - t0)
}'

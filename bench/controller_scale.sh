#!/usr/bin/env bash
# bench/controller_scale.sh - the controller's figures (issue 5, "Figures"):
# a PRIVATE etcd + kube-apiserver (spec/harness/up --no-vcsim, free ports),
# `vsgate controller` from a Release build as the controller identity bound
# to deploy/'s RBAC, one namespace with the credentials Secret and the
# `default` service account. Creates BENCH_SOURCES VSphereSources (sink uri)
# as fast as it can (parallel POSTs with curl) and reports:
#   - the time from the first POST until every source has its Deployment and
#     status.observedGeneration == metadata.generation;
#   - the controller's peak RSS (VmHWM) and RSS;
#   - API requests per source (vsgate_kube_requests_total delta / N, from
#     just before the first POST until convergence), reconciles per source;
#   - CPU while idle with all sources (utime+stime delta over BENCH_IDLE_S).
# Figures are printed, not asserted.
#
# Environment (defaults in brackets):
#   BENCH_SOURCES [1000]   BENCH_PARALLEL [16] concurrent POSTs
#   BENCH_IDLE_S [30]      BENCH_TIMEOUT_S [900] to converge
#   BENCH_BUILD [build-bench]  Release build without sanitizers (built if missing)
#   BENCH_KEEP=1 keeps the logs' folder.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
N=${BENCH_SOURCES:-1000}
P=${BENCH_PARALLEL:-16}
idle_s=${BENCH_IDLE_S:-30}
timeout_s=${BENCH_TIMEOUT_S:-900}


bench_release_build vsgate

# ---- everything started is stopped on exit ----------------------------------
tmp=$(mktemp -d /tmp/vsgate-ctlbench.XXXXXX)
ctl_pid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$ctl_pid" ]; then
    kill -TERM "$ctl_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$ctl_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ctl_pid" 2>/dev/null || true
  fi
  { [ -e "$tmp/peers/env" ] && "$root/spec/harness/down" "$tmp/peers" >/dev/null 2>&1; } || true
  if [ "$rc" -ne 0 ] || [ "${BENCH_KEEP:-0}" = 1 ]; then note "logs kept in $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- private peers, CRDs, RBAC ----------------------------------------------
bench_kube_peers
ns=bench
k create namespace "$ns" >/dev/null
k -n "$ns" apply -f "$root/samples/upstream/vsphere-credentials.yaml" >/dev/null
k -n "$ns" create serviceaccount default >/dev/null
pki=$VSG_HARNESS_DIR/pki
api() { curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" "$@"; }

# ---- the controller ------------------------------------------------------------
mport=$(_e2e_free_port); hport=$(_e2e_free_port)
env VSPHERE_ADAPTER=registry.example/vsgate:bench "$vsgate" controller \
  --kubeconfig "$VSG_CONTROLLER_KUBECONFIG" --namespace vmware-sources --lua-root "$root/lua" --no-webhook \
  --lease-name vsgate-bench --metrics-addr "127.0.0.1:$mport" --health-addr 127.0.0.1 --health-port "$hport" \
  >"$tmp/controller.log" 2>&1 </dev/null &
ctl_pid=$!
retry 30 curl -fsS "http://127.0.0.1:$hport/readyz" -o /dev/null 2>/dev/null || die "controller not ready: $(tail -n 5 "$tmp/controller.log")"
retry 30 sh -c "curl -fsS http://127.0.0.1:$mport/metrics | grep -qx 'vsgate_leader 1'" || die "controller does not lead"
metric() { curl -fsS "http://127.0.0.1:$mport/metrics" | awk -v m="$1" '$1 == m { print $2; f = 1 } END { if (!f) print 0 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$ctl_pid/stat"; }
hz=$(getconf CLK_TCK)
rss_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$ctl_pid/status"; }
sleep 1
req0=$(metric vsgate_kube_requests_total)
rec0=$(metric 'vsgate_reconcile_total{kind="VSphereSource",result="success"}')
rss_before=$(rss_kb VmRSS)

# ---- N sources, parallel POSTs ---------------------------------------------------
mkdir -p "$tmp/src"
for i in $(seq 1 "$N"); do
  printf '{"apiVersion":"sources.tanzu.vmware.com/v1alpha1","kind":"VSphereSource","metadata":{"name":"src-%05d"},"spec":{"address":"https://vcenter.corp.local","skipTLSVerify":true,"secretRef":{"name":"vsphere-credentials"},"sink":{"uri":"http://sink-%d.example/"},"checkpointConfig":{"maxAgeSeconds":300,"periodSeconds":10}}}' "$i" "$i" >"$tmp/src/$i.json"
done
url="$VSG_APISERVER/apis/sources.tanzu.vmware.com/v1alpha1/namespaces/$ns/vspheresources"
note "creating $N VSphereSources ($P parallel POSTs)"
t0=$(date +%s.%N)
seq 1 "$N" | xargs -P "$P" -I{} curl -fsS -o /dev/null --cacert "$pki/ca.crt" --cert "$pki/admin.crt" \
  --key "$pki/admin.key" -H 'Content-Type: application/json' --data-binary "@$tmp/src/{}.json" "$url" ||
  die "creating the sources failed"
t_created=$(date +%s.%N)

# ---- until every source has its Deployment and its status ----------------------
converged() {
  local deps srcs
  deps=$(api "$VSG_APISERVER/apis/apps/v1/namespaces/$ns/deployments" | jq '.items | length')
  [ "$deps" -ge "$N" ] || return 1
  srcs=$(api "$url" | jq '[.items[] | select(.status.observedGeneration == .metadata.generation)] | length')
  [ "$srcs" -ge "$N" ]
}
end=$(( SECONDS + timeout_s ))
until converged; do
  [ $SECONDS -lt $end ] || die "not converged after ${timeout_s}s"
  kill -0 "$ctl_pid" 2>/dev/null || die "the controller died: $(tail -n 5 "$tmp/controller.log")"
  sleep 0.5
done
t_done=$(date +%s.%N)
req1=$(metric vsgate_kube_requests_total)
rec1=$(metric 'vsgate_reconcile_total{kind="VSphereSource",result="success"}')
hwm_conv=$(rss_kb VmHWM)

# ---- idle: let the queue drain, then CPU over idle_s -------------------------------
retry 60 sh -c "[ \"\$(curl -fsS http://127.0.0.1:$mport/metrics | awk '\$1 == \"vsgate_workqueue_depth{kind=\\\"VSphereSource\\\"}\" {print \$2}')\" = 0 ]" || note "the queue did not drain"
sleep 3
req_i0=$(metric vsgate_kube_requests_total)
c0=$(cpu_ticks); ti0=$(date +%s.%N)
sleep "$idle_s"
c1=$(cpu_ticks); ti1=$(date +%s.%N)
req_i1=$(metric vsgate_kube_requests_total)
errs=$(curl -fsS "http://127.0.0.1:$mport/metrics" | awk '/^vsgate_kube_api_errors_total/ { s = s " " $1 "=" $2 } END { print (s == "" ? " none" : s) }')

# ---- the table ----------------------------------------------------------------------
awk -v n="$N" -v t0="$t0" -v tc="$t_created" -v td="$t_done" -v r0="$req0" -v r1="$req1" \
    -v k0="$rec0" -v k1="$rec1" -v hc="$hwm_conv" -v hw="$(rss_kb VmHWM)" -v rs="$(rss_kb VmRSS)" -v rb="$rss_before" \
    -v c0="$c0" -v c1="$c1" -v hz="$hz" -v i0="$ti0" -v i1="$ti1" -v q0="$req_i0" -v q1="$req_i1" -v errs="$errs" 'BEGIN {
  printf "\nvsgate controller, %d VSphereSources (sink uri), private etcd + kube-apiserver, %d CPUs\n", n, '"$(nproc)"'
  printf "%-52s %s\n", "figure", "value"
  printf "%-52s %s\n", "----------------------------------------------------", "------------------"
  printf "%-52s %.1f s\n", "creating the sources (POSTs)", tc - t0
  printf "%-52s %.1f s (%.0f sources/s)\n", "until all have Deployment + observedGeneration", td - t0, n / (td - t0)
  printf "%-52s %.1f MiB\n", "controller RSS before the sources", rb / 1024
  printf "%-52s %.1f MiB\n", "controller peak RSS (VmHWM) at convergence", hc / 1024
  printf "%-52s %.1f MiB / %.1f MiB\n", "controller VmHWM / VmRSS after idle", hw / 1024, rs / 1024
  printf "%-52s %.1f (%d total)\n", "API requests per source (until convergence)", (r1 - r0) / n, r1 - r0
  printf "%-52s %.2f\n", "successful reconciles per source", (k1 - k0) / n
  printf "%-52s %.3f s CPU in %.1f s = %.2f%% of a core\n", "CPU while idle (utime+stime)", (c1 - c0) / hz, i1 - i0, 100 * (c1 - c0) / hz / (i1 - i0)
  printf "%-52s %d\n", "API requests while idle", q1 - q0
  printf "%-52s%s\n", "API errors (whole run)", errs
}'

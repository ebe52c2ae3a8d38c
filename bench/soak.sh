#!/usr/bin/env bash
# bench/soak.sh - the event stream under random faults for SOAK_MINUTES (`make soak`, not in
# CI): a private vcsim -> `vsgate run` (checkpoint file, period SOAK_PERIOD) -> `vsgate sink`,
# all on 127.0.0.1. GeneralUserEvents with unique messages are posted in small batches
# throughout, and every few seconds one fault is thrown at random:
#   kill    the adapter is killed (-9) and started again 0-3 s later (same checkpoint);
#   sink    the sink is stopped for 5-15 s, then started again on the same port;
#   restart vCenter is killed and started again on the same port: a fresh event history whose
#           keys repeat the old ones (first the adapter is let catch up, as a vCenter restart
#           loses what it had not handed out anyway);
#   session the adapter's vCenter session is removed (govc session.rm);
#   freeze  vCenter is stopped (SIGSTOP) for 5-20 s, then continued.
# At the end (after up to 120 s for the adapter to catch up) it prints what was posted,
# delivered, lost and duplicated, the faults thrown, the duplicates one checkpoint period per
# fault explains, and the adapter processes' peak RSS (VmHWM, sampled every loop). Exit status
# 1 when an event was lost or the duplicates exceed that bound.
#
# Environment: SOAK_MINUTES [30], SOAK_PERIOD [2] (checkpoint period, s), SOAK_BATCH [10]
# (events per batch, about one batch a second), SOAK_SEED [random], SOAK_KEEP=1 keeps the
# logs' folder, BENCH_BUILD [build-bench] (a Release build, built if missing).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
minutes=${SOAK_MINUTES:-30}
period=${SOAK_PERIOD:-2}
batch=${SOAK_BATCH:-10}
RANDOM=${SOAK_SEED:-$$}
bench_release_build vsgate vsg-post-events

"$root/spec/harness/build-peers" >/dev/null
tmp=$(mktemp -d /tmp/vsgate-soak.XXXXXX)
note "logs in $tmp"
# The harness provides the PKI and the peers' env; its own vcsim is not used (ours restarts).
"$root/spec/harness/up" --no-kube --watch-pid $$ "$tmp/peers" >"$tmp/up.log" 2>&1 ||
  die "harness up failed: $(tail -n 5 "$tmp/up.log")"
set -a
# shellcheck source=/dev/null  # written at run time
. "$tmp/peers/env"
set +a
export VSG_SOURCE_DIR=$root E2E_DIR=$tmp VSG_BIN=$vsgate
export VSG_POST_EVENTS=$build/spec/tools/vsg-post-events
# shellcheck source=spec/e2e/lib.sh
. "$root/spec/e2e/lib.sh"
_e2e_name=soak
finish() {
  local rc=$? i
  for ((i = ${#_e2e_pids[@]} - 1; i >= 0; i--)); do
    kill -CONT "${_e2e_pids[$i]}" 2>/dev/null || true
    e2e_stop "${_e2e_pids[$i]}" >/dev/null 2>&1 || true
  done
  "$root/spec/harness/down" "$tmp/peers" >/dev/null 2>&1 || true
  [ "${SOAK_KEEP:-0}" = 1 ] || [ $rc -ne 0 ] || rm -rf "$tmp"
  exit $rc
}
trap finish EXIT

mkdir -p "$tmp/secret"
printf '%s' "$VCSIM_USER" >"$tmp/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$tmp/secret/password"
e2e_vcsim vc
vc_url=$E2E_VC_URL vc_port=$E2E_VC_PORT vc_pid=$E2E_PID govc_url=$E2E_GOVC_URL
e2e_sink sink
sink_url=$E2E_SINK_URL sink_pid=$E2E_PID rec=$E2E_SINK_REC
sink_port=${sink_url#http://127.0.0.1:}; sink_port=${sink_port%/}
adapter_n=0 adapter_pid=
start_adapter() {
  adapter_n=$((adapter_n + 1))
  e2e_bg "adapter$adapter_n" "$tmp/adapter$adapter_n.log" "$vsgate" run --address "$vc_url" \
    --ca-file "$VSG_TEST_CA" --secret-path "$tmp/secret" --encoding json --sink "$sink_url" \
    --checkpoint "$tmp/cp.json" --period "${period}s" --max-age 1h
  adapter_pid=$E2E_PID
}
peak_kb=0
sample_rss() {
  local kb
  kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$adapter_pid/status" 2>/dev/null || echo 0)
  [ "${kb:-0}" -gt "$peak_kb" ] && peak_kb=$kb
  return 0
}
start_adapter
# Events posted before the first collector exists are before its begin time (no checkpoint:
# vCenter's now), so not the adapter's to deliver: post only from then on.
retry 60 grep -qs "event collector created" "$tmp/adapter1.log" || die "the adapter did not start"

posted=0 b=0
declare -A faults=([kill]=0 [sink]=0 [restart]=0 [session]=0 [freeze]=0)
post_batch() {
  b=$((b + 1))
  if "$VSG_POST_EVENTS" --url "$vc_url" --ca-file "$VSG_TEST_CA" --user "$VCSIM_USER" \
    --password "$VCSIM_PASSWORD" --count "$batch" --message "soak b$b" >/dev/null 2>&1; then
    posted=$((posted + batch))
    echo "$b" >>"$tmp/posted"
  else
    echo "batch $b not posted (vCenter busy): not counted" >>"$tmp/faults.log"
  fi
}
delivered_unique() { rec_msgs "$rec" "soak b" | cut -d' ' -f2- | sort -u | wc -l; }
caught_up() { [ "$(delivered_unique)" -ge "$posted" ]; }
log_fault() { echo "$(date -u +%T) $*" >>"$tmp/faults.log"; }

end=$((SECONDS + minutes * 60)) next_fault=$((SECONDS + 5))
while [ $SECONDS -lt $end ]; do
  sample_rss
  post_batch
  sleep 1
  [ $SECONDS -ge $next_fault ] || continue
  next_fault=$((SECONDS + 5 + RANDOM % 10))
  case $((RANDOM % 5)) in
  0) log_fault kill; faults[kill]=$((faults[kill] + 1))
     sample_rss; e2e_stop "$adapter_pid" KILL; sleep $((RANDOM % 4)); start_adapter ;;
  1) d=$((5 + RANDOM % 11)); log_fault "sink down ${d}s"; faults[sink]=$((faults[sink] + 1))
     e2e_stop "$sink_pid"
     for _ in $(seq "$d"); do post_batch; sleep 1; done
     E2E_SINK_PORT=$sink_port e2e_sink sink; sink_pid=$E2E_PID ;;
  2) log_fault "vCenter restart"; faults[restart]=$((faults[restart] + 1))
     retry 60 caught_up || log_fault "not caught up before the restart: $(delivered_unique)/$posted"
     e2e_stop "$vc_pid" KILL
     E2E_VCSIM_PORT=$vc_port e2e_vcsim vc; vc_pid=$E2E_PID ;;
  3) log_fault "session removed"; faults[session]=$((faults[session] + 1))
     key=$(GOVC_URL=$govc_url "$GOVC" session.ls -json 2>/dev/null |
       jq -r '.sessionList[]? | select(.userAgent | startswith("vsgate")) | .key' | head -n 1)
     { [ -n "$key" ] && GOVC_URL=$govc_url "$GOVC" session.rm "$key" >/dev/null 2>&1; } || true ;;
  4) d=$((5 + RANDOM % 16)); log_fault "vCenter frozen ${d}s"; faults[freeze]=$((faults[freeze] + 1))
     kill -STOP "$vc_pid"; sleep "$d"; kill -CONT "$vc_pid" ;;
  esac
done
note "posting stopped; waiting up to 120 s for the adapter to catch up"
retry 120 caught_up || true
sample_rss

unique=$(delivered_unique)
total=$(rec_msgs "$rec" "soak b" | wc -l)
lost=$((posted - unique)); [ $lost -lt 0 ] && lost=0
dups=$((total - unique))
nfaults=0; for f in "${!faults[@]}"; do nfaults=$((nfaults + faults[$f])); done
rate=$(awk -v n="$posted" -v s="$((minutes * 60))" 'BEGIN { printf "%.1f", n / s }')
bound=$(awk -v f="$nfaults" -v p="$period" -v r="$rate" 'BEGIN { printf "%d", f * (p + 1) * r + 0.5 }')
echo "soak: ${minutes} min, checkpoint period ${period}s, ${rate} events/s posted"
echo "soak: faults: $nfaults (kill -9 ${faults[kill]}, sink outage ${faults[sink]}," \
  "vCenter restart ${faults[restart]}, session removed ${faults[session]}, vCenter frozen ${faults[freeze]})"
echo "soak: posted $posted, delivered $unique, lost $lost, duplicated $dups" \
  "(bound: one period per fault = $bound)"
echo "soak: adapter peak RSS $((peak_kb / 1024)) MiB ($adapter_n adapter processes)"
{ [ $lost -eq 0 ] && [ $dups -le "$bound" ]; } || { note "FAILED (logs kept in $tmp)"; exit 1; }

#!/usr/bin/env bash
# bench/adapter_throughput.sh - the adapter's figures (issue 3, "Figures"):
# vcsim (SOAP, TLS) -> `vsgate run` -> bench-sink, all on 127.0.0.1.
#
# Per configuration (page size x payload encoding): posts bursts of at most
# 900 GeneralUserEvents with SOAP PostEvent (vsg-post-events), waits until
# each burst has reached the sink, repeats until BENCH_EVENTS went through;
# reports events/s end to end, the adapter's CPU per event (its runtime
# in /proc/<pid>/task/*/schedstat, adapter process only, delta over the bursts), its
# peak RSS (VmHWM), its CPU per event draining bursts posted while it was
# stopped (SIGSTOP: vcsim is then not busy posting on the same cores) and
# then, with the same adapter idle in its default
# WaitForUpdatesEx mode, the delay from an event's createdTime (ce-time) to
# its arrival at the sink, for events posted one at a time. One more
# adapter runs with --wait poll for the delay only. The floor: curl-floor
# (a bare libcurl keep-alive loop) posts the adapter's own event (headers
# and body captured by the sink) to the same sink; decode-cost gives the
# parse + decode + encode CPU per event. Figures are printed, not asserted.
#
# Environment (defaults in brackets):
#   BENCH_EVENTS [50000]  events per configuration    BENCH_BURST [900] (max 900)
#   BENCH_PAGES ["100 1000"]  BENCH_ENCODINGS ["application/json application/xml"]
#   BENCH_LAT_EVENTS [200] BENCH_LAT_GAP_MS [75]      delay samples (updates mode)
#   BENCH_POLL_EVENTS [40] BENCH_POLL_GAP_MS [250]    delay samples (--wait poll)
#   BENCH_FLOOR_REQUESTS [20000] BENCH_FLOOR_RUNS [3]  curl floor requests per run;
#                              the run with the median CPU per request counts
#   BENCH_DRAIN_ROUNDS [10]   bursts drained after a SIGSTOP (adapter CPU with vcsim quiet)
#   BENCH_PAIR_REQUESTS [3000] curl-floor requests right after each drain round
#                              (0: none); x_pair compares the drain with them
#   BENCH_BUILD [build-bench]  a Release build without sanitizers (built if
#                              missing); BENCH_KEEP=1 keeps the logs' folder.
#   BENCH_DRAIN_TIMEOUT_S [120]  per burst; a stalled configuration is
#                              reported as such and the next one runs.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
total=${BENCH_EVENTS:-50000}
burst=${BENCH_BURST:-900}
[ "$burst" -gt 900 ] && burst=900
pages=${BENCH_PAGES:-"100 1000"}
encs=${BENCH_ENCODINGS:-"application/json application/xml"}
lat_n=${BENCH_LAT_EVENTS:-200}
lat_gap=${BENCH_LAT_GAP_MS:-75}
poll_n=${BENCH_POLL_EVENTS:-40}
poll_gap=${BENCH_POLL_GAP_MS:-250}
floor_n=${BENCH_FLOOR_REQUESTS:-20000}
floor_runs=${BENCH_FLOOR_RUNS:-3}
drain_s=${BENCH_DRAIN_TIMEOUT_S:-120}


# ---- binaries: a Release build without sanitizers ---------------------------
post=$build/spec/tools/vsg-post-events
sinkbin=$build/bench/bench-sink
floorbin=$build/bench/curl-floor
dcost=$build/bench/decode-cost
bench_release_build vsgate vsg-post-events bench-sink curl-floor decode-cost

# ---- everything started is stopped on exit ----------------------------------
tmp=$(mktemp -d /tmp/vsgate-bench.XXXXXX)
pids=()
cleanup() {
  local rc=$? p
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  { [ -e "$tmp/peers/env" ] && "$root/spec/harness/down" "$tmp/peers" >/dev/null 2>&1; } || true
  if [ "$rc" -ne 0 ] || [ "${BENCH_KEEP:-0}" = 1 ]; then note "logs kept in $tmp"; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget() { # pid: no longer ours to kill
  local p keep=()
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  pids=("${keep[@]+"${keep[@]}"}")
}
stop() { # pid: SIGTERM, wait (bounded), then SIGKILL
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget "$1"
  grep -lx "$1" "$tmp"/peers/*.proc.pid 2>/dev/null | xargs -r rm -f || true
}

now_ns() { date +%s%N; }
hz=$(getconf CLK_TCK)
# pid -> "utime+stime stime" of the process (all its live threads) in us.
# The total is the scheduler's own runtime count (/proc/PID/task/*/schedstat,
# in ns); /proc/PID/stat counts in clock ticks (10 ms), coarse next to a
# 900-event round of about 50 ms, so it gives only the kernel part.
cpu_us() {
  local s f ns tot=0
  s=$(cat "/proc/$1/stat") || return 1
  s=${s##*) }
  local fields
  read -r -a fields <<<"$s"
  set -- "$1" "${fields[@]}"
  for f in /proc/"$1"/task/*/schedstat; do
    { read -r ns _ <"$f"; } 2>/dev/null && tot=$(( tot + ns ))
  done
  [ "$tot" -gt 0 ] || tot=$(( (${13} + ${14}) * 1000000000 / hz ))
  echo $(( tot / 1000 )) $(( ${14} * 1000000 / hz ))
}
ctxsw() { # pid -> "voluntary involuntary" context switches of its main thread (the adapter has no other)
  awk '/^voluntary_ctxt_switches:/{v=$2} /^nonvoluntary_ctxt_switches:/{n=$2} END{print v + 0, n + 0}' "/proc/$1/status"
}
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status"; }
host_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# ---- peers ------------------------------------------------------------------
note "starting vcsim (spec/harness/up --no-kube $tmp/peers)"
"$root/spec/harness/up" --no-kube --watch-pid $$ "$tmp/peers" >"$tmp/harness-up.log" 2>&1 ||
  { cat "$tmp/harness-up.log" >&2; die "harness up failed"; }
# shellcheck disable=SC1091
# shellcheck source=/dev/null  # written at run time
. "$tmp/peers/env"
vcsim_pid=$(cat "$tmp/peers/vcsim.pid")
printf '%s' "$VCSIM_PASSWORD" >"$tmp/password"
post_args=(--url "$VCSIM_URL" --ca-file "$VSG_TEST_CA" --user "$VCSIM_USER" --password "$VCSIM_PASSWORD")

start_sink() { # name [bench-sink args...] -> sets sink_pid, sink_port
  local name=$1; shift
  "$sinkbin" --port-file "$tmp/$name.port" "$@" 2>"$tmp/$name.sink.log" &
  sink_pid=$!
  pids+=("$sink_pid")
  for _ in $(seq 100); do [ -s "$tmp/$name.port" ] && break; sleep 0.05; done
  [ -s "$tmp/$name.port" ] || die "bench-sink did not start (see $tmp/$name.sink.log)"
  sink_port=$(cat "$tmp/$name.port")
}
sink_wait() { # users timeout_s -> "posts users distinct dups" (users: distinct GeneralUserEvent ids)
  curl -fsS --max-time $(( $2 + 10 )) "http://127.0.0.1:$sink_port/wait?users=$1&ms=$(( $2 * 1000 ))"
}
start_adapter() { # name page encoding wait -> sets ad_pid
  local name=$1
  "$vsgate" run --address "$VCSIM_URL" --ca-file "$VSG_TEST_CA" --username "$VCSIM_USER" \
    --password-file "$tmp/password" --sink "http://127.0.0.1:$sink_port/" \
    --checkpoint "$tmp/$name.checkpoint" --page-size "$2" --encoding "$3" --wait "$4" \
    >"$tmp/$name.adapter.log" 2>&1 &
  ad_pid=$!
  pids+=("$ad_pid")
  # Also the harness's to stop, should this script be killed outright.
  echo "$ad_pid" >"$tmp/peers/$name.proc.pid"
  for _ in $(seq 300); do
    grep -q '"event collector created"' "$tmp/$name.adapter.log" && return 0
    kill -0 "$ad_pid" 2>/dev/null || break
    sleep 0.1
  done
  die "the adapter did not start (see $tmp/$name.adapter.log)"
}
# Posts `n` events one at a time, `gap` ms apart, and prints p50 p99 max n
# of their delays (ms) from the sink's record `rec`.
delays() { # n gap_ms rec users_before
  local n=$1 gap=$2 rec=$3 before=$4 t0 got
  t0=$(now_ns)
  "$post" "${post_args[@]}" --count "$n" --rate "$(awk -v g="$gap" 'BEGIN{print 1000/g}')" \
    --message "bench delay" >/dev/null
  read -r _ got _ _ <<<"$(sink_wait $(( before + n )) 30)"
  [ "$got" -ge $(( before + n )) ] || note "delay: only $(( got - before )) of $n events arrived"
  awk -v t0="$t0" '$1 > t0 && $2 >= 0 && $4 ~ /GeneralUserEvent/ {print $2 / 1e6}' "$rec" | sort -n |
    awk '{d[NR] = $1} END {
      if (NR == 0) { print "- - - 0"; exit }
      i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
      printf "%.1f %.1f %.1f %d\n", d[i50], d[i99], d[NR], NR }'
}

# The backlog drain: the adapter is stopped (SIGSTOP) while a burst is
# posted, then resumed; its CPU per event and rate while it catches up,
# with vcsim only serving pages (not busy posting events on the same cores).
# After each round, curl-floor posts the adapter's own event to another
# sink: a floor measured in the same seconds as the round it is compared
# with (the host's speed drifts by tens of per cent within a run).
# Prints "cpu_us_per_event events_per_s x_pair x_user sleeps_per_event
# floor_sleeps_per_request" (or dashes).
drain_rounds() { # name
  local name=$1 r users0 got c0 c1 k0 k1 t0 t1 cpu=0 sys=0 ns=0 n=0 f fsum=0 fsys=0 fsl=0 v0 v1 i0 i1 vol=0 inv=0 out
  read -r _ users0 _ _ <<<"$(sink_wait 0 0)"
  for r in $(seq "$drain_n"); do
    kill -STOP "$ad_pid"
    "$post" "${post_args[@]}" --count "$burst" --message "bench drain" >>"$tmp/$name.post.log" ||
      { kill -CONT "$ad_pid"; note "drain: vsg-post-events failed"; echo "- - - - - -"; return; }
    read -r c0 k0 <<<"$(cpu_us "$ad_pid")"; read -r v0 i0 <<<"$(ctxsw "$ad_pid")"; t0=$(now_ns)
    kill -CONT "$ad_pid"
    read -r _ got _ _ <<<"$(sink_wait $(( users0 + r * burst )) "$drain_s")"
    t1=$(now_ns); read -r c1 k1 <<<"$(cpu_us "$ad_pid")"; read -r v1 i1 <<<"$(ctxsw "$ad_pid")"
    [ "$got" -ge $(( users0 + r * burst )) ] || { note "drain: round $r stalled"; echo "- - - - - -"; return; }
    cpu=$(( cpu + c1 - c0 )); sys=$(( sys + k1 - k0 )); ns=$(( ns + t1 - t0 )); n=$(( n + burst ))
    vol=$(( vol + v1 - v0 )); inv=$(( inv + i1 - i0 ))
    if [ "$pair_n" -gt 0 ] && [ -s "$tmp/$name.sample" ]; then
      out=$("$floorbin" --url "http://127.0.0.1:$pair_port/" --sample "$tmp/$name.sample" \
            --count "$pair_n" --warmup 100)
      f=$(sed -n 's/.* cpu_us_per_req=\([^ ]*\) sys_us_per_req=\([^ ]*\) .* sleeps_per_req=\([^ ]*\) .*/\1 \2 \3/p' <<<"$out")
      [ -n "$f" ] && read -r fsum fsys fsl <<<"$(awk -v s="$fsum" -v k="$fsys" -v z="$fsl" -v b="$burst" -v f="$f" \
        'BEGIN{split(f, a, " "); print s + a[1] * b, k + a[2] * b, z + a[3] * b}')"
    fi
  done
  [ "$n" -gt 0 ] || { echo "- - - - - -"; return; }
  # cpu/event, events/s, x_pair, x_pair of user time alone, sleeps/event of
  # the adapter and of the paired floor
  awk -v c="$cpu" -v k="$sys" -v n="$n" -v t="$ns" -v fs="$fsum" -v fk="$fsys" -v fz="$fsl" -v v="$vol" \
    'BEGIN{printf "%.1f %.0f %s %s %.2f %s\n", c / n, n / (t / 1e9),
      (fs > 0) ? sprintf("%.2f", c / fs) : "-",
      (fs > fk && c > k) ? sprintf("%.2f", (c - k) / (fs - fk)) : "-",
      v / n, (fs > 0) ? sprintf("%.2f", fz / n) : "-"}'
}
drain_n=${BENCH_DRAIN_ROUNDS:-10}
pair_n=${BENCH_PAIR_REQUESTS:-3000}
start_sink pair
pair_port=$sink_port

rows=()    # result rows, printed at the end
declare -A sample
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- throughput + delay per configuration -----------------------------------
for page in $pages; do
  for enc in $encs; do
    e=${enc#application/}
    name="p$page-$e"
    note "config page=$page encoding=$enc: $total events in bursts of $burst"
    start_sink "$name" --record "$tmp/$name.rec" --sample "$tmp/$name.sample"
    start_adapter "$name" "$page" "$enc" updates
    sleep 0.5
    read -r tot0 users0 dist0 dup0 <<<"$(sink_wait 0 0)"
    posted=0 bursts=0 lag_ns=0 stalled=0
    read -r hb0 ht0 <<<"$(host_busy)"
    read -r v0 _ <<<"$(cpu_us "$vcsim_pid")"; read -r c0 k0 <<<"$(cpu_us "$ad_pid")"; t0=$(now_ns)
    while [ "$posted" -lt "$total" ]; do
      n=$(( total - posted < burst ? total - posted : burst ))
      "$post" "${post_args[@]}" --count "$n" --message "bench" >>"$tmp/$name.post.log" ||
        die "vsg-post-events failed (see $tmp/$name.post.log)"
      posted=$(( posted + n )); bursts=$(( bursts + 1 ))
      tp=$(now_ns)
      read -r tot users dist dup <<<"$(sink_wait $(( users0 + posted )) "$drain_s")"
      lag_ns=$(( lag_ns + $(now_ns) - tp ))
      if [ "$users" -lt $(( users0 + posted )) ]; then
        stalled=1
        note "config $name stalled: $(( users - users0 )) of $posted events after ${drain_s}s"
        break
      fi
    done
    t1=$(now_ns); read -r c1 k1 <<<"$(cpu_us "$ad_pid")"; read -r v1 _ <<<"$(cpu_us "$vcsim_pid")"
    read -r hb1 ht1 <<<"$(host_busy)"
    hwm=$(hwm_kb "$ad_pid")
    ev=$(( tot - tot0 )) ndist=$(( dist - dist0 )) ndup=$(( dup - dup0 ))
    busy=$(awk -v b=$(( hb1 - hb0 )) -v t=$(( ht1 - ht0 )) -v n="$(nproc)" 'BEGIN{printf "%.2f", t ? b / t * n : 0}')
    if [ "$stalled" = 1 ]; then
      rows+=("$name|$ev|$ndist|$ndup|STALLED|-|-|-|-|$(( hwm / 1024 ))|-|$busy|-|-|-|-|-|-|-|-|-")
    else
      sleep 1 # idle: the adapter is back in WaitForUpdatesEx
      read -r dp50 dp99 dmax dn <<<"$(delays "$lat_n" "$lat_gap" "$tmp/$name.rec" "$(( users0 + posted ))")"
      read -r dr_us dr_rate dr_pair dr_upair dr_sl dr_fsl <<<"$(drain_rounds "$name")"
      rows+=("$name|$ev|$ndist|$ndup|$(awk -v e="$ev" -v t=$(( t1 - t0 )) 'BEGIN{printf "%.0f", e / (t / 1e9)}')|$(awk -v l="$lag_ns" -v b="$bursts" 'BEGIN{printf "%.0f", l / b / 1e6}')|$(awk -v c=$(( c1 - c0 )) -v e="$ev" 'BEGIN{printf "%.1f", c / e}')|$(awk -v c=$(( k1 - k0 )) -v e="$ev" 'BEGIN{printf "%.1f", c / e}')|$e|$(awk -v k="$hwm" 'BEGIN{printf "%.1f", k / 1024}')|$(awk -v c=$(( v1 - v0 )) -v e="$ev" 'BEGIN{printf "%.0f", c / e}')|$busy|$dp50|$dp99|$dmax|$dn|$dr_us|$dr_rate|$dr_pair|$dr_upair|$( [ "${dr_sl:--}" = - ] && echo - || echo "$dr_sl/$dr_fsl" )")
    fi
    [ -s "$tmp/$name.sample" ] && [ -z "${sample[$e]:-}" ] && sample[$e]=$tmp/$name.sample
    stop "$ad_pid"
    grep -v '"level":"info"' "$tmp/$name.adapter.log" | head -5 >&2 || true
    stop "$sink_pid"
  done
done

# ---- delay with --wait poll -------------------------------------------------
note "delay with --wait poll: $poll_n events, ${poll_gap} ms apart"
start_sink poll --record "$tmp/poll.rec"
start_adapter poll 100 application/json poll
sleep 0.5
read -r _ pu0 _ _ <<<"$(sink_wait 0 0)"
read -r dp50 dp99 dmax dn <<<"$(delays "$poll_n" "$poll_gap" "$tmp/poll.rec" "$pu0")"
hwm=$(hwm_kb "$ad_pid")
rows+=("p100-json --wait poll|-|-|-|-|-|-|-|-|$(awk -v k="$hwm" 'BEGIN{printf "%.1f", k / 1024}')|-|-|$dp50|$dp99|$dmax|$dn|-|-|-|-|-")
stop "$ad_pid"
stop "$sink_pid"

# ---- the floor ----------------------------------------------------------------
declare -A floor_cpu
floor_rows=()
for e in json xml; do
  [ -n "${sample[$e]:-}" ] || continue
  note "floor: curl-floor, $floor_runs runs of $floor_n requests of the adapter's $e event (the median run counts)"
  start_sink "floor-$e"
  runs=()
  for _ in $(seq "$floor_runs"); do
    runs+=("$("$floorbin" --url "http://127.0.0.1:$sink_port/" --sample "${sample[$e]}" --count "$floor_n")")
  done
  stop "$sink_pid"
  # The run with the median CPU per request (the host's load varies).
  out=$(printf '%s\n' "${runs[@]}" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^cpu_us_per_req=/) {split($i, a, "="); print a[2], $0}}' |
        sort -n | awk -v m=$(( (floor_runs + 1) / 2 )) 'NR == m {$1 = ""; sub(/^ /, ""); print}')
  kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$out"; }
  floor_cpu[$e]=$(kv cpu_us_per_req)
  floor_rows+=("curl floor ($e, $(kv body_bytes) B body)|$(kv requests)|$(kv req_per_s)|$(kv cpu_us_per_req)|$(kv sys_us_per_req)|$(kv sleeps_per_req)")
done
dec_rows=()
for e in json xml; do
  out=$("$dcost" --fixture "$root/spec/fixtures/events/vcsim-GeneralUserEvent.soap.xml" --events 100 \
        --rounds 200 --encoding "$e")
  kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$out"; }
  dec_rows+=("parse+decode+encode ($e)|$(kv parse_us_per_event)|$(kv decode_encode_us_per_event)|$(kv total_us_per_event)")
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report -----------------------------------------------------------------
rev=$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git -C "$root" diff --quiet HEAD -- core 2>/dev/null || rev="$rev+dirty"
echo
echo "vsgate adapter benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)  rev $rev  $(nproc) cores  load avg $load0 -> $load1"
echo "vcsim -> vsgate run (Release, $build) -> bench-sink; bursts of $burst; delay: $lat_n events ${lat_gap} ms apart (updates), $poll_n ${poll_gap} ms apart (poll)"
echo "targets: adapter CPU/event <= 1.3x floor, peak RSS <= 16 MB, p99 delay <= 250 ms"
echo
fmt='%-22s %7s %8s %5s %8s %6s %9s %9s %8s %7s %8s %6s %8s %8s %8s %9s %8s %8s %7s %7s %9s\n'
# shellcheck disable=SC2059  # the table's column format, one string for every row
printf "$fmt" config posts distinct dups events/s lag_ms cpu_us/ev sys_us/ev x_floor rss_MB vcsim_us busy p50_ms p99_ms max_ms \
  drain_us drain/s x_floor x_pair x_user sleeps
for r in "${rows[@]}"; do
  IFS='|' read -r c ev ndist ndup rate lag cpu sys e rss vc busy p50 p99 max dn dcpu drate dpair dupair dsl <<<"$r"
  ratio=- dratio=-
  if [ "$e" != - ] && [ -n "${floor_cpu[$e]:-}" ] && [ "$cpu" != - ]; then
    ratio=$(awk -v a="$cpu" -v f="${floor_cpu[$e]}" 'BEGIN{printf "%.2f%s", a / f, a / f <= 1.3 ? "" : "!"}')
  fi
  if [ "$e" != - ] && [ -n "${floor_cpu[$e]:-}" ] && [ "${dcpu:--}" != - ]; then
    dratio=$(awk -v a="$dcpu" -v f="${floor_cpu[$e]}" 'BEGIN{printf "%.2f%s", a / f, a / f <= 1.3 ? "" : "!"}')
  fi
  [ "$rss" != - ] && rss=$(awk -v r="$rss" 'BEGIN{printf "%s%s", r, r <= 16 ? "" : "!"}')
  [ "$p99" != - ] && p99=$(awk -v p="$p99" 'BEGIN{printf "%s%s", p, p <= 250 ? "" : "!"}')
  [ "${dpair:--}" != - ] && dpair=$(awk -v p="$dpair" 'BEGIN{printf "%s%s", p, p <= 1.3 ? "" : "!"}')
  # shellcheck disable=SC2059  # same column format
  printf "$fmt" "$c" "$ev" "$ndist" "$ndup" "$rate" "$lag" "$cpu" "$sys" "$ratio" "$rss" "$vc" "$busy" "$p50" "$p99" "$max" \
    "${dcpu:--}" "${drate:--}" "$dratio" "${dpair:--}" "${dupair:--}" "${dsl:--}"
done
echo "(! = misses its target; posts = POSTs at the sink, distinct = distinct ce-ids among them, dups = POSTs"
echo " of an id already seen (redeliveries; the throughput figures count POSTs);"
echo " cpu_us/ev = adapter CPU (user+kernel) per event delivered, sys_us/ev its kernel part;"
echo " lag_ms = mean time from the end of a burst's posting to its last event at the sink, so events/s is"
echo " the producer's pace when lag is small; vcsim_us = vcsim CPU per event; busy = whole-host CPU in use"
echo " during the bursts, in cores; p50/p99/max = createdTime -> sink arrival, idle adapter, ${lat_n:-} events;"
echo " drain_us/drain/s = CPU per event and rate catching up on $drain_n bursts posted while the adapter was"
echo " stopped (SIGSTOP), so vcsim is not posting on the same cores meanwhile; its x_floor uses the same floor;"
echo " x_pair = drain CPU over the CPU of curl-floor runs of $pair_n requests made right after each round;"
echo " x_user = the same for user time alone (the kernel part is split by clock ticks, so coarser);"
echo " sleeps = blocking waits (voluntary context switches) per event of the adapter / per request of those"
echo " floor runs: the kernel's cost of a request depends on whether its sender sleeps for the answer)"
echo
printf '%-34s %9s %9s %12s %12s %10s\n' floor requests req/s cpu_us/req sys_us/req sleeps/req
for r in "${floor_rows[@]}"; do
  IFS='|' read -r c n rate cpu sys sl <<<"$r"
  printf '%-34s %9s %9s %12s %12s %10s\n' "$c" "$n" "$rate" "$cpu" "$sys" "$sl"
done
printf '%-34s %9s %9s %12s\n' "codec (100-event page, CPU us/ev)" parse decode+enc total
for r in "${dec_rows[@]}"; do
  IFS='|' read -r c a b t <<<"$r"
  printf '%-34s %9s %9s %12s\n' "$c" "$a" "$b" "$t"
done

# At-least-once across crashes: a producer posts 2000 GeneralUserEvents at
# 100/s to a private vcsim (kill -9 leaks one event collector per kill, and
# vcsim refuses a 33rd collector, so the shared one is left alone) while the
# adapter (`vsgate run`, checkpoint file, period 1s, maxAge 5m) is killed with
# SIGKILL at random moments (1.2-2.2 s after each run started reading, at
# least 10 times) and restarted
# each time with the same checkpoint. At 100/s vcsim's 1001-event window holds
# 10 s of events, far more than an outage plus one period, so nothing can fall
# out of it. Every posted message must reach the sink at least once, and
# duplicates must stay within what the checkpoint period explains (see below).
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_kill9
d=$E2E_DIR
p="kill9-$RANDOM$RANDOM"
N=2000 RATE=100 PERIOD=1 MIN_KILLS=10 MAX_KILLS=20
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"

e2e_vcsim vc
vc_url=$E2E_VC_URL
e2e_sink sink
sink_url=$E2E_SINK_URL rec=$E2E_SINK_REC
runs=0
start_adapter() {
  runs=$((runs + 1))
  e2e_bg run "$d/run-$runs.log" "$VSG_BIN" run --address "$vc_url" --ca-file "$VSG_TEST_CA" \
    --secret-path "$d/secret" --sink "$sink_url" --encoding json --checkpoint "$d/cp.json" \
    --period "${PERIOD}s" --max-age 5m
  pid=$E2E_PID
}
start_adapter
up() { grep -q "event collector created" "$d/run-$runs.log"; }
retry 30 up || fail "adapter did not start: $(tail -n 3 "$d/run-1.log")"

e2e_bg producer "$d/producer.log" "$VSG_POST_EVENTS" --url "$vc_url" --ca-file "$VSG_TEST_CA" \
  --user "$VCSIM_USER" --password "$VCSIM_PASSWORD" --count "$N" --rate "$RATE" --message "$p"
producer=$E2E_PID
t0=$SECONDS
kills=0 kill_at=""
while :; do
  # A random moment 1.2-2.2 s after this run is reading events, so that it
  # had the chance to save a checkpoint at least once (period 1 s).
  retry 30 up || fail "adapter run $runs did not start: $(tail -n 3 "$d/run-$runs.log")"
  ms=$((1200 + RANDOM % 1000))
  sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  kills=$((kills + 1)) kill_at="$kill_at $((SECONDS - t0))"
  [ -s "$d/cp.json" ] || fail "kill $kills: no checkpoint saved yet"
  start_adapter
  if ! _e2e_alive "$producer" && [ "$kills" -ge "$MIN_KILLS" ]; then break; fi
  [ "$kills" -lt "$MAX_KILLS" ] || break
  [ $((SECONDS - t0)) -lt 120 ] || fail "producer still running after 120 s: $(cat "$d/producer.log")"
done
e2e_stop "$producer"
[ "$E2E_RC" -eq 0 ] || fail "producer failed: $(cat "$d/producer.log")"
grep -q "posted $N events" "$d/producer.log" || fail "producer: $(cat "$d/producer.log")"

# The last run drains the rest; then stop it cleanly.
wait_for 60 "the last event at the sink" has_msg "$rec" "$p $((N - 1))"
sleep 1
e2e_stop "$pid"
[ "$E2E_RC" -eq 0 ] || fail "last adapter exited with $E2E_RC after SIGTERM (want 0)"

msgs=$(rec_msgs "$rec" "$p " | cut -d' ' -f2-)
total=$(wc -l <<<"$msgs")
unique=$(sort -u <<<"$msgs" | wc -l)
missing=$(comm -23 <(seq 0 $((N - 1)) | sed "s/^/$p /" | sort) <(sort -u <<<"$msgs") | wc -l)
[ "$missing" -eq 0 ] || fail "$missing of $N posted events never reached the sink: $(comm -23 <(seq 0 $((N - 1)) | sed "s/^/$p /" | sort) <(sort -u <<<"$msgs") | head -n 5 | tr '\n' ',')"
[ "$unique" -eq "$N" ] || fail "expected $N distinct messages, got $unique"
dups=$((total - unique))
all=$(rec_ok "$rec" | jq -r .attributes.id | wc -l)
all_unique=$(rec_ok "$rec" | jq -r .attributes.id | sort -u | wc -l)
# One key, one message: a replayed key carries the same event.
pairs=$(rec_msgs "$rec" "$p " | sort -u | cut -d' ' -f1 | uniq -d | wc -l)
[ "$pairs" -eq 0 ] || fail "$pairs keys were delivered with different messages"

# Duplicate bound. A restart replays from the saved checkpoint (inclusive), so
# a kill costs the events delivered since the last save plus the checkpointed
# one again. Saves happen every PERIOD while events flow, and the adapter keeps
# up with the producer, so those events were created within PERIOD plus the
# delivery lag (< 1 s) before the kill: at most RATE * (PERIOD + 1 s) + 1 per
# kill, +1 for the producer's login/logout events around a kill.
bound=$((kills * (RATE * (PERIOD + 1) + 2)))
[ "$dups" -le "$bound" ] || fail "$dups duplicates for $kills kills exceed the bound $bound"
[ "$kills" -ge "$MIN_KILLS" ] || fail "only $kills kills"
echo "adapter_kill9: ok: $kills kill -9 at t=${kill_at# } s, $runs adapter runs; $N/$N events delivered" \
  "($total deliveries, $dups duplicates, bound $bound = kills*(rate*(period+1s)+2));" \
  "all keys: $all deliveries of $all_unique keys"

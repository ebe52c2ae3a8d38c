# The checkpoint keeps up while delivery is stuck (issue 14.5): events the sink accepted just
# before an outage are saved on the period even though the next event is being retried, so a
# kill during the outage does not deliver them again.
# The sink accepts 5 events, then answers 503 forever; 6 events are posted in one burst. Within
# a period (+ slack) the checkpoint must name the 5th key while the 6th is still retried; the
# adapter is killed (-9) and started again against a healthy sink: the 6th arrives, and of the
# first five only the checkpointed one comes again.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_checkpoint_stuck
d=$E2E_DIR
p="stuck-$RANDOM$RANDOM"
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"
cp=$d/cp.json
cp_key() { jq -r '.lastEventKey // 0' "$cp" 2>/dev/null || echo 0; }
run=("$VSG_BIN" run --address "$VCSIM_URL" --ca-file "$VSG_TEST_CA" --secret-path "$d/secret"
     --encoding json --checkpoint "$cp" --period 3s --max-age 5m)

# A warm-up event through a plain sink first (so the adapter's own login event is out of the
# way), then the same port answers 200 six times (the poster's login event and five of ours)
# and 503 from then on.
e2e_sink sink0
pid0=$E2E_PID port=${E2E_SINK_URL#http://127.0.0.1:}; port=${port%/}
e2e_bg run1 "$d/run1.log" "${run[@]}" --sink "$E2E_SINK_URL"
pid1=$E2E_PID
up() { grep -qs "event collector created" "$1"; }
retry 30 up "$d/run1.log" || fail "adapter did not start: $(tail -n 3 "$d/run1.log")"
post_events "$VCSIM_URL" 1 "$p warm"
rec0=$E2E_SINK_REC
wait_for 20 "the warm-up event" has_msg "$rec0" "$p warm 0"
# vsg-post-events logs in and out around its events: let its logout event through too.
logged_out() { jq -r '.attributes.type' "$rec0" | tail -n 1 | grep UserLogoutSessionEvent >/dev/null; }
wait_for 20 "the warm-up's logout event" logged_out
e2e_stop "$pid0"
# Next: the poster's login event and our first five events, then 503.
E2E_SINK_PORT=$port e2e_sink sink1 --status-sequence 200x6,503 --record-all
rec1=$E2E_SINK_REC
post_events "$VCSIM_URL" 6 "$p e"
wait_for 20 "five events accepted" has_msg "$rec1" "$p e 4"
refused() { jq -e -cR 'fromjson? | select(.status == 503)' "$rec1" >/dev/null; }
wait_for 20 "the sixth event to be refused" refused
k5=$(rec_msgs "$rec1" "$p e 4" | cut -d' ' -f1)
t0=$SECONDS
saved() { [ "$(cp_key)" = "$k5" ]; }
retry 8 saved || fail "checkpoint at $(cp_key), not at the last accepted key $k5, $((SECONDS - t0)) s into the outage (period 3 s)"
has_msg "$rec1" "$p e 5" && fail "the sixth event was accepted: the sink's sequence did not hold"
echo "adapter_checkpoint_stuck: checkpoint at key $k5 $((SECONDS - t0)) s into the outage"
e2e_stop "$pid1" KILL

e2e_sink sink2
rec2=$E2E_SINK_REC
e2e_bg run2 "$d/run2.log" "${run[@]}" --sink "$E2E_SINK_URL"
pid2=$E2E_PID
wait_for 30 "the sixth event after the restart" has_msg "$rec2" "$p e 5"
sleep 1
# The checkpointed event itself comes again (CONTRACTS §3: the event at the checkpoint's
# timestamp is normally delivered again); the four before it must not.
again=$(rec_msgs "$rec2" "$p e " | cut -d' ' -f2- | sort | tr '\n' ',')
[ "$again" = "$p e 4,$p e 5," ] ||
  fail "after the restart got '$again', want only '$p e 4' (the checkpointed event) and '$p e 5'"
e2e_stop "$pid2"
echo "adapter_checkpoint_stuck: after kill -9 during the outage only the checkpointed and the undelivered event came again"

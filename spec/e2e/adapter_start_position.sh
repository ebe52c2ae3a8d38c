# Where the adapter starts, when the checkpoint cannot say (issue 14.6 a, b):
# 1. No checkpoint yet, killed (-9) before its first period: the starting position was saved as
#    soon as it was known, so the events posted while it was down are delivered after the
#    restart (a crash loop shorter than the period used to lose them on every restart).
# 2. A checkpoint later than vCenter's current time (vCenter's clock went back): the adapter
#    warns and starts at vCenter's now; events posted then are delivered (Go began at the
#    checkpoint and delivered nothing until the clock caught up).
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_start_position
d=$E2E_DIR
p="startpos-$RANDOM$RANDOM"
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"
run=("$VSG_BIN" run --address "$VCSIM_URL" --ca-file "$VSG_TEST_CA" --secret-path "$d/secret"
     --encoding json --period 60s --max-age 5m)
up() { grep -qs "event collector created" "$1"; }

# ---- 1. killed before the first period
e2e_sink sink1; rec1=$E2E_SINK_REC
e2e_bg run1 "$d/run1.log" "${run[@]}" --sink "$E2E_SINK_URL" --checkpoint "$d/cp1.json"
retry 30 up "$d/run1.log" || fail "adapter did not start: $(tail -n 3 "$d/run1.log")"
[ -s "$d/cp1.json" ] || fail "no checkpoint once the collector exists (period 60 s): the starting position is not saved"
jq -e '.lastEventKeyTimestamp | length > 0' "$d/cp1.json" >/dev/null || fail "checkpoint without a timestamp: $(cat "$d/cp1.json")"
e2e_stop "$E2E_PID" KILL
post_events "$VCSIM_URL" 5 "$p gap"
e2e_bg run1b "$d/run1b.log" "${run[@]}" --sink "$E2E_SINK_URL" --checkpoint "$d/cp1.json"
pid=$E2E_PID
wait_for 30 "the events posted while the adapter was down" has_msg "$rec1" "$p gap 4"
[ "$(rec_count "$rec1" "$p gap ")" = 5 ] || fail "gap events not delivered once each: $(rec_msgs "$rec1" "$p gap " | tr '\n' ',')"
e2e_stop "$pid"
echo "adapter_start_position: killed before the first period, 5/5 events of the gap delivered"

# ---- 2. a checkpoint in the future
future=$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%S.000000000Z)
printf '{"vCenter":"%s","lastEventKey":999999,"lastEventType":"GeneralUserEvent","lastEventKeyTimestamp":"%s","createdTimestamp":"%s"}\n' \
  "$VCSIM_URL" "$future" "$future" >"$d/cp2.json"
e2e_sink sink2; rec2=$E2E_SINK_REC
e2e_bg run2 "$d/run2.log" "${run[@]}" --sink "$E2E_SINK_URL" --checkpoint "$d/cp2.json"
pid=$E2E_PID
retry 30 up "$d/run2.log" || fail "adapter did not start: $(tail -n 3 "$d/run2.log")"
grep '"level":"warn"' "$d/run2.log" | grep "later than vCenter's current time" >/dev/null ||
  fail "no warning about the checkpoint in the future: $(grep -i checkpoint "$d/run2.log" | head -n 3)"
post_events "$VCSIM_URL" 3 "$p future"
wait_for 30 "events after a checkpoint in the future" has_msg "$rec2" "$p future 2"
e2e_stop "$pid"
echo "adapter_start_position: checkpoint 2 h in the future: warned, started at vCenter's now, 3/3 delivered"

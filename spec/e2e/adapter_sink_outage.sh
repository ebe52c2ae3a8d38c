# Delivery through sink failures (CONTRACTS §4), `vsgate run` against the
# harness vcsim, default delivery policy (retry forever, exponential from 1 s).
# 1. The sink answers 503 for 30 s (restarted on the same port with
#    --fail-first-seconds 30), then 200: every event posted during the outage
#    is delivered exactly once after it, in key order; polled every 0.2 s, the
#    checkpoint file never names a key the sink has not accepted (2xx).
# 2. The sink answers 400 for one event id and a dead-letter sink is set: that
#    event reaches the DLS with knativeerrorcode=400 and knativeerrordest = the
#    sink, every other key reaches the sink exactly once, and the checkpoint
#    moves past the dead-lettered event.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_sink_outage
d=$E2E_DIR
p="outage-$RANDOM$RANDOM"
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"
cp=$d/cp.json
run=("$VSG_BIN" run --address "$VCSIM_URL" --ca-file "$VSG_TEST_CA" --secret-path "$d/secret"
     --encoding json --checkpoint "$cp" --period 1s --max-age 5m)
cp_key() { jq -r '.lastEventKey // 0' "$cp" 2>/dev/null || echo 0; }
accepted_ids() { cat "$@" | jq -rR 'fromjson? | select(.status >= 200 and .status < 300) | .attributes.id'; }

# ---- 1. 30 s of 503
e2e_sink sink1
url1=$E2E_SINK_URL rec1=$E2E_SINK_REC pid_s1=$E2E_PID
port=$(cat "$d/sink1.port")
e2e_bg run1 "$d/run1.log" "${run[@]}" --sink "$url1"
pid_run=$E2E_PID
up() { grep -q "event collector created" "$1"; }
retry 30 up "$d/run1.log" || fail "adapter did not start: $(tail -n 3 "$d/run1.log")"
post_events "$VCSIM_URL" 5 "$p pre"
wait_for 20 "the pre-outage events" has_msg "$rec1" "$p pre 4"
k_pre=$(rec_msgs "$rec1" "$p pre 4" | cut -d' ' -f1)
cp_at_pre() { [ "$(cp_key)" -ge "$k_pre" ]; }
wait_for 10 "the checkpoint to reach key $k_pre" cp_at_pre

e2e_stop "$pid_s1"
k_pre=$(accepted_ids "$rec1" | tail -n 1)   # the last key accepted before the outage
E2E_SINK_PORT=$port e2e_sink sink2 --fail-first-seconds 30 --record-all
rec2=$E2E_SINK_REC
t_out=$SECONDS
post_events "$VCSIM_URL" 20 "$p out" --rate 10

polls=0 cp_moves=0 last_cp=$(cp_key)
all_out() { [ "$(rec_count "$rec2" "$p out")" -ge 20 ]; }
# Poll until every outage event is in and the checkpoint has caught up with
# the last accepted key.
caught_up() { [ "$(cp_key)" = "$(accepted_ids "$rec2" | tail -n 1)" ]; }
until all_out && caught_up; do
  [ $((SECONDS - t_out)) -lt 75 ] || fail "outage events not all delivered 75 s after the outage began ($(rec_count "$rec2" "$p out")/20)"
  k=$(cp_key)   # read the checkpoint first: a key it names must already be accepted
  if [ "$k" != "$last_cp" ]; then cp_moves=$((cp_moves + 1)); last_cp=$k; fi
  accepted_ids "$rec1" "$rec2" | grep -xF "$k" >/dev/null ||
    fail "checkpoint names key $k, which the sink has not accepted (accepted: $(accepted_ids "$rec1" "$rec2" | tail -n 3 | tr '\n' ' '))"
  if [ $((SECONDS - t_out)) -lt 29 ] && [ "$k" -gt "$k_pre" ]; then
    # Nothing after k_pre can have been accepted yet (the check above, spelled out).
    fail "checkpoint moved to $k during the outage"
  fi
  polls=$((polls + 1))
  sleep 0.2
done
t_back=$((SECONDS - t_out))
sleep 1
[ "$t_back" -ge 29 ] || fail "events were accepted $t_back s into a 30 s outage"
# Exactly once each, in key order, in message order.
out=$(rec_msgs "$rec2" "$p out")
[ "$(wc -l <<<"$out")" -eq 20 ] || fail "expected 20 outage events once each, got $(wc -l <<<"$out")"
[ "$(cut -d' ' -f4 <<<"$out" | tr '\n' ' ')" = "$(seq 0 19 | tr '\n' ' ')" ] || fail "outage events out of order: $(cut -d' ' -f4 <<<"$out" | tr '\n' ' ')"
accepted_ids "$rec2" | jq -s -e '. == (sort | unique)' >/dev/null ||
  fail "sink accepted keys out of order or twice: $(accepted_ids "$rec2" | tr '\n' ' ')"
n503=$(jq -s 'map(select(.status == 503)) | length' "$rec2")
first=$(head -n 1 "$rec2" | jq -r .attributes.id)   # the event that waited out the outage
tries_first=$(jq -s --arg id "$first" 'map(select(.attributes.id == $id)) | length' "$rec2")
[ "$n503" -ge 3 ] || fail "expected retried 503 attempts in the sink's record, got $n503"
# The retry log shows a growing backoff for one event.
delays=$(grep -F '"msg":"delivery failed: HTTP 503;' "$d/run1.log" | sed -n 's/.*retry [0-9]* in \([0-9]*\) ms.*/\1/p' | head -n 5 | tr '\n' ' ')
read -r b1 b2 b3 _ <<<"$delays"
{ [ -n "${b3:-}" ] && [ "$b2" -gt "$b1" ] && [ "$b3" -gt "$b2" ]; } || fail "no growing retry backoff in the log: '$delays'"
k_last=$(accepted_ids "$rec2" | tail -n 1)
cp_caught_up() { [ "$(cp_key)" -eq "$k_last" ]; }
wait_for 10 "the checkpoint to reach the last delivered key $k_last (at $(cp_key))" cp_caught_up
echo "adapter_sink_outage: 503 for 30 s: 20/20 events delivered once, in order, all in and checkpointed $t_back s after the outage began;" \
  "$n503 refused attempts recorded ($tries_first attempts for key $first, backoff ms: ${delays% });" \
  "checkpoint polled $polls times, moved $cp_moves times, never past an accepted key (final $k_last)"

# ---- 2. 400 for one event -> dead-letter sink
e2e_stop "$pid_run"
[ "$E2E_RC" -eq 0 ] || fail "adapter exited with $E2E_RC after SIGTERM"
m=$(cp_key)
# Keys are consecutive in vcsim: the adapter's logout, the next adapter's
# login and the producer's login come first, so m+6 is one of the 10 events
# posted below (whatever it turns out to be, the checks hold for it).
r=$((m + 6))
e2e_sink dls; url_dls=$E2E_SINK_URL rec_dls=$E2E_SINK_REC
e2e_sink sink3 --reject-id "$r"; url3=$E2E_SINK_URL rec3=$E2E_SINK_REC
e2e_bg run2 "$d/run2.log" "${run[@]}" --sink "$url3" --dead-letter-sink "$url_dls"
retry 30 up "$d/run2.log" || fail "adapter did not start: $(tail -n 3 "$d/run2.log")"
post_events "$VCSIM_URL" 10 "$p dl"
all_dl() { [ $(( $(rec_count "$rec3" "$p dl") + $(rec_count "$rec_dls" "$p dl") )) -ge 10 ]; }
wait_for 20 "the 10 events at the sink or the DLS" all_dl
past_r() { [ "$(cp_key)" -gt "$r" ]; }
wait_for 10 "the checkpoint to move past the dead-lettered key $r (at $(cp_key))" past_r
sleep 0.5
[ "$(wc -l <"$rec_dls")" -eq 1 ] || fail "expected exactly 1 event at the DLS, got $(wc -l <"$rec_dls")"
jq -e --arg r "$r" --arg dest "$url3" '.status == 200 and .attributes.id == $r
  and .attributes.knativeerrorcode == "400" and .attributes.knativeerrordest == $dest
  and (.attributes.type | startswith("com.vmware.vsphere.")) and .attributes.source != null
  and ((.data | fromjson).Key == ($r | tonumber))
  and ((.attributes.knativeerrordata // "" | @base64d) | contains("rejected"))' "$rec_dls" >/dev/null ||
  fail "DLS event wrong: $(jq -c .attributes "$rec_dls")"
ids3=$(accepted_ids "$rec3")
grep -qxF "$r" <<<"$ids3" && fail "rejected key $r was recorded as accepted by the sink"
hi=$(tail -n 1 <<<"$ids3")
want=$(seq "$m" "$hi" | grep -vxF "$r" | tr '\n' ' ')
[ "$(tr '\n' ' ' <<<"$ids3")" = "$want" ] ||
  fail "sink should have keys $m..$hi except $r once each, in order; got $(tr '\n' ' ' <<<"$ids3")"
grep -q "event sent to the dead-letter sink" "$d/run2.log" || fail "log does not mention the dead-letter sink"
echo "adapter_sink_outage: 400 for key $r: dead-lettered with knativeerrorcode=400," \
  "knativeerrordest=$url3; keys $m..$hi except $r ($(wc -l <<<"$ids3") events) reached the sink once each;" \
  "checkpoint moved to $(cp_key)"

# Replay on restart (CONTRACTS §3 start position), with `vsgate run` and a
# checkpoint file, against the harness vcsim. Events are GeneralUserEvents
# whose message starts with a prefix unique to this run.
#   A  first run, no checkpoint: live events delivered; SIGTERM saves the checkpoint.
#   B  checkpoint + maxAge 5m: the events posted while it was down are delivered,
#      and the checkpointed event again; nothing older than it.
#   C  maxAge 0: nothing posted while down is delivered (live events are).
#   D  no checkpoint: nothing posted while down is delivered (live events are).
#   E  hand-written {"lastEventKeyTimestamp": now - 1h}, maxAge 3s: starts at
#      now - 3s: events posted 6 s before the start are not delivered, events
#      posted just before it are.
#   F  hand-written {"lastEventKeyTimestamp": <time of an E event>}, maxAge 5m:
#      starts exactly there (inclusive).
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_replay
d=$E2E_DIR
p="replay-$RANDOM$RANDOM"
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"
cp=$d/cp.json

# start PHASE MAXAGE: sink + adapter for one phase; sets rec, pid, log.
start() {
  e2e_sink "sink-$1"
  rec=$E2E_SINK_REC log=$d/run-$1.log
  e2e_bg "run-$1" "$log" "$VSG_BIN" run --address "$VCSIM_URL" --ca-file "$VSG_TEST_CA" \
    --secret-path "$d/secret" --sink "$E2E_SINK_URL" --encoding json --checkpoint "$cp" \
    --period 1s --max-age "$2"
  pid=$E2E_PID
  up() { grep -q "event collector created" "$log"; }
  retry 30 up || fail "phase $1 adapter did not start: $(tail -n 3 "$log")"
}
stop() {
  e2e_stop "$pid"
  [ "$E2E_RC" -eq 0 ] || fail "adapter exited with $E2E_RC after SIGTERM (want 0)"
}
post() { post_events "$VCSIM_URL" "$1" "$p $2"; }
arrived() { has_msg "$rec" "$1"; }
cp_key() { jq -r .lastEventKey "$cp"; }
min_id() { rec_ok "$rec" | jq -s 'map(.attributes.id | tonumber) | min'; }

# ---- A
start A 5m
post 3 a
wait_for 20 "phase A events" arrived "$p a 2"
stop
[ -s "$cp" ] || fail "no checkpoint file after SIGTERM"
kA=$(cp_key)
[ "$kA" -ge "$(rec_msgs "$rec" "$p a 2" | cut -d' ' -f1)" ] || fail "checkpoint $kA is before the last event delivered"

# ---- B: posted while down, replayed from the checkpoint
post 5 b
start B 5m
wait_for 20 "phase B replay" arrived "$p b 4"
sleep 0.5
nb=$(rec_count "$rec" "$p b ")
[ "$nb" -eq 5 ] || fail "phase B: $nb of the 5 events posted while down were delivered"
rec_ok "$rec" | jq -s -e --arg k "$kA" 'any(.[]; .attributes.id == $k)' >/dev/null ||
  fail "phase B: the checkpointed event $kA was not delivered again"
[ "$(min_id)" -eq "$kA" ] || fail "phase B: replay started at key $(min_id), expected the checkpointed $kA"
grep -q "resuming from checkpoint" "$log" || fail "phase B: log does not say it resumes from the checkpoint"
nB=$(wc -l <"$rec")
stop

# ---- C: maxAge 0 replays nothing
post 3 c-down
start C 0
post 1 c-live
wait_for 20 "phase C live event" arrived "$p c-live 0"
[ "$(rec_count "$rec" "$p c-down")" -eq 0 ] || fail "phase C: maxAge 0 but events posted while down were delivered"
[ "$(min_id)" -gt "$kA" ] || fail "phase C: events from before the start were delivered"
grep -q "disabling event replay" "$log" || fail "phase C: log does not say replay is disabled"
stop

# ---- D: no checkpoint, no replay
rm -f "$cp"
post 3 d-down
start D 5m
post 1 d-live
wait_for 20 "phase D live event" arrived "$p d-live 0"
[ "$(rec_count "$rec" "$p d-down")" -eq 0 ] || fail "phase D: no checkpoint but events posted while down were delivered"
grep -q "no checkpoint found" "$log" || fail "phase D: log does not say no checkpoint was found"
stop

# ---- E: a checkpoint older than maxAge starts at now - maxAge
stop_ts() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.000000000Z; }
printf '{"lastEventKeyTimestamp":"%s"}' "$(stop_ts $(( $(date +%s) - 3600 )))" >"$cp"
post 3 e-old
sleep 6
post 3 e-new
sleep 0.3
t_start=$(date +%s.%N)
start E 3s
wait_for 20 "phase E events" arrived "$p e-new 2"
sleep 0.5
ne_old=$(rec_count "$rec" "$p e-old") ne_new=$(rec_count "$rec" "$p e-new")
[ "$ne_old" -eq 0 ] || fail "phase E: $ne_old events older than now - maxAge were delivered"
[ "$ne_new" -eq 3 ] || fail "phase E: $ne_new of 3 events newer than now - maxAge were delivered"
begin=$(grep "checkpoint older than maxAge" "$log" | jq -r .beginTime) ||
  fail "phase E: log does not warn that the checkpoint is older than maxAge"
# begin = vCenter's now - 3s, and vCenter's now is within [t_start, t_start + 5s].
lag=$(jq -rn --arg b "$begin" --argjson t "$t_start" \
  '($b | sub("\\.[0-9]+Z$"; "Z") | fromdate) - ($t | floor) + 3')
{ [ "$lag" -ge -1 ] && [ "$lag" -le 6 ]; } || fail "phase E: beginTime $begin is not about start - 3s (lag $lag s)"
stop

# ---- F: hand-written checkpoint inside maxAge, inclusive
t1=$(rec_ok "$rec" | jq -r --arg m "$p e-new 1" 'select((.data | fromjson).Message == $m) | .attributes.time')
k1=$(rec_msgs "$rec" "$p e-new 1" | cut -d' ' -f1)
printf '{"lastEventKeyTimestamp":"%s"}' "$t1" >"$cp"
start F 5m
wait_for 20 "phase F replay" arrived "$p e-new 2"
sleep 0.3
[ "$(rec_count "$rec" "$p e-new 0")" -eq 0 ] || fail "phase F: an event before the checkpoint was delivered"
[ "$(rec_count "$rec" "$p e-new 1")" -eq 1 ] || fail "phase F: the event at the checkpoint time was not delivered"
[ "$(min_id)" -eq "$k1" ] || fail "phase F: replay started at key $(min_id), expected $k1"
stop

echo "adapter_replay: ok: B replayed 5/5 missed events + checkpointed key $kA ($nB events);" \
  "C maxAge 0 and D no checkpoint replayed 0/3; E started at $begin (now-3s): 0/3 old, 3/3 new;" \
  "F hand-written checkpoint $t1 started at key $k1"

# A runaway filter does not stop the adapter (issue #15). The filter passes
# its dry run (a VmPoweredOnEvent) but on every GeneralUserEvent it marks
# the event, then backtracks ("a" x 3000):find(".-.-.-.-b"): with Lua's own
# matcher that call never ends (delivery stopped at 100 % CPU, the
# checkpoint froze, SIGTERM was ignored). Two `vsgate adapter`s run it, one
# with onError deliver and one with drop:
#   - every call fails with the budget (or time) error at filter.lua's
#     line, logged per event;
#   - deliver: every event reaches the sink, unchanged (the mark is gone);
#     drop: none does;
#   - both checkpoints reach the last event's key;
#   - with a backlog still being filtered, SIGTERM stops each adapter
#     within 2 s, exit status 0;
#   - a source may allow a filter call 30 s (spec.filter.limits): SIGTERM
#     during such a call still stops the adapter within 2 s (the call is
#     interrupted), and the interrupted event is neither sent nor
#     checkpointed, so the next start reads it again.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin filter_runaway
d=$E2E_DIR
p="runaway-$RANDOM$RANDOM"
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"
ns=$(new_ns filter-runaway)
cat >"$d/filter.lua" <<'EOF'
local subject = ("a"):rep(3000)
function filter(e)
  if e.type:find("GeneralUserEvent", 1, true) then
    e.extensions.touched = "yes"
    subject:find(".-.-.-.-b")
  end
  return e
end
EOF
start_adapter() { # NAME POLICY SINK LOG [FILTER-FILE [LIMITS]]
  k -n "$ns" create configmap "$1-configmap" >/dev/null
  k -n "$ns" create configmap "$1-filter" --from-file=filter.lua="${5:-$d/filter.lua}" >/dev/null
  e2e_bg "$1" "$4" env -i PATH="$PATH" KUBECONFIG="$KUBECONFIG" \
    NAMESPACE="$ns" NAME="$1" \
    VSPHERE_KVSTORE_CONFIGMAP="$1-configmap" \
    VSPHERE_CHECKPOINT_CONFIG='{"maxAge":"5m0s","period":"1s"}' \
    VSPHERE_PAYLOAD_ENCODING=application/json \
    VSPHERE_FILTER_CONFIGMAP="$1-filter" VSPHERE_FILTER_ON_ERROR="$2" \
    K_SINK="$3" VC_URL="$VCSIM_URL" VC_SECRET_PATH="$d/secret" \
    VSPHERE_CA_CERTS="$(cat "$VSG_TEST_CA")" ${6:+VSPHERE_FILTER_LIMITS="$6"} \
    "$VSG_BIN" adapter
}
e2e_sink delivered
url_d=$E2E_SINK_URL rec_d=$E2E_SINK_REC
e2e_sink dropped
url_x=$E2E_SINK_URL rec_x=$E2E_SINK_REC
start_adapter deliverer deliver "$url_d" "$d/deliver.log"
deliverer=$E2E_PID
start_adapter dropper drop "$url_x" "$d/drop.log"
dropper=$E2E_PID
up() { grep -q "event collector created" "$1"; }
retry 30 up "$d/deliver.log" || fail "deliverer did not start: $(tail -n 3 "$d/deliver.log")"
retry 30 up "$d/drop.log" || fail "dropper did not start: $(tail -n 3 "$d/drop.log")"
sleep 0.2

# 1. Events flow past the runaway filter, as the error policy says.
n=20
post_events "$VCSIM_URL" "$n" "$p"
wait_for 90 "the deliverer to send all $n events" has_msg "$rec_d" "$p $((n - 1))"
[ "$(rec_count "$rec_d" "$p ")" -eq "$n" ] || fail "the deliverer sent $(rec_count "$rec_d" "$p ") of $n events"
touched=$(rec_ok "$rec_d" | jq -r 'select(.attributes.touched != null or .extensions.touched != null) | 1' | wc -l)
[ "$touched" -eq 0 ] || fail "$touched events went out changed: onError deliver sends the original"
last=$(rec_msgs "$rec_d" "$p $((n - 1))" | cut -d' ' -f1)
grep -q '"msg":"filter failed on event.*delivering it unchanged.*filter.lua:5: \(instruction budget\|time limit\) exceeded' \
  "$d/deliver.log" || fail "no limit error logged: $(grep -m1 'filter failed' "$d/deliver.log")"
cp_key() { # NAME
  local v
  v=$(k -n "$ns" get configmap "$1-configmap" -o jsonpath='{.data.checkpoint}' | jq -r '.lastEventKey // 0')
  echo "${v:-0}"
}
passed() { [ "$(cp_key "$1")" -ge "$last" ]; }
wait_for 90 "the deliverer's checkpoint to pass key $last" passed deliverer
wait_for 90 "the dropper's checkpoint to pass key $last" passed dropper
[ "$(rec_count "$rec_x" "$p ")" -eq 0 ] || fail "onError drop let $(rec_count "$rec_x" "$p ") events through"
grep -q '"msg":"filter failed on event.*dropping it (onError: drop).*filter.lua:5: ' "$d/drop.log" ||
  fail "the dropper logged no filter error"

# 2. SIGTERM while a backlog is being filtered: out within 2 s.
post_events "$VCSIM_URL" 300 "$p-backlog"
wait_for 60 "the backlog to be under way" has_msg "$rec_d" "$p-backlog 2"
stop_timed() { # PID NAME: sets STOP_MS
  local t0 t1
  t0=$(date +%s%N)
  e2e_stop "$1"
  t1=$(date +%s%N)
  STOP_MS=$(( (t1 - t0) / 1000000 ))
  [ "$E2E_RC" -eq 0 ] || fail "$2 exited with $E2E_RC after SIGTERM"
  [ "$STOP_MS" -lt 2000 ] || fail "$2 took $STOP_MS ms to stop after SIGTERM"
}
busy=$(rec_count "$rec_d" "$p-backlog ")
[ "$busy" -lt 300 ] || fail "the backlog was done before SIGTERM: no filter call to interrupt"
stop_timed "$deliverer" deliverer
ms_d=$STOP_MS
stop_timed "$dropper" dropper
ms_x=$STOP_MS
grep -q '"msg":"adapter stopped"' "$d/deliver.log" || fail "the deliverer did not shut down cleanly"

# 3. A filter call allowed 30 s, interrupted by SIGTERM.
cat >"$d/patient.lua" <<'EOF'
function filter(e)
  if e.type:find("GeneralUserEvent", 1, true) then while true do end end
  return e
end
EOF
e2e_sink patient
url_p=$E2E_SINK_URL rec_p=$E2E_SINK_REC
start_adapter patient deliver "$url_p" "$d/patient.log" "$d/patient.lua" \
  instructions=1000000000000,timeoutMs=30000
patient=$E2E_PID
retry 30 up "$d/patient.log" || fail "patient did not start: $(tail -n 3 "$d/patient.log")"
sleep 0.2
post_events "$VCSIM_URL" 3 "$p-patient"
sleep 2 # well into the first GeneralUserEvent's 30 s call
stop_timed "$patient" patient
ms_p=$STOP_MS
[ "$(rec_count "$rec_p" "$p-patient ")" -eq 0 ] || fail "an interrupted event was sent"
grep -q '"msg":"adapter stopped"' "$d/patient.log" || fail "patient did not shut down cleanly"
# Not checkpointed: started again from its checkpoint with a filter that
# keeps everything, the adapter reads the interrupted event (and the two
# after it) again.
k -n "$ns" create configmap patient-filter --from-literal=filter.lua='function filter(e) return e end' \
  --dry-run=client -o yaml | k replace -f - >/dev/null
k -n "$ns" delete configmap patient2-configmap --ignore-not-found >/dev/null
k -n "$ns" get configmap patient-configmap -o json |
  jq '.metadata = {name: "patient2-configmap"}' | k -n "$ns" create -f - >/dev/null
e2e_bg patient2 "$d/patient2.log" env -i PATH="$PATH" KUBECONFIG="$KUBECONFIG" \
  NAMESPACE="$ns" NAME=patient2 VSPHERE_KVSTORE_CONFIGMAP=patient2-configmap \
  VSPHERE_CHECKPOINT_CONFIG='{"maxAge":"5m0s","period":"1s"}' VSPHERE_PAYLOAD_ENCODING=application/json \
  VSPHERE_FILTER_CONFIGMAP=patient-filter K_SINK="$url_p" VC_URL="$VCSIM_URL" VC_SECRET_PATH="$d/secret" \
  VSPHERE_CA_CERTS="$(cat "$VSG_TEST_CA")" "$VSG_BIN" adapter
patient2=$E2E_PID
wait_for 60 "the interrupted event to be read again" has_msg "$rec_p" "$p-patient 0"
wait_for 30 "the events after it" has_msg "$rec_p" "$p-patient 2"
e2e_stop "$patient2"
echo "filter_runaway: ok ($n events past a runaway filter, delivered unchanged / dropped, checkpoints at key $last; SIGTERM mid-backlog ($busy of 300 sent): stopped in $ms_d ms and $ms_x ms; a 30 s call interrupted in $ms_p ms, its event read again after a restart)"

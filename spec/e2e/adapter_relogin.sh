# The adapter survives vCenter trouble (CONTRACTS §3, ours), against a private
# vcsim (a lost session leaks its event collector, and the proxy outage leaks
# one more; the shared vcsim is left alone).
# 1. Session lost: vCenter terminates the adapter's session (TerminateSession,
#    `govc session.rm`, the same NotAuthenticated a session timeout gives; the
#    vcsim we build, govmomi 0.46.3, ignores config.vmacore.soap.sessionTimeout:
#    its SessionIdleTimeout is never set from options, so expiry cannot be
#    provoked by waiting). Twice: once with events posted right after the
#    session died, once after the adapter sat idle for 3 s. The adapter logs in
#    again and every event arrives exactly once.
# 2. vCenter unreachable: the adapter talks to vcsim through a socat TCP proxy
#    (TLS still verifies: the serving cert has IP SAN 127.0.0.1); the proxy is
#    stopped for 10 s while events are posted straight to vcsim, then started
#    again: the log shows retries with a growing backoff and every event
#    arrives exactly once.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_relogin
command -v socat >/dev/null || fail "socat is missing (scripts/install-deps installs it)"
d=$E2E_DIR
p="relogin-$RANDOM$RANDOM"
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"

e2e_vcsim vc
vc_url=$E2E_VC_URL vc_port=$E2E_VC_PORT
export GOVC_URL=$E2E_GOVC_URL
"$GOVC" option.set config.vmacore.soap.sessionTimeout 5s   # harmless; see above
run=("$VSG_BIN" run --ca-file "$VSG_TEST_CA" --secret-path "$d/secret" --encoding json --period 1s --max-age 5m)
up() { grep -q "event collector created" "$1"; }
# exactly_once REC PREFIX N: messages "PREFIX 0".."PREFIX N-1", once each.
exactly_once() {
  local got want
  got=$(rec_msgs "$1" "$2 " | cut -d' ' -f2- | sort)
  want=$(seq 0 $(($3 - 1)) | sed "s/^/$2 /" | sort)
  [ "$got" = "$want" ] || fail "expected '$2 0..$(($3 - 1))' once each, got: $(tr '\n' ',' <<<"$got")"
}

# ---- 1. session terminated by vCenter
e2e_sink sink1; rec1=$E2E_SINK_REC
e2e_bg run1 "$d/run1.log" "${run[@]}" --address "$vc_url" --sink "$E2E_SINK_URL" --checkpoint "$d/cp1.json"
pid1=$E2E_PID
retry 30 up "$d/run1.log" || fail "adapter did not start: $(tail -n 3 "$d/run1.log")"
post_events "$vc_url" 3 "$p a"
wait_for 20 "events before the session loss" has_msg "$rec1" "$p a 2"
adapter_session() { "$GOVC" session.ls -json | jq -r '.sessionList[] | select(.userAgent | startswith("vsgate")) | .key'; }
kill_session() {
  local key; key=$(adapter_session)
  [ "$(wc -w <<<"$key")" -eq 1 ] || fail "expected one vsgate session in vcsim, found: '$key'"
  "$GOVC" session.rm "$key" >/dev/null
  ! grep -qxF "$key" <<<"$(adapter_session)" || fail "session $key still listed after session.rm"
  echo "$key"
}
s1=$(kill_session)
post_events "$vc_url" 3 "$p b"                 # while the session is dead
wait_for 30 "events posted after the session was terminated" has_msg "$rec1" "$p b 2"
sleep 3                                          # idle in WaitForUpdatesEx
s2=$(kill_session)
[ "$s2" != "$s1" ] || fail "the adapter still uses the terminated session $s1"
sleep 3
post_events "$vc_url" 3 "$p c"
wait_for 30 "events posted after the second termination" has_msg "$rec1" "$p c 2"
sleep 0.5
for x in a b c; do exactly_once "$rec1" "$p $x" 3; done
lost=$(grep -c "vCenter session lost" "$d/run1.log" || true)
logins=$(grep -c '"msg":"logged in to vCenter"' "$d/run1.log" || true)
[ "$lost" -ge 2 ] || fail "log shows $lost 'vCenter session lost' lines, want >= 2: $(grep -i 'session\|login' "$d/run1.log" | tail -n 5)"
[ "$logins" -ge 3 ] || fail "log shows $logins logins, want >= 3 (first + 2 re-logins)"
e2e_stop "$pid1"
[ "$E2E_RC" -eq 0 ] || fail "adapter exited with $E2E_RC after SIGTERM"
echo "adapter_relogin: session terminated twice ($s1, $s2): $lost 'session lost', $logins logins," \
  "9/9 events delivered exactly once"

# ---- 2. vCenter unreachable for 10 s (TCP proxy stopped)
pport=$(_e2e_free_port)
proxy() {
  e2e_bg_group proxy "$d/proxy-$1.log" socat "TCP-LISTEN:$pport,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$vc_port"
  proxy_pid=$E2E_PID
  listening() { [ -n "$(ss -Hltn "sport = :$pport")" ]; }
  wait_for 10 "the proxy to listen on $pport" listening
}
proxy 1
e2e_sink sink2; rec2=$E2E_SINK_REC
e2e_bg run2 "$d/run2.log" "${run[@]}" --address "https://127.0.0.1:$pport/sdk" --sink "$E2E_SINK_URL" \
  --checkpoint "$d/cp2.json"
pid2=$E2E_PID
retry 30 up "$d/run2.log" || fail "adapter did not start through the proxy: $(tail -n 3 "$d/run2.log")"
post_events "$vc_url" 3 "$p before"
wait_for 20 "events before the outage" has_msg "$rec2" "$p before 2"
e2e_stop_group "$proxy_pid"
t_down=$SECONDS
post_events "$vc_url" 5 "$p down"                # straight to vcsim
sleep 10
proxy 2
t_outage=$((SECONDS - t_down))
post_events "$vc_url" 2 "$p after"
t_back=$SECONDS
wait_for 60 "events posted during the outage" has_msg "$rec2" "$p after 1"
t_resume=$((SECONDS - t_back))
sleep 0.5
exactly_once "$rec2" "$p before" 3
exactly_once "$rec2" "$p down" 5
exactly_once "$rec2" "$p after" 2
rec_ok "$rec2" | jq -s -e 'map(.attributes.id | tonumber) | . == (sort | unique)' >/dev/null ||
  fail "keys not ascending / duplicated across the outage: $(rec_ok "$rec2" | jq -r .attributes.id | tr '\n' ' ')"
# The gaps between the logged vCenter errors are the backoff: 1, 2, 4, 8 s...
gaps=$(jq -r 'select(.level == "error" and (.msg | test("^(vCenter|could not create event collector|vCenter login)"))) | .ts' "$d/run2.log" |
  while read -r ts; do date -d "$ts" +%s.%N; done |
  awk 'NR > 1 { printf "%.1f ", $1 - prev } { prev = $1 }')
read -r -a g <<<"$gaps"
[ "${#g[@]}" -ge 3 ] || fail "expected >= 3 vCenter retries in the log during a 10 s outage, gaps: '$gaps'"
awk -v a="${g[0]}" -v b="${g[1]}" -v c="${g[2]}" 'BEGIN { exit !(a >= 0.8 && b >= 1.5 * a && c >= 1.5 * b) }' ||
  fail "retry backoff does not grow: gaps $gaps s"
grep -q '"level":"error".*Failed to connect' "$d/run2.log" ||
  fail "no connection error logged during the outage: $(grep error "$d/run2.log" | head -n 3)"
e2e_stop "$pid2"
[ "$E2E_RC" -eq 0 ] || fail "adapter exited with $E2E_RC after SIGTERM"
echo "adapter_relogin: vCenter unreachable for ${t_outage}s: retries after ${gaps% } s," \
  "resumed ${t_resume}s after the proxy came back, 10/10 events delivered exactly once"

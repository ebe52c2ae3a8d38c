# A killed adapter does not leak its vCenter session (issue 14.6 c): each `kill -9` used to
# leave a session, and the event collector it made, until the session expired, and vCenter
# refuses new collectors once too many are open. `vsgate run` keeps its session cookie in a
# 0600 file next to the checkpoint; a restart that finds one logs that session out first.
# Against a private vcsim: 4 kills and restarts leave 1 vsgate session, not 5; a clean stop
# logs out and removes the file.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_session_file
d=$E2E_DIR
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"
e2e_vcsim vc
vc_url=$E2E_VC_URL
export GOVC_URL=$E2E_GOVC_URL
e2e_sink sink
sessions() { "$GOVC" session.ls -json | jq '[.sessionList[]? | select(.userAgent | startswith("vsgate"))] | length'; }
start() {
  e2e_bg "run$1" "$d/run$1.log" "$VSG_BIN" run --address "$vc_url" --ca-file "$VSG_TEST_CA" \
    --secret-path "$d/secret" --sink "$E2E_SINK_URL" --checkpoint "$d/cp.json" --period 1s
  pid=$E2E_PID
  retry 30 grep -qs "event collector created" "$d/run$1.log" || fail "adapter $1 did not start: $(tail -n 3 "$d/run$1.log")"
}
start 1
[ -f "$d/cp.json.session" ] || fail "no session file next to the checkpoint"
[ "$(stat -c %a "$d/cp.json.session")" = 600 ] || fail "session file mode $(stat -c %a "$d/cp.json.session"), want 600"
grep -q "$VCSIM_PASSWORD" "$d/cp.json.session" && fail "the session file holds the password"
for i in 2 3 4 5; do
  e2e_stop "$pid" KILL
  start $i
  grep -q "logged out the vCenter session a previous process left" "$d/run$i.log" ||
    fail "restart $i did not log out the session the killed process left: $(grep -i session "$d/run$i.log" | head -n 3)"
done
n=$(sessions)
[ "$n" = 1 ] || fail "$n vsgate sessions in vCenter after 4 kills and restarts, want 1"
e2e_stop "$pid"
[ ! -e "$d/cp.json.session" ] || fail "a clean stop left the session file"
[ "$(sessions)" = 0 ] || fail "$(sessions) vsgate sessions left after a clean stop"
echo "adapter_session_file: 4 kills -9 and restarts left 1 vCenter session (was one more per kill); clean stop: 0, file removed"

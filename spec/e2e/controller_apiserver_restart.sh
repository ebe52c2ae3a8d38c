# kube-apiserver restarted while `vsgate controller` runs: against a PRIVATE
# etcd + kube-apiserver (spec/harness/up --no-vcsim into the test's folder,
# free ports; the shared harness is not touched), the controller reconciles
# a source; the kube-apiserver gets SIGTERM and is started again with the
# same arguments (from /proc/<pid>/cmdline); the same controller process
# (no restart) then sees a spec change of the existing source (it reaches
# the Deployment) and a source created after the restart (it gets its
# children): the watches resumed and nothing was missed.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin controller_apiserver_restart
peers=$E2E_DIR/peers
"$VSG_SOURCE_DIR/spec/harness/up" --no-vcsim --watch-pid $$ "$peers" >"$E2E_DIR/up.log" 2>&1 ||
  fail "private harness: $(tail -n 5 "$E2E_DIR/up.log")"
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
more_on_exit '"$VSG_SOURCE_DIR/spec/harness/down" "$peers"'
# Only the API server's coordinates come from the private env.
KUBECONFIG=$(. "$peers/env"; echo "$KUBECONFIG")
VSG_CONTROLLER_KUBECONFIG=$(. "$peers/env"; echo "$VSG_CONTROLLER_KUBECONFIG")
apiserver=$(. "$peers/env"; echo "$VSG_APISERVER")
[ "$KUBECONFIG" = "$peers/kubeconfig" ] || fail "private kubeconfig: $KUBECONFIG"
ctl_setup
ns=$(new_ns ctl-restart)
ctl_source "$ns"
ctl_start a --lease-name ctl-restart
wait_for 60 "the adapter Deployment" kq -n "$ns" get deploy source-adapter
wait_jp 30 "$ns" vss source '{.status.sinkUri}' http://where.to.send.stuff

# ---- restart the private kube-apiserver with the same arguments ----------------
apid=$(cat "$peers/apiserver.pid")
mapfile -d '' args <"/proc/$apid/cmdline"
{ [ "${#args[@]}" -gt 5 ] && [[ ${args[0]} == *kube-apiserver ]]; } || fail "not the kube-apiserver: ${args[*]}"
kill -TERM "$apid"
t_stop=$SECONDS
# (it is not our child: once stopped it may stay a zombie until init reaps it)
retry 90 sh -c "! ps -o stat= -p $apid | grep -qv Z" ||
  fail "kube-apiserver did not stop: $(ps -o stat=,cmd= -p "$apid" | cut -c1-80) $(tail -n 3 "$peers/apiserver.log")"
sleep 3    # the controller's watches and lease renewals fail for a while
stop_s=$((SECONDS - t_stop - 3))
"${args[@]}" >>"$peers/apiserver.log" 2>&1 </dev/null &
echo $! >"$peers/apiserver.pid"
ready() { curl -fsS --cacert "$peers/pki/ca.crt" --cert "$peers/pki/admin.crt" --key "$peers/pki/admin.key" \
  "$apiserver/readyz" -o /dev/null 2>/dev/null; }
wait_for 120 "the kube-apiserver to come back" ready

# ---- the same controller sees what happens next -----------------------------
k -n "$ns" patch vss source --type merge -p '{"spec":{"sink":{"uri":"http://after-restart.example/"}}}' >/dev/null
sed 's/^  name: source$/  name: born-after-restart/' "$SEED/source.yaml" | k -n "$ns" apply -f - >/dev/null
wait_for 90 "K_SINK to follow the spec after the restart" sh -c \
  "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG -n $ns get deploy source-adapter -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name==\"K_SINK\")].value}')\" = http://after-restart.example/ ]"
wait_for 60 "the new source's Deployment" kq -n "$ns" get deploy born-after-restart-adapter
wait_jp 30 "$ns" vss born-after-restart '{.status.sinkUri}' http://where.to.send.stuff
kill -0 "$CTL_PID" || fail "the controller died"
[ "$(ctl_metric "$CTL_METRICS" vsgate_leader)" = 1 ] || fail "the controller does not lead after the restart"
e2e_stop "$CTL_PID"
# shellcheck disable=SC2031  # e2e_stop just set it in this shell
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$CTL_LOG" || fail "sanitizer report in $CTL_LOG"
echo "controller_apiserver_restart: ok (the kube-apiserver took ${stop_s}s to stop)"

# No credential reaches a log (issue #14, item 2): one distinctive password is
# set on every credential vsgate handles - the vCenter password (the secret),
# the user info of --address / VC_URL, of the sink and of the dead-letter sink
# URL, and, for `vsgate adapter`, the kubeconfig's token and its server URL's
# user info - and faults make vsgate talk about each of them:
#   A. `vsgate run`: sink and dead-letter sink refuse connections (retries,
#      give-ups, the drop);
#   B. the sink answers 503 until retries run out, the event is dead-lettered;
#   C. the sink answers 400, the event is dead-lettered;
#   D. vCenter rejects the password (a private vcsim with its own credentials);
#   E. `vsgate adapter` (env): start line, refused sink and dead-letter sink;
#   F. `vsgate adapter` whose kubeconfig server refuses connections.
# Each fault is checked to have happened (its log line), then every log and
# every sink record is searched for the password: it must be absent.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_secrets_redacted
d=$E2E_DIR
pw="Qv7-$RANDOM$RANDOM-n0tInAnyL0g"
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$pw" >"$d/secret/password"   # the harness vcsim takes any password
p="redact-$RANDOM$RANDOM"
host=${VCSIM_URL#https://}                  # 127.0.0.1:port/sdk
vc_pw="https://$VCSIM_USER:$pw@$host"      # user info in the address: ignored, never shown
run=("$VSG_BIN" run --address "$vc_pw" --ca-file "$VSG_TEST_CA" --secret-path "$d/secret"
     --encoding json --period 1s --max-age 0s --log-level debug)
up() { grep -q "event collector created" "$1"; }
has() { grep -qF -- "$2" "$1"; }
# closed_port TAG: CLOSED = a port nothing listens on (a sink started, stopped).
closed_port() {
  e2e_sink "$1"
  CLOSED=$(cat "$d/$1.port")
  e2e_stop "$E2E_PID"
}
cred() { echo "http://sinkuser:$pw@127.0.0.1:$1/"; }
# withpw URL USER: URL (http://host:port/) with USER:password@.
withpw() { echo "http://$2:$pw@${1#http://}"; }
closed_port closed1; c1=$CLOSED
closed_port closed2; c2=$CLOSED

# ---- A. sink and dead-letter sink refuse connections
e2e_bg runA "$d/runA.log" "${run[@]}" --checkpoint "$d/cpA.json" --sink "$(cred "$c1")" \
  --dead-letter-sink "$(cred "$c2")" --retry 1 --backoff-delay PT0.1S
pidA=$E2E_PID
retry 30 up "$d/runA.log" || fail "run A did not start: $(tail -n 3 "$d/runA.log")"
post_events "$VCSIM_URL" 2 "$p A"
wait_for 30 "run A to drop an event" has "$d/runA.log" '"msg":"event dropped:'
has "$d/runA.log" '"msg":"delivery failed:' || fail "run A: no retried delivery in the log"
has "$d/runA.log" 'dead-letter delivery gave up' || fail "run A: no dead-letter give-up in the log"
e2e_stop "$pidA"

# ---- B. 503 until the retries run out -> dead-letter sink
e2e_sink dlsB; dlsB=$E2E_SINK_URL recB=$E2E_SINK_REC
e2e_sink sinkB --status 503; sinkB=$E2E_SINK_URL
e2e_bg runB "$d/runB.log" "${run[@]}" --checkpoint "$d/cpB.json" --sink "$(withpw "$sinkB" sinkuser)" \
  --dead-letter-sink "$(withpw "$dlsB" dlsuser)" --retry 1 --backoff-delay PT0.1S
pidB=$E2E_PID
retry 30 up "$d/runB.log" || fail "run B did not start: $(tail -n 3 "$d/runB.log")"
post_events "$VCSIM_URL" 1 "$p B"
wait_for 30 "run B to dead-letter an event" has_msg "$recB" "$p B 0"
has "$d/runB.log" '"msg":"delivery failed: HTTP 503' || fail "run B: no 503 retry in the log"
has "$d/runB.log" 'event sent to the dead-letter sink' || fail "run B: no dead-letter line in the log"
dest=$(rec_ok "$recB" | jq -r 'select(.attributes.knativeerrorcode == "503") | .attributes.knativeerrordest' | sed -n 1p)
{ [ -n "$dest" ] && [[ $dest != *"$pw"* ]]; } || fail "run B: knativeerrordest is \"$dest\""
e2e_stop "$pidB"

# ---- C. 400 -> dead-letter sink at once
e2e_sink dlsC; dlsC=$E2E_SINK_URL recC=$E2E_SINK_REC
e2e_sink sinkC --status 400; sinkC=$E2E_SINK_URL
e2e_bg runC "$d/runC.log" "${run[@]}" --checkpoint "$d/cpC.json" --sink "$(withpw "$sinkC" sinkuser)" \
  --dead-letter-sink "$(withpw "$dlsC" dlsuser)"
pidC=$E2E_PID
retry 30 up "$d/runC.log" || fail "run C did not start: $(tail -n 3 "$d/runC.log")"
post_events "$VCSIM_URL" 1 "$p C"
wait_for 30 "run C to dead-letter an event" has_msg "$recC" "$p C 0"
has "$d/runC.log" 'HTTP 400 (not retryable)' || fail "run C: no 400 give-up in the log"
e2e_stop "$pidC"

# ---- D. vCenter rejects the password
vp=$(_e2e_free_port)
: >"$d/vcD.env"
e2e_bg vcD "$d/vcD.log" env TZ=UTC "$VSG_PEER_BIN/vcsim" -l "127.0.0.1:$vp" \
  -tlscert "$VSG_HARNESS_DIR/pki/serving.crt" -tlskey "$VSG_HARNESS_DIR/pki/serving.key" \
  -username "$VCSIM_USER" -password "other-$RANDOM" -E "$d/vcD.env"
wait_for 30 "the private vcsim" curl -fsS -o /dev/null --cacert "$VSG_TEST_CA" "https://127.0.0.1:$vp/about"
e2e_sink sinkD; sinkD=$E2E_SINK_URL
e2e_bg runD "$d/runD.log" "$VSG_BIN" run --address "https://$VCSIM_USER:$pw@127.0.0.1:$vp/sdk" \
  --ca-file "$VSG_TEST_CA" --secret-path "$d/secret" --checkpoint "$d/cpD.json" --log-level debug \
  --sink "$(withpw "$sinkD" sinkuser)"
pidD=$E2E_PID
logins() { [ "$(grep -c '"level":"error".*vCenter login failed.*InvalidLogin' "$d/runD.log" || true)" -ge 2 ]; }
wait_for 20 "run D to fail its vCenter login twice" logins
e2e_stop "$pidD"

# ---- E. `vsgate adapter`: the start line, refused sink and dead-letter sink
ns=$(new_ns adapter-redact)
aenv=(PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" VSG_LOG_LEVEL=debug
      NAMESPACE="$ns" NAME=redact VC_URL="$vc_pw" VC_SECRET_PATH="$d/secret"
      VSPHERE_CA_CERTS="$(cat "$VSG_TEST_CA")" K_SINK="$(cred "$c1")" K_SINK_TIMEOUT=5
      VSPHERE_DELIVERY="{\"retry\":1,\"backoffDelay\":\"PT0.1S\",\"deadLetterSink\":\"$(cred "$c2")\"}"
      VSPHERE_KVSTORE_CONFIGMAP=redact-configmap VSPHERE_CHECKPOINT_CONFIG='{"maxAge":"0s","period":"1s"}')
e2e_bg adE "$d/adapterE.log" env -i "${aenv[@]}" KUBECONFIG="$KUBECONFIG" "$VSG_BIN" adapter
pidE=$E2E_PID
retry 30 up "$d/adapterE.log" || fail "adapter E did not start: $(tail -n 3 "$d/adapterE.log")"
has "$d/adapterE.log" '"msg":"starting adapter for ' || fail "adapter E: no start line"
post_events "$VCSIM_URL" 1 "$p E"
wait_for 30 "adapter E to drop an event" has "$d/adapterE.log" '"msg":"event dropped:'
e2e_stop "$pidE"

# ---- F. `vsgate adapter` with a kubeconfig token, its API server refusing connections
cat >"$d/kubeconfig-token" <<KC
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://kubeuser:$pw@127.0.0.1:$c1", certificate-authority: "$VSG_TEST_CA"}}]
users: [{name: u, user: {token: "$pw"}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: $ns}}]
current-context: c
KC
e2e_bg adF "$d/adapterF.log" env -i "${aenv[@]}" KUBECONFIG="$d/kubeconfig-token" "$VSG_BIN" adapter
pidF=$E2E_PID
retries() { [ "$(grep -c 'checkpoint ConfigMap .*(retrying)' "$d/adapterF.log" || true)" -ge 2 ]; }
wait_for 20 "adapter F to retry the checkpoint ConfigMap twice" retries
e2e_stop "$pidF"

# ---- the password: nowhere
files=("$d"/*.log "$d"/*.jsonl)
leaks=$(grep -lF -- "$pw" "${files[@]}" || true)
if [ -n "$leaks" ]; then
  for f in $leaks; do echo "--- $(basename "$f"):" >&2; grep -F -- "$pw" "$f" | head -n 3 | cut -c1-300 >&2; done
  fail "the password appears in: $(for f in $leaks; do basename "$f"; done | tr '\n' ' ')"
fi
lines=$(cat "${files[@]}" | wc -l)
echo "adapter_secrets_redacted: ok: refused sink/DLS, 503 and 400 to the DLS (knativeerrordest $dest)," \
  "wrong vCenter password, adapter env and kubeconfig token; the password is in none of ${#files[@]} logs/records ($lines lines)"

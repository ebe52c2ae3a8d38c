# Bad configuration fails fast and clearly: `vsgate adapter` (env) and
# `vsgate run` (flags) print exactly one line naming the problem (the flag or
# variable) and exit 2 within 10 s, before anything starts: malformed and
# out-of-range numbers (a sink timeout that would overflow), sink, dead-letter
# sink and vCenter URLs that are not http(s) with a host (file://, ftp://,
# dict://, "not a url"), CA files that are missing or hold no certificate, a
# missing password file, a K_METRICS_CONFIG or METRICS_PROMETHEUS_PORT that is
# not what Knative writes; no message shows a password given in a URL. A wrong
# CA (a valid certificate, not vCenter's) is not a configuration error but a vCenter
# error: the adapter keeps retrying with the TLS error in its log, and stops
# cleanly on SIGTERM.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_config_errors
d=$E2E_DIR
mkdir -p "$d/secret"
pw="pw-$RANDOM$RANDOM-secret"    # vcsim takes any password; this one must never be printed
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$pw" >"$d/secret/password"
ns=$(new_ns adapter-config)
# A good adapter env (CONTRACTS §2-3); each case changes one thing.
good=(PATH="$PATH" KUBECONFIG="$KUBECONFIG" ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}"
      NAMESPACE="$ns" NAME=cfg VC_URL="$VCSIM_URL" VC_INSECURE=false VC_SECRET_PATH="$d/secret"
      VSPHERE_CA_CERTS="$(cat "$VSG_TEST_CA")" K_SINK=http://127.0.0.1:9/ VSPHERE_KVSTORE_CONFIGMAP=cfg-configmap
      VSPHERE_CHECKPOINT_CONFIG='{"maxAge":"5m0s","period":"10s"}' VSPHERE_PAYLOAD_ENCODING=application/xml
      K_CE_OVERRIDES='')
n=0
# one_error NEEDLE CMD...: CMD exits 2 in time with one output line containing NEEDLE.
one_error() {
  local needle=$1 rc=0 out lines msg; shift
  out=$(timeout 10 "$@" 2>&1) || rc=$?
  [ "$rc" -ne 124 ] || fail "hung (killed after 10 s): $*"
  [ "$rc" -eq 2 ] || fail "exit status $rc (want 2) for bad config: ${*: -3}:"$'\n'"$out"
  lines=$(grep -c . <<<"$out" || true)
  [ "$lines" -eq 1 ] || fail "expected one error line, got $lines for: ${*: -3}:"$'\n'"$out"
  expect_contains "$out" "$needle" "error line"
  [[ $out != *"$pw"* ]] || fail "the password appears in the error of: ${*: -3}"
  n=$((n + 1))
  msg=$(jq -r .msg <<<"$out" 2>/dev/null) || msg=$out
  printf '  rc=%s %s\n' "$rc" "$msg" | cut -c1-150 >>"$d/summary"
}
A=(env -i "${good[@]}")                 # + VAR=value... "$VSG_BIN" adapter

one_error '"msg":"VC_URL is required"' "${A[@]}" env -u VC_URL "$VSG_BIN" adapter
one_error 'VC_INSECURE: invalid boolean \"maybe\"' "${A[@]}" VC_INSECURE=maybe "$VSG_BIN" adapter
one_error 'VSPHERE_CHECKPOINT_CONFIG: maxAge must be a duration string' "${A[@]}" VSPHERE_CHECKPOINT_CONFIG='{"maxAge":300}' "$VSG_BIN" adapter
one_error 'VSPHERE_CHECKPOINT_CONFIG: period: invalid duration' "${A[@]}" VSPHERE_CHECKPOINT_CONFIG='{"period":"10 seconds"}' "$VSG_BIN" adapter
one_error 'K_CE_OVERRIDES is not valid JSON' "${A[@]}" K_CE_OVERRIDES='{"extensions":' "$VSG_BIN" adapter
one_error 'VSPHERE_FILTER_LIMITS: instructions: expected a positive integer, got \"lots\"' "${A[@]}" VSPHERE_FILTER_LIMITS=instructions=lots "$VSG_BIN" adapter
one_error 'VSPHERE_FILTER_LIMITS: unknown limit \"cpu\"' "${A[@]}" VSPHERE_FILTER_LIMITS=cpu=1 "$VSG_BIN" adapter
one_error 'K_CE_OVERRIDES: extension \"team\" must have a string value' "${A[@]}" K_CE_OVERRIDES='{"extensions":{"team":1}}' "$VSG_BIN" adapter
one_error 'K_CE_OVERRIDES: invalid extension name \"Team-X\"' "${A[@]}" K_CE_OVERRIDES='{"extensions":{"Team-X":"a"}}' "$VSG_BIN" adapter
one_error 'VSPHERE_PAYLOAD_ENCODING: unsupported encoding \"text/plain\"' "${A[@]}" VSPHERE_PAYLOAD_ENCODING=text/plain "$VSG_BIN" adapter
one_error 'K_SINK is required' "${A[@]}" env -u K_SINK "$VSG_BIN" adapter
one_error 'VSPHERE_KVSTORE_CONFIGMAP is required' "${A[@]}" env -u VSPHERE_KVSTORE_CONFIGMAP "$VSG_BIN" adapter
one_error 'VC_SECRET_PATH: reading credentials' "${A[@]}" VC_SECRET_PATH="$d/nowhere" "$VSG_BIN" adapter
one_error 'VSPHERE_DELIVERY' "${A[@]}" VSPHERE_DELIVERY='{"retry":-1}' "$VSG_BIN" adapter
one_error 'VSPHERE_PAGE_SIZE' "${A[@]}" VSPHERE_PAGE_SIZE=5000 "$VSG_BIN" adapter
one_error 'VSPHERE_BATCH_WAIT_MS: must be 0..1000' "${A[@]}" VSPHERE_BATCH_WAIT_MS=5s "$VSG_BIN" adapter
one_error 'VSPHERE_BATCH_WAIT_MS: must be 0..1000' "${A[@]}" VSPHERE_BATCH_WAIT_MS=1001 "$VSG_BIN" adapter
# Numbers in range, URLs http(s) with a host, certificates that are certificates.
printf 'not a certificate\n' >"$d/not.pem"
one_error 'K_SINK_TIMEOUT: must be a number of seconds from 0 to 86400' "${A[@]}" K_SINK_TIMEOUT=99999999999999999999 "$VSG_BIN" adapter
one_error 'K_SINK_TIMEOUT: must be a number of seconds from 0 to 86400' "${A[@]}" K_SINK_TIMEOUT=86401 "$VSG_BIN" adapter
one_error 'K_SINK_TIMEOUT: must be a number of seconds' "${A[@]}" K_SINK_TIMEOUT=30s "$VSG_BIN" adapter
one_error 'VSPHERE_CE_HEADER_ENCODING must be raw or percent, not' "${A[@]}" VSPHERE_CE_HEADER_ENCODING=latin1 "$VSG_BIN" adapter
one_error 'K_TRACING_CONFIG: sample-rate must be a number from 0 to 1' "${A[@]}" K_TRACING_CONFIG='{"backend":"zipkin","sample-rate":"2"}' "$VSG_BIN" adapter
one_error 'K_TRACING_CONFIG is not a JSON object' "${A[@]}" K_TRACING_CONFIG='zipkin' "$VSG_BIN" adapter
one_error 'VSPHERE_HEALTH_PORT: must be a TCP port from 0 to 65535' "${A[@]}" VSPHERE_HEALTH_PORT=99999 "$VSG_BIN" adapter
one_error 'K_METRICS_CONFIG: not a JSON object' "${A[@]}" K_METRICS_CONFIG='{"Component":' "$VSG_BIN" adapter
one_error 'K_METRICS_CONFIG: PrometheusPort must be a TCP port' "${A[@]}" \
  K_METRICS_CONFIG='{"Component":"vspheresource","PrometheusPort":70000}' "$VSG_BIN" adapter
one_error 'METRICS_PROMETHEUS_PORT: must be a TCP port from 0 to 65535' "${A[@]}" \
  K_METRICS_CONFIG='{"Component":"vspheresource","PrometheusPort":0}' METRICS_PROMETHEUS_PORT=9o90 "$VSG_BIN" adapter
one_error 'K_SINK: not an http:// or https:// URL' "${A[@]}" K_SINK='not a url' "$VSG_BIN" adapter
one_error 'K_SINK: the URL must be http:// or https://' "${A[@]}" K_SINK=file:///etc/passwd "$VSG_BIN" adapter
one_error 'K_SINK: the URL must be http:// or https://' "${A[@]}" K_SINK=ftp://127.0.0.1/ "$VSG_BIN" adapter
one_error 'K_SINK: not an http:// or https:// URL with a host' "${A[@]}" K_SINK=http:///x "$VSG_BIN" adapter
one_error 'K_SINK: not an http:// or https:// URL: \"http://***@bad host/\"' "${A[@]}" K_SINK="http://u:$pw@bad host/" "$VSG_BIN" adapter
one_error 'VC_URL: the vCenter URL must be http:// or https://' "${A[@]}" VC_URL=file:///etc/passwd "$VSG_BIN" adapter
one_error 'VC_URL: the vCenter URL must be http:// or https://' "${A[@]}" VC_URL=dict://127.0.0.1:11211/ "$VSG_BIN" adapter
one_error 'VC_URL: not a vCenter URL' "${A[@]}" VC_URL="https://u:$pw@bad host/sdk" "$VSG_BIN" adapter
one_error 'VSPHERE_CA_CERTS: holds no PEM certificate' "${A[@]}" VSPHERE_CA_CERTS='not a certificate' "$VSG_BIN" adapter
one_error 'VSPHERE_DELIVERY: deadLetterSink: the URL must be http:// or https://' "${A[@]}" \
  VSPHERE_DELIVERY='{"deadLetterSink":"dict://127.0.0.1:11211/"}' "$VSG_BIN" adapter
one_error 'VSPHERE_DELIVERY: deadLetterSink: not an http:// or https:// URL' "${A[@]}" \
  VSPHERE_DELIVERY='{"deadLetterSink":"not a url"}' "$VSG_BIN" adapter
one_error 'VSPHERE_DELIVERY: retry must be a whole number from 0 to 2147483647' "${A[@]}" \
  VSPHERE_DELIVERY='{"retry":1e300}' "$VSG_BIN" adapter

run_ok=(--address "$VCSIM_URL" --ca-file "$VSG_TEST_CA" --secret-path "$d/secret" --checkpoint "$d/cp.json")
one_error 'vsgate run: --sink is required' "$VSG_BIN" run "${run_ok[@]}"
one_error 'vsgate run: --checkpoint is required' "$VSG_BIN" run --address "$VCSIM_URL" --secret-path "$d/secret" --sink http://127.0.0.1:9/
one_error 'vsgate run: --max-age: not a duration' "$VSG_BIN" run "${run_ok[@]}" --sink http://127.0.0.1:9/ --max-age soon
one_error 'vsgate run: --encoding must be' "$VSG_BIN" run "${run_ok[@]}" --sink http://127.0.0.1:9/ --encoding yaml
one_error 'vsgate run: --batch-wait must be 0..1000' "$VSG_BIN" run "${run_ok[@]}" --sink http://127.0.0.1:9/ --batch-wait -1
one_error 'vsgate run: --ce-overrides' "$VSG_BIN" run "${run_ok[@]}" --sink http://127.0.0.1:9/ --ce-overrides '[1]'
S=(--sink http://127.0.0.1:9/)
one_error 'vsgate run: --ce-header-encoding must be raw or percent' "$VSG_BIN" run "${run_ok[@]}" "${S[@]}" --ce-header-encoding latin1
one_error 'vsgate run: --sink-timeout: must be a number of seconds from 0 to 86400' "$VSG_BIN" run "${run_ok[@]}" "${S[@]}" --sink-timeout 99999999999999999999
one_error 'vsgate run: --sink-timeout: must be a number of seconds from 0 to 86400' "$VSG_BIN" run "${run_ok[@]}" "${S[@]}" --sink-timeout -1
one_error 'vsgate run: --sink: not an http:// or https:// URL' "$VSG_BIN" run "${run_ok[@]}" --sink 'not a url'
one_error 'vsgate run: --sink: the URL must be http:// or https://, got "file:///etc/passwd"' "$VSG_BIN" run "${run_ok[@]}" --sink file:///etc/passwd
one_error 'vsgate run: --sink: the URL must be http:// or https://' "$VSG_BIN" run "${run_ok[@]}" --sink ftp://127.0.0.1/
one_error 'vsgate run: --sink: the URL must be http:// or https://' "$VSG_BIN" run "${run_ok[@]}" --sink dict://127.0.0.1:11211/
one_error 'vsgate run: --sink: not an http:// or https:// URL: "http://***@127.0.0.1:99999/"' "$VSG_BIN" run "${run_ok[@]}" --sink "http://u:$pw@127.0.0.1:99999/"
one_error 'vsgate run: --dead-letter-sink: the URL must be http:// or https://' "$VSG_BIN" run "${run_ok[@]}" "${S[@]}" --dead-letter-sink gopher://127.0.0.1/
one_error 'vsgate run: --dead-letter-sink: not an http:// or https:// URL with a host' "$VSG_BIN" run "${run_ok[@]}" "${S[@]}" --dead-letter-sink 'http:/x'
run_vc=(--ca-file "$VSG_TEST_CA" --secret-path "$d/secret" --checkpoint "$d/cp.json" "${S[@]}")
one_error 'vsgate run: --address: the vCenter URL must be http:// or https://' "$VSG_BIN" run "${run_vc[@]}" --address file:///etc/passwd
one_error 'vsgate run: --address: the vCenter URL must be http:// or https://' "$VSG_BIN" run "${run_vc[@]}" --address ftp://127.0.0.1/sdk
one_error 'vsgate run: --address: the vCenter URL must be http:// or https://' "$VSG_BIN" run "${run_vc[@]}" --address dict://127.0.0.1:11211/
one_error 'vsgate run: --address: not a vCenter URL' "$VSG_BIN" run "${run_vc[@]}" --address 'not a url'
run_ca=(--address "$VCSIM_URL" --secret-path "$d/secret" --checkpoint "$d/cp.json" "${S[@]}")
one_error "vsgate run: --ca-file: cannot open $d/missing.pem" "$VSG_BIN" run "${run_ca[@]}" --ca-file "$d/missing.pem"
one_error 'vsgate run: --ca-file: '"$d"'/not.pem holds no PEM certificate' "$VSG_BIN" run "${run_ca[@]}" --ca-file "$d/not.pem"
one_error 'vsgate run: --ca-certs: '"$d"'/not.pem holds no PEM certificate' "$VSG_BIN" run "${run_ca[@]}" --ca-certs "$d/not.pem"
one_error "vsgate run: --ca-certs: cannot open $d/missing.pem" "$VSG_BIN" run "${run_ca[@]}" --ca-certs "$d/missing.pem"
one_error "vsgate run: --password-file: cannot open $d/missing" "$VSG_BIN" run --address "$VCSIM_URL" \
  --ca-file "$VSG_TEST_CA" --username u --password-file "$d/missing" --checkpoint "$d/cp.json" "${S[@]}"
[ ! -e "$d/cp.json" ] || fail "a failed start wrote a checkpoint"

# ---- wrong CA: a vCenter error, retried, not fatal
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=not-the-vcsim-ca \
  -keyout "$d/wrong.key" -out "$d/wrong.crt" >/dev/null 2>&1
wrong=("${good[@]}")
for i in "${!wrong[@]}"; do
  case "${wrong[$i]}" in VSPHERE_CA_CERTS=*) wrong[i]="VSPHERE_CA_CERTS=$(cat "$d/wrong.crt")" ;; esac
done
e2e_bg adapter "$d/wrong-ca.log" env -i "${wrong[@]}" "$VSG_BIN" adapter
pid=$E2E_PID
sleep 4.5
_e2e_alive "$pid" || fail "adapter with a wrong CA exited: $(tail -n 3 "$d/wrong-ca.log")"
tls=$(grep -c '"level":"error".*vCenter login failed.*\(certificate\|SSL\|TLS\)' "$d/wrong-ca.log" || true)
[ "$tls" -ge 2 ] || fail "expected repeated TLS login errors in the log, got $tls: $(grep error "$d/wrong-ca.log" | head -n 3)"
line=$(grep -m1 '"level":"error".*vCenter login failed' "$d/wrong-ca.log" | jq -r .msg)
t0=$SECONDS
e2e_stop "$pid"
[ "$E2E_RC" -eq 0 ] || fail "adapter exited with $E2E_RC after SIGTERM (want 0)"
[ $((SECONDS - t0)) -le 3 ] || fail "SIGTERM took $((SECONDS - t0)) s while retrying the login"
! grep -qF "$pw" "$d/wrong-ca.log" "$d/summary" || fail "the password appears in the output"
echo "adapter_config_errors: ok: $n bad configurations, each one error line + exit status 2:"
cat "$d/summary"
echo "  wrong CA: still running after 4.5 s with $tls TLS login errors (\"${line:0:140}\"), SIGTERM -> exit 0"

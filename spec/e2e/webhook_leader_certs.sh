# Only the leader writes the webhook certificates: two `vsgate controller`
# processes with webhooks on one Lease. The leader (a) keeps Secret
# vsphere-webhook-certs and the configurations (registered by URL at its
# own port); the other (b) only reads the Secret: it starts with the
# leader's certificate, never writes the Secret or a configuration, and
# when the leader rotates (the Secret emptied) b serves the new
# certificate without a restart. a stops (SIGTERM, within 5 s): it
# unregisters its configurations and hands the Lease back; b leads,
# registers its own URL, and is now the one that rotates.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/webhook_lib.sh
. "$(dirname "$0")/webhook_lib.sh"
e2e_begin webhook_leader_certs
ctl_setup
ns=$(new_ns whl)
lease=ctl-whl-$ns
WHB=$WHB_URL

sec() { k -n vmware-sources get secret vsphere-webhook-certs -o json; }
sec_rv() { sec | jq -r .metadata.resourceVersion; }
sec_pem() { sec | jq -r --arg k "$1" '.data[$k] // empty' | base64 -d; }
fp() { openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2; }
sec_fp() { sec_pem server-cert.pem | fp; }
served_fp() { # served_fp PORT: the certificate served there
  openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null | fp
}
serves() { [ "$(served_fp "$1")" = "$2" ]; }
url() { k get "$WHB" -o jsonpath='{.webhooks[0].clientConfig.url}' 2>/dev/null; }
url_is() { [ "$(url)" = "$1" ]; }
bundles_are() { # every configuration's caBundle is $1
  local c
  for c in $WH_CONFS; do
    [ "$(k get "$c" -o jsonpath='{.webhooks[0].clientConfig.caBundle}' 2>/dev/null)" = "$1" ] || return 1
  done
}
empty_secret() { k -n vmware-sources patch secret vsphere-webhook-certs --type json -p '[{"op":"remove","path":"/data"}]' >/dev/null; }
new_cert() { local f; f=$(sec_fp); [ -n "$f" ] && [ "$f" != "$1" ]; }
no_writes() { # no_writes LOG: that replica wrote neither the Secret nor a configuration
  local w='issuing new certificates\|writing Secret\|registered [a-z.]*webhook\.vsphere\|updated [a-z.]*webhook\.vsphere'
  ! grep -q "$w" "$1" || fail "$(basename "$1") wrote while not leading: $(grep "$w" "$1" | head -n 3)"
}

# ---- a leads and keeps the certificates ----------------------------------------------
wh_start a --lease-name "$lease" --identity whl-a --cert-check 1s
pa=$CTL_PID la=$CTL_LOG porta=$WH_PORT
wait_for 30 "a to lead" grep -q 'whl-a: became the leader' "$la"
wh_canary "$ns"
url_is "https://127.0.0.1:$porta/vspherebindings" || fail "registered at $(url)"

# ---- b stands by: reads the Secret, serves the same certificate, writes nothing ----------
rv0=$(sec_rv) fp0=$(sec_fp)
portb=$(_e2e_free_port)
CTL_WEBHOOK=1 ctl_start b --lease-name "$lease" --identity whl-b --cert-check 1s \
  --webhook-url-base "https://127.0.0.1:$portb" --webhook-addr 127.0.0.1 --webhook-port "$portb" \
  --webhook-threads 2
pb=$CTL_PID lb=$CTL_LOG
sec_pem ca-cert.pem >"$E2E_DIR/ca0.pem"
wait_for 30 "b to serve" curl -fsS --cacert "$E2E_DIR/ca0.pem" "https://127.0.0.1:$portb/healthz" -o /dev/null
serves "$portb" "$fp0" || fail "b serves $(served_fp "$portb"), the Secret holds $fp0"
serves "$porta" "$fp0" || fail "a serves $(served_fp "$porta"), the Secret holds $fp0"
sleep 3 # a few passes of b's manager (--cert-check 1s)
grep -q 'whl-b: became the leader' "$lb" && fail "b leads while a is alive"
[ "$(sec_rv)" = "$rv0" ] || fail "the Secret was written (resourceVersion $rv0 -> $(sec_rv))"
url_is "https://127.0.0.1:$porta/vspherebindings" || fail "b re-registered the webhook: $(url)"
no_writes "$lb"

# ---- a rotates; b follows without a restart -----------------------------------------------
empty_secret
wait_for 30 "a new certificate in the Secret" new_cert "$fp0"
fp1=$(sec_fp) ca1=$(sec | jq -r '.data["ca-cert.pem"]')
wait_for 30 "a to serve the new certificate" serves "$porta" "$fp1"
wait_for 30 "b to serve the new certificate" serves "$portb" "$fp1"
wait_for 30 "every caBundle to be the new CA" bundles_are "$ca1"
grep -q 'issuing new certificates' "$la" || fail "a did not issue them"
grep -q 'serving a new certificate' "$lb" || fail "b did not reload its TLS"
no_writes "$lb"
sec_pem ca-cert.pem >"$E2E_DIR/ca1.pem"
curl -fsS --cacert "$E2E_DIR/ca1.pem" "https://127.0.0.1:$portb/healthz" -o /dev/null || fail "b's TLS with the new CA"
wh_canary "$ns"

# ---- a stops: b leads, registers its URL and rotates from now on ----------------------------
t0=$(date +%s%N)
e2e_stop "$pa"
took=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$E2E_RC" = 0 ] || fail "a exit status $E2E_RC: $(tail -n 5 "$la")"
[ "$took" -le 5000 ] || fail "a took $took ms to stop after SIGTERM"
grep -q 'unregistered [a-z.-]*webhook\.vsphere' "$la" || fail "a did not unregister its configurations"
wait_for 30 "b to lead" grep -q 'whl-b: became the leader' "$lb"
wait_for 30 "b to register its URL" url_is "https://127.0.0.1:$portb/vspherebindings"
wait_for 30 "the caBundles (b's first pass)" bundles_are "$ca1"
wh_canary "$ns"
[ "$(sec_fp)" = "$fp1" ] || fail "the new leader replaced valid certificates"
empty_secret
wait_for 30 "b to issue new certificates" grep -q 'issuing new certificates' "$lb"
wait_for 30 "a new certificate in the Secret" new_cert "$fp1"
fp2=$(sec_fp) ca2=$(sec | jq -r '.data["ca-cert.pem"]')
wait_for 30 "b to serve it" serves "$portb" "$fp2"
wait_for 30 "every caBundle to be b's new CA" bundles_are "$ca2"
wh_canary "$ns"

# ---- clean stop ---------------------------------------------------------------------------
wh_unregister
e2e_stop "$pb"
[ "$E2E_RC" = 0 ] || fail "b exit status $E2E_RC: $(tail -n 5 "$lb")"
for l in "$la" "$lb"; do
  ! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$l" || fail "sanitizer report in $l"
done
echo "webhook_leader_certs: ok (a stopped in $took ms)"

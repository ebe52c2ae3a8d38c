# The Secret a source's secretRef names (issue 16 item 2), against the real
# API server, with the controller under the roles deploy/ ships (so `get`
# on Secrets outside vmware-sources is what makes it work):
#   - no Secret: the binding is Ready=False/SecretMissing and the source
#     AuthReady=False/SecretMissing, naming the Secret and the namespace;
#   - a Secret without a password: SecretInvalid, saying which key;
#   - the fixed Secret: Ready, with nobody touching the source or binding
#     (the controller looks again by itself; it does not watch Secrets);
#   - the adapter Deployment is bound all along (its pod waits for the
#     Secret), and no credential reaches the controller's log.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin controller_secret
ctl_setup
ns=$(new_ns secret)
k -n "$ns" create serviceaccount default >/dev/null
k -n "$ns" apply -f "$SEED/source.yaml" >/dev/null
ctl_start a --lease-name "ctl-sec-$ns" --reconcilers vspheresource,vspherebinding

bcond() {
  jp "$ns" vspherebinding source-vspherebinding \
    '{.status.conditions[?(@.type=="Ready")].status}/{.status.conditions[?(@.type=="Ready")].reason}'
}
wait_cond 60 "$ns" source AuthReady False/SecretMissing
expect_eq "$(cond_msg "$ns" source AuthReady)" "Secret \"vsphere-credentials\" not found in namespace \"$ns\"" \
  "SecretMissing message"
expect_eq "$(bcond)" "False/SecretMissing" "the binding's Ready"
wait_jp 30 "$ns" deploy source-adapter '{.spec.template.spec.volumes[?(@.name=="vsphere-binding")].secret.secretName}' vsphere-credentials

# A Secret without a password.
pass="s3cr3t-$RANDOM$RANDOM"
k -n "$ns" create secret generic vsphere-credentials --type=kubernetes.io/basic-auth \
  --from-literal=username=user >/dev/null
t0=$SECONDS
wait_cond 60 "$ns" source AuthReady False/SecretInvalid
expect_eq "$(cond_msg "$ns" source AuthReady)" 'Secret "vsphere-credentials" has no "password" key' \
  "SecretInvalid message"
echo "controller_secret: SecretInvalid $((SECONDS - t0)) s after the Secret appeared"

# Fixed: Ready without anyone touching the source.
k -n "$ns" patch secret vsphere-credentials --type merge -p "{\"stringData\":{\"password\":\"$pass\"}}" >/dev/null
t0=$SECONDS
wait_cond 90 "$ns" source AuthReady True
expect_eq "$(bcond)" "True/" "the binding's Ready"
echo "controller_secret: AuthReady $((SECONDS - t0)) s after the Secret was fixed"

b64=$(printf '%s' "$pass" | base64)
if grep -q -e "$pass" -e "$b64" "$CTL_LOG"; then fail "the password reached the controller's log"; fi
n=$(k -n "$ns" get events -o jsonpath='{range .items[*]}{.reason}{"\n"}{end}' | grep -c -e Secret || true)
echo "controller_secret: ok ($n Events naming a Secret)"

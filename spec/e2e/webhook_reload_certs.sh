# The webhook's hot reload and certificate rotation, through the harness
# API server (webhooks registered by URL on 127.0.0.1): a broken Lua
# override never reaches a request (defaulting keeps working), a good one
# takes effect without a restart, removing it brings the shipped code back;
# emptying Secret vsphere-webhook-certs makes the controller issue new
# certificates, reload its TLS and update every caBundle, and admission
# keeps working.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/webhook_lib.sh
. "$(dirname "$0")/webhook_lib.sh"
e2e_begin webhook_reload_certs
ctl_setup
ns=$(new_ns whr)
ovr=wh-overrides-$RANDOM$RANDOM
wh_start a --lease-name "ctl-whr-$ns" --overrides "$ovr" --cert-check 1s
wh_canary "$ns"
enc() { k create --dry-run=server -o jsonpath='{.spec.payloadEncoding}' -f "$E2E_DIR/canary.yaml"; }

# ---- a broken override is rejected; requests keep being served -----------------
k -n vmware-sources create configmap "$ovr" --from-literal='admission.vspheresource.lua=return {' >/dev/null
# Workers apply overrides between requests: keep asking.
wait_for 30 "the webhook to reject the override" sh -c \
  "$KUBECTL --kubeconfig $KUBECONFIG create --dry-run=server -f $E2E_DIR/canary.yaml >/dev/null; grep -q 'rejected by the webhook' $CTL_LOG"
for _ in 1 2 3 4 5; do [ "$(enc)" = application/xml ] || fail "defaulting broke: $(enc)"; done

# ---- a good override takes effect between requests -------------------------------
cat >"$E2E_DIR/ovr.lua" <<'LUA'
local M = {}
function M.default(obj) obj.spec = obj.spec or {}; obj.spec.payloadEncoding = "application/json" end
function M.validate() return nil end
function M.format() return "" end
return M
LUA
k -n vmware-sources create configmap "$ovr" --from-file=admission.vspheresource.lua="$E2E_DIR/ovr.lua" \
  --dry-run=client -o yaml | k replace -f - >/dev/null
wait_for 30 "the override to take effect" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG create --dry-run=server -o jsonpath='{.spec.payloadEncoding}' -f $E2E_DIR/canary.yaml)\" = application/json ]"
k -n vmware-sources delete configmap "$ovr" >/dev/null
wait_for 30 "the shipped code to come back" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG create --dry-run=server -o jsonpath='{.spec.payloadEncoding}' -f $E2E_DIR/canary.yaml)\" = application/xml ]"

# ---- certificate rotation ------------------------------------------------------------
bundle() { k get mutatingwebhookconfiguration url-mode.defaulting.webhook.vsphere.sources.tanzu.vmware.com -o jsonpath='{.webhooks[0].clientConfig.caBundle}'; }
ca1=$(bundle)
[ "$ca1" = "$(k -n vmware-sources get secret vsphere-webhook-certs -o jsonpath='{.data.ca-cert\.pem}')" ] || fail "caBundle is not the Secret's CA"
k -n vmware-sources patch secret vsphere-webhook-certs --type json -p '[{"op":"remove","path":"/data"}]' >/dev/null
wait_for 30 "a new caBundle" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG get mutatingwebhookconfiguration url-mode.defaulting.webhook.vsphere.sources.tanzu.vmware.com -o jsonpath='{.webhooks[0].clientConfig.caBundle}')\" != '$ca1' ]"
ca2=$(bundle)
for c in validatingwebhookconfiguration/url-mode.validation.webhook.vsphere.sources.tanzu.vmware.com \
         mutatingwebhookconfiguration/url-mode.vspherebindings.webhook.vsphere.sources.tanzu.vmware.com; do
  wait_for 30 "$c caBundle" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG get $c -o jsonpath='{.webhooks[0].clientConfig.caBundle}')\" = '$ca2' ]"
done
[ "$ca2" = "$(k -n vmware-sources get secret vsphere-webhook-certs -o jsonpath='{.data.ca-cert\.pem}')" ] || fail "caBundle is not the new Secret's CA"
wait_for 30 "admission with the new certificate" sh -c "[ \"\$($KUBECTL --kubeconfig $KUBECONFIG create --dry-run=server -o jsonpath='{.spec.payloadEncoding}' -f $E2E_DIR/canary.yaml)\" = application/xml ]"
printf '%s' "$ca2" | base64 -d | openssl x509 -noout >/dev/null || fail "the caBundle is not a certificate"
k -n vmware-sources get secret vsphere-webhook-certs -o jsonpath='{.data.server-cert\.pem}' | base64 -d |
  openssl x509 -noout -ext subjectAltName | grep 'IP Address:127.0.0.1' >/dev/null || fail "no IP SAN"

wh_unregister
e2e_stop "$CTL_PID"
[ "$E2E_RC" = 0 ] || fail "controller exit status $E2E_RC: $(tail -n 5 "$CTL_LOG")"
! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error' "$CTL_LOG" || fail "sanitizer report in $CTL_LOG"
echo "webhook_reload_certs: ok"

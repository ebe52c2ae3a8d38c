# `vsgate auth|source|binding` and the same binary as `kn-vsphere`, run as a
# user runs them against the harness API server, with the controller's
# reconcilers and admission webhooks running (registered by URL): every
# command and error path of kn-vsphere v0.39 with its texts, the objects
# compared with what kn-vsphere sends (spec/fixtures/kn) and read back from
# the API server, --verify-url against vcsim with the right and a wrong
# password, kubeconfig and namespace resolution as kubectl does it, list
# tables, describe, --dry-run, and shell completion.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/webhook_lib.sh
. "$(dirname "$0")/webhook_lib.sh"
e2e_begin cli_kn
ctl_setup
ns=$(new_ns cli)
wh_start a --lease-name "ctl-cli-$ns" --reconcilers vspheresource,vspherebinding
wh_canary "$ns"
FIX=$VSG_SOURCE_DIR/spec/fixtures/kn
KN=$E2E_DIR/kn-vsphere
ln -s "$VSG_BIN" "$KN"
vs() { "$VSG_BIN" "$@"; }

# ok WHAT EXPECTED CMD...: CMD succeeds and its stdout is exactly EXPECTED.
ok() {
  local what=$1 want=$2 out; shift 2
  out=$("$@" 2>"$E2E_DIR/stderr") || fail "$what: exit $?: $(cat "$E2E_DIR/stderr")"
  [ "$out" = "$want" ] || fail "$what: printed [$out], expected [$want]"
}
# err WHAT EXPECTED-MESSAGE CMD...: CMD exits 1, prints "Error: MESSAGE" and
# the --help pointer on stderr, and nothing on stdout.
err() {
  local what=$1 want=$2 out rc=0; shift 2
  out=$("$@" 2>"$E2E_DIR/stderr") || rc=$?
  [ "$rc" = 1 ] || fail "$what: exit $rc (expected 1); stdout [$out] stderr [$(cat "$E2E_DIR/stderr")]"
  [ -z "$out" ] || fail "$what: printed on stdout: $out"
  expect_contains "$(cat "$E2E_DIR/stderr")" "Error: $want" "$what"
  expect_contains "$(tail -n 1 "$E2E_DIR/stderr")" "--help' for usage." "$what"
}

# ---- version, help, unknown words -------------------------------------------
out=$("$KN" version)
expect_contains "$out" "Version:      v" "kn-vsphere version"
expect_contains "$out" "Build Date:   " "kn-vsphere version"
expect_contains "$out" "Git Revision: " "kn-vsphere version"
out=$("$KN" --help)
expect_contains "$out" "Knative plugin to create Knative compatible Event Sources" "kn-vsphere --help"
expect_contains "$out" "  auth        Manage vSphere credentials" "kn-vsphere --help"
out=$(vs source create --help)
expect_contains "$out" "Usage:
  vsgate source create [flags]" "help usage line"
expect_contains "$out" "  -a, --vc-address string" "help flags"
expect_contains "$out" '--encoding string' "help flags"
expect_contains "$out" '(default "xml")' "help default"
expect_contains "$out" '(default 5m0s)' "help default"
expect_contains "$out" "Global Flags:
      --context string" "help global flags"
expect_contains "$out" "Examples:" "help examples"
out=$(vs source)
expect_contains "$out" "Available Commands:" "group alone prints help"
[ "$("$KN" help source create)" = "$("$KN" source create --help)" ] || fail "kn-vsphere help source create"
err "unknown subcommand" 'unknown command "frob" for "vsgate source"' vs source frob
err "unknown flag" "unknown flag: --frob" vs source list --frob
err "unknown shorthand" "unknown shorthand flag: 'z' in -z" vs source list -z
err "missing value" "flag needs an argument: --name" vs source delete --name

# ---- auth --------------------------------------------------------------------
# kn-vsphere's own checks run before cobra's required-flag check, so a
# missing flag reads as its message, not "required flag(s) ... not set".
err "auth create without flags" "'username' requires a nonempty username provided with the --username option" vs auth create -n "$ns"
err "auth create without password" "'password' requires a nonempty password provided with the --password option or prompted later via the --password-std-in option" \
  vs auth create -n "$ns" -u u --name c
err "auth create, both passwords" "either set an explicit password with the --password option or set the --password-stdin option to get prompted for one, do not set both" \
  vs auth create -n "$ns" -u u -p x -i --name c
err "auth create, empty username" "'username' requires a nonempty username provided with the --username option" \
  vs auth create -n "$ns" -u "" -p x --name c
err "auth create, empty name" "'name' requires a nonempty secret name provided with the --name option" \
  vs auth create -n "$ns" -u u -p x --name=

# What kn-vsphere sends, field by field (client-side dry run, no API call).
same_as_kn() { # same_as_kn FIXTURE BIN: BIN <fixture's command> --dry-run=client -o json == fixture
  local f=$FIX/$1 bin=$2 cmd got want
  cmd=$(jq -r '._command' "$f" | sed "s/\bNS\b/$ns/g")
  # The fixtures' commands have no quoting: plain word splitting.
  # shellcheck disable=SC2086
  got=$("$bin" $cmd --dry-run=client -o json) || fail "$1: the command failed"
  want=$(jq -S --arg ns "$ns" 'del(._command, ._differs) | walk(if . == "NS" then $ns else . end)' "$f")
  got=$(printf '%s' "$got" | jq -S '{apiVersion, kind, metadata, type, stringData, spec} | with_entries(select(.value != null))')
  [ "$got" = "$want" ] || fail "$1 via $(basename "$bin"): got
$got
expected
$want"
}
for fx in secret source-uri source-ref binding-name; do
  same_as_kn "$fx.json" "$KN"
  same_as_kn "$fx.json" "$VSG_BIN"
done
got=$(vs binding create -n "$ns" --name vc-binding -a https://vc.corp.local -k -s vsphere-credentials \
  --subject-api-version batch/v1 --subject-kind Job --subject-selector 'foo=bar,tier in (web,api),!legacy' \
  --dry-run=client -o json | jq -S .spec)
want=$(jq -S --arg ns "$ns" '.spec | walk(if . == "NS" then $ns else . end)' "$FIX/binding-selector.json")
[ "$got" = "$want" ] || fail "binding selector: got $got expected $want"

ok "auth create" "Created vSphere credentials" vs auth create -n "$ns" -u jane-doe -p 's3cr3t pw' --name creds
[ "$(k -n "$ns" get secret creds -o jsonpath='{.type}')" = kubernetes.io/basic-auth ] || fail "secret type"
[ "$(k -n "$ns" get secret creds -o jsonpath='{.data.username}' | base64 -d)" = jane-doe ] || fail "secret username"
[ "$(k -n "$ns" get secret creds -o jsonpath='{.data.password}' | base64 -d)" = 's3cr3t pw' ] || fail "secret password"
err "auth create twice" 'failed to create Secret: secrets "creds" already exists' \
  vs auth create -n "$ns" -u jane-doe -p x --name creds
# A piped password: read whole, one trailing newline dropped.
printf 'from stdin\n' | "$KN" auth create -n "$ns" -u u -i --name piped >/dev/null || fail "auth create -i"
[ "$(k -n "$ns" get secret piped -o jsonpath='{.data.password}' | base64 -d)" = 'from stdin' ] || fail "piped password"
# A password typed at a terminal: prompted on stderr, never echoed; with a
# broken kubeconfig nothing is asked at all.
cat >"$E2E_DIR/on_a_tty.py" <<'PY'
import os, pty, sys, time
want_prompt, password = sys.argv[1] == "prompt", sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
out, sent, deadline = b"", False, time.time() + 30
while time.time() < deadline:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if want_prompt and not sent and b"Password:" in out:
        time.sleep(0.2)
        os.write(fd, password.encode() + b"\n")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
out=$(python3 "$E2E_DIR/on_a_tty.py" prompt 'typed s3cret' "$VSG_BIN" auth create -n "$ns" -u u -i --name typed) ||
  fail "auth create -i at a terminal: $out"
expect_contains "$out" "Password:" "the terminal prompt"
expect_contains "$out" "Created vSphere credentials" "auth create -i at a terminal"
case "$out" in *"typed s3cret"*) fail "the typed password was echoed: $out" ;; esac
[ "$(k -n "$ns" get secret typed -o jsonpath='{.data.password}' | base64 -d)" = 'typed s3cret' ] || fail "typed password"
out=$(python3 "$E2E_DIR/on_a_tty.py" none x "$VSG_BIN" auth create -n "$ns" -u u -i --name never --kubeconfig "$E2E_DIR/nope") &&
  fail "auth create with a missing kubeconfig succeeded"
case "$out" in *Password:*) fail "the password was asked before the kubeconfig was found: $out" ;; esac
expect_contains "$out" "config file '$E2E_DIR/nope' can not be found" "auth create, missing kubeconfig"

# --verify-url logs in to vCenter first; a refused login creates nothing. A
# private vcsim that checks the password (the harness one takes any).
E2E_VCSIM_LOGIN='vc-admin:r1ght-pass' e2e_vcsim vc -username vc-admin -password 'r1ght-pass'
ok "verify-url, r1ght-password" "Created vSphere credentials" \
  vs auth create -n "$ns" -u vc-admin -p 'r1ght-pass' --name verified --verify-url "$E2E_VC_URL" --verify-insecure
echo 'r1ght-pass' | "$KN" auth create -n "$ns" -u vc-admin -i --name verified-stdin --verify-url "$E2E_VC_URL" --verify-insecure >/dev/null ||
  fail "verify-url with a piped password"
err "verify-url, wrong password" "failed to authenticate with vCenter: " \
  vs auth create -n "$ns" -u vc-admin -p wrong-pass --name refused --verify-url "$E2E_VC_URL" --verify-insecure
expect_contains "$(cat "$E2E_DIR/stderr")" "InvalidLogin" "the vCenter fault is named"
case "$(cat "$E2E_DIR/stderr")" in *wrong-pass*) fail "the password reached the error";; esac
err "verify-url, untrusted certificate" "failed to authenticate with vCenter: " \
  vs auth create -n "$ns" -u vc-admin -p 'r1ght-pass' --name untrusted --verify-url "$E2E_VC_URL"
expect_contains "$(cat "$E2E_DIR/stderr")" "certificate" "the TLS failure is named"
err "verify-url, unparseable" "failed to parse vCenter URL: " \
  vs auth create -n "$ns" -u vc-admin -p x --name unparsed --verify-url "https://[::1"
kq -n "$ns" get secret refused && fail "a refused login created its Secret"
kq -n "$ns" get secret untrusted && fail "an unverified login created its Secret"
ok "auth delete" "Deleted vSphere credentials \"piped\"" "$KN" auth delete -n "$ns" --name piped
err "auth delete again" 'failed to delete Secret: secrets "piped" not found' "$KN" auth delete -n "$ns" --name piped

# ---- source --------------------------------------------------------------------
sink_msg='sink requires an URI
and/or a nonempty API version --sink-api-version option,
with a nonempty kind --sink-kind option,
and with a nonempty name with the --sink-name'
err "source create without flags" "'name' requires a nonempty name provided with the --name option" vs source create -n "$ns"
err "source delete without flags" "'name' requires a nonempty name provided with the --name option" vs source delete -n "$ns"
err "source create without sink" "$sink_msg" vs source create -n "$ns" --name s -a https://vc -s creds
err "source create, half a sink ref" "$sink_msg" vs source create -n "$ns" --name s -a https://vc -s creds -u http://x --sink-kind Service
err "source create, empty address" "'address' requires a nonempty address provided with the --vc-address option" \
  vs source create -n "$ns" --name s -a "" -s creds -u http://x
err "source create, bad encoding" 'invalid encoding scheme "text"' vs source create -n "$ns" --name s -a https://vc -s creds -u http://x --encoding text
err "source create, bad duration" 'invalid argument "5 minutes" for "--checkpoint-age" flag: time: invalid duration "5 minutes"' \
  vs source create -n "$ns" --name s -a https://vc -s creds -u http://x --checkpoint-age "5 minutes"
err "source create, bad dry-run" 'Invalid dry-run value (maybe). Must be "none", "server", or "client".' \
  vs source create -n "$ns" --name s -a https://vc -s creds -u http://x --dry-run maybe
err "source create, control character" 'failed to parse source address: parse "https://vc'$'\t''x": net/url: invalid control character in URL' \
  vs source create -n "$ns" --name s -a "https://vc"$'\t'"x" -s creds -u http://x
err "source create, bad escape in the sink" 'failed to parse sink address: parse "http://***@sink/%zz": invalid URL escape' \
  vs source create -n "$ns" --name s -a https://vc -s creds -u "http://u:s3cr3t@sink/%zz"
# The webhook judges what the CLI passes on; its message reaches the user.
err "source create, address without scheme" "failed to create source: admission webhook" \
  vs source create -n "$ns" --name s -a vcenter.corp.local -s creds -u http://x
expect_contains "$(cat "$E2E_DIR/stderr")" "spec.address" "the webhook names the field"
# Server-side dry run: admitted (and defaulted) by the webhooks, not stored.
got=$(vs source create -n "$ns" --name dry -a https://vc.example -s creds -u http://sink.example --dry-run=server -o json | jq -r .spec.payloadEncoding)
[ "$got" = application/xml ] || fail "server dry run: $got"
kq -n "$ns" get vss dry && fail "a dry run stored its source"
# Client-side dry run YAML applies as is.
vs source create -n "$ns" --name from-yaml -a https://vc.example -s creds -u http://sink.example --dry-run=client -o yaml >"$E2E_DIR/src.yaml"
expect_contains "$(cat "$E2E_DIR/src.yaml")" "kind: VSphereSource" "dry-run yaml"
kq -n "$ns" get vss from-yaml && fail "a client dry run stored its source"
k apply -f "$E2E_DIR/src.yaml" >/dev/null

k -n "$ns" create serviceaccount default >/dev/null 2>&1 || true
ok "source create" "Created source" "$KN" source create -n "$ns" --name src1 -a https://vc.example -k -s creds -u http://sink.example \
  --checkpoint-age 10m --checkpoint-period 20s --encoding json
spec=$(k -n "$ns" get vss src1 -o json | jq -cS .spec)
want=$(jq -cnS '{address:"https://vc.example",skipTLSVerify:true,secretRef:{name:"creds"},sink:{uri:"http://sink.example"},
  checkpointConfig:{maxAgeSeconds:600,periodSeconds:20},payloadEncoding:"application/json",serviceAccountName:"default"}')
[ "$spec" = "$want" ] || fail "source read back: $spec"
err "source create twice" 'failed to create source: vspheresources.sources.tanzu.vmware.com "src1" already exists' \
  vs source create -n "$ns" --name src1 -a https://vc.example -s creds -u http://sink.example
ok "source create with a filter" "Created source" vs source create -n "$ns" --name src2 -a https://vc.example -s missing-creds \
  -u http://sink.example --filter-configmap my-filter --filter-on-error drop
[ "$(k -n "$ns" get vss src2 -o jsonpath='{.spec.filter.configMapRef.name} {.spec.filter.onError}')" = "my-filter drop" ] || fail "filter fields"
err "filter-on-error alone" "--filter-on-error needs --filter-configmap" vs source create -n "$ns" --name s3 -a https://vc -s c -u http://x --filter-on-error drop

# list: kn's table, then -A, -o, the alias and the empty case.
wait_for 60 "src1 reconciled" sh -c "$KUBECTL --kubeconfig $KUBECONFIG -n $ns get vss src1 -o jsonpath='{.status.conditions}' | grep -q Ready"
out=$(vs source list -n "$ns")
head=$(printf '%s\n' "$out" | sed -n 1p)
expect_contains "$head" "NAME" "list header"
[ "$(printf '%s' "$head" | tr -s ' ')" = "NAME VCENTER INSECURE CREDENTIALS AGE CONDITIONS READY REASON" ] || fail "list header: $head"
row=$(printf '%s\n' "$out" | grep '^src1 ')
expect_contains "$(printf '%s' "$row" | tr -s ' ')" "src1 https://vc.example true creds " "src1 row"
expect_contains "$row" " OK / " "conditions column"
# The columns line up: AGE starts at the same offset in the header and rows.
[ "$(printf '%s\n' "$out" | awk 'NR==1 {print index($0, "AGE")}')" = "$(printf '%s\n' "$row" | awk '{print index($0, $5)}')" ] ||
  fail "columns are not aligned:
$out"
row2=$(printf '%s\n' "$out" | grep '^src2 ')
expect_contains "$row2" "False" "src2 is not ready"
r2=$(k -n "$ns" get vss src2 -o json | jq -r '.status.conditions[] | select(.type=="Ready") | .reason')
expect_contains "$row2" "$r2 : " "the reason column is reason : message"
out=$("$KN" source ls -A)
expect_contains "$(printf '%s\n' "$out" | sed -n 1p | tr -s ' ')" "NAMESPACE NAME VCENTER" "-A adds NAMESPACE"
expect_contains "$out" "$ns" "-A lists this namespace"
err "-n with -A" "'--namespace' and '--all-namespaces' options are mutually exclusive" vs source list -n "$ns" -A
[ "$(vs source list -n "$ns" -o json | jq -r '.kind + " " + (.items | length | tostring)')" = "VSphereSourceList 3" ] || fail "list -o json"
expect_contains "$(vs source list -n "$ns" -o yaml)" "kind: VSphereSourceList" "list -o yaml"
[ "$(vs source list -n "$ns" -o json | jq '[.items[].metadata.managedFields // empty] | length')" = 0 ] ||
  fail "list -o json prints managedFields (kubectl and kn leave them out)"
expect_contains "$(vs source list -n "$ns" -o name)" "vspheresource.sources.tanzu.vmware.com/src1" "list -o name"
err "list -o bad" 'unable to match a printer suitable for the output format "wide", allowed formats are: json,name,yaml' vs source list -n "$ns" -o wide
empty=$(new_ns cli-empty)
ok "empty list" "No sources found." vs source list -n "$empty"
ok "empty binding list" "No bindings found." "$KN" binding list -n "$empty"

# describe: what the operator needs on one screen.
out=$(vs source describe -n "$ns" src1)
for want in "Name:             src1" "Namespace:        $ns" "VCenter:          https://vc.example" \
  "Credentials:      creds (Secret found, with username and password)" "$(printf '  %-16s%s' URI: http://sink.example)" \
  "Encoding:         application/json" "replay up to 600 s back, saved every 20 s" "Filter:           none" \
  "Adapter:          Deployment " "Checkpoint:       ConfigMap " "Conditions:" " Ready "; do
  expect_contains "$out" "$want" "source describe"
done
out=$(vs source describe -n "$ns" src2)
expect_contains "$out" "missing-creds (secrets \"missing-creds\" not found)" "describe names a missing Secret"
expect_contains "$out" "Filter:           ConfigMap my-filter, key filter.lua, on error drop" "describe filter"
expect_contains "$out" 'configmaps "my-filter" not found' "describe filter ConfigMap"
err "describe a missing source" 'vspheresources.sources.tanzu.vmware.com "nope" not found' vs source describe -n "$ns" nope
err "describe without a name" "'source describe' requires the name of the source as its single argument" vs source describe -n "$ns"

ok "source delete" "Deleted source" "$KN" source delete -n "$ns" --name src1
err "source delete again" 'failed to delete source: vspheresources.sources.tanzu.vmware.com "src1" not found' \
  "$KN" source delete -n "$ns" --name src1

# ---- binding -------------------------------------------------------------------
err "binding create without flags" "'name' requires a nonempty name provided with the --name option" vs binding create -n "$ns"
err "binding create without a kind" "'subject-kind' requires a nonempty subject kind provided with the --subject-kind option" \
  vs binding create -n "$ns" --name b -a https://vc -s creds --subject-api-version apps/v1
err "binding create without subject" "subject requires a nonempty subject name provided with the --subject-name option,
or a nonempty subject selector with the --subject-selector option" \
  vs binding create -n "$ns" --name b -a https://vc -s creds --subject-api-version apps/v1 --subject-kind Deployment
err "binding create with both" "subject can optionally be configured with one of the following flags (but several were set):
	--subject-name, --subject-selector" \
  vs binding create -n "$ns" --name b -a https://vc -s creds --subject-api-version apps/v1 --subject-kind Deployment --subject-name x --subject-selector a=b
err "binding create, bad selector" "failed to parse subject selector: " \
  vs binding create -n "$ns" --name b -a https://vc -s creds --subject-api-version apps/v1 --subject-kind Deployment --subject-selector 'a in b'
cat <<YAML | k -n "$ns" apply -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, labels: {team: a}}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec: {containers: [{name: app, image: registry.example/app:1}]}
YAML
cat <<YAML | k -n "$ns" apply -f - >/dev/null
apiVersion: apps/v1
kind: Deployment
metadata: {name: app2, labels: {team: a, bindings.knative.dev/exclude: "true"}}
spec:
  selector: {matchLabels: {app: app2}}
  template:
    metadata: {labels: {app: app2}}
    spec: {containers: [{name: app, image: registry.example/app:1}]}
YAML
ok "binding create by name" "Created binding" "$KN" binding create -n "$ns" --name by-name -a https://vc.example -k -s creds \
  --subject-api-version apps/v1 --subject-kind Deployment --subject-name app
ok "binding create by selector" "Created binding" vs binding create -n "$ns" --name by-sel -a https://vc.example -s creds \
  --subject-api-version apps/v1 --subject-kind Deployment --subject-selector team=a
[ "$(k -n "$ns" get vspherebinding by-sel -o jsonpath='{.spec.subject.selector.matchLabels.team}')" = a ] || fail "selector read back"
wait_for 60 "the binding is injected" sh -c \
  "$KUBECTL --kubeconfig $KUBECONFIG -n $ns get deploy app -o jsonpath='{.spec.template.spec.volumes[*].name}' | grep -q vsphere-binding"
out=$(vs binding list -n "$ns")
expect_contains "$(printf '%s\n' "$out" | sed -n 1p | tr -s ' ')" "NAME VCENTER INSECURE CREDENTIALS AGE CONDITIONS READY REASON" "binding list header"
expect_contains "$(printf '%s\n' "$out" | grep '^by-name ' | tr -s ' ')" "by-name https://vc.example true creds" "binding row"
out=$(vs binding describe -n "$ns" by-name)
expect_contains "$out" "Subject:          Deployment apps/v1 named app" "binding describe subject"
expect_contains "$out" "Bound:            Deployment/app" "binding describe bound"
out=$(vs binding describe -n "$ns" by-sel)
expect_contains "$out" 'selected by "team=a"' "binding describe selector"
expect_contains "$out" "Bound:            Deployment/app" "binding describe selector match"
expect_contains "$out" "Not bound:        Deployment/app2 (matched, not carrying the binding yet)" "binding describe, excluded subject"
ok "binding delete" "Deleted binding" "$KN" binding delete -n "$ns" --name by-name
# The reconciler undoes the binding, then lets its finalizer go.
wait_for 60 "by-name gone" sh -c "! $KUBECTL --kubeconfig $KUBECONFIG -n $ns get vspherebinding by-name >/dev/null 2>&1"
err "binding delete again" 'failed to delete binding: vspherebindings.sources.tanzu.vmware.com "by-name" not found' \
  "$KN" binding delete -n "$ns" --name by-name

# ---- kubeconfig and namespace as kubectl resolves them -------------------------
# The context's namespace when -n is not given; $KUBECONFIG as a list with a
# missing entry; --kubeconfig; --context.
sed "s/namespace: default/namespace: $ns/" "$KUBECONFIG" >"$E2E_DIR/kc-ns"
grep -q "namespace: $ns" "$E2E_DIR/kc-ns" || fail "could not write a kubeconfig with a namespace: $(cat "$E2E_DIR/kc-ns")"
expect_contains "$(KUBECONFIG="$E2E_DIR/missing:$E2E_DIR/kc-ns" vs source list)" "from-yaml" "KUBECONFIG list, context namespace"
expect_contains "$(env -u KUBECONFIG HOME="$E2E_DIR/nohome" "$KN" source list --kubeconfig "$E2E_DIR/kc-ns")" "from-yaml" "--kubeconfig"
mkdir -p "$E2E_DIR/home/.kube" && cp "$E2E_DIR/kc-ns" "$E2E_DIR/home/.kube/config"
# shellcheck disable=SC2088  # the literal text of the message, not a path
expect_contains "$(env -u KUBECONFIG -u KUBERNETES_SERVICE_HOST HOME="$E2E_DIR/home" "$VSG_BIN" source list)" "from-yaml" "~/.kube/config"
err "\$KUBECONFIG naming only missing files (no fallback to ~/.kube/config)" "invalid configuration: no configuration has been provided" \
  env -u KUBERNETES_SERVICE_HOST KUBECONFIG="$E2E_DIR/missing" HOME="$E2E_DIR/home" "$VSG_BIN" source list
# A user whose credentials come from an exec plugin (as on EKS, GKE, AKS):
# here the harness's client certificate, handed over as ExecCredential.
cat >"$E2E_DIR/cred-plugin" <<SH
#!/bin/sh
jq -n --rawfile c "$VSG_HARNESS_DIR/pki/admin.crt" --rawfile k "$VSG_HARNESS_DIR/pki/admin.key" \
  '{apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: {clientCertificateData: \$c, clientKeyData: \$k}}'
SH
chmod +x "$E2E_DIR/cred-plugin"
sed -e "s|users: .*|users: [{name: admin, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./cred-plugin, interactiveMode: Never}}}]|" \
  "$E2E_DIR/kc-ns" >"$E2E_DIR/kc-exec"
expect_contains "$(vs source list --kubeconfig "$E2E_DIR/kc-exec")" "from-yaml" "a kubeconfig with an exec credential plugin"
err "--context that does not exist" "$KUBECONFIG: context \"nope\" does not exist" vs source list --context nope
err "--kubeconfig that does not exist" "config file '$E2E_DIR/nope' can not be found" vs source list --kubeconfig "$E2E_DIR/nope"
err "no configuration at all" "invalid configuration: no configuration has been provided" \
  env -u KUBECONFIG -u KUBERNETES_SERVICE_HOST HOME="$E2E_DIR/nohome" "$VSG_BIN" source list

# ---- completion -----------------------------------------------------------------
comp() { # comp BIN WORDS...: what bash completion offers for the last word
  local bin=$1; shift
  bash -c 'source <("$0" completion bash) || exit 9; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
    f=$(complete -p "${COMP_WORDS[0]}" | sed -E "s/.*-F ([^ ]+) .*/\1/"); "$f"; echo "${COMPREPLY[*]}"' "$bin" "$@"
}
[ "$(comp "$VSG_BIN" vsgate so)" = source ] || fail "completes source: $(comp "$VSG_BIN" vsgate so)"
[ "$(comp "$VSG_BIN" vsgate source cr)" = create ] || fail "completes create"
[ "$(comp "$VSG_BIN" vsgate source create --enc)" = --encoding ] || fail "completes --encoding"
[ "$(comp "$VSG_BIN" vsgate source create --encoding "")" = "xml json" ] || fail "completes encoding values"
[ "$(comp "$VSG_BIN" vsgate source -n x li)" = list ] || fail "skips a flag's value"
[ "$(comp "$KN" kn-vsphere bi)" = binding ] || fail "kn-vsphere completion"
zsh_script=$(vs completion zsh)
expect_contains "$zsh_script" "bashcompinit" "zsh completion"
err "completion for fish" 'unsupported shell "fish": use bash or zsh' vs completion fish
echo "cli_kn: ok"

# The sample bound app (samples/bound-app) logs in to vcsim using only what a
# VSphereBinding injects (CONTRACTS §5): VC_URL, VC_INSECURE and the Secret's
# files under VC_SECRET_PATH (plus our VC_CA_CERTS), for SOAP and REST, both
# from C (vsgate-list-vms on libvsgate.so) and from Lua (list-vms.lua with
# the vsgate.vsphere module in a plain lua5.4). The VC_USERNAME/VC_PASSWORD
# fallback works; a wrong password fails clearly and is never printed.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin bound_app
d=$E2E_DIR
[ -x "${VSG_LIST_VMS:-}" ] || fail "VSG_LIST_VMS (the vsgate-list-vms binary) is not set"
[ -f "${VSG_LUA_CMODULES:-}/vsgate/vsphere.so" ] || fail "VSG_LUA_CMODULES has no vsgate/vsphere.so"
lua=$(command -v lua5.4) || fail "lua5.4 is not installed"
script=$VSG_SOURCE_DIR/samples/bound-app/list-vms.lua

# The Secret as the binding mounts it (one file per key, no newline). The
# harness vcsim takes any password: use one we can look for in the output.
pw="pw-$RANDOM$RANDOM-secret"
mkdir -p "$d/binding"
printf '%s' "$VCSIM_USER" >"$d/binding/username"
printf '%s' "$pw" >"$d/binding/password"

# A sanitizer build of the module needs the ASan runtime loaded first.
preload=
if readelf -d "$VSG_LUA_CMODULES/vsgate/vsphere.so" 2>/dev/null | grep libasan >/dev/null; then
  preload=$(gcc -print-file-name=libasan.so)
fi
# bound VAR=value... CMD...: CMD with nothing but the binding's env (the
# address without /sdk, as a binding's spec.address usually is).
base=(PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}"
      LUA_CPATH="$VSG_LUA_CMODULES/?.so" VC_URL="${VCSIM_URL%/sdk}" VC_INSECURE=false
      VC_SECRET_PATH="$d/binding" VC_CA_CERTS="$VSG_TEST_CA")
bound() { env -i "${base[@]}" "$@"; }

# check_listing OUTPUT WHAT: the 4 default VMs with a power state, and REST.
check_listing() {
  local vm
  for vm in DC0_H0_VM0 DC0_H0_VM1 DC0_C0_RP0_VM0 DC0_C0_RP0_VM1; do
    grep -Eq "^$vm +(poweredOn|poweredOff|suspended) +vm-[0-9]+\$" <<<"$1" ||
      fail "$2: $vm and its power state not listed:"$'\n'"$1"
  done
  expect_contains "$1" "SOAP: logged in to ${VCSIM_URL}" "$2"
  expect_contains "$1" "REST: session ok at ${VCSIM_URL%/sdk}" "$2"
  expect_contains "$1" "\"user\":\"$VCSIM_USER\"" "$2"
  expect_contains "$1" 'REST: GET /rest/com/vmware/cis/tagging/category: {"value"' "$2"
}
# vm_lines OUTPUT: "name id" of each VM (power states may change meanwhile:
# other tests power VMs off and on).
vm_lines() { grep -E ' (poweredOn|poweredOff|suspended) +vm-' <<<"$1" | awk '{print $1, $3}' | sort; }

# ---- C and Lua, SOAP + REST, credentials from the files
out_c=$(bound "$VSG_LIST_VMS" 2>&1) ||
  fail "vsgate-list-vms failed:"$'\n'"$out_c"
check_listing "$out_c" "vsgate-list-vms"
out_lua=$(bound LD_PRELOAD="$preload" "$lua" "$script" 2>&1) || fail "list-vms.lua failed:"$'\n'"$out_lua"
check_listing "$out_lua" "list-vms.lua"
[ "$(vm_lines "$out_c")" = "$(vm_lines "$out_lua")" ] ||
  fail "C and Lua listings differ:"$'\n'"$out_c"$'\n'"$out_lua"
# govc sees the same VM names.
want=$("$GOVC" find / -type m | sed 's|.*/||' | sort)
got=$(vm_lines "$out_c" | awk '{print $1}' | sort)
[ "$want" = "$got" ] || fail "VMs differ from govc's:"$'\n'"govc: $want"$'\n'"app:  $got"

# ---- the env fallback: no files, VC_USERNAME/VC_PASSWORD (also injected)
mkdir -p "$d/empty"
out=$(bound VC_SECRET_PATH="$d/empty" VC_USERNAME="$VCSIM_USER" VC_PASSWORD="$pw" \
        "$VSG_LIST_VMS" 2>&1) || fail "env fallback failed:"$'\n'"$out"
check_listing "$out" "env fallback"
seen=$out
# ...and without either, one clear line.
out=$(bound VC_SECRET_PATH="$d/empty" "$VSG_LIST_VMS" 2>&1) && fail "no credentials: succeeded"
expect_contains "$out" "SOAP login failed (ECONFIG): no vCenter username: $d/empty/username does not exist and VC_USERNAME is not set"

# ---- TLS: VC_INSECURE=true works without the CA; without either it fails clearly.
out=$(bound VC_CA_CERTS= VC_INSECURE=true "$VSG_LIST_VMS" 2>&1) || fail "VC_INSECURE=true failed:"$'\n'"$out"
check_listing "$out" "VC_INSECURE=true"
seen+=$out
out=$(bound VC_CA_CERTS= "$VSG_LIST_VMS" 2>&1) && fail "an untrusted certificate was accepted"
expect_contains "$out" "SOAP login failed (ETLS)"
out=$(bound VC_CA_CERTS= "$VSG_LIST_VMS" --no-soap 2>&1) && fail "REST: an untrusted certificate was accepted"
expect_contains "$out" "REST login failed (ETLS)"
out=$(bound VC_INSECURE=maybe "$VSG_LIST_VMS" 2>&1) && fail "VC_INSECURE=maybe accepted"
expect_contains "$out" 'SOAP login failed (ECONFIG): VC_INSECURE: invalid boolean "maybe"'

# ---- wrong password: a private vcsim that checks credentials
good="Good$RANDOM$RANDOM"
bad="wrong-pw-$RANDOM$RANDOM"
port=$(_e2e_free_port)
e2e_bg vcsim-auth "$d/vcsim-auth.log" env TZ=UTC "$VSG_PEER_BIN/vcsim" -l "127.0.0.1:$port" \
  -tlscert "$VSG_HARNESS_DIR/pki/serving.crt" -tlskey "$VSG_HARNESS_DIR/pki/serving.key" \
  -username alice -password "$good"
vc_up() { GOVC_URL="https://alice:$good@127.0.0.1:$port/sdk" "$GOVC" about >/dev/null 2>&1; }
wait_for 30 "the private vcsim" vc_up
mkdir -p "$d/wrong" "$d/right"
printf alice >"$d/wrong/username"; printf '%s' "$bad" >"$d/wrong/password"
printf alice >"$d/right/username"; printf '%s' "$good" >"$d/right/password"
auth=(VC_URL="https://127.0.0.1:$port")
all=""
out=$(bound "${auth[@]}" VC_SECRET_PATH="$d/wrong" "$VSG_LIST_VMS" 2>&1) && fail "a wrong password logged in (C)"
expect_contains "$out" "vsgate-list-vms: SOAP login failed (ELOGIN): logging in to https://127.0.0.1:$port/sdk: Login: ServerFaultCode: Login failure (InvalidLogin)"
all+=$out$'\n'
out=$(bound "${auth[@]}" VC_SECRET_PATH="$d/wrong" "$VSG_LIST_VMS" --no-soap 2>&1) && fail "a wrong password logged in (REST)"
expect_contains "$out" "vsgate-list-vms: REST login failed (ELOGIN): REST login to https://127.0.0.1:$port: HTTP 401: the user name or password was rejected"
all+=$out$'\n'
out=$(bound "${auth[@]}" VC_SECRET_PATH="$d/wrong" LD_PRELOAD="$preload" "$lua" "$script" 2>&1) &&
  fail "a wrong password logged in (Lua)"
expect_contains "$out" "list-vms.lua: SOAP login failed (ELOGIN): logging in to https://127.0.0.1:$port/sdk"
all+=$out$'\n'
[ "$(grep -c . <<<"$all")" -eq 3 ] || fail "expected one error line per run:"$'\n'"$all"
out=$(bound "${auth[@]}" VC_SECRET_PATH="$d/right" "$VSG_LIST_VMS" 2>&1) || fail "the right password failed:"$'\n'"$out"
expect_contains "$out" '"user":"alice"'
all+=$out$out_c$out_lua$seen
case "$all" in *"$bad"*|*"$good"*|*"$pw"*) fail "a password was printed:"$'\n'"$all" ;; esac

# ---- the sample Deployment is a valid object (client-side dry run: no admission)
out=$(k create --dry-run=client -f "$VSG_SOURCE_DIR/samples/bound-app/deployment.yaml" -o name 2>&1) ||
  fail "samples/bound-app/deployment.yaml: $out"
expect_contains "$out" "deployment.apps/my-simple-app"

echo "bound_app: ok"

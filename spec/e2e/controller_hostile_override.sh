# Lua overrides written to hurt the controller (issue 15): a reconcile and
# an admission validation that never end (a backtracking pattern: its work
# is in C, where no hook runs, so only the metered matcher stops it), for
# one object only (so that the
# overrides pass their checks and go live). Against the real API server:
#   - each such reconcile stops at the reconciler time limit and is retried
#     with backoff, while the other sources and the binding reconciler go
#     on, and /healthz and /readyz stay 200;
#   - each such admission request is answered (denied, naming the limit)
#     within the admission time limit, far inside the API server's timeout,
#     and other requests are served;
#   - removing the overrides brings the shipped code back.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/webhook_lib.sh
. "$(dirname "$0")/webhook_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin controller_hostile_override
ctl_setup
ns=$(new_ns hostile)
ovr=ctl-overrides-$RANDOM$RANDOM
more_on_exit k -n vmware-sources delete configmap "$ovr" --ignore-not-found
k -n "$ns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
k -n "$ns" create serviceaccount default >/dev/null
wh_start a --lease-name "ctl-ho-$ns" --overrides "$ovr" --reconciler-limits timeoutMs=500 \
  --admission-limits timeoutMs=300
wh_canary "$ns"

src() { # src NAME SINK
  cat <<YAML
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: $1, namespace: $ns}
spec:
  address: https://vcenter.corp.local
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
  sink: {uri: "$2"}
YAML
}
src calm http://calm.example/ | k apply -f - >/dev/null
src hostile http://hostile.example/ | k apply -f - >/dev/null
wait_jp 60 "$ns" vss calm '{.status.sinkUri}' http://calm.example/

# The overrides: the shipped modules, wrapped to spin on the object named "hostile".
python3 - "$VSG_SOURCE_DIR" "$E2E_DIR" <<'PY'
import sys
src, out = sys.argv[1], sys.argv[2]
rec = open(f"{src}/lua/reconcilers/vspheresource.lua").read()
rec = rec.replace("function M.reconcile(ctx, src)\n",
                  "function M.reconcile(ctx, src)\n"
                  "  if src.metadata and src.metadata.name == 'hostile' then\n"
                  "    local _ = ('a'):rep(3000):find('.-.-.-.-b')\n"
                  "  end\n", 1)
assert "name == 'hostile'" in rec
open(f"{out}/rec.lua", "w").write(rec)
adm = open(f"{src}/lua/admission/vspheresource.lua").read()
adm = adm.replace("function M.validate(obj, old, ctx) -- luacheck: ignore old\n",
                  "function M.validate(obj, old, ctx) -- luacheck: ignore old\n"
                  "  if type(obj) == 'table' and type(obj.metadata) == 'table' and"
                  " obj.metadata.name == 'hostile-admission' then\n"
                  "    local _ = ('a'):rep(3000):find('.-.-.-.-b')\n"
                  "  end\n", 1)
assert "hostile-admission" in adm
open(f"{out}/adm.lua", "w").write(adm)
PY
k -n vmware-sources create configmap "$ovr" --from-file=reconcilers.vspheresource.lua="$E2E_DIR/rec.lua" \
  --from-file=admission.vspheresource.lua="$E2E_DIR/adm.lua" >/dev/null

# Reconciles of "hostile" hit the limit; "calm" is still reconciled.
wait_for 60 "a reconcile stopped by its limits" grep -q 'reconcile failed.*: reconcilers.vspheresource.lua:[0-9]*: \(instruction budget\|time limit\) exceeded' "$CTL_LOG"
k -n "$ns" patch vss calm --type merge -p '{"spec":{"sink":{"uri":"http://calm2.example/"}}}' >/dev/null
wait_jp 60 "$ns" vss calm '{.status.sinkUri}' http://calm2.example/
for ep in healthz readyz; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CTL_HEALTH/$ep")
  [ "$code" = 200 ] || fail "/$ep answered $code while an override spins"
done

# Admission: the spinning validation is answered within its limit.
t0=$(date +%s%N)
if out=$(src hostile-admission http://x.example/ | k create -f - 2>&1); then fail "the spinning validation admitted the object"; fi
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_contains "$out" "exceeded" "the denial names the limit"
[ "$ms" -lt 5000 ] || fail "the spinning validation took $ms ms to answer"
src other http://other.example/ | k create -f - >/dev/null
echo "controller_hostile_override: a spinning validation was denied in $ms ms: $out"

# Without the overrides, the shipped code is back for both.
k -n vmware-sources delete configmap "$ovr" >/dev/null
wait_jp 60 "$ns" vss hostile '{.status.sinkUri}' http://hostile.example/
src hostile-admission http://x.example/ | k create -f - >/dev/null
kill -0 "$CTL_PID" || fail "the controller died"
echo "controller_hostile_override: ok"

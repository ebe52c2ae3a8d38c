# The upstream sample manifests apply unchanged and show in `kubectl get`
# with the printer columns.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
k apply -f "$VSG_SOURCE_DIR/deploy/crds/" >/dev/null
k wait --for=condition=Established --timeout=60s \
  crd/vspheresources.sources.tanzu.vmware.com crd/vspherebindings.sources.tanzu.vmware.com >/dev/null
ns=$(new_ns samples)
samples=${VSG_SAMPLES_DIR:-$VSG_SOURCE_DIR/samples/upstream}
n=0
for f in "$samples"/*.yaml; do
  k -n "$ns" apply -f "$f" >/dev/null || fail "sample $(basename "$f") did not apply"
  n=$((n + 1))
done
[ $n -ge 7 ] || fail "expected the 7 upstream samples in $samples, found $n"

out=$(k -n "$ns" get vss,vsb)
expect_contains "$out" "SOURCE" "printer columns"
expect_contains "$out" "SINK" "printer columns"
expect_contains "$out" "READY" "printer columns"
expect_contains "$out" "REASON" "printer columns"
expect_contains "$out" "AGE" "printer columns"
expect_contains "$out" "https://vcenter.corp.local" "Source column shows .spec.address"
srcs=$(k -n "$ns" get vss -o name | wc -l)
bnds=$(k -n "$ns" get vsb -o name | wc -l)
[ "$srcs" -ge 4 ] || fail "expected 4 sources, got $srcs"
[ "$bnds" -ge 2 ] || fail "expected 2 bindings, got $bnds"

# What the user wrote is stored unchanged (no pruning of documented fields).
for s in $(k -n "$ns" get vss -o name); do
  addr=$(k -n "$ns" get "$s" -o jsonpath='{.spec.address}')
  [ -n "$addr" ] || fail "$s lost spec.address"
done
echo "smoke_samples: ok ($n manifests, $srcs sources, $bnds bindings)"

# govc talks to the harness vcsim over verified TLS; powering a VM off shows
# up in the event history.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
out=$("$GOVC" about)
expect_contains "$out" "VMware vCenter Server" "govc about"
"$GOVC" vm.power -off DC0_H0_VM0 >/dev/null
ev() { "$GOVC" events -n 50 -l vm/DC0_H0_VM0 2>/dev/null; }
has_off() { ev | grep VmPoweredOffEvent >/dev/null; }
retry 30 has_off || fail "VmPoweredOffEvent not in govc events: $(ev)"
out=$(ev)
expect_contains "$out" "VmStoppingEvent" "govc events"
# Put the VM back for tests that come after.
"$GOVC" vm.power -on DC0_H0_VM0 >/dev/null
echo "smoke_govc: ok"

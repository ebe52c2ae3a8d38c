# Filter: a filter ConfigMap attached to a source changes what reaches the sink, live: the
# ConfigMap is edited and the running adapter pod (not restarted) switches to the new filter.
# shellcheck source=spec/cluster/tests/lib.sh
. "$T_LIB"
t_begin filter
t_ns filter
ns=$T_NS
credentials "$ns"
sink_deploy "$ns" sink
filter_cm() { # TYPE: a filter that keeps only events of TYPE (samples/filters style)
  kc -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: source-filter}
data:
  filter.lua: |
    local chain = require("filter.chain")
    local types = require("filter.types")
    local extensions = require("filter.extensions")
    filter = chain{
      types.include{"$1"},
      extensions.add{ filterkeeps = function() return "$1" end },
    }
YAML
}
filter_cm VmPoweredOffEvent
source_apply "$ns" src "    ref: {apiVersion: v1, kind: Service, name: sink}" \
  "  filter: {configMapRef: {name: source-filter, key: filter.lua}}"
wait_source_ready "$ns" src
pod=$(adapter_pod "$ns" src)
count() { sink_lines "$ns" sink | ce_types | grep -cx "com.vmware.vsphere.$1.v0" || true; }
toggle() { vm_power DC0_H0_VM0 off; vm_power DC0_H0_VM0 on; }

toggle
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 60 eval '[ "$(count VmPoweredOffEvent)" -ge 1 ]' || fail "no VmPoweredOffEvent through the first filter"
sleep 3
[ "$(count VmPoweredOnEvent)" = 0 ] || fail "VmPoweredOnEvent passed a filter that keeps only VmPoweredOffEvent"
ext=$(sink_lines "$ns" sink | jq -r '.attributes.filterkeeps' | sort -u)
[ "$ext" = VmPoweredOffEvent ] || fail "extension filterkeeps: $ext"
say "first filter: only VmPoweredOffEvent"

filter_cm VmPoweredOnEvent
on_arrived() { toggle; [ "$(count VmPoweredOnEvent)" -ge 1 ]; }
retry 60 on_arrived || fail "the edited filter did not take effect within 60 s: $(kc -n "$ns" logs "$pod" | tail -n 5)"
# shellcheck disable=SC2034  # off, on: read by the eval'd checks below
off=$(count VmPoweredOffEvent) on=$(count VmPoweredOnEvent)
toggle
# shellcheck disable=SC2016  # single quotes on purpose: expanded later, at each eval / by the callee
retry 30 eval '[ "$(count VmPoweredOnEvent)" -gt "$on" ]' || fail "no VmPoweredOnEvent after the switch"
sleep 3
[ "$(count VmPoweredOffEvent)" = "$off" ] || fail "VmPoweredOffEvent still passes after the filter was changed"
[ "$(adapter_pod "$ns" src)" = "$pod" ] || fail "the adapter pod changed ($pod -> $(adapter_pod "$ns" src))"
rs=$(kc -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].restartCount}')
[ "$rs" = 0 ] || fail "the adapter restarted ($rs)"
say "edited filter live in pod $pod without a restart"

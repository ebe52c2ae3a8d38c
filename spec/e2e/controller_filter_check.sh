# FilterReady says what the adapter will do with a filter (issue 15 item
# 5): the controller judges the ConfigMap with the adapter's own code (load,
# the filter function, modules, the dry run on a sample event, the limits),
# not just by compiling it. Against the real API server, with the roles
# deploy/ ships. Each broken version below compiles, so a controller that
# only compiled called it Ready while the adapter held it back.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/controller_more_lib.sh
. "$(dirname "$0")/controller_more_lib.sh"
e2e_begin controller_filter_check
ctl_setup
ns=$(new_ns filter-check)
k -n "$ns" create configmap flt --from-literal=filter.lua='function filter(e) return e end' >/dev/null
k -n "$ns" create serviceaccount default >/dev/null
k -n "$ns" apply -f "$SEED/vsphere-credentials.yaml" >/dev/null
k -n "$ns" apply -f - >/dev/null <<'YAML'
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: src}
spec:
  address: https://vcenter.corp.local
  skipTLSVerify: true
  secretRef: {name: vsphere-credentials}
  sink: {uri: http://sink.example}
  filter: {configMapRef: {name: flt}}
YAML
ctl_start a --lease-name "ctl-fc-$ns" --reconcilers vspheresource
wait_cond 60 "$ns" src FilterReady True

# set_filter TEXT [MODULE-KEY MODULE-TEXT]: replaces the ConfigMap's data.
set_filter() {
  local patch
  patch=$(jq -cn --arg s "$1" --arg k "${2:-}" --arg m "${3:-}" \
    '{data: ({"filter.lua": $s} + (if $k == "" then {} else {($k): $m} end))}')
  k -n "$ns" patch configmap flt --type merge -p "$patch" >/dev/null
}
# expect_invalid WHAT NEEDLE: FilterInvalid whose message has NEEDLE and says what the adapter does.
expect_invalid() {
  wait_cond 60 "$ns" src FilterReady False/FilterInvalid
  local m; m=$(cond_msg "$ns" src FilterReady)
  expect_contains "$m" "$2" "$1"
  expect_contains "$m" "the adapter keeps running the last valid version it loaded" "$1: what the adapter does"
  echo "controller_filter_check: $1: $m"
}

set_filter 'local x = 1'
expect_invalid "no filter function" "no function 'filter'"
set_filter 'function filter(e) return e end' reset.lua 'return {}'
wait_cond 60 "$ns" src FilterReady True
set_filter 'local h = require("helpers") function filter(e) return e end'
expect_invalid "a missing module" "module 'helpers' not found"
set_filter 'local h = require("helpers") function filter(e) return h.keep(e) end' helpers.lua \
  'return {keep = function(e) return e end}'
wait_cond 60 "$ns" src FilterReady True
set_filter 'function filter(e) return e.data.Nope.Name end'
expect_invalid "a failing dry run" "dry run on a sample VmPoweredOnEvent: filter.lua:1: attempt to index"
set_filter 'function filter(e) while true do end end'
expect_invalid "a dry run that never ends" "instruction budget exceeded"
set_filter 'function filter(e) return "what" end'
expect_invalid "a bad return value" "the filter returned a string"
set_filter 'function filter(e) if e.type then return e end end'
wait_cond 60 "$ns" src FilterReady True

# The source's own limits (issue 15 item 6): judged with them, and passed to the adapter.
set_filter 'function filter(e) for i = 1, 20000 do end return e end'
wait_cond 60 "$ns" src FilterReady True
k -n "$ns" patch vss src --type merge -p '{"spec":{"filter":{"limits":{"instructions":5000,"timeoutMilliseconds":300}}}}' >/dev/null
expect_invalid "a filter over its source's instruction limit" "instruction budget exceeded (5000 instructions)"
wait_jp 30 "$ns" deploy src-adapter '{.spec.template.spec.containers[0].env[?(@.name=="VSPHERE_FILTER_LIMITS")].value}' \
  "instructions=5000,timeoutMs=300"
echo "controller_filter_check: ok"

# The controller's /metrics (issue 16 item 7) carries the series Knative's
# controllers publish, under the component the Go project's controller ran
# as (sharedmain "vsphere-source-webhook" -> vsphere_source_webhook_):
# work_queue_depth{reconciler} (gauge), reconcile_count{namespace_name,
# reconciler, success} (counter) and reconcile_latency (histogram, ms,
# buckets 10..60000), with the Go controller's reconciler names;
# client_latency (histogram, s, 1e-05..100) and client_results (counter)
# by name="" as knative pkg's views have them; and for the admission
# webhooks request_count and request_latencies (ms, 1..100000) by
# admission_allowed, kind_*, request_operation, resource_*; beside
# vsgate's own (vsgate_reconcile_total, vsgate_webhook_requests_total
# {path,result}, ...). Run with the webhooks registered by URL: the sample
# source is defaulted and validated (allowed), a source without a scheme
# is denied. The whole text is checked for format.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
# shellcheck source=spec/e2e/controller_lib.sh
. "$(dirname "$0")/controller_lib.sh"
# shellcheck source=spec/e2e/webhook_lib.sh
. "$(dirname "$0")/webhook_lib.sh"
e2e_begin controller_metrics
d=$E2E_DIR
prom() { python3 "$(dirname "$E2E_LIB")/prom.py" "$@"; }
C=vsphere_source_webhook
R=github.com.vmware-tanzu.sources-for-knative.pkg.reconciler.vspheresource.Reconciler
ctl_setup
ns=$(new_ns ctl-metrics)
wh_start a --lease-name "ctl-metrics-$ns" --reconcilers vspheresource,vspherebinding
wh_canary "$ns"
ctl_source "$ns"
out=$(printf '{"apiVersion":"sources.tanzu.vmware.com/v1alpha1","kind":"VSphereSource","metadata":{"name":"bad","namespace":"%s"},"spec":{"address":"vcenter.corp.local","secretRef":{"name":"c"},"sink":{"uri":"http://x"}}}' "$ns" |
  k create -f - 2>&1) && fail "a source without a scheme was admitted"
expect_contains "$out" "denied the request" "the invalid source"
wait_for 60 "the adapter Deployment" kq -n "$ns" get deploy source-adapter

scrape() { curl -fsS -o "$d/metrics.txt" "http://127.0.0.1:$CTL_METRICS/metrics"; }
reconciled() {
  scrape && [ "$(prom get "$d/metrics.txt" ${C}_reconcile_count reconciler="$R" success=true namespace_name="$ns")" -ge 1 ] &&
    [ "$(prom get "$d/metrics.txt" ${C}_reconcile_count reconciler=VSphereBindings namespace_name="$ns")" -ge 1 ]
}
wait_for 30 "reconcile_count of both reconcilers in $ns" reconciled
prom check "$d/metrics.txt" || fail "/metrics is not well formed"

# Types as Knative's Prometheus exporter writes them (counters without _total).
for t in "work_queue_depth gauge" "reconcile_count counter" "reconcile_latency histogram" \
  "client_latency histogram" "client_results counter" "request_count counter" "request_latencies histogram"; do
  grep -qx "# TYPE ${C}_${t% *} ${t#* }" "$d/metrics.txt" || fail "no '# TYPE ${C}_$t': $(grep "^# TYPE $C" "$d/metrics.txt")"
done
! grep -q "^${C}_[a-z_]*_total" "$d/metrics.txt" || fail "a Knative series with _total"

# ---- the controller ---------------------------------------------------------------------
keys() { prom series "$d/metrics.txt" "$1" | jq -c '.labels | keys' | sort -u; }
[ "$(keys ${C}_reconcile_count)" = '["namespace_name","reconciler","success"]' ] ||
  fail "reconcile_count labels: $(keys ${C}_reconcile_count)"
[ "$(keys ${C}_work_queue_depth)" = '["reconciler"]' ] || fail "work_queue_depth labels: $(keys ${C}_work_queue_depth)"
for r in "$R" VSphereBindings; do
  [ "$(prom get "$d/metrics.txt" --count ${C}_work_queue_depth reconciler="$r")" = 1 ] || fail "no work_queue_depth of $r"
done
row=(reconciler="$R" success=true namespace_name="$ns")
n=$(prom get "$d/metrics.txt" ${C}_reconcile_count "${row[@]}")
[ "$(prom get "$d/metrics.txt" ${C}_reconcile_latency_count "${row[@]}")" = "$n" ] || fail "reconcile_latency_count != reconcile_count ($n)"
les=$(prom series "$d/metrics.txt" ${C}_reconcile_latency_bucket | jq -r --arg r "$R" --arg ns "$ns" \
  'select(.labels.reconciler == $r and .labels.namespace_name == $ns and .labels.success == "true") | .labels.le' | tr '\n' ' ')
[ "$les" = "10 100 1000 10000 30000 60000 +Inf " ] || fail "reconcile_latency buckets (ms): $les"
[ "$(prom get "$d/metrics.txt" ${C}_reconcile_latency_bucket "${row[@]}" le=+Inf)" = "$n" ] || fail "+Inf bucket"
# The client requests: every request (client_results), the non-watch ones timed (client_latency).
[ "$(keys ${C}_client_results)" = '["name"]' ] || fail "client_results labels: $(keys ${C}_client_results)"
[ "$(prom get "$d/metrics.txt" ${C}_client_results name=)" = "$(prom get "$d/metrics.txt" vsgate_kube_requests_total)" ] ||
  fail "client_results != vsgate_kube_requests_total"
les=$(prom series "$d/metrics.txt" ${C}_client_latency_bucket | jq -r '.labels.le' | tr '\n' ' ')
[ "$les" = "1e-05 0.0001 0.001 0.01 0.1 1 10 100 +Inf " ] || fail "client_latency buckets (s): $les"
[ "$(prom get "$d/metrics.txt" ${C}_client_latency_count name=)" -ge 1 ] || fail "no client request timed"
# vsgate's own series are still there.
[ "$(prom get "$d/metrics.txt" vsgate_reconcile_total kind=VSphereSource result=success)" -ge 1 ] ||
  fail "vsgate_reconcile_total is gone"
grep -q '^vsgate_workqueue_depth{kind="VSphereSource"} ' "$d/metrics.txt" || fail "vsgate_workqueue_depth is gone"

# ---- the webhooks -------------------------------------------------------------------------
req=(kind_group=sources.tanzu.vmware.com kind_version=v1alpha1 kind_kind=VSphereSource request_operation=CREATE
  resource_group=sources.tanzu.vmware.com resource_version=v1alpha1 resource_resource=vspheresources
  resource_namespace="$ns")
[ "$(keys ${C}_request_count)" = '["admission_allowed","kind_group","kind_kind","kind_version","request_operation","resource_group","resource_namespace","resource_resource","resource_version"]' ] ||
  fail "request_count labels: $(keys ${C}_request_count)"
ok=$(prom get "$d/metrics.txt" ${C}_request_count "${req[@]}" admission_allowed=true)
[ "$ok" -ge 2 ] || fail "request_count of the admitted source (defaulting and validation): $ok"
[ "$(prom get "$d/metrics.txt" ${C}_request_count "${req[@]}" admission_allowed=false)" -ge 1 ] ||
  fail "request_count of the denied source: $(grep "^${C}_request_count" "$d/metrics.txt")"
[ "$(prom get "$d/metrics.txt" ${C}_request_latencies_count "${req[@]}" admission_allowed=true)" = "$ok" ] ||
  fail "request_latencies_count != request_count"
les=$(prom series "$d/metrics.txt" ${C}_request_latencies_bucket | jq -r --arg ns "$ns" \
  'select(.labels.resource_namespace == $ns and .labels.admission_allowed == "false") | .labels.le' | tr '\n' ' ')
[ "$les" = "1 2 5 10 20 50 100 200 500 1000 2000 5000 10000 20000 50000 100000 +Inf " ] ||
  fail "request_latencies buckets (ms): $les"
[ "$(prom get "$d/metrics.txt" vsgate_webhook_requests_total path=/resource-validation result=denied)" -ge 1 ] ||
  fail "vsgate_webhook_requests_total: no denial on /resource-validation"
for p in /defaulting /resource-validation; do
  a=$(prom get "$d/metrics.txt" vsgate_webhook_requests_total path="$p" result=allowed)
  [ "$a" -ge 2 ] || fail "vsgate_webhook_requests_total{path=$p,result=allowed} is $a"
  [ "$(prom get "$d/metrics.txt" vsgate_webhook_request_duration_seconds_count path="$p")" = \
    "$(prom get "$d/metrics.txt" vsgate_webhook_requests_total path="$p")" ] || fail "duration count of $p"
done
echo "controller_metrics: ok: reconcile_count $n for $R in $ns," \
  "request_count $ok admitted, client_results $(prom get "$d/metrics.txt" ${C}_client_results)"

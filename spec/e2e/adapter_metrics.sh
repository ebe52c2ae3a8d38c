# The adapter's /metrics (issue 16 item 7): `vsgate adapter`, configured by
# the env a VSphereSource's Deployment gets (K_METRICS_CONFIG as the
# controller writes it, its PrometheusPort a free port here), serves
# Knative's source metrics as knative.dev/eventing's adapter publishes them
# through the Prometheus exporter: vspheresource_event_count and
# vspheresource_retry_event_count, counters without _total, labels
# event_source, event_type, name ($NAME), namespace_name ($NAMESPACE),
# resource_group (adapter.sources.knative.dev), response_code,
# response_code_class, response_error, response_timeout. The sink answers
# the first event 503 and then 202: event_count counts every event once
# with 202, by type, as the sink received them; retry_event_count counts
# the 503. Then the sink goes away: the retries of the next event count
# with no code, response_error "connection error" and response_timeout
# "false", and its delivery once the sink is back with 202. The whole text
# is checked for format (HELP/TYPE, escapes, histograms), and vsgate's own
# vsgate_adapter_* series are there and agree. A second adapter on the
# same metrics port logs that /metrics is not served and delivers all
# the same.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_metrics
d=$E2E_DIR
prom() { python3 "$(dirname "$E2E_LIB")/prom.py" "$@"; }

vmref=$("$GOVC" ls -i vm/DC0_H0_VM0)
vmid=${vmref#VirtualMachine:}
state=$("$GOVC" vm.info -json DC0_H0_VM0 | jq -r '.virtualMachines[0].runtime.powerState')
[ "$state" = poweredOn ] || "$GOVC" vm.power -on DC0_H0_VM0 >/dev/null
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"

e2e_sink sink --status-sequence 503x1,202
sink_pid=$E2E_PID
sink_port=$(cat "$d/sink.port")
ns=$(new_ns adapter-metrics)
n=vss-metrics
pod=$n-adapter-5d8f7c9b6-x2x7q           # NAME: the pod's name, as the Deployment's fieldRef gives it
k -n "$ns" create configmap "$n-configmap" >/dev/null
mport=$(_e2e_free_port)
mcfg=$(jq -cn --argjson p "$mport" '{Domain: "tanzu.vmware.com/sources", Component: "vspheresource",
  PrometheusPort: $p, PrometheusHost: "", ConfigMap: {"metrics.backend-destination": "prometheus"}}')
adapter() { # adapter TAG: the adapter with the Deployment's env
  e2e_bg "$1" "$d/$1.log" env -i PATH="$PATH" KUBECONFIG="$KUBECONFIG" \
    ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
    NAMESPACE="$ns" NAME="$pod" K_METRICS_CONFIG="$mcfg" METRICS_PROMETHEUS_HOST=127.0.0.1 \
    K_LOGGING_CONFIG='{"zap-logger-config":"{\"level\": \"info\"}"}' \
    VSPHERE_KVSTORE_CONFIGMAP="$n-configmap" VSPHERE_CHECKPOINT_CONFIG='{"maxAge":"5m0s","period":"1s"}' \
    VSPHERE_PAYLOAD_ENCODING=application/json K_SINK="$E2E_SINK_URL" VSPHERE_HEALTH_PORT=0 \
    VC_URL="$VCSIM_URL" VC_SECRET_PATH="$d/secret" VSPHERE_CA_CERTS="$(cat "$VSG_TEST_CA")" \
    "$VSG_BIN" adapter
}
adapter adapter
pid=$E2E_PID
retry 30 grep -q "event collector created" "$d/adapter.log" ||
  fail "the adapter did not start: $(tail -n 3 "$d/adapter.log")"
scrape() { curl -fsS -o "$d/metrics.txt" "http://127.0.0.1:$mport/metrics"; }
wait_for 10 "/metrics on the K_METRICS_CONFIG port $mport" scrape
expect_contains "$(cat "$d/adapter.log")" "metrics on http://127.0.0.1:$mport/metrics" "the adapter's log"

# ---- the 503, then 202s -------------------------------------------------------
"$GOVC" vm.power -off DC0_H0_VM0 >/dev/null
"$GOVC" vm.power -on DC0_H0_VM0 >/dev/null
got_on() { rec_ok "$E2E_SINK_REC" | grep "com.vmware.vsphere.VmPoweredOnEvent.v0.*$vmid" >/dev/null; }
wait_for 30 "VmPoweredOnEvent at the sink" got_on

# What the sink accepted, by type: "TYPE COUNT" lines.
sink_types() { rec_ok "$E2E_SINK_REC" | jq -r .attributes.type | sort | uniq -c | awk '{print $2, $1}'; }
# event_count by type with 202, as "TYPE COUNT" lines (every label checked).
metric_types() {
  prom series "$d/metrics.txt" vspheresource_event_count | jq -r --arg ns "$ns" --arg pod "$pod" --arg src "$VCSIM_URL" '
    select(.labels.response_code == "202") |
    if (.labels | keys) != ["event_source","event_type","name","namespace_name","resource_group","response_code",
                             "response_code_class","response_error","response_timeout"]
       or .labels.event_source != $src or .labels.name != $pod or .labels.namespace_name != $ns
       or .labels.resource_group != "adapter.sources.knative.dev" or .labels.response_code_class != "2xx"
       or .labels.response_error != "" or .labels.response_timeout != ""
    then "BAD \(.labels)" else "\(.labels.event_type) \(.value)" end' | sort
}
agree() { scrape && [ "$(metric_types)" = "$(sink_types)" ]; }
retry 15 agree || fail "event_count (202) by type does not match the sink's events:
$(metric_types)
--- sink:
$(sink_types)
--- /metrics:
$(grep event_count "$d/metrics.txt")"
prom check "$d/metrics.txt" || fail "/metrics is not well formed: $(cat "$d/metrics.txt")"
total=$(rec_ok "$E2E_SINK_REC" | wc -l)
[ "$total" -ge 4 ] || fail "only $total events at the sink"
# Counters, not _total; the retry of the first event, with its code.
grep -qx '# TYPE vspheresource_event_count counter' "$d/metrics.txt" || fail "no counter vspheresource_event_count"
grep -qx '# TYPE vspheresource_retry_event_count counter' "$d/metrics.txt" || fail "no counter vspheresource_retry_event_count"
grep -q '^# HELP vspheresource_event_count ' "$d/metrics.txt" || fail "no HELP for vspheresource_event_count"
! grep -q '_event_count_total' "$d/metrics.txt" || fail "Knative's counters have no _total"
first=$(rec_ok "$E2E_SINK_REC" | jq -rs '.[0].attributes.type')
[ "$(prom get "$d/metrics.txt" vspheresource_retry_event_count)" = 1 ] ||
  fail "retry_event_count: want 1 in all: $(grep retry_event_count "$d/metrics.txt")"
[ "$(prom get "$d/metrics.txt" vspheresource_retry_event_count event_type="$first" response_code=503 \
    response_code_class=5xx event_source="$VCSIM_URL" name="$pod" namespace_name="$ns" \
    resource_group=adapter.sources.knative.dev response_error= response_timeout=)" = 1 ] ||
  fail "retry_event_count of the 503 to $first: $(grep retry_event_count "$d/metrics.txt")"
[ "$(prom get "$d/metrics.txt" vspheresource_event_count response_code=503)" = 0 ] ||
  fail "a retried 503 counted as the event's outcome"
# vsgate's own series agree.
[ "$(prom get "$d/metrics.txt" vsgate_adapter_events_total outcome=delivered)" = "$total" ] ||
  fail "vsgate_adapter_events_total{outcome=delivered} is not $total: $(grep vsgate_adapter_events_total "$d/metrics.txt")"
[ "$(prom get "$d/metrics.txt" vsgate_adapter_vcenter_up)" = 1 ] || fail "vsgate_adapter_vcenter_up is not 1"
[ "$(prom get "$d/metrics.txt" vsgate_adapter_vcenter_events_read_total)" -ge "$total" ] ||
  fail "vsgate_adapter_vcenter_events_read_total below $total"
[ "$(prom get "$d/metrics.txt" vsgate_adapter_vcenter_page_duration_seconds_count)" -ge 1 ] ||
  fail "no vCenter page counted"
saved() { scrape && [ "$(prom get "$d/metrics.txt" vsgate_adapter_checkpoint_saves_total result=success)" -ge 2 ]; }
wait_for 10 "a checkpoint save counted" saved
age=$(prom get "$d/metrics.txt" vsgate_adapter_checkpoint_age_seconds)
awk -v a="$age" 'BEGIN { exit !(a >= 0 && a < 120) }' || fail "checkpoint age $age"

# ---- no sink: the retries count without a code ------------------------------
e2e_stop "$sink_pid"
before=$total
"$GOVC" vm.power -off DC0_H0_VM0 >/dev/null
refused() {
  scrape && [ "$(prom get "$d/metrics.txt" vspheresource_retry_event_count response_code= response_code_class= \
    response_error="connection error" response_timeout=false event_source="$VCSIM_URL" name="$pod")" -ge 1 ]
}
wait_for 20 "retry_event_count with response_error \"connection error\"" refused
prom check "$d/metrics.txt" || fail "/metrics is not well formed during the outage"
E2E_SINK_PORT=$sink_port e2e_sink sink --status 202
more() { [ "$(rec_ok "$E2E_SINK_REC" | wc -l)" -ge $((before + 2)) ]; }
wait_for 60 "the retried events at the sink again" more
followed() { scrape && [ "$(prom get "$d/metrics.txt" vspheresource_event_count response_code=202)" -ge $((before + 2)) ]; }
wait_for 10 "event_count to follow" followed
[ "$(prom get "$d/metrics.txt" vspheresource_event_count response_code=)" = 0 ] ||
  fail "an event counted without a response: it was delivered in the end"
prom check "$d/metrics.txt" || fail "/metrics is not well formed after the outage"

# ---- a second adapter on the same metrics port: logged, events flow -----------
adapter adapter2
pid2=$E2E_PID
retry 30 grep -q "event collector created" "$d/adapter2.log" ||
  fail "the second adapter did not start: $(tail -n 3 "$d/adapter2.log")"
expect_contains "$(cat "$d/adapter2.log")" "/metrics on 127.0.0.1:$mport, not served" "the second adapter's log"
_e2e_alive "$pid2" || fail "the second adapter exited"
for p in "$pid2" "$pid"; do
  e2e_stop "$p"
  [ "$E2E_RC" -eq 0 ] || fail "adapter pid $p exited with $E2E_RC after SIGTERM"
done
"$GOVC" vm.power -on DC0_H0_VM0 >/dev/null
echo "adapter_metrics: ok: $(prom get "$d/metrics.txt" vspheresource_event_count) events counted" \
  "($(prom get "$d/metrics.txt" --count vspheresource_event_count) series)," \
  "$(prom get "$d/metrics.txt" vspheresource_retry_event_count) retries (503 and connection errors)"

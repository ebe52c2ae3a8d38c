# govc vm.power -off / -on against the harness vcsim produce the CloudEvents of
# CONTRACTS §3 at `vsgate sink`, from three adapters at once:
#   run-xml   `vsgate run`, default encoding (application/xml)
#   run-json  `vsgate run --encoding application/json`
#   adapter   `vsgate adapter`, configured only by the env a VSphereSource's
#             Deployment gets (CONTRACTS §2), JSON payloads, checkpoint in the
#             ConfigMap <n>-configmap of a fresh namespace (its /metrics,
#             on 9090 by that env, turned off: adapter_metrics.sh tests it).
# Checked per event: type, id = event key, source = SDK URL, time (UTC RFC 3339
# = the payload's createdTime), eventclass, vsphereapiversion (= govc about),
# K_CE_OVERRIDES extensions (with spaces, quotes, "%20" and UTF-8: raw on
# the wire from the adapter by default, as the Go adapter sent them, which a
# raw-reading sink gets byte for byte; percent-encoded with
# --ce-header-encoding percent, which a decoding sink gets back), a W3C
# traceparent on every event (sampled with K_TRACING_CONFIG's rate 1), no subject,
# Kn-Namespace, Content-Type; payload spot checks in both encodings; ascending
# keys; the same events reach all three. Then the checkpoints: the ConfigMap
# key `checkpoint` (and the run's file) name the last delivered event, keys in
# the compat order.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_events
d=$E2E_DIR

api=$("$GOVC" about -json | jq -r '.about.apiVersion')
{ [ -n "$api" ] && [ "$api" != null ]; } || fail "govc about gave no apiVersion"
vmref=$("$GOVC" ls -i vm/DC0_H0_VM0)                    # VirtualMachine:vm-NN
vmid=${vmref#VirtualMachine:}
state=$("$GOVC" vm.info -json DC0_H0_VM0 | jq -r '.virtualMachines[0].runtime.powerState')
[ "$state" = poweredOn ] || "$GOVC" vm.power -on DC0_H0_VM0 >/dev/null

mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"
note='ops team 100% "ü" side%20by side'               # raw, or percent-encoded
overrides=$(jq -cn --arg n "$note" '{extensions:{team:"vsgate-e2e",note:$n}}')

# ---- the three sinks and adapters
e2e_sink sink-xml;  url_xml=$E2E_SINK_URL;  rec_xml=$E2E_SINK_REC
e2e_sink sink-json; url_json=$E2E_SINK_URL; rec_json=$E2E_SINK_REC
e2e_sink sink-ad --ce-header-encoding raw; url_ad=$E2E_SINK_URL; rec_ad=$E2E_SINK_REC

run_common=(--address "$VCSIM_URL" --ca-file "$VSG_TEST_CA" --secret-path "$d/secret"
            --namespace e2e-run-ns --ce-overrides "$overrides" --period 1s --ce-header-encoding percent)
e2e_bg run-xml "$d/run-xml.log" "$VSG_BIN" run "${run_common[@]}" --sink "$url_xml" \
  --checkpoint "$d/cp-xml.json"
pid_xml=$E2E_PID
e2e_bg run-json "$d/run-json.log" "$VSG_BIN" run "${run_common[@]}" --sink "$url_json" \
  --checkpoint "$d/cp-json.json" --encoding application/json
pid_json=$E2E_PID

ns=$(new_ns adapter-events)
n=vss-events
k -n "$ns" create configmap "$n-configmap" >/dev/null   # the controller creates it empty
e2e_bg adapter "$d/adapter.log" env -i PATH="$PATH" KUBECONFIG="$KUBECONFIG" \
  ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
  NAMESPACE="$ns" NAME="$n" \
  K_METRICS_CONFIG='{"Domain":"knative.dev/sources","Component":"vspheresource","PrometheusPort":0,"PrometheusHost":"","ConfigMap":{}}' \
  METRICS_PROMETHEUS_PORT=0 \
  K_LOGGING_CONFIG='{"zap-logger-config":"{\"level\": \"info\", \"encoding\": \"json\"}"}' \
  VSPHERE_KVSTORE_CONFIGMAP="$n-configmap" \
  VSPHERE_CHECKPOINT_CONFIG='{"maxAge":"5m0s","period":"10s"}' \
  VSPHERE_PAYLOAD_ENCODING=application/json \
  K_CE_OVERRIDES="$overrides" \
  K_TRACING_CONFIG='{"backend":"zipkin","debug":"false","sample-rate":"1","zipkin-endpoint":"http://zipkin.example:9411"}' \
  K_SINK="$url_ad" \
  VC_URL="$VCSIM_URL" VC_INSECURE=false VC_USERNAME="$VCSIM_USER" VC_PASSWORD="$VCSIM_PASSWORD" \
  VC_SECRET_PATH="$d/secret" VSPHERE_CA_CERTS="$(cat "$VSG_TEST_CA")" \
  "$VSG_BIN" adapter
pid_ad=$E2E_PID

up() { grep -q "event collector created" "$1"; }
for l in run-xml run-json adapter; do
  retry 30 up "$d/$l.log" || fail "$l did not create its collector: $(tail -n 3 "$d/$l.log")"
done
t_start=$(date -u +%s)

# ---- the VM events
"$GOVC" vm.power -off DC0_H0_VM0 >/dev/null
"$GOVC" vm.power -on DC0_H0_VM0 >/dev/null
types=(VmStoppingEvent VmPoweredOffEvent VmStartingEvent VmPoweredOnEvent)

# vm_events FILE: the accepted records about DC0_H0_VM0 of the four types.
vm_events() {
  rec_ok "$1" | jq -c --arg vm "$vmid" 'select(.attributes.type | test("^com\\.vmware\\.vsphere\\.Vm(Stopping|PoweredOff|Starting|PoweredOn)Event\\.v0$"))
    | select((.data | contains(">" + $vm + "<")) or (.data | contains("\"Value\":\"" + $vm + "\"")))'
}
got_on() { vm_events "$1" | grep VmPoweredOnEvent >/dev/null; }
for r in "$rec_xml" "$rec_json" "$rec_ad"; do wait_for 30 "VmPoweredOnEvent at $(basename "$r")" got_on "$r"; done
sleep 0.5   # anything late would show up as a fifth event below

ids_ref=""
check_sink() { # FILE ENCODING KN-NAMESPACE TRACE-FLAGS
  local f=$1 enc=$2 kns=$3 flags=$4 evs n i a ty id prev=0 data
  evs=$(vm_events "$f")
  n=$(printf '%s\n' "$evs" | grep -c . || true)
  [ "$n" -eq 4 ] || fail "$(basename "$f"): expected 4 VM events, got $n: $(printf '%s\n' "$evs" | jq -r .attributes.type)"
  for i in 0 1 2 3; do
    a=$(printf '%s\n' "$evs" | sed -n "$((i + 1))p")
    ty=$(jq -r .attributes.type <<<"$a"); id=$(jq -r .attributes.id <<<"$a")
    [ "$ty" = "com.vmware.vsphere.${types[$i]}.v0" ] || fail "$(basename "$f"): event $i is $ty, expected ${types[$i]} (order)"
    { [[ $id =~ ^[0-9]+$ ]] && [ "$id" -gt "$prev" ]; } || fail "$(basename "$f"): ids not ascending decimal keys: $id after $prev"
    prev=$id
    jq -e --arg src "$VCSIM_URL" --arg api "$api" --arg enc "$enc" --arg kns "$kns" --arg note "$note" \
      --arg flags "$flags" '
      .attributes.specversion == "1.0" and .attributes.source == $src
      and (.headers.traceparent | test("^00-[0-9a-f]{32}-[0-9a-f]{16}-" + $flags + "$"))
      and .attributes.eventclass == "event" and .attributes.vsphereapiversion == $api
      and .attributes.datacontenttype == $enc and .headers["content-type"] == $enc
      and .headers["kn-namespace"] == $kns
      and .attributes.team == "vsgate-e2e" and .attributes.note == $note
      and (.attributes | has("subject") | not)
      and (.attributes.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$"))
      and ((.attributes.time | sub("\\.[0-9]+Z$"; "Z") | fromdate) >= '"$((t_start - 5))"')
      and ((.attributes.time | sub("\\.[0-9]+Z$"; "Z") | fromdate) <= now + 5)' <<<"$a" >/dev/null ||
      fail "$(basename "$f"): wrong attributes/headers for ${types[$i]}: $(jq -c '{attributes, headers}' <<<"$a")"
    data=$(jq -r .data <<<"$a")
    if [ "$enc" = application/json ]; then
      jq -e --argjson id "$id" --arg t "$(jq -r .attributes.time <<<"$a")" --arg vm "$vmid" '
        .Key == $id and .ChainId == $id and .CreatedTime == $t
        and .Vm == {"Name":"DC0_H0_VM0","Vm":{"Type":"VirtualMachine","Value":$vm}}
        and (.Host.Host.Type == "HostSystem") and (.Net == null) and (.Template == false)
        and (.FullFormattedMessage | type == "string")' <<<"$data" >/dev/null ||
        fail "$(basename "$f"): JSON payload of ${types[$i]} wrong: $data"
    else
      [[ $data == "<${types[$i]}><key>$id</key><chainId>$id</chainId><createdTime>$(jq -r .attributes.time <<<"$a")</createdTime>"* ]] ||
        fail "$(basename "$f"): XML payload of ${types[$i]} does not start with <${types[$i]}><key>$id</key>...: ${data:0:200}"
      [[ $data == *"</${types[$i]}>" ]] || fail "XML payload does not end with </${types[$i]}>"
      expect_contains "$data" "<vm><name>DC0_H0_VM0</name><vm type=\"VirtualMachine\">$vmid</vm></vm>" "XML payload"
      case "$data" in *xmlns*|*xsi:*) fail "XML payload carries a namespace or xsi:type: ${data:0:200}" ;; esac
    fi
  done
  # Ascending keys over everything this sink got, not just the VM events.
  rec_ok "$f" | jq -s -e 'map(.attributes.id | tonumber) | . == (sort | unique)' >/dev/null ||
    fail "$(basename "$f"): keys not strictly ascending: $(rec_ok "$f" | jq -r .attributes.id | tr '\n' ' ')"
  local ids; ids=$(printf '%s\n' "$evs" | jq -r '"\(.attributes.id)/\(.attributes.time)"' | tr '\n' ' ')
  [ -z "$ids_ref" ] || [ "$ids" = "$ids_ref" ] || fail "$(basename "$f") got other events: $ids vs $ids_ref"
  ids_ref=$ids
}
check_sink "$rec_xml" application/xml e2e-run-ns 00
check_sink "$rec_json" application/json e2e-run-ns 00
check_sink "$rec_ad" application/json "$ns" 01
# A new trace per event.
[ "$(vm_events "$rec_ad" | jq -r '.headers.traceparent[3:35]' | sort -u | wc -l)" -eq 4 ] ||
  fail "traceparents repeat a trace id: $(vm_events "$rec_ad" | jq -r .headers.traceparent)"
# The two JSON adapters produce the same bytes.
[ "$(vm_events "$rec_json" | jq -r .data)" = "$(vm_events "$rec_ad" | jq -r .data)" ] ||
  fail "vsgate run and vsgate adapter sent different JSON payloads"

# ---- checkpoints: SIGTERM saves them; they name the last delivered event.
for p in "$pid_xml" "$pid_json" "$pid_ad"; do
  e2e_stop "$p"
  [ "$E2E_RC" -eq 0 ] || fail "adapter pid $p exited with $E2E_RC after SIGTERM (want 0)"
done
cp_re='^\{"vCenter":"[^"]+","lastEventKey":[0-9]+,"lastEventType":"[A-Za-z0-9_.]+","lastEventKeyTimestamp":"[^"]+","createdTimestamp":"[^"]+"\}$'
check_cp() { # CHECKPOINT-JSON SINK-RECORDS WHAT
  local cp=$1 f=$2 last
  [[ $cp =~ $cp_re ]] || fail "$3: checkpoint not compact JSON with keys in compat order: $cp"
  last=$(rec_ok "$f" | tail -n 1)
  jq -e --arg src "$VCSIM_URL" --argjson last "$last" --argjson t0 "$t_start" '
    .vCenter == $src and .lastEventKey == ($last.attributes.id | tonumber)
    and ("com.vmware.vsphere." + .lastEventType + ".v0") == $last.attributes.type
    and .lastEventKeyTimestamp == $last.attributes.time
    and (.createdTimestamp | test("^[0-9-]{10}T[0-9:]{8}(\\.[0-9]+)?Z$"))
    and ((.createdTimestamp | sub("\\.[0-9]+Z$"; "Z") | fromdate) >= $t0 - 5)' <<<"$cp" >/dev/null ||
    fail "$3: checkpoint $cp does not name the last delivered event $(jq -c .attributes <<<"$last")"
}
cm=$(k -n "$ns" get configmap "$n-configmap" -o json)
cp_ad=$(jq -r '.data.checkpoint // empty' <<<"$cm")
[ -n "$cp_ad" ] || fail "ConfigMap $n-configmap has no key checkpoint: $(jq -c .data <<<"$cm")"
check_cp "$cp_ad" "$rec_ad" "ConfigMap $ns/$n-configmap"
check_cp "$(cat "$d/cp-xml.json")" "$rec_xml" "file checkpoint (run-xml)"
check_cp "$(cat "$d/cp-json.json")" "$rec_json" "file checkpoint (run-json)"
grep -q '"level":"error"' "$d"/run-xml.log "$d"/run-json.log "$d"/adapter.log &&
  fail "an adapter logged an error: $(grep -h '"level":"error"' "$d"/*.log | head -3)"

echo "adapter_events: ok: 3 adapters x 4 VM events (key/time: ${ids_ref% }), api $api," \
  "xml/json payloads, overrides, Kn-Namespace; checkpoint ConfigMap $n-configmap = $cp_ad;" \
  "sink totals: $(wc -l <"$rec_xml")/$(wc -l <"$rec_json")/$(wc -l <"$rec_ad") events"

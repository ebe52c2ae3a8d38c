# The filter samples, end to end.
#  1. Each samples/filters/*.yaml (a ConfigMap with the script plus the
#     upstream sample source with spec.filter) applies to the API server in
#     a fresh namespace; the CRD schema rejects a bad spec.filter.
#  2. The scripts, as stored in those ConfigMaps, run in `vsgate run
#     --filter` against vcsim (events of ~45 classes re-posted from the
#     fixtures, VM power operations, GeneralUserEvents); what the sinks get
#     shows the filters at work:
#       vm-power-only (JSON): only power events, renamed, with vmname, and
#         their payload equal to the unfiltered one;
#       redact (XML): every event, user names and messages redacted,
#         extensions team/redacted, XML re-encoded from the Lua values;
#       drop-session-noise (JSON, and --record): no session events, the
#         rest with the unfiltered payload.
#  3. `vsgate filter test` runs each script over the recorded events.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
: "${VSG_POST_EVENTS:?}"
# contains [grep options] PATTERN: greps all of stdin after reading it (an
# early exit would SIGPIPE the writer, which pipefail counts as failure).
contains() { local in; in=$(cat); grep -q "$@" <<<"$in"; }
e2e_begin filter_sink
d=$E2E_DIR
p="fsink-$RANDOM$RANDOM"
samples="vm-power-only redact drop-session-noise"
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"

# 1. The samples apply; their scripts come back from the API server.
k apply -f "$VSG_SOURCE_DIR/deploy/crds/" >/dev/null
k wait --for=condition=Established --timeout=60s crd/vspheresources.sources.tanzu.vmware.com >/dev/null
for s in $samples; do
  sns=$(new_ns "fs-$s")
  out=$(k -n "$sns" apply -f "$VSG_SOURCE_DIR/samples/filters/$s.yaml" 2>&1) ||
    fail "samples/filters/$s.yaml does not apply: $out"
  ref=$(k -n "$sns" get vss source -o jsonpath='{.spec.filter.configMapRef.name}')
  [ "$ref" = source-filter ] || fail "$s: spec.filter.configMapRef.name is '$ref'"
  mkdir -p "$d/$s"
  k -n "$sns" get configmap source-filter -o json >"$d/$s/cm.json"
  for key in $(jq -r '.data | keys[]' "$d/$s/cm.json"); do
    jq -j --arg k "$key" '.data[$k]' "$d/$s/cm.json" >"$d/$s/$key"
  done
  [ -s "$d/$s/filter.lua" ] || fail "$s: no filter.lua in the ConfigMap"
done
bad_source() { # ONERROR-LINE: a source with this filter spec
  cat <<EOF
apiVersion: sources.tanzu.vmware.com/v1alpha1
kind: VSphereSource
metadata: {name: bad}
spec:
  address: https://vcenter.corp.local
  secretRef: {name: vsphere-credentials}
  sink: {uri: http://where.to.send.stuff}
  filter: $1
EOF
}
expect_fail_with 'onError' bash -c "$(declare -f bad_source k); bad_source '{configMapRef: {name: f}, onError: ignore}' | KUBECTL=$KUBECTL KUBECONFIG=$KUBECONFIG k -n $sns apply -f -"
expect_fail_with 'configMapRef' bash -c "$(declare -f bad_source k); bad_source '{onError: drop}' | KUBECTL=$KUBECTL KUBECONFIG=$KUBECONFIG k -n $sns apply -f -"

# 2. One `vsgate run` per sample, each with its own sink.
enc_of() { case $1 in redact) echo application/xml ;; *) echo application/json ;; esac; }
for s in $samples; do
  e2e_sink "sink-$s"
  extra=()
  [ "$s" = drop-session-noise ] && extra=(--record "$d/rec.jsonl")
  e2e_bg "run-$s" "$d/run-$s.log" "$VSG_BIN" run --address "$VCSIM_URL" --ca-file "$VSG_TEST_CA" \
    --secret-path "$d/secret" --sink "$E2E_SINK_URL" --checkpoint "$d/cp-$s.json" \
    --encoding "$(enc_of "$s")" --period 1s --page-size 1000 --filter "$d/$s/filter.lua" "${extra[@]}"
done
up() { grep -q "event collector created" "$d/run-$1.log"; }
for s in $samples; do retry 30 up "$s" || fail "run-$s did not start: $(tail -n 3 "$d/run-$s.log")"; done
sleep 0.2
# Every adapter sees the events from this marker on.
post_events "$VCSIM_URL" 1 "$p-start"

"$VSG_POST_EVENTS" --url "$VCSIM_URL" --ca-file "$VSG_TEST_CA" --user "$VCSIM_USER" --password "$VCSIM_PASSWORD" \
  --from-response --skip-class EventEx "$VSG_SOURCE_DIR"/spec/fixtures/events/*.soap.xml >/dev/null
"$GOVC" vm.power -off DC0_H0_VM0 >/dev/null
"$GOVC" vm.power -on DC0_H0_VM0 >/dev/null
post_events "$VCSIM_URL" 20 "$p"

# Every adapter has handled everything up to our last event (its
# checkpoint passed it), whatever its filter kept.
has_rec() { [ -s "$d/rec.jsonl" ] && jq -r --arg m "$p 19" 'select(.data.Message == $m) | .id' "$d/rec.jsonl" | contains .; }
wait_for 60 "the last event in the record" has_rec
lastkey=$(jq -r --arg m "$p 19" 'select(.data.Message == $m) | .id' "$d/rec.jsonl")
passed() { [ -s "$d/cp-$1.json" ] && [ "$(jq -r .lastEventKey "$d/cp-$1.json")" -ge "$lastkey" ]; }
for s in $samples; do wait_for 60 "run-$s to pass key $lastkey" passed "$s"; done
for s in $samples; do
  n=$(rec_ok "$E2E_DIR/sink-$s.jsonl" | wc -l)
  echo "$s: $n events at the sink" >&2
done
first=$(jq -r --arg m "$p-start 0" 'select(.data.Message == $m) | .id' "$d/rec.jsonl")
[ -n "$first" ] || fail "the start marker was not recorded"

# vm-power-only: power events only, renamed, vmname set, payload untouched.
s="$d/sink-vm-power-only.jsonl"
types=$(rec_ok "$s" | jq -r .attributes.type | sort -u | tr '\n' ' ')
case $types in
  "com.example.vm.poweredoff com.example.vm.poweredon "|"com.example.vm.poweredoff com.example.vm.poweredon com.example.vm.suspended ") ;;
  *) fail "vm-power-only sent types: $types" ;;
esac
rec_ok "$s" | jq -r '.attributes.vmname // ""' | contains '^$' && fail "vm-power-only: an event without vmname"
rec_ok "$s" | jq -r .attributes.vmname | contains '^DC0_H0_VM0$' || fail "vm-power-only: no vmname DC0_H0_VM0"
bad=$(jq -n -r --slurpfile r "$d/rec.jsonl" --slurpfile s <(rec_ok "$s") '
  ($r | map({key: .id, value: .data}) | from_entries) as $by
  | $s[] | select((.data | fromjson) != $by[.attributes.id]) | .attributes.id')
[ -z "$bad" ] || fail "vm-power-only changed the payload of events $bad"

# redact: all events, redacted XML, extensions.
s="$d/sink-redact.jsonl"
want=$(jq -r .id "$d/rec.jsonl" | sort -n | awk -v f="$first" '$1 >= f')
got=$(rec_ok "$s" | jq -r .attributes.id | sort -n | awk -v f="$first" '$1 >= f')
[ "$want" = "$got" ] || fail "redact did not send exactly the recorded events: $(diff <(echo "$want") <(echo "$got") | head -n 5)"
rec_ok "$s" | jq -r .data | contains "<userName>$VCSIM_USER</userName>" && fail "redact: a user name left the adapter"
rec_ok "$s" | jq -r .data | contains '<userName>REDACTED</userName>' || fail "redact: no redacted user name"
[ "$(rec_ok "$s" | jq -r .data | grep -c '<GeneralUserEvent>.*<message>REDACTED</message>')" -ge 20 ] ||
  fail "redact: GeneralUserEvent messages not redacted"
[ "$(rec_ok "$s" | jq -r '"\(.attributes.team)/\(.attributes.redacted)/\(.attributes.datacontenttype)"' | sort -u)" = \
  "platform/true/application/xml" ] || fail "redact: extensions or content type"
grep -q '"msg":"filter failed on event' "$d/run-redact.log" && fail "redact failed on an event: $(grep -m1 'filter failed' "$d/run-redact.log")"

# drop-session-noise: no session events; user events with the payload unchanged.
s="$d/sink-drop-session-noise.jsonl"
rec_ok "$s" | jq -r .attributes.type | contains 'SessionEvent' && fail "drop-session-noise sent a session event"
jq -r .type "$d/rec.jsonl" | contains 'UserLoginSessionEvent' || fail "no session event was recorded (the test proves nothing)"
[ "$(rec_count "$s" "$p ")" -eq 20 ] || fail "drop-session-noise: $(rec_count "$s" "$p ") of our 20 events"
bad=$(jq -n -r --slurpfile r "$d/rec.jsonl" --slurpfile s <(rec_ok "$s") '
  ($r | map({key: .id, value: .data}) | from_entries) as $by
  | $s[] | select((.data | fromjson) != $by[.attributes.id]) | .attributes.id')
[ -z "$bad" ] || fail "drop-session-noise changed the payload of events $bad"

# 3. `vsgate filter test` over the record.
for s in $samples; do
  out=$("$VSG_BIN" filter test --script "$d/$s/filter.lua" --record "$d/rec.jsonl" 2>&1) ||
    fail "filter test $s failed: $(tail -n 5 <<<"$out")"
  grep -q '^summary: .* 0 errors$' <<<"$out" || fail "filter test $s: $(grep summary <<<"$out")"
  grep -q '^time per event: mean' <<<"$out" || fail "filter test $s: no timing"
done
out=$("$VSG_BIN" filter test --script "$d/vm-power-only/filter.lua" --record "$d/rec.jsonl")
grep -q 'VmPoweredOnEvent: changed' <<<"$out" || fail "filter test: no changed power event"
grep -q '~ type: "com.vmware.vsphere.VmPoweredOnEvent.v0" -> "com.example.vm.poweredon"' <<<"$out" ||
  fail "filter test: no type diff"
grep -q 'UserLoginSessionEvent: dropped' <<<"$out" || fail "filter test: no dropped event"
echo 'function filter(e) return e.data.Nope.x end' >"$d/broken.lua"
expect_fail_with 'dry run on a sample VmPoweredOnEvent: broken.lua:1:' \
  "$VSG_BIN" filter test --script "$d/broken.lua" --record "$d/rec.jsonl"
# Live: the recent events of vcsim, read directly.
out=$("$VSG_BIN" filter test --script "$d/vm-power-only/filter.lua" --address "$VCSIM_URL" \
  --ca-file "$VSG_TEST_CA" --secret-path "$d/secret" --since 10m --count 500 2>&1) ||
  fail "filter test (live) failed: $(tail -n 5 <<<"$out")"
grep -q '^summary: [1-9][0-9]* events: .* 0 errors$' <<<"$out" || fail "filter test (live): $(tail -n 3 <<<"$out")"
grep -q 'VmPoweredOnEvent: changed' <<<"$out" || fail "filter test (live): no power event seen"
# `vsgate run` refuses to start with a filter that does not load.
expect_fail_with '--filter: dry run on a sample VmPoweredOnEvent: broken.lua:1:' \
  "$VSG_BIN" run --address "$VCSIM_URL" --ca-file "$VSG_TEST_CA" --secret-path "$d/secret" \
  --sink http://127.0.0.1:9/ --checkpoint "$d/cp-broken.json" --filter "$d/broken.lua"

for s in $samples; do
  e2e_stop "$(cat "$VSG_HARNESS_DIR/filter_sink-run-$s.proc.pid")"
  [ "$E2E_RC" -eq 0 ] || fail "run-$s exited with $E2E_RC after SIGTERM"
done
echo "filter_sink: ok (3 samples applied; power-only, redact (XML) and noise filters seen at the sinks; filter test over $(wc -l <"$d/rec.jsonl") recorded events)"

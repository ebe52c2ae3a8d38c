# Hot reload under load. `vsgate adapter` (the env of a VSphereSource, its
# filter in ConfigMap <n>-filter) streams N GeneralUserEvents, posted at a
# steady RATE to a private vcsim (inside vcsim's 1001-event window), while
# the filter ConfigMap is changed CHANGES times, every third change a broken
# version (a syntax error, an error while loading, no filter function, a
# filter that fails its dry run, an endless loop). Every version stamps the
# extension filterversion; good versions also read data (lazy path) and set
# extension msglen; broken ones would stamp "broken-<i>".
# At the sink, de-duplicated by event key:
#   - every posted event arrived exactly once (no loss, no duplicate
#     because of a swap);
#   - every event carries exactly one version, only good versions appear,
#     and the versions never go backwards in vCenter order;
#   - broken versions never ran, each was logged with its error
#     (chunk:line) and recorded as a Warning Event (FilterInvalid) on the
#     VSphereSource; the last good version is in use at the end;
# then the ConfigMap is deleted: the last good filter keeps running
# (Warning FilterMissing), and SIGTERM ends the adapter cleanly.
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
: "${VSG_POST_EVENTS:?}"
# contains [grep options] PATTERN: greps all of stdin after reading it (an
# early exit would SIGPIPE the writer, which pipefail counts as failure).
contains() { local in; in=$(cat); grep -q "$@" <<<"$in"; }
e2e_begin filter_reload
d=$E2E_DIR
N=${FILTER_RELOAD_N:-10000} RATE=${FILTER_RELOAD_RATE:-400} CHANGES=20
n=src p="reload-$RANDOM$RANDOM"
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"

e2e_vcsim vc
vc_url=$E2E_VC_URL
e2e_sink sink
sink_url=$E2E_SINK_URL rec=$E2E_SINK_REC
ns=$(new_ns filter-reload)
k -n "$ns" create configmap "$n-configmap" >/dev/null

good() { # VERSION: a filter that stamps it and reads data
  cat <<EOF
local V = "$1"
function filter(e)
  e.extensions.filterversion = V
  local m = e.data.Message
  if type(m) == "string" then e.extensions.msglen = tostring(#m) end
  return e
end
EOF
}
broken() { # I: a version that must be rejected
  local stamp="e.extensions.filterversion = \"broken-$1\""
  case $(( $1 % 5 )) in
    0) printf 'function filter(e) %s return e\n' "$stamp" ;;                       # syntax
    1) printf 'error("refusing to load")\nfunction filter(e) %s return e end\n' "$stamp" ;;
    2) printf 'function filtre(e) %s return e end\n' "$stamp" ;;                   # no filter()
    3) printf 'function filter(e) %s return e.data.Nope.Name end\n' "$stamp" ;;    # dry run fails
    4) printf 'function filter(e) %s while true do end end\n' "$stamp" ;;          # endless loop
  esac
}
set_filter() { # FILE: create or replace the filter ConfigMap
  k -n "$ns" create configmap "$n-filter" --from-file=filter.lua="$1" --dry-run=client -o yaml |
    k -n "$ns" apply -f - >/dev/null
}

good 1 >"$d/v.lua"
set_filter "$d/v.lua"
e2e_bg adapter "$d/adapter.log" env -i PATH="$PATH" KUBECONFIG="$KUBECONFIG" \
  NAMESPACE="$ns" NAME="$n" \
  VSPHERE_KVSTORE_CONFIGMAP="$n-configmap" \
  VSPHERE_CHECKPOINT_CONFIG='{"maxAge":"5m0s","period":"1s"}' \
  VSPHERE_PAYLOAD_ENCODING=application/json VSPHERE_PAGE_SIZE=1000 \
  VSPHERE_FILTER_CONFIGMAP="$n-filter" VSPHERE_FILTER_ON_ERROR=deliver \
  K_SINK="$sink_url" VC_URL="$vc_url" VC_SECRET_PATH="$d/secret" \
  VSPHERE_CA_CERTS="$(cat "$VSG_TEST_CA")" \
  "$VSG_BIN" adapter
adapter=$E2E_PID
up() { grep -q "event collector created" "$d/adapter.log"; }
retry 30 up || fail "adapter did not start: $(tail -n 3 "$d/adapter.log")"

e2e_bg producer "$d/producer.log" "$VSG_POST_EVENTS" --url "$vc_url" --ca-file "$VSG_TEST_CA" \
  --user "$VCSIM_USER" --password "$VCSIM_PASSWORD" --count "$N" --rate "$RATE" --message "$p"
producer=$E2E_PID

# CHANGES changes spread over the posting time (on a fixed schedule, so
# the time kubectl takes does not push them past the load); every third
# is broken.
period_ms=$(( N * 1000 / RATE / (CHANGES + 2) ))
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }
t0=$(now_ms)
v=1 nbroken=0 good_versions=1
for i in $(seq 1 "$CHANGES"); do
  wait_ms=$(( t0 + i * period_ms - $(now_ms) ))
  (( wait_ms > 0 )) && sleep "$((wait_ms / 1000)).$(printf '%03d' $((wait_ms % 1000)))"
  if (( i % 3 == 0 )); then
    broken "$i" >"$d/v.lua"
    nbroken=$((nbroken + 1))
  else
    v=$((v + 1))
    good "$v" >"$d/v.lua"
    good_versions=$((good_versions + 1))
  fi
  set_filter "$d/v.lua"
done
last=$v
producer_done() { ! _e2e_alive "$producer"; }
wait_for 120 "the producer to finish" producer_done
e2e_stop "$producer"
[ "$E2E_RC" -eq 0 ] || fail "producer failed: $(cat "$d/producer.log")"
grep -q "posted $N events" "$d/producer.log" || fail "producer: $(cat "$d/producer.log")"
wait_for 120 "the last event at the sink" has_msg "$rec" "$p $((N - 1))"

# Exactly once, each with one good version, never going backwards.
rec_ok "$rec" | jq -r --arg p "$p " '(.data | fromjson? // {}) as $d
  | select(($d.Message // "") | startswith($p))
  | "\(.attributes.id) \(.attributes.filterversion // "none") \(.attributes.msglen // "none") \($d.Message)"' \
  >"$d/got.txt"
total=$(wc -l <"$d/got.txt")
keys=$(cut -d' ' -f1 "$d/got.txt" | sort -u | wc -l)
msgs=$(cut -d' ' -f4- "$d/got.txt" | sort -u | wc -l)
[ "$total" -eq "$N" ] || fail "$total events of ours at the sink, want $N ($keys distinct keys, $msgs distinct messages)"
{ [ "$keys" -eq "$N" ] && [ "$msgs" -eq "$N" ]; } || fail "duplicates or losses: $keys keys, $msgs messages of $N"
bad=$(awk '$2 !~ /^[0-9]+$/' "$d/got.txt" | sed -n 1,3p)
[ -z "$bad" ] || fail "events without a good version: $bad"
bad=$(awk -v m="$last" '$2 + 0 < 1 || $2 + 0 > m' "$d/got.txt" | sed -n 1,3p)
[ -z "$bad" ] || fail "events with an unknown version: $bad"
bad=$(awk '{ split($0, a, " "); m = substr($0, index($0, a[4])); if ($3 != length(m)) print }' "$d/got.txt" | sed -n 1,3p)
[ -z "$bad" ] || fail "msglen does not match the message (data read wrong): $bad"
back=$(sort -n -k1,1 "$d/got.txt" | awk 'prev != "" && $2 + 0 < prev + 0 { print; n++ } { prev = $2 } END { exit n > 0 }' | sed -n 1,3p) ||
  fail "versions went backwards in vCenter order: $back"
seen=$(cut -d' ' -f2 "$d/got.txt" | sort -un | wc -l)
[ "$seen" -ge 4 ] || fail "only $seen filter versions were used while events streamed (want >= 4)"

# The rejected versions: logged with their error, reported as Events,
# never run; the last good one is in use.
rejected=$(grep -c '"msg":"filter rejected' "$d/adapter.log" || true)
[ "$rejected" -eq "$nbroken" ] || fail "$rejected versions rejected in the log, want $nbroken"
grep -Eq 'filter rejected.*filter.lua:[0-9]+: .end. expected' "$d/adapter.log" || fail "no syntax error with chunk:line logged"
grep -q 'filter rejected.*instruction budget exceeded' "$d/adapter.log" || fail "the endless loop was not stopped by the budget"
grep -q 'broken-' "$rec" && fail "a broken version ran"
grep -q '"msg":"filter failed on event' "$d/adapter.log" && fail "a filter failed on an event: $(grep -m1 'filter failed' "$d/adapter.log")"
events() { k -n "$ns" get events -o json | jq -r --arg n "$n" '.items[]
  | select(.involvedObject.kind == "VSphereSource" and .involvedObject.name == $n
           and .involvedObject.apiVersion == "sources.tanzu.vmware.com/v1alpha1")
  | "\(.type) \(.reason) \(.message)"'; }
warn=$(events | grep -c '^Warning FilterInvalid ' || true)
[ "$warn" -eq "$nbroken" ] || fail "$warn Warning FilterInvalid events, want $nbroken: $(events | head -n 5)"
events | contains -E '^Warning FilterInvalid .*filter.lua:[0-9]+:' || fail "no FilterInvalid event names filter.lua:line"
normal=$(events | grep -c '^Normal FilterUpdated ' || true)
[ "$normal" -eq "$good_versions" ] || fail "$normal FilterUpdated events, want $good_versions"
lastv=$(tail -n 1 "$d/got.txt" | cut -d' ' -f2)
# The final change was good: new events after it carry it.
post_events "$vc_url" 5 "$p-after"
wait_for 30 "events after the last change" has_msg "$rec" "$p-after 4"
after=$(rec_ok "$rec" | jq -r --arg p "$p-after " '(.data | fromjson? // {}) as $d
  | select(($d.Message // "") | startswith($p)) | .attributes.filterversion' | sort -u)
[ "$after" = "$last" ] || fail "events after the last change carry version '$after', want $last (last seen during the load: $lastv)"

# Deleting the ConfigMap keeps the last good filter (reported once).
k -n "$ns" delete configmap "$n-filter" >/dev/null
wait_for 30 "the FilterMissing report" grep -q 'filter: ConfigMap .* does not exist; the last good filter keeps running' "$d/adapter.log"
post_events "$vc_url" 3 "$p-deleted"
wait_for 30 "events after the deletion" has_msg "$rec" "$p-deleted 2"
v_del=$(rec_ok "$rec" | jq -r --arg p "$p-deleted " '(.data | fromjson? // {}) as $d
  | select(($d.Message // "") | startswith($p)) | .attributes.filterversion' | sort -u)
[ "$v_del" = "$last" ] || fail "after the deletion events carry version '$v_del', want $last"
has_missing() { events | contains '^Warning FilterMissing '; }
wait_for 30 "a FilterMissing event" has_missing

e2e_stop "$adapter"
[ "$E2E_RC" -eq 0 ] || fail "adapter exited with $E2E_RC after SIGTERM (want 0)"
grep -q '"msg":"filter stopped"' "$d/adapter.log" || fail "no filter summary at shutdown"
grep '"level":"error"' "$d/adapter.log" | grep -v 'filter rejected' | head -n 3 | contains . &&
  fail "the adapter logged an unexpected error: $(grep '"level":"error"' "$d/adapter.log" | grep -v 'filter rejected' | head -n 3)"
echo "filter_reload: ok ($N events at $RATE/s, $CHANGES changes ($nbroken broken, all rejected and reported), $seen versions used under load, exactly once, monotonic)"

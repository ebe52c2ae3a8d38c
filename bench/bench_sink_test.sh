#!/usr/bin/env bash
# ctest vsg-bench-sink: bench-sink counts POSTs, distinct ce-ids and
# duplicates (a redelivered event is not a second event).
#   bench_sink_test.sh PATH-TO-bench-sink
set -euo pipefail
sink=$1
tmp=$(mktemp -d)
pid=
cleanup() { [ -z "$pid" ] || kill "$pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$sink" --port-file "$tmp/port" --record "$tmp/rec" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || fail "bench-sink did not start: $(cat "$tmp/err")"
url=http://127.0.0.1:$(cat "$tmp/port")

post() { # id type ('' = no ce-id header)
  local h=()
  [ -z "$1" ] || h=(-H "ce-id: $1")
  curl -fsS -o /dev/null -X POST "${h[@]}" -H "ce-specversion: 1.0" -H "ce-source: /t" \
    -H "ce-type: com.vmware.vsphere.$2.v0" -H 'Content-Type: application/json' --data '{}' "$url/"
}
post 1 GeneralUserEvent
post 2 VmPoweredOnEvent
post 1 GeneralUserEvent   # redelivery of 1
post 3 GeneralUserEvent
post 2 VmPoweredOnEvent   # redelivery of 2
post '' GeneralUserEvent  # no id: neither distinct nor a duplicate

got=$(curl -fsS "$url/count")
# posts users(distinct GeneralUserEvent ids) distinct dups
[ "$got" = "6 2 3 2" ] || fail "/count: got '$got', want '6 2 3 2'"
got=$(curl -fsS --max-time 5 "$url/wait?users=2&ms=3000")
[ "$got" = "6 2 3 2" ] || fail "/wait: got '$got', want '6 2 3 2'"
[ "$(wc -l <"$tmp/rec")" -eq 6 ] || fail "record has $(wc -l <"$tmp/rec") lines, want 6"
kill "$pid"; wait "$pid" || fail "bench-sink exited $? on SIGTERM"
pid=
grep -q '^bench-sink: 6 POSTs, 3 distinct ids (2 GeneralUserEvents), 2 duplicates$' "$tmp/err" ||
  fail "summary line: $(cat "$tmp/err")"
echo "bench-sink: 6 POSTs -> 3 distinct ids, 2 duplicates: ok"

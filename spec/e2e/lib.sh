# spec/e2e/lib.sh - helpers for e2e test scripts (sourced after the harness env).
# Provides: k (kubectl with the admin kubeconfig), fail, expect_contains,
# expect_fail_with, new_ns, retry; for tests that run processes (adapters,
# sinks, private vcsims, proxies): e2e_begin, e2e_bg, e2e_bg_group, e2e_stop,
# e2e_stop_group, e2e_sink, e2e_vcsim, wait_for, post_events, and queries of
# `vsgate sink` records: rec_ok, rec_msgs, rec_count, has_msg.
# shellcheck disable=SC2034  # a library: its variables (E2E_*) are for the tests that source it

k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_contains HAYSTACK NEEDLE [WHAT]
expect_contains() {
  case "$1" in
    *"$2"*) ;;
    *) printf 'FAIL: %s: expected to find %q in:\n%s\n' "${3:-output}" "$2" "$1" >&2; exit 1 ;;
  esac
}

# expect_eq GOT WANT [WHAT]
expect_eq() {
  [ "$1" = "$2" ] || { printf 'FAIL: %s: expected %q, got %q\n' "${3:-value}" "$2" "$1" >&2; exit 1; }
}

# expect_fail_with NEEDLE CMD...: CMD must fail and its output mention NEEDLE.
expect_fail_with() {
  local needle=$1 out; shift
  if out=$("$@" 2>&1); then
    printf 'FAIL: expected failure of: %s\nbut it succeeded:\n%s\n' "$*" "$out" >&2; exit 1
  fi
  expect_contains "$out" "$needle" "error of: $*"
}

# new_ns PREFIX: creates a fresh namespace (namespaces never finish deleting
# without a controller-manager, so every test takes its own).
# After e2e_begin, the namespace is recorded: at exit its VSphereSources
# and VSphereBindings are deleted (a later test's cluster-wide controller
# would otherwise reconcile them, and start informers on their sink and
# subject kinds that the RBAC of this test granted but the next may not).
new_ns() {
  local ns="$1-$RANDOM$RANDOM"
  k create namespace "$ns" >/dev/null
  [ -z "${E2E_DIR:-}" ] || echo "$ns" >>"$E2E_DIR/namespaces"
  echo "$ns"
}

# retry SECONDS CMD...: runs CMD until it succeeds or time is up.
retry() {
  local end=$(( SECONDS + $1 )); shift
  until "$@"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.3
  done
}

# ---- Processes and scratch space of one test (adapter_*.sh) ---------------
# e2e_begin NAME: a scratch folder $E2E_DIR (kept, and named, when the test
# fails or E2E_KEEP is set) and an EXIT trap that stops every process started
# with e2e_bg, newest first.
# e2e_bg TAG LOG CMD...: starts CMD in the background (stdout+stderr to LOG),
# sets E2E_PID; vsgate/vcsim processes are also recorded in
# $VSG_HARNESS_DIR/<test>-<TAG>.proc.pid so spec/harness/down stops them even
# if this script dies. e2e_stop PID [SIGNAL]: signal (default TERM), wait up to
# 10 s, then KILL; sets E2E_RC to the exit status. e2e_sink, e2e_vcsim: below.
_e2e_pids=() _e2e_name="" _e2e_exit=() _e2e_after=()
# e2e_on_exit CMD...: runs CMD (eval'd, best effort, quiet) when the test
# ends, pass or fail, newest first and while its processes (controllers,
# adapters) still run: for what a test created in the shared harness.
# e2e_after_exit CMD...: the same, once its processes have stopped.
# Explicit EXIT traps that end in _e2e_cleanup keep both.
e2e_on_exit() { _e2e_exit+=("$*"); }
e2e_after_exit() { _e2e_after+=("$*"); }
e2e_begin() {
  _e2e_name=$1
  E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vsg-e2e-$1.XXXXXX")
  # The ports this test hands out (spec/harness/lib.sh's free_port), so no
  # two of its listeners get the same one.
  export VSG_PORTS_FILE=$E2E_DIR/ports
  trap '_e2e_cleanup $?' EXIT
}
_e2e_cleanup() {
  local rc=$1 p
  trap - EXIT
  local i
  for ((i = ${#_e2e_exit[@]} - 1; i >= 0; i--)); do
    eval "${_e2e_exit[$i]}" >/dev/null 2>&1 || true
  done
  # The test's sources and bindings go while its controller may still
  # finalize them; finalizers left once it stopped are dropped below.
  local nss=()
  [ -z "${E2E_DIR:-}" ] || [ ! -f "$E2E_DIR/namespaces" ] || mapfile -t nss <"$E2E_DIR/namespaces"
  for p in "${nss[@]}"; do
    k -n "$p" delete vspherebindings,vspheresources --all --ignore-not-found --wait=false >/dev/null 2>&1 || true
  done
  # Newest first: adapters stop (and log out) before the vcsim they use.
  for ((i = ${#_e2e_pids[@]} - 1; i >= 0; i--)); do
    p=${_e2e_pids[$i]}
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 50); do _e2e_alive "$p" || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  for p in "${_e2e_groups[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
  for p in "${nss[@]}"; do
    for i in $(k -n "$p" get vspherebindings -o name 2>/dev/null); do
      k -n "$p" patch "$i" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
    done
  done
  for ((i = ${#_e2e_after[@]} - 1; i >= 0; i--)); do
    eval "${_e2e_after[$i]}" >/dev/null 2>&1 || true
  done
  rm -f "$VSG_HARNESS_DIR/$_e2e_name"-*.proc.pid
  if [ "$rc" -ne 0 ] || [ -n "${E2E_KEEP:-}" ]; then
    echo "e2e: $_e2e_name: its logs are in $E2E_DIR" >&2
  else
    rm -rf "$E2E_DIR"
  fi
  exit "$rc"
}
# A child that exited but was not waited for is a zombie: not alive.
_e2e_alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $st != Z* ]]
}
e2e_bg() {
  local tag=$1 log=$2; shift 2
  "$@" >"$log" 2>&1 </dev/null &
  E2E_PID=$!
  _e2e_pids+=("$E2E_PID")
  echo "$E2E_PID" >"$VSG_HARNESS_DIR/$_e2e_name-$tag.proc.pid"
}
# e2e_bg_group TAG LOG CMD...: like e2e_bg, but CMD leads its own process
# group (setsid), and e2e_stop_group / the EXIT trap signal the whole group
# (socat's forked children hold the proxied connections).
_e2e_groups=()
e2e_bg_group() {
  local tag=$1 log=$2; shift 2
  e2e_bg "$tag" "$log" setsid "$@"
  local pg; pg=$(ps -o pgid= -p "$E2E_PID" | tr -d ' ')
  [ "$pg" = "$E2E_PID" ] || fail "setsid did not make $E2E_PID a group leader (pgid $pg)"
  _e2e_groups+=("$E2E_PID")
}
e2e_stop_group() {
  local g keep=()
  kill -TERM -- "-$1" 2>/dev/null || true
  e2e_stop "$1"
  kill -KILL -- "-$1" 2>/dev/null || true
  for g in "${_e2e_groups[@]}"; do [ "$g" = "$1" ] || keep+=("$g"); done
  _e2e_groups=("${keep[@]}")
}
e2e_stop() {
  local pid=$1 sig=${2:-TERM} i p keep=()
  E2E_RC=0
  kill "-$sig" "$pid" 2>/dev/null || true
  for i in $(seq 100); do _e2e_alive "$pid" || break; sleep 0.1; done
  _e2e_alive "$pid" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || E2E_RC=$?
  for p in "${_e2e_pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  _e2e_pids=("${keep[@]}")
}

# e2e_sink TAG [vsgate sink options...]: a `vsgate sink` on a free port
# recording to $E2E_DIR/TAG.jsonl; sets E2E_SINK_URL, E2E_SINK_REC, E2E_PID.
e2e_sink() {
  local tag=$1; shift
  rm -f "$E2E_DIR/$tag.port"
  e2e_bg "$tag" "$E2E_DIR/$tag.log" "$VSG_BIN" sink --port "${E2E_SINK_PORT:-0}" \
    --port-file "$E2E_DIR/$tag.port" --record "$E2E_DIR/$tag.jsonl" "$@"
  retry 20 test -s "$E2E_DIR/$tag.port" || fail "sink $tag did not start: $(cat "$E2E_DIR/$tag.log")"
  E2E_SINK_URL="http://127.0.0.1:$(cat "$E2E_DIR/$tag.port")/"
  E2E_SINK_REC=$E2E_DIR/$tag.jsonl
  touch "$E2E_SINK_REC"
}

# e2e_vcsim TAG [vcsim flags...]: a private vcsim (TLS from the harness CA) on
# a free port (or on $E2E_VCSIM_PORT: a restart), for tests that leak
# collectors or sessions on purpose, or need `-username`/`-password` (vcsim
# takes any login without them); sets E2E_VC_URL, E2E_VC_PORT, E2E_GOVC_URL
# (user:pass, unless E2E_VCSIM_LOGIN gives another user:password), E2E_PID.
e2e_vcsim() {
  local tag=$1 port
  shift
  port=${E2E_VCSIM_PORT:-$(_e2e_free_port)}
  : >"$E2E_DIR/$tag.env"
  e2e_bg "$tag" "$E2E_DIR/$tag.log" env TZ=UTC "$VSG_PEER_BIN/vcsim" -l "127.0.0.1:$port" \
    -tlscert "$VSG_HARNESS_DIR/pki/serving.crt" -tlskey "$VSG_HARNESS_DIR/pki/serving.key" \
    -E "$E2E_DIR/$tag.env" "$@"
  E2E_VC_PORT=$port
  E2E_VC_URL="https://127.0.0.1:$port/sdk"
  E2E_GOVC_URL="https://${E2E_VCSIM_LOGIN:-user:pass}@127.0.0.1:$port/sdk"
  local i
  for i in $(seq 150); do
    GOVC_URL=$E2E_GOVC_URL "$GOVC" about >/dev/null 2>&1 && return 0
    _e2e_alive "$E2E_PID" || break
    sleep 0.2
  done
  fail "private vcsim $tag did not start: $(tail -n 3 "$E2E_DIR/$tag.log")"
}
_e2e_free_port() (
  # shellcheck source=spec/harness/lib.sh
  . "$VSG_SOURCE_DIR/spec/harness/lib.sh"
  free_port
)

# wait_for SECONDS WHAT CMD...: retry, or fail naming WHAT.
wait_for() {
  local secs=$1 what=$2; shift 2
  retry "$secs" "$@" || fail "timed out after ${secs}s waiting for $what"
}

# post_events URL COUNT MESSAGE [vsg-post-events options]: GeneralUserEvents
# "MESSAGE 0" .. "MESSAGE COUNT-1" (vCenter creds: the harness user).
post_events() {
  local url=$1 n=$2 msg=$3; shift 3
  "$VSG_POST_EVENTS" --url "$url" --ca-file "$VSG_TEST_CA" --user "$VCSIM_USER" \
    --password "$VCSIM_PASSWORD" --count "$n" --message "$msg" "$@" >/dev/null ||
    fail "vsg-post-events failed ($msg)"
}

# Sink record queries (JSON payloads). rec_ok FILE: accepted (2xx) records.
# rec_msgs FILE PREFIX: "<id> <message>" of accepted GeneralUserEvents whose
# message starts with PREFIX, in arrival order. rec_count FILE PREFIX.
# (Lines are parsed one by one: a line the sink is still writing is skipped.)
rec_ok() { jq -cR 'fromjson? | select(.status >= 200 and .status < 300)' "$1"; }
rec_msgs() {
  rec_ok "$1" | jq -r --arg p "$2" '(.data | fromjson? // {}) as $d
    | select(($d.Message // "") | startswith($p)) | "\(.attributes.id) \($d.Message)"'
}
rec_count() { rec_msgs "$1" "$2" | wc -l; }
# has_msg FILE MESSAGE: an accepted event with exactly this message arrived.
has_msg() {
  [ "$(rec_ok "$1" | jq -r --arg m "$2" '(.data | fromjson? // {}) | select(.Message == $m) | 1' | wc -l)" -gt 0 ]
}

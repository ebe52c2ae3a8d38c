# spec/e2e/lib.sh - helpers for e2e test scripts (sourced after the harness env).
# Provides: k (kubectl with the admin kubeconfig), fail, expect_contains,
# expect_fail_with, new_ns, retry.

k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_contains HAYSTACK NEEDLE [WHAT]
expect_contains() {
  case "$1" in
    *"$2"*) ;;
    *) printf 'FAIL: %s: expected to find %q in:\n%s\n' "${3:-output}" "$2" "$1" >&2; exit 1 ;;
  esac
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
new_ns() {
  local ns="$1-$RANDOM$RANDOM"
  k create namespace "$ns" >/dev/null
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

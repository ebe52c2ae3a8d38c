# bench/lib.sh - what the benchmark scripts share: the repository root, the
# Release build they run (BENCH_BUILD, built if missing, refused when it is
# not Release or has sanitizers), and their message helpers.
#
#   . "$(dirname "$0")/lib.sh"
#   bench_release_build vsgate admission-load   # targets that must exist
#
# Sets: root, build, vsgate.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BENCH_BUILD:-$root/build-bench}
case $build in /*) ;; *) build=$root/$build ;; esac
vsgate=$build/core/cmd/vsgate

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

# bench_release_build TARGET...: builds the targets in $build (Release, no
# sanitizers) when one of their binaries is missing; dies when $build is
# not such a build.
bench_release_build() {
  local t missing=0
  for t in "$@"; do
    [ -n "$(find "$build" -type f -name "$t" -perm -u+x 2>/dev/null | head -n 1)" ] || missing=1
  done
  if [ "$missing" = 1 ]; then
    note "building $build (Release)"
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DVSG_SANITIZE=OFF -DVSG_E2E=OFF >/dev/null
    cmake --build "$build" -j 2 --target "$@" >/dev/null
  fi
  grep -q '^CMAKE_BUILD_TYPE:STRING=Release$' "$build/CMakeCache.txt" ||
    die "$build is not a Release build (cmake -DCMAKE_BUILD_TYPE=Release)"
  if grep -q '^VSG_SANITIZE:BOOL=ON$' "$build/CMakeCache.txt" || ldd "$vsgate" | grep 'libasan\|libubsan' >/dev/null; then
    die "$build has sanitizers: use a build without VSG_SANITIZE"
  fi
}

# bench_kube_peers: a private etcd + kube-apiserver in $tmp/peers (stopped
# by the caller's cleanup through spec/harness/down), their env exported,
# the e2e helpers loaded (k, ctl_*) and the CRDs and controller RBAC of
# deploy/ applied (ctl_setup). Needs $tmp.
bench_kube_peers() {
  # shellcheck disable=SC2154  # tmp: the sourcing script's scratch folder
  note "starting a private etcd + kube-apiserver in $tmp/peers"
  "$root/spec/harness/up" --no-vcsim --watch-pid $$ "$tmp/peers" >"$tmp/up.log" 2>&1 ||
    die "harness up failed: $(tail -n 5 "$tmp/up.log")"
  set -a
  # shellcheck source=/dev/null  # written at run time
  . "$tmp/peers/env"
  set +a
  export VSG_SOURCE_DIR=$root E2E_DIR=$tmp
  # shellcheck source=spec/e2e/lib.sh
  . "$root/spec/e2e/lib.sh"
  # shellcheck source=spec/e2e/controller_lib.sh
  . "$root/spec/e2e/controller_lib.sh"
  ctl_setup
}

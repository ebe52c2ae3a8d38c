#!/usr/bin/env bash
# Builds the event-payload oracle (main.go, against the govmomi version the Go
# adapter vendored) into the peer cache, keyed by go.mod + go.sum + main.go,
# and prints the binary's path (last line). Reuses a previous build.
#
#   VSGATE_PEER_CACHE   cache root (default ~/.cache/vsgate-peers)
#
# Needs Go (GOTOOLCHAIN=local) and the govmomi module in the module cache or
# reachable through GOPROXY. Never uses -mod=mod: go.sum is committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${VSGATE_PEER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vsgate-peers}
command -v go >/dev/null 2>&1 || { echo "oracle/build.sh: go is not installed" >&2; exit 1; }
key=$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-16)
dir=$root/oracle-$key
if [ -x "$dir/oracle" ]; then echo "$dir/oracle"; exit 0; fi
mkdir -p "$dir"
log=$dir/build.log
if ! (cd "$here" && GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly \
        go build -trimpath -o "$dir/oracle.tmp" .) >"$log" 2>&1; then
  echo "oracle/build.sh: build FAILED; log: $log" >&2
  exit 1
fi
mv "$dir/oracle.tmp" "$dir/oracle"
echo "$dir/oracle"

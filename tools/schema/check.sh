#!/usr/bin/env bash
# Fails when core/vsphere/schema.c is not what gen_schema.py makes of the
# pinned govmomi's vim25/types; exits 77 (ctest SKIP) when that source or
# python3 is not on this machine. Source lookup: $VSG_GOVMOMI_TYPES (the
# vim25/types dir), else the Go module cache (GOMODCACHE, GOPATH, ~/go).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ver=$(sed -n 's/^GOVMOMI_VERSION = "\(.*\)"$/\1/p' "$here/gen_schema.py")
command -v python3 >/dev/null 2>&1 || { echo "check.sh: no python3; skipping" >&2; exit 77; }
dir=${VSG_GOVMOMI_TYPES:-}
if [ -z "$dir" ]; then
  cache=${GOMODCACHE:-}
  if [ -z "$cache" ] && command -v go >/dev/null 2>&1; then cache=$(go env GOMODCACHE 2>/dev/null || true); fi
  [ -n "$cache" ] || cache=${GOPATH:-$HOME/go}/pkg/mod
  dir=$cache/github.com/vmware/govmomi@$ver/vim25/types
fi
if [ ! -f "$dir/types.go" ]; then
  echo "check.sh: $dir/types.go not found; skipping (see tools/schema/README.md)" >&2
  exit 77
fi
python3 "$here/gen_schema.py" "$dir" -o "$repo/core/vsphere/schema.c" --check
echo "check.sh: core/vsphere/schema.c is up to date with govmomi@$ver"

#!/usr/bin/env bash
# Fails when core/vsphere/schema.c is not what gen_schema.py makes of the
# pinned govmomi's vim25/types. Source: $VSG_GOVMOMI_TYPES (the vim25/types
# dir) when set; else the module itself, fetched into the Go module cache
# through tools/oracle's module (same govmomi version, checked against its
# committed go.sum; a no-op when already there), so the check needs no
# other test to have run first. Exits 77 (ctest SKIP) only without python3
# or Go, which scripts/install-deps requires.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
ver=$(sed -n 's/^GOVMOMI_VERSION = "\(.*\)"$/\1/p' "$here/gen_schema.py")
command -v python3 >/dev/null 2>&1 || { echo "check.sh: no python3; skipping" >&2; exit 77; }
dir=${VSG_GOVMOMI_TYPES:-}
if [ -z "$dir" ]; then
  command -v go >/dev/null 2>&1 || { echo "check.sh: go not installed; skipping" >&2; exit 77; }
  oracle=$repo/tools/oracle
  have=$(sed -n 's/^require github.com\/vmware\/govmomi \(v[^ ]*\)$/\1/p' "$oracle/go.mod")
  if [ "$have" != "$ver" ]; then
    echo "check.sh: tools/oracle/go.mod has govmomi $have, gen_schema.py wants $ver" >&2
    exit 1
  fi
  log=$(mktemp /tmp/vsg-schema.XXXXXX.log)
  if ! mod=$(cd "$oracle" && GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
               go mod download -json github.com/vmware/govmomi 2>"$log"); then
    echo "check.sh: go mod download github.com/vmware/govmomi@$ver FAILED:" >&2
    cat "$log" >&2; printf '%s\n' "$mod" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  dir=$(printf '%s' "$mod" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')/vim25/types
fi
if [ ! -f "$dir/types.go" ]; then
  echo "check.sh: $dir/types.go not found" >&2
  exit 1
fi
python3 "$here/gen_schema.py" "$dir" -o "$repo/core/vsphere/schema.c" --check
echo "check.sh: core/vsphere/schema.c is up to date with govmomi@$ver"

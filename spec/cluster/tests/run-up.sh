#!/usr/bin/env bash
# Fixture setup for ctest: a fresh cluster in $1, torn down when ctest's pid exits.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/down" "$1" >/dev/null 2>&1 || true
exec "$here/up" --watch-pid "$PPID" "$1"

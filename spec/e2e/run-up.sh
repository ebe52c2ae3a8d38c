#!/usr/bin/env bash
# Fixture setup for ctest: start the harness, watched by ctest's pid.
# $1 = spec/harness folder, $2 = harness dir.
set -euo pipefail
"$1/down" "$2" >/dev/null 2>&1 || true
exec "$1/up" --watch-pid "$PPID" "$2"

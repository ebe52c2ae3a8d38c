#!/usr/bin/env bash
# Runs one e2e test script with the harness env loaded and spec/e2e/lib.sh
# available. A failing test marks the harness so its logs are kept.
set -uo pipefail
[ -f "$VSG_HARNESS_DIR/env" ] || { echo "e2e: harness is not up ($VSG_HARNESS_DIR/env missing)" >&2; exit 1; }
# shellcheck source=/dev/null  # written at run time
. "$VSG_HARNESS_DIR/env"
E2E_LIB="$(dirname "$0")/lib.sh"
export E2E_LIB
bash -euo pipefail "$1"
rc=$?
if [ $rc -ne 0 ]; then
  touch "$VSG_HARNESS_DIR/failed"
  echo "e2e: $(basename "$1") failed (rc=$rc); peer logs are kept in $VSG_HARNESS_DIR" >&2
fi
exit $rc

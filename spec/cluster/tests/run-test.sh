#!/usr/bin/env bash
# Runs one cluster test script with the cluster's env loaded (spec/cluster/up wrote it, images
# included) and tests/lib.sh available. A failing test marks the cluster so its logs are kept.
set -uo pipefail
[ -f "$VSG_CLUSTER_DIR/env" ] || { echo "cluster: not up ($VSG_CLUSTER_DIR/env missing)" >&2; exit 1; }
# shellcheck source=/dev/null  # written at run time
. "$VSG_CLUSTER_DIR/env"
T_LIB="$(cd "$(dirname "$0")" && pwd)/lib.sh"
export T_LIB
bash -euo pipefail "$1"
rc=$?
if [ $rc -ne 0 ]; then
  touch "$VSG_CLUSTER_DIR/failed"
  echo "cluster: $(basename "$1") failed (rc=$rc); the cluster's logs are kept in $VSG_CLUSTER_DIR" >&2
fi
exit $rc

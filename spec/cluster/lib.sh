# spec/cluster/lib.sh - helpers for the real-cluster harness (sourced by
# spec/cluster/{up,down,exec} and by tests).
#
# For tests, after `spec/cluster/up DIR` (or with VSG_CLUSTER_DIR set, or DIR/env
# sourced):
#   cluster_use DIR          load DIR/env into this shell
#   in_cluster CMD...        run CMD in the cluster's network + mount namespace
#   kc ARGS...               kubectl 1.33 with the admin kubeconfig, in the netns
#   govc_ ARGS...            govc against the cluster's vcsim, in the netns
#   wait_for SECONDS DESC CMD...   retry CMD (every 0.5 s) until it succeeds
#   wait_pod_ready NS SELECTOR [SECONDS]
#   wait_job_complete NS JOB [SECONDS]
# Uses: nsenter, kubectl 1.33.
# shellcheck disable=SC2034  # a library: its variables are for the scripts that source it

_vsg_cluster_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=spec/harness/lib.sh
. "$_vsg_cluster_lib/../harness/lib.sh"   # die, wait_until, kubectl_bin, free_port

# Fixed addresses. They exist only inside the cluster's own network namespace.
VSG_NODE_IP_DEFAULT=10.99.0.1
VSG_NODE_NAME_DEFAULT=vsgate-node

cdie() { echo "cluster: $*" >&2; exit 1; }

cluster_use() { # DIR
  [ -r "$1/env" ] || cdie "$1/env not found (is the cluster up? spec/cluster/up $1)"
  # shellcheck disable=SC1091
  # shellcheck source=/dev/null  # written at run time
  . "$1/env"
}

# The holder process keeps the namespaces; true when it is alive and still the
# process that up started (its network namespace is the recorded one).
holder_alive() { # PID NETNS_INODE
  local pid=$1 ino=$2
  [ -n "$pid" ] && [ -e "/proc/$pid/ns/net" ] || return 1
  [ "$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null)" = "$ino" ]
}

in_cluster() { # CMD...
  [ -n "${VSG_CLUSTER_DIR:-}" ] || cdie "VSG_CLUSTER_DIR is not set (source DIR/env or call cluster_use DIR)"
  "$_vsg_cluster_lib/exec" "$VSG_CLUSTER_DIR" "$@"
}

kc() { in_cluster "${VSG_KUBECTL:-kubectl}" "$@"; }
# shellcheck disable=SC2153  # VSG_CLUSTER_BIN comes from the cluster's env file
govc_() { in_cluster "$VSG_CLUSTER_BIN/govc" "$@"; }

wait_for() { # SECONDS DESCRIPTION CMD...
  local secs=$1 what=$2; shift 2
  local end=$(( SECONDS + secs ))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || { echo "cluster: timed out after ${secs}s waiting for $what" >&2; return 1; }
    sleep 0.5
  done
}

wait_pod_ready() { # NS SELECTOR [SECONDS]
  kc -n "$1" wait --for=condition=Ready pod -l "$2" --timeout="${3:-120}s"
}

wait_job_complete() { # NS JOB [SECONDS]
  kc -n "$1" wait --for=condition=Complete "job/$2" --timeout="${3:-120}s"
}

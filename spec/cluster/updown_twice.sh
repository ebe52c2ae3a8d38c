#!/usr/bin/env bash
# spec/cluster/updown_twice.sh [PARENT_DIR] - brings the real cluster up and down twice and
# checks that the host is left exactly as it was: processes, mounts
# (/proc/self/mountinfo), cgroup folders, `ip netns`, host links/addresses/
# routes, iptables rules, and the fixed paths the cluster covers.
# Between up and down it checks a few basics inside the namespace.
# Prints "updown_twice: N passed, N failed"; exit status 0 only if all passed.
#
# The cluster lives in a fresh folder under PARENT_DIR (default $TMPDIR or /tmp).
#   VSG_CLUSTER_IMAGES   image folder for spec/cluster/up; default: built once
#                        here by spec/cluster/build-images (before the snapshots)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=spec/cluster/lib.sh
. "$here/lib.sh"

parent=${1:-${TMPDIR:-/tmp}}
mkdir -p "$parent"
work=$(mktemp -d "$parent/vsgate-updown.XXXXXX")
trap '"$here/down" "$work/c" >/dev/null 2>&1; rm -rf "$work"; [ -n "${1:-}" ] && rmdir "$parent" 2>/dev/null' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# The build happens before the first snapshot (it starts go processes).
cbin=$("$here/build-peers" | tail -n 1) || { echo "updown_twice: 0 passed, 1 failed (build-peers)"; exit 1; }

# Images too (build-images runs podman), unless given.
if [ -z "${VSG_CLUSTER_IMAGES:-}" ] && [ -x "$here/build-images" ]; then
  VSG_CLUSTER_IMAGES=$("$here/build-images" | tail -n 1) || { echo "updown_twice: 0 passed, 1 failed (build-images)"; exit 1; }
  export VSG_CLUSTER_IMAGES
fi

fixed="/run/containerd /var/lib/kubelet /var/lib/cni /usr/libexec/kubernetes /var/log/pods /var/log/containers /run/vsgate-cluster"
host_ino=$(stat -L -c %i /proc/self/ns/net)
# Other work may run on the machine at the same time, so process, mount and
# cgroup snapshots keep only what this harness could have made; the network
# snapshots are kept whole (nothing may change the host's network namespace).
snap() { # OUT
  local o=$1 p
  {
    for p in /proc/[0-9]*; do
      local ino cmd
      ino=$(stat -L -c %i "$p/ns/net" 2>/dev/null) || continue
      cmd=$( { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | cut -c1-200)
      case "$cmd" in
        *"$work"*|*"$cbin"*) echo "${p#/proc/} $cmd" ;;
        "/bin/sleep infinity ") [ "$ino" != "$host_ino" ] && echo "${p#/proc/} holder? netns=$ino" ;;
      esac
    done | sort >"$o.procs"
    awk '{ for (i = 1; i <= NF; i++) if ($i == "-") break; print $5, $(i+1), $(i+2) }' /proc/self/mountinfo \
      | grep -E "vsgate-cluster|$work|/run/containerd|/var/lib/kubelet|/var/lib/cni|/usr/libexec/kubernetes|/var/log/pods|/var/log/containers|kubepods" \
      | sort >"$o.mounts"
    find /sys/fs/cgroup -mindepth 1 -maxdepth 3 -type d 2>/dev/null | grep -E 'vsgate|kubepods' | sort >"$o.cgroups"
    { ip netns list >"$o.netns"; } 2>&1
    { ip -d link show | sed -E 's/ (minmtu|maxmtu) [0-9]+//g; s/ [a-z_]*timer +[0-9.]+//g'; ip addr show; ip route show table all; ip -6 route show table all; ip rule show; } >"$o.net" 2>&1
    { iptables-save; ip6tables-save; } 2>&1 | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[c]/' >"$o.iptables"
    for p in $fixed; do [ -e "$p" ] && echo "$p"; done >"$o.paths"
  }
}
# What this harness makes carries one of these names; a change in the host-wide
# snapshots (netns, links/routes, iptables) without them is other activity on
# the machine (e.g. a podman build), reported but not failed.
ours_re='vsg|vsgate|10\.99\.|10\.244\.|10\.96\.|cni0|KUBE-|kubepods'
compare() { # BEFORE AFTER LABEL
  local k
  for k in procs mounts cgroups paths netns net iptables; do
    if diff -u "$1.$k" "$2.$k" >"$work/diff.$k"; then ok "$3: $k unchanged"
    elif [ "$k" = netns ] || [ "$k" = net ] || [ "$k" = iptables ]; then
      if grep -E '^[-+][^-+]' "$work/diff.$k" | grep -qE "$ours_re"; then
        bad "$3: $k changed:"; sed 's/^/     /' "$work/diff.$k" | head -40
      else
        ok "$3: $k: nothing of ours (changed by other activity: $(grep -cE '^[-+][^-+]' "$work/diff.$k") lines)"
      fi
    else bad "$3: $k changed:"; sed 's/^/     /' "$work/diff.$k" | head -40; fi
  done
}

snap "$work/s0"
for round in 1 2; do
  t0=$SECONDS
  if "$here/up" --watch-pid $$ "$work/c" >"$work/up$round.out" 2>"$work/up$round.err"; then
    ok "round $round: up ($((SECONDS - t0)) s)"
  else
    bad "round $round: up failed:"; tail -5 "$work/up$round.err" | sed 's/^/     /'
    find "$work/c/log" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | LC_ALL=C sort | sed 's/^/     log: /'
    "$here/down" "$work/c" >/dev/null 2>&1
    break
  fi
  cluster_use "$work/c"
  # The host must not see the node IP, the cluster's links or its rules.
  h_addr=$(ip -o addr) h_ipt=$(iptables-save 2>/dev/null) in_ipt=$(in_cluster iptables-save 2>/dev/null)
  case "$h_addr" in *"$VSG_NODE_IP"*|*vsg0*|*cni0*) bad "round $round: cluster address/link visible in the host" ;;
    *) ok "round $round: node IP and links not in the host" ;; esac
  case "$h_ipt" in *KUBE-*) bad "round $round: KUBE- chains in the host" ;; *) ok "round $round: no KUBE- chains in the host" ;; esac
  case "$in_ipt" in *KUBE-SERVICES*) ok "round $round: kube-proxy rules inside" ;; *) bad "round $round: no kube-proxy rules inside" ;; esac
  if kc get node "$VSG_NODE_NAME" >/dev/null 2>&1; then ok "round $round: kubectl through exec"; else bad "round $round: kubectl through exec"; fi
  if in_cluster "$GOVC" about >/dev/null 2>&1; then ok "round $round: govc against vcsim (CA)"; else bad "round $round: govc against vcsim"; fi
  # A pod (pause image as its container), so down has shims, pod cgroups,
  # a pod network namespace and CNI state to clean up.
  if [ -n "${VSG_PAUSE_IMAGE:-}" ] && [ "$VSG_PAUSE_IMAGE" != localhost/vsgate-pause:missing ]; then
    if kc run sleeper --image="$VSG_PAUSE_IMAGE" --image-pull-policy=Never --restart=Never >/dev/null 2>&1 \
       && kc wait --for=condition=Ready pod/sleeper --timeout=60s >/dev/null 2>&1; then
      ok "round $round: a pod runs"
    else bad "round $round: a pod with $VSG_PAUSE_IMAGE did not become Ready"; fi
  else
    echo "skip round $round: no pause image (set VSG_CLUSTER_IMAGES or add spec/cluster/build-images)"
  fi
  t0=$SECONDS
  "$here/down" "$work/c"
  ok "round $round: down ($((SECONDS - t0)) s)"
  if [ -e "$work/c" ]; then bad "round $round: down left $work/c"; fi
  snap "$work/s$round"
  compare "$work/s0" "$work/s$round" "round $round"
done
# down is idempotent.
if "$here/down" "$work/c" && "$here/down" "$work/c"; then ok "down twice on a stopped cluster"; else bad "down on a stopped cluster"; fi
echo "updown_twice: $pass passed, $fail failed"
[ $fail -eq 0 ]

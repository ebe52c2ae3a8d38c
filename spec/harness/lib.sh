# spec/harness/lib.sh - shared helpers for the harness scripts (sourced).
# Provides: die, free_port, wait_until, kubectl_bin. Uses: ss, curl.

die() { echo "harness: $*" >&2; exit 1; }

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on and that
# no earlier call of this process handed out (nor, with VSG_PORTS_FILE set,
# any call that recorded its port there: `$(free_port)` runs in a subshell,
# whose memory of the ports it gave is lost, so two calls of one test could
# hand out the same port). Ports come from below the kernel's ephemeral
# range (ip_local_port_range), so an outgoing connection cannot take a port
# between the check and the listener's bind.
_vsg_ports_given=" "
_vsg_port_lo=20000
_vsg_port_hi=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
[ "${_vsg_port_hi:-0}" -gt $((_vsg_port_lo + 1000)) ] 2>/dev/null || { _vsg_port_lo=10000; _vsg_port_hi=32768; }
free_port() {
  local p
  for _ in $(seq 200); do
    p=$(( _vsg_port_lo + (RANDOM * 32768 + RANDOM) % (_vsg_port_hi - _vsg_port_lo) ))
    case "$_vsg_ports_given" in *" $p "*) continue ;; esac
    if [ -n "${VSG_PORTS_FILE:-}" ] && grep -qx "$p" "$VSG_PORTS_FILE" 2>/dev/null; then continue; fi
    if ! ss -Hltn "sport = :$p" 2>/dev/null | grep . >/dev/null; then
      _vsg_ports_given="$_vsg_ports_given$p "
      if [ -n "${VSG_PORTS_FILE:-}" ]; then echo "$p" >>"$VSG_PORTS_FILE"; fi
      echo "$p"; return 0
    fi
  done
  die "no free port found on 127.0.0.1"
}

# wait_until SECONDS DESCRIPTION LOGFILE PID CMD...: runs CMD until it
# succeeds; fails with one line naming the log when PID dies or time is up.
wait_until() {
  local secs=$1 what=$2 log=$3 pid=$4; shift 4
  local end=$(( SECONDS + secs ))
  while ! "$@" >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      die "$what exited during start-up; log: $log"
    fi
    [ $SECONDS -lt $end ] || die "$what not ready after ${secs}s; log: $log"
    sleep 0.2
  done
}

kubectl_bin() {
  local k
  for k in /usr/lib/google-cloud-sdk/bin/kubectl.1.33 "$(command -v kubectl.1.33 2>/dev/null)"; do
    [ -n "$k" ] && [ -x "$k" ] && { echo "$k"; return 0; }
  done
  die "kubectl 1.33 not found (install Google's kubectl package; see scripts/install-deps)"
}

# SIGTERM ends `vsgate run` within 2 s (exit status 0) whatever it is blocked
# in (issue #14: Kubernetes kills a pod 30 s after SIGTERM by default, and the
# checkpoint and the Logout must be done by then; a slow vCenter held a stop
# for up to 120 s):
# 1. logging in, to a vCenter that accepts TCP and never answers the TLS
#    handshake (a Python peer on 127.0.0.1);
# 2. logging in, to a vCenter that answers the SOAP call 1 byte/s (the Python
#    peer with the harness serving certificate);
# 3. delivering, with the harness vcsim and a sink that stops answering (the
#    Python peer): the checkpoint (period 1h: what was delivered is saved
#    only by the shutdown) holds the last key the sink accepted, and the
#    session was logged out;
# 4. waiting for updates (WaitForUpdatesEx) on the idle harness vcsim;
# 5. in the login backoff, with nothing listening at the vCenter address;
# 6. logged in to a private vcsim through a relay that then freezes (holds
#    every connection, answers nothing): the shutdown's DestroyCollector and
#    Logout give up within their 1 s and the process still exits in time;
# 7. `vsgate adapter` with its checkpoint in a ConfigMap, the API server
#    reached through such a relay that freezes: the last save gives up in
#    time (each request 400 ms at most after a stop).
# The time from the signal to the exit is measured here (ASan build included).
# shellcheck source=spec/e2e/lib.sh
. "$E2E_LIB"
e2e_begin adapter_stop_slow
d=$E2E_DIR
p="stopslow-$RANDOM$RANDOM"
MAX_MS=2000
mkdir -p "$d/secret"
printf '%s' "$VCSIM_USER" >"$d/secret/username"
printf '%s' "$VCSIM_PASSWORD" >"$d/secret/password"

# peer.py MODE PORT_FILE LOG [ARGS]: listens on a free 127.0.0.1 port (written
# to PORT_FILE) and logs what it does to LOG.
#   silent             accepts connections and never sends or reads a byte
#   trickle CERT KEY   TLS; answers GETs 404 at once, POSTs 200 with a body
#                      sent 1 byte/s
#   sink RECORD HANG   CloudEvents sink: records "<ce-id> <Message>" and
#                      answers 202, until the file HANG exists: from then on
#                      it reads the request and never answers
#   relay HOST PORT FREEZE  TCP relay to HOST:PORT until the file FREEZE
#                      exists: from then on it holds every connection, old
#                      and new, and passes nothing
cat >"$d/peer.py" <<'EOF'
import json, os, socket, ssl, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

mode, port_file, log_file = sys.argv[1:4]
lock = threading.Lock()

def log(msg):
    with lock, open(log_file, "a") as f:
        f.write(msg + "\n")

def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    return s

def publish(port):
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(port_file + ".tmp", port_file)

def read_request(t, buf):
    while b"\r\n\r\n" not in buf:
        data = t.recv(65536)
        if not data:
            return None, None, b""
        buf += data
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    n = 0
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            n = int(v)
    while len(buf) < n:
        data = t.recv(65536)
        if not data:
            return None, None, b""
        buf += data
    return lines[0], buf[:n], buf[n:]

def trickle(c, ctx):
    try:
        t = ctx.wrap_socket(c, server_side=True)
        buf = b""
        while True:
            line, _, buf = read_request(t, buf)
            if line is None:
                return
            if line.startswith("GET "):
                t.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                continue
            log("trickling: " + line)
            body = b'<?xml version="1.0" encoding="UTF-8"?>' + b" " * 100000
            t.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body))
            for i in range(len(body)):
                t.sendall(body[i:i + 1])
                time.sleep(1)
    except (OSError, ssl.SSLError):
        pass
    finally:
        c.close()

if mode == "silent":
    s = listener()
    publish(s.getsockname()[1])
    held = []
    while True:
        c, _ = s.accept()
        held.append(c)
        log("accepted")
elif mode == "trickle":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    s = listener()
    publish(s.getsockname()[1])
    while True:
        c, _ = s.accept()
        threading.Thread(target=trickle, args=(c, ctx), daemon=True).start()
elif mode == "relay":
    host, port, freeze = sys.argv[4], int(sys.argv[5]), sys.argv[6]
    held = []

    def pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data or os.path.exists(freeze):
                    break
                b.sendall(data)
        except OSError:
            pass
        if os.path.exists(freeze):
            held.append((a, b))
            return
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    s = listener()
    publish(s.getsockname()[1])
    while True:
        c, _ = s.accept()
        if os.path.exists(freeze):
            held.append(c)
            log("held")
            continue
        u = socket.create_connection((host, port))
        threading.Thread(target=pump, args=(c, u), daemon=True).start()
        threading.Thread(target=pump, args=(u, c), daemon=True).start()
elif mode == "sink":
    record, hang = sys.argv[4:6]

    class Sink(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            cid = self.headers.get("ce-id", "")
            if os.path.exists(hang):
                log("hanging: " + cid)
                try:
                    while self.connection.recv(1):
                        pass
                except OSError:
                    pass
                self.close_connection = True
                return
            try:
                msg = json.loads(body).get("Message", "")
            except ValueError:
                msg = ""
            with lock, open(record, "a") as f:
                f.write("%s %s\n" % (cid, msg))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    srv.daemon_threads = True
    publish(srv.server_address[1])
    srv.serve_forever()
EOF

# peer TAG MODE [ARGS...]: starts peer.py; sets peer_port and peer_log.
peer() {
  local tag=$1 mode=$2; shift 2
  e2e_bg "$tag" "$d/$tag.out" python3 "$d/peer.py" "$mode" "$d/$tag.port" "$d/$tag.log" "$@"
  retry 20 test -s "$d/$tag.port" || fail "peer $tag did not start: $(cat "$d/$tag.out")"
  peer_port=$(cat "$d/$tag.port") peer_log=$d/$tag.log
  touch "$peer_log"
}

# adapter TAG VC_URL SINK_URL [flags]: `vsgate run`; sets pid and log.
adapter() {
  local tag=$1 vc=$2 sink=$3; shift 3
  log=$d/$tag.log
  e2e_bg "$tag" "$log" "$VSG_BIN" run --address "$vc" --ca-file "$VSG_TEST_CA" \
    --secret-path "$d/secret" --sink "$sink" --encoding json --checkpoint "$d/$tag.cp.json" \
    --max-age 5m "$@"
  pid=$E2E_PID
}

# stop_timed WHAT: SIGTERM to $pid, then waits for its exit (15 s at most,
# then SIGKILL); fails when that took more than MAX_MS or it exited non-zero.
stop_timed() {
  local what=$1 t0 ms
  _e2e_alive "$pid" || fail "$what: the adapter died before the signal: $(tail -n 5 "$log")"
  t0=$(date +%s%N)
  kill -TERM "$pid"
  while _e2e_alive "$pid" && [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 15000 ]; do sleep 0.02; done
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  e2e_stop "$pid"
  echo "adapter_stop_slow: $what: exited $ms ms after SIGTERM (status $E2E_RC)"
  [ "$ms" -le "$MAX_MS" ] ||
    fail "$what: the adapter exited $ms ms after SIGTERM (want <= $MAX_MS ms): $(tail -n 5 "$log")"
  [ "$E2E_RC" -eq 0 ] || fail "$what: exit status $E2E_RC after SIGTERM (want 0): $(tail -n 5 "$log")"
}
has() { grep -qF -- "$2" "$1"; }
no_sink=http://127.0.0.1:9/

# ---- 1. TCP accepted, TLS never answered
peer silent silent
adapter run1 "https://127.0.0.1:$peer_port/sdk" "$no_sink"
wait_for 20 "the adapter to connect to the silent peer" has "$peer_log" accepted
sleep 0.5
stop_timed "TLS handshake never answered"

# ---- 2. the SOAP answer trickles at 1 byte/s
peer trickle trickle "$VSG_HARNESS_DIR/pki/serving.crt" "$VSG_HARNESS_DIR/pki/serving.key"
adapter run2 "https://127.0.0.1:$peer_port/sdk" "$no_sink"
wait_for 20 "the adapter's SOAP call to the trickling peer" has "$peer_log" "trickling: POST /sdk"
sleep 1.5
stop_timed "SOAP answer at 1 byte/s"

# ---- 3. the sink stops answering while an event is being delivered
peer sink sink "$d/sink.rec" "$d/sink.hang"
rec=$d/sink.rec sink_log=$peer_log
touch "$rec"
adapter run3 "$VCSIM_URL" "http://127.0.0.1:$peer_port/" --period 1h
wait_for 30 "the adapter to read events" has "$log" "event collector created"
post_events "$VCSIM_URL" 3 "$p pre"
wait_for 30 "the events before the hang at the sink" has "$rec" " $p pre 2"
touch "$d/sink.hang"
post_events "$VCSIM_URL" 1 "$p hang"
wait_for 30 "a delivery to the hanging sink" has "$sink_log" "hanging: "
sleep 0.5
last=$(tail -n 1 "$rec" | cut -d' ' -f1)
# Nothing delivered is saved yet (period 1h): the shutdown must save it.
cp_before=$(jq -r '.lastEventKey // 0' "$d/run3.cp.json" 2>/dev/null || echo 0)
[ "$cp_before" -lt "$last" ] || fail "the checkpoint reached key $cp_before before the stop (period 1h)"
stop_timed "sink never answers"
k_pre=$(grep -F " $p pre 2" "$rec" | cut -d' ' -f1)
[ -s "$d/run3.cp.json" ] || fail "no checkpoint saved at the shutdown: $(tail -n 5 "$log")"
cp_key=$(jq -r '.lastEventKey' "$d/run3.cp.json")
[ "$cp_key" = "$last" ] ||
  fail "the checkpoint holds key $cp_key, the last key the sink accepted is $last (hanging: $(cat "$sink_log"))"
[ "$cp_key" -ge "$k_pre" ] || fail "checkpoint key $cp_key is before the accepted key $k_pre"
has "$log" "logged out of vCenter" || fail "no logout after the stop: $(tail -n 5 "$log")"

# ---- 4. waiting for updates on the idle vcsim
adapter run4 "$VCSIM_URL" "$no_sink"
wait_for 30 "the adapter to read events" has "$log" "event collector created"
sleep 2.5
stop_timed "waiting for updates"
has "$log" "logged out of vCenter" || fail "no logout after the stop: $(tail -n 5 "$log")"

# ---- 5. in the login backoff
port=$(_e2e_free_port)
adapter run5 "https://127.0.0.1:$port/sdk" "$no_sink"
wait_for 20 "a failed login" has "$log" "vCenter login failed"
sleep 0.3
stop_timed "login backoff"

# ---- 6. vCenter stops answering while logged in (a private vcsim: the
# session and collector it keeps must not count against the shared one)
e2e_vcsim vc6
vc_port=$E2E_VC_PORT
peer relay relay 127.0.0.1 "$vc_port" "$d/relay.freeze"
adapter run6 "https://127.0.0.1:$peer_port/sdk" "$no_sink"
wait_for 30 "the adapter to read events through the relay" has "$log" "event collector created"
sleep 0.5
touch "$d/relay.freeze"
sleep 2.5
stop_timed "vCenter unresponsive while logged in"
has "$peer_log" held || fail "the shutdown did not try vCenter after the stop: $(tail -n 5 "$log")"
has "$log" "logout failed" || fail "the Logout to a frozen vCenter did not fail: $(tail -n 5 "$log")"

# ---- 7. `vsgate adapter` (checkpoint in a ConfigMap) while the API server stops answering:
# the last checkpoint save is bounded too.
ns7="stop-slow-$RANDOM$RANDOM"
k create namespace "$ns7" >/dev/null || fail "cannot create namespace $ns7"
server=$(k config view --minify -o jsonpath='{.clusters[0].cluster.server}')
api_port=${server##*:}
e2e_sink sink7
peer relay7 relay 127.0.0.1 "$api_port" "$d/relay7.freeze"
k config view --minify --raw | sed "s#$server#https://127.0.0.1:$peer_port#" >"$d/kubeconfig7"
e2e_bg run7 "$d/run7.log" env -i PATH="$PATH" KUBECONFIG="$d/kubeconfig7" \
  ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
  VC_URL="$VCSIM_URL" VSPHERE_CA_CERTS="$(cat "$VSG_TEST_CA")" VC_SECRET_PATH="$d/secret" \
  K_SINK="$E2E_SINK_URL" NAMESPACE="$ns7" VSPHERE_KVSTORE_CONFIGMAP=stop-slow-configmap \
  VSPHERE_PAYLOAD_ENCODING=application/json \
  VSPHERE_CHECKPOINT_CONFIG='{"maxAge":"5m0s","period":"1h"}' "$VSG_BIN" adapter
pid=$E2E_PID log=$d/run7.log
wait_for 30 "the adapter (ConfigMap checkpoint) to read events" has "$log" "event collector created"
post_events "$VCSIM_URL" 2 "$p api"
wait_for 30 "an event delivered by the adapter" has_msg "$E2E_SINK_REC" "$p api 1"
touch "$d/relay7.freeze"
sleep 0.5
stop_timed "API server unresponsive at the last checkpoint save"
has "$log" "could not save checkpoint" ||
  fail "the last checkpoint save did not give up on the frozen API server: $(tail -n 5 "$log")"
k delete namespace "$ns7" --wait=false >/dev/null 2>&1 || true

echo "adapter_stop_slow: ok: every stop within $MAX_MS ms"

#!/usr/bin/env python3
"""An independent CloudEvents receiver built on the Python SDK (PyPI `cloudevents`).

It binds 127.0.0.1, parses every POST with the SDK (binary mode required unless
--allow-structured), lets the SDK validate the event, answers 200 (or --status)
for valid events and 400 with the SDK's error otherwise, and appends one JSON
line per request to --record:

  {"sdk": "python-cloudevents 2.2.0", "valid": true, "mode": "binary",
   "attributes": {"id": "42", "time": "2026-11-25T11:37:53+00:00", ...},
   "headers": {"content-type": ..., "kn-namespace": ...},
   "data": <str | JSON value | {"base64": ...}>, "error": null}

Works with cloudevents 2.x (cloudevents.core.bindings.http) and falls back to
the classic 1.x API (cloudevents.http.from_http). SIGTERM/SIGINT: exit 0.
"""
import argparse
import base64
import datetime
import importlib.metadata
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:  # cloudevents >= 2
    from cloudevents.core.bindings import http as ce_http

    def parse_event(headers, body):
        msg = ce_http.HTTPMessage(headers=headers, body=body)
        ev = ce_http.from_http_event(msg)
        return ev.get_attributes(), ev.get_data()

    API = "core"
except ImportError:  # cloudevents 1.x
    from cloudevents.http import from_http

    def parse_event(headers, body):
        ev = from_http(headers, body)
        return dict(ev.get_attributes()), ev.data

    API = "classic"

try:
    SDK = "python-cloudevents " + importlib.metadata.version("cloudevents")
except importlib.metadata.PackageNotFoundError:
    SDK = "python-cloudevents"

REQUIRED = ("specversion", "id", "source", "type")
STRUCTURED = ("application/cloudevents+json", "application/cloudevents-batch+json")


def jsonable(v):
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, bytes):
        return {"base64": base64.b64encode(v).decode()}
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return str(v)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the adapter expects

    def log_message(self, fmt, *args):  # quiet by default
        if self.server.verbose:
            sys.stderr.write("receiver: " + fmt % args + "\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        ctype = headers.get("content-type", "")
        binary = any(k.startswith("ce-") for k in headers) and not ctype.lower().startswith(
            STRUCTURED
        )
        rec = {"sdk": SDK, "api": API, "valid": False, "mode": "binary" if binary else "structured",
               "attributes": None, "data": None, "error": None,
               "headers": {k: v for k, v in headers.items() if not k.startswith("ce-")}}
        status = 400
        try:
            if not binary and not self.server.allow_structured:
                raise ValueError("not a binary-mode CloudEvent (content-type %r)" % ctype)
            if binary:
                # cloudevents 2.x fills in a missing id and time itself: check
                # that the sender really sent the required attributes.
                missing = [a for a in REQUIRED if not headers.get("ce-" + a)]
                if missing:
                    raise ValueError("missing required attribute(s): " + ", ".join(missing))
            attrs, data = parse_event(headers, body)
            rec["attributes"] = jsonable(attrs)
            rec["data"] = jsonable(data)
            rec["valid"] = True
            status = self.server.status
        except Exception as e:  # the SDK's validation errors, and ours
            rec["error"] = "%s: %s" % (type(e).__name__, e)
        self.server.write(rec)
        out = b"" if status < 300 else (rec["error"] or "").encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):
        out = b"ok\n"
        self.send_response(200 if self.path.startswith("/healthz") else 404)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr, record, status, allow_structured, verbose):
        super().__init__(addr, Handler)
        self.record = record
        self.status = status
        self.allow_structured = allow_structured
        self.verbose = verbose
        self.lock = threading.Lock()

    def write(self, rec):
        line = json.dumps(rec, ensure_ascii=False) + "\n"
        with self.lock:
            if self.record:
                with open(self.record, "a", encoding="utf-8") as f:
                    f.write(line)
            else:
                sys.stdout.write(line)
                sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--addr", default="127.0.0.1", help="listen address (loopback only)")
    ap.add_argument("--port", type=int, default=0, help="TCP port, 0 picks a free one")
    ap.add_argument("--port-file", help="write the bound port here once listening")
    ap.add_argument("--record", help="append one JSON line per request here (default stdout)")
    ap.add_argument("--status", type=int, default=200, help="status for valid events")
    ap.add_argument("--allow-structured", action="store_true",
                    help="also accept structured mode (the adapter must use binary mode)")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    srv = Server((a.addr, a.port), a.record, a.status, a.allow_structured, a.verbose)
    port = srv.server_address[1]
    if a.port_file:
        tmp = "%s.tmp.%d" % (a.port_file, os.getpid())
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, a.port_file)

    def stop(signum, frame):
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever(poll_interval=0.1)
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

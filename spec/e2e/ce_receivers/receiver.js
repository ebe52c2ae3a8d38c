#!/usr/bin/env node
// An independent CloudEvents receiver built on the JavaScript SDK (npm
// `cloudevents` 10.0.0). Same flags and record format as receiver.py:
//
//   node receiver.js --port 0 --port-file F --record FILE [--status N]
//                    [--allow-structured] [--addr 127.0.0.1]
//
// Each POST is parsed with HTTP.toEvent() and checked with event.validate()
// (binary mode builds events with strict=false, so nothing is validated
// unless we ask). The SDK does not percent-decode header values, which the
// CloudEvents HTTP binding requires of receivers, so each record carries the
// SDK's attributes as is ("attributes") and percent-decoded
// ("attributes_decoded"). SIGTERM/SIGINT: exit 0.
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const { HTTP } = require("cloudevents");

const SDK = "javascript-cloudevents " + require("cloudevents/package.json").version;
const REQUIRED = ["specversion", "id", "source", "type"];

function parseArgs(argv) {
  const a = { addr: "127.0.0.1", port: 0, status: 200, allowStructured: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === "--addr") a.addr = v();
    else if (k === "--port") a.port = Number(v());
    else if (k === "--port-file") a.portFile = v();
    else if (k === "--record") a.record = v();
    else if (k === "--status") a.status = Number(v());
    else if (k === "--allow-structured") a.allowStructured = true;
    else if (k === "-h" || k === "--help") {
      console.log(fs.readFileSync(__filename, "utf8").split("\n").slice(1, 13).join("\n"));
      process.exit(0);
    } else {
      console.error(`receiver.js: unknown argument ${k}`);
      process.exit(2);
    }
  }
  return a;
}

function pctDecode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const args = parseArgs(process.argv.slice(2));

function write(rec) {
  const line = JSON.stringify(rec) + "\n";
  if (args.record) fs.appendFileSync(args.record, line);
  else process.stdout.write(line);
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST") {
    res.writeHead(req.url.startsWith("/healthz") ? 200 : 404, { "Content-Length": "3" });
    res.end("ok\n");
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = req.headers; // already lower-case
    const ctype = headers["content-type"] || "";
    const binary =
      Object.keys(headers).some((k) => k.startsWith("ce-")) &&
      !ctype.toLowerCase().startsWith("application/cloudevents");
    const rec = {
      sdk: SDK,
      valid: false,
      mode: binary ? "binary" : "structured",
      attributes: null,
      attributes_decoded: null,
      data: null,
      error: null,
      headers: Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith("ce-"))),
    };
    let status = 400;
    try {
      if (!binary && !args.allowStructured)
        throw new Error(`not a binary-mode CloudEvent (content-type ${JSON.stringify(ctype)})`);
      if (binary) {
        const missing = REQUIRED.filter((a) => !headers["ce-" + a]);
        if (missing.length) throw new Error("missing required attribute(s): " + missing.join(", "));
      }
      const message = { headers, body };
      if (!HTTP.isEvent(message)) throw new Error("no CloudEvent detected");
      const ev = HTTP.toEvent(message);
      ev.validate();
      const attrs = {};
      const decoded = {};
      for (const [k, v] of Object.entries(ev.toJSON())) {
        if (k === "data" || k === "data_base64") continue;
        attrs[k] = v;
        decoded[k] = typeof v === "string" && headers["ce-" + k] !== undefined ? pctDecode(v) : v;
      }
      rec.attributes = attrs;
      rec.attributes_decoded = decoded;
      rec.data = ev.data === undefined ? null : ev.data;
      rec.valid = true;
      status = args.status;
    } catch (e) {
      rec.error = `${e.name}: ${e.message}${e.errors ? " " + JSON.stringify(e.errors) : ""}`;
    }
    write(rec);
    const out = status < 300 ? "" : (rec.error || "") + "\n";
    res.writeHead(status, { "Content-Length": Buffer.byteLength(out) });
    res.end(out);
  });
});

server.keepAliveTimeout = 30000;
server.listen(args.port, args.addr, () => {
  const port = server.address().port;
  if (args.portFile) {
    const tmp = `${args.portFile}.tmp.${process.pid}`;
    fs.writeFileSync(tmp, `${port}\n`);
    fs.renameSync(tmp, args.portFile);
  }
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

#!/usr/bin/env python3
"""A small HTTP server for the tests of heph.http.request and of plugins that post.

    http_recorder.py PORT_FILE LOG_FILE [--tls CERT KEY]

Listens on 127.0.0.1 (a free port, written to PORT_FILE once it listens) and appends each
request it receives to LOG_FILE as one JSON line: method, path, headers (lower-case
names), body (text). What it answers depends on the path:

    /status/N        status N, body "status N"
    /slow/SECONDS    waits, then 200
    /fail-first/N    500 for the first N requests to that path, then 200
    anything else    200, body "ok", header X-Recorder: yes
"""
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port_file, log_file = sys.argv[1], sys.argv[2]
lock = threading.Lock()
seen = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = {
            "method": self.command,
            "path": self.path,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        with lock:
            with open(log_file, "a") as log:
                log.write(json.dumps(record) + "\n")
            seen[self.path] = seen.get(self.path, 0) + 1
            count = seen[self.path]
        status, text = 200, "ok"
        parts = self.path.strip("/").split("/")
        if parts[0] == "status" and len(parts) > 1:
            status, text = int(parts[1]), "status " + parts[1]
        elif parts[0] == "slow" and len(parts) > 1:
            time.sleep(float(parts[1]))
        elif parts[0] == "fail-first" and len(parts) > 1 and count <= int(parts[1]):
            status, text = 500, "failing"
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("X-Recorder", "yes")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if len(sys.argv) > 3 and sys.argv[3] == "--tls":
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[4], sys.argv[5])
    server.socket = context.wrap_socket(server.socket, server_side=True)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()

#!/usr/bin/env python3
"""A registry whose one image cannot be pulled: the manifest and config are served, the
layer's bytes do not match its digest. The engine answers such a pull with 200 and reports
the failure as an {"error": ...} line inside the stream, which is what the test needs.

Usage: broken-registry.py PORT   (serves http://127.0.0.1:PORT, any repository and tag)
"""
import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LAYER_CLAIMED = b"the layer the manifest promises"
LAYER_SERVED = b"something else entirely"
LAYER_DIGEST = "sha256:" + hashlib.sha256(LAYER_CLAIMED).hexdigest()
CONFIG = json.dumps({
    "architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": [LAYER_DIGEST]},
}).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(CONFIG), "digest": CONFIG_DIGEST},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(LAYER_CLAIMED), "digest": LAYER_DIGEST}],
}).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


class Handler(BaseHTTPRequestHandler):
    def answer(self, body, content_type, digest=None):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if digest:
            self.send_header("Docker-Content-Digest", digest)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        if self.path == "/v2/":
            self.answer(b"{}", "application/json")
        elif "/manifests/" in self.path:
            self.answer(MANIFEST, "application/vnd.docker.distribution.manifest.v2+json", MANIFEST_DIGEST)
        elif self.path.endswith("/blobs/" + CONFIG_DIGEST):
            self.answer(CONFIG, "application/octet-stream", CONFIG_DIGEST)
        elif "/blobs/" in self.path:
            self.answer(LAYER_SERVED, "application/octet-stream")
        else:
            self.send_error(404)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()

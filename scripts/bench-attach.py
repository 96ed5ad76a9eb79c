#!/usr/bin/env python3
"""Round trip of a trivial statement in a `heph attach` session (docs/benchmarks.md).

    bench-attach.py HEPH [ROUNDS]

Starts examples/attachable.lua as project bench-attach, then, over its control socket
(the frame protocol of Sources/HephServe/Control/ControlFrame.swift, spoken directly so
the figure is the watcher's answer, not the start-up of a `heph attach` process), sends
`1 + 1` ROUNDS times (default 2000) and times each answer. Also times a whole
`heph attach` process running one statement from a pipe (20 rounds). Prints Markdown.
"""
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

heph = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
project = "bench-attach"
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

watcher = subprocess.Popen([heph, "run", "-p", project, os.path.join(root, "examples/attachable.lua")],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    watcher.stdout.readline()  # "attachable: watching project …"
    entry = None
    for _ in range(200):
        listed = json.loads(subprocess.run([heph, "status", "-p", project, "--json"], capture_output=True, text=True).stdout or "[]")
        entry = next((w for w in listed if w["pid"] == watcher.pid), None)
        if entry:
            break
        time.sleep(0.05)
    assert entry, "the watcher never registered"
    path = f"/tmp/heph-{os.geteuid()}/{entry['instance']}.sock"

    def read_frame(conn):
        header = b""
        while len(header) < 5:
            header += conn.recv(5 - len(header))
        kind, count = header[0:1], struct.unpack(">I", header[1:])[0]
        payload = b""
        while len(payload) < count:
            payload += conn.recv(count - len(payload))
        return kind, payload

    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(path)
    assert read_frame(conn)[0] == b"H"
    statement = b"1 + 1"
    frame = b"E" + struct.pack(">I", len(statement)) + statement
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        conn.sendall(frame)
        kind, payload = read_frame(conn)
        times.append((time.perf_counter() - start) * 1000)
        assert (kind, payload) == (b"V", b"2"), (kind, payload)
    conn.close()
    times.sort()

    whole = []
    for _ in range(20):
        start = time.perf_counter()
        done = subprocess.run([heph, "attach", "-p", project], input="1 + 1\n", capture_output=True, text=True)
        whole.append((time.perf_counter() - start) * 1000)
        assert done.stdout == "2\n", done
    whole.sort()

    def pct(values, p):
        return values[min(len(values) - 1, int(len(values) * p))]

    print("| what | rounds | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    print(f"| `1 + 1` in a session (socket round trip) | {rounds} | {pct(times, 0.5):.2f} ms | {pct(times, 0.95):.2f} ms | {times[-1]:.2f} ms |")
    print(f"| a whole `heph attach` running `1 + 1` from a pipe (start, registry look-up, connect, statement, exit) | 20 | {statistics.median(whole):.1f} ms | {pct(whole, 0.95):.1f} ms | {whole[-1]:.1f} ms |")
finally:
    watcher.terminate()
    watcher.wait()
    subprocess.run([heph, "down", "-p", project], capture_output=True)

#!/usr/bin/env python3
"""The bring-up and teardown benchmark's non-heph methods, on the same engine.

    bench-topology.py up METHOD COUNT      -> prints "METHOD <seconds>" (start to all healthy)
    bench-topology.py down METHOD COUNT    -> prints "METHOD <seconds>" (start to all gone)
    bench-topology.py events-lag COUNT     -> "events-lag <p50 ms> <p95 ms>": how long after its own
                                              timestamp the engine delivers each of the next COUNT
                                              `die` events to a plain `docker events` client
    bench-topology.py timeline PREFIX T0 T1 -> where heph's bring-up time went, from the
                                              engine's own timestamps (T0, T1: Unix seconds
                                              when heph.up was called and returned)

METHOD is one of:
  floor       parallel raw API calls (docker-py's low-level client, one thread per service),
              the engine's own limit: network, then create+start of every service at once
  floorN      the same calls from N worker threads (floor16: the floor for hundreds of
              services, where one thread each only queues them in the engine)
  sequential  the same calls one service after another
  compose     Debian's docker-compose: `up -d` of a generated file, then waiting
Every method waits for readiness the way heph.up does: one container list every 100 ms.
With BENCH_KIND=plain the services have no healthcheck (each a sleeping busybox that
exits on SIGTERM) and ready means running; otherwise an HTTP server with a 1 s healthcheck.
Containers carry the label io.heph.bench=METHOD (not heph's managed label), so heph
never touches them and each method cleans up only its own.
"""
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import docker

IMAGE = "heph/busybox:latest"
PLAIN = os.environ.get("BENCH_KIND") == "plain"
CMD = (["sh", "-c", "trap 'exit 0' TERM; sleep 86400 & wait"] if PLAIN else
       ["sh", "-c", "trap 'exit 0' TERM; mkdir -p /srv; echo ok > /srv/index.html; httpd -f -p 80 -h /srv & wait"])
TEST = ["CMD-SHELL", "wget -q -O- http://127.0.0.1/ || exit 1"]
SECOND = 1_000_000_000


def names(method, count):
    return [f"bench-{method}-{i:02d}" for i in range(1, count + 1)]


def wait_ready(api, method, count):
    while True:
        listed = api.containers(all=True, filters={"label": f"io.heph.bench={method}"})
        ready = [c for c in listed if c["State"] == "running"] if PLAIN else [c for c in listed if "(healthy)" in c["Status"]]
        if len(ready) == count:
            return
        time.sleep(0.1)


def create_and_start(api, method, name, network):
    host_config = api.create_host_config(network_mode=network)
    container = api.create_container(
        IMAGE, command=CMD, name=name, labels={"io.heph.bench": method},
        host_config=host_config,
        healthcheck=None if PLAIN else {"test": TEST, "interval": SECOND, "timeout": SECOND, "retries": 3},
    )
    api.start(container["Id"])


def run_all(method, work, items):
    """Runs work(item) for every item: from N threads for floorN, or one thread each."""
    workers = method[len("floor"):]
    if workers.isdigit():
        with ThreadPoolExecutor(int(workers)) as pool:
            for _ in pool.map(work, items):
                pass
        return
    threads = [threading.Thread(target=work, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def up_raw(api, method, count, parallel):
    network = f"bench-{method}-net"
    # One left by an engine that lost count of its endpoints (see down_raw) is used again.
    existing = [n for n in api.networks(names=[network]) if n["Name"] == network]
    if existing:
        network = existing[0]["Id"]
    else:
        api.create_network(network, driver="bridge", labels={"io.heph.bench": method})
    if parallel:
        run_all(method, lambda n: create_and_start(api, method, n, network), names(method, count))
    else:
        for n in names(method, count):
            create_and_start(api, method, n, network)
    wait_ready(api, method, count)


def compose_file(method, count):
    lines = ["version: '2.4'", "services:"]
    for n in names(method, count):
        lines += [
            f"  {n}:",
            f"    image: {IMAGE}",
            f"    container_name: {n}",
            f"    command: [\"sh\", \"-c\", \"{CMD[2]}\"]",
            f"    labels: {{io.heph.bench: {method}}}",
        ]
        if not PLAIN:
            lines += [
                "    healthcheck:",
                "      test: [\"CMD-SHELL\", \"wget -q -O- http://127.0.0.1/ || exit 1\"]",
                "      interval: 1s",
                "      timeout: 1s",
                "      retries: 3",
            ]
    path = os.path.join(tempfile.gettempdir(), "heph-bench-compose.yml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def compose(*args):
    subprocess.run(["docker-compose", "-p", "hephbench", "-f", os.path.join(tempfile.gettempdir(), "heph-bench-compose.yml"), *args],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def down_raw(api, method):
    listed = api.containers(all=True, filters={"label": f"io.heph.bench={method}"})

    def remove(container):
        api.stop(container["Id"], timeout=10)
        api.remove_container(container["Id"], force=True)

    run_all(method, remove, listed)
    for network in api.networks(filters={"label": f"io.heph.bench={method}"}):
        try:
            api.remove_network(network["Id"])
        except docker.errors.APIError as error:
            # Docker 20.10 can lose count of a network's endpoints when many containers on
            # it stop at once (moby/moby#43286): it refuses until dockerd restarts. Say so,
            # as heph does, and go on: every container is gone.
            if "active endpoints" not in str(error):
                raise
            print(f"note: {network['Name']} stays (moby/moby#43286)", file=sys.stderr)


def unix(stamp):
    """Docker's RFC 3339 time with nanoseconds, as Unix seconds."""
    from datetime import datetime, timezone
    stamp = stamp.rstrip("Z")
    whole, _, fraction = stamp.partition(".")
    seconds = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return seconds + float("0." + (fraction or "0"))


def timeline(api, prefix, t0, t1):
    created, started, healthy = [], [], []
    for summary in api.containers(all=True, filters={"name": prefix}):
        info = api.inspect_container(summary["Id"])
        created.append(unix(info["Created"]))
        started.append(unix(info["State"]["StartedAt"]))
        passing = [unix(p["End"]) for p in info["State"]["Health"]["Log"] if p["ExitCode"] == 0]
        healthy.append(min(passing))
    rows = [
        ("heph.up called → first container created (client: validation, network, first request)", min(created) - t0),
        ("first → last container created (engine: 20 creates in parallel)", max(created) - min(created)),
        ("last created → last started (engine: starts, network attachment)", max(started) - max(created)),
        ("last started → last first passing healthcheck (engine: the 1 s interval, then the probe)", max(healthy) - max(started)),
        ("last passing healthcheck → heph.up returns (client: the 100 ms readiness poll, the answer)", t1 - max(healthy)),
    ]
    print("| phase | seconds |")
    print("|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} |")
    print(f"| **total** | **{t1 - t0:.3f}** |")


def events_lag(count):
    """The engine's own delivery delay of `die` events, as the docker CLI receives them."""
    watcher = subprocess.Popen(["docker", "events", "--filter", "event=die", "--format", "{{.TimeNano}}"],
                               stdout=subprocess.PIPE, text=True, bufsize=1)
    print("listening", file=sys.stderr, flush=True)
    lags = []
    for line in watcher.stdout:
        lags.append((time.time_ns() - int(line.strip())) / 1e6)
        if len(lags) >= count:
            break
    watcher.kill()
    lags.sort()
    print(f"events-lag {lags[(len(lags) + 1) // 2 - 1]:.1f} {lags[max(0, -(-len(lags) * 95 // 100) - 1)]:.1f}")


def main():
    if sys.argv[1] == "events-lag":
        events_lag(int(sys.argv[2]))
        return
    api = docker.APIClient(base_url="unix:///var/run/docker.sock", timeout=300, max_pool_size=256)
    if sys.argv[1] == "timeline":
        timeline(api, sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
        return
    action, method, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if action == "up" and method == "compose":
        compose_file(method, count)
    started = time.monotonic()
    if action == "up":
        if method == "compose":
            compose("up", "-d")
            wait_ready(api, method, count)
        else:
            up_raw(api, method, count, parallel=(method != "sequential"))
    elif action == "down":
        if method == "compose":
            compose("down")
        else:
            down_raw(api, method)
    else:
        sys.exit(f"unknown action {action}")
    print(f"{method} {time.monotonic() - started:.3f}")


if __name__ == "__main__":
    main()

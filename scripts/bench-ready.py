#!/usr/bin/env python3
"""The readiness benchmark's methods (scripts/bench ready), on the same engine.

    bench-ready.py up METHOD COUNT     -> prints "METHOD COUNT <seconds>": from the start until
                                          every service serves (for heph: the whole `heph run`)
    bench-ready.py cpu COUNT SECONDS   -> prints "cpu COUNT <silent %> <other port %> <baseline %>":
                                          heph's CPU time, as a share of one core, over SECONDS
                                          while COUNT running services are probed by tcp every
                                          50 ms and never serve: with no socket at all (a server
                                          not started yet), and with a server on another port; and
                                          while heph.up waits for them without `ready`

Every service is a busybox whose server starts listening 0.3 s after the container starts,
with no healthcheck unless the method needs one. METHOD is one of:
  heph        `heph run` of a script whose heph.up has `ready = { tcp = 80 }` on each service
  listen      the listen floor: parallel raw API calls (network, then create+start of every
              service at once, one thread each), then a TCP connect from this host to each
              container's own address every 10 ms until each accepts
  healthcheck the healthcheck floor: the same calls with a 1 s healthcheck on each service,
              then one container list every 100 ms until every one is healthy (today's floor)
  compose     Debian's docker-compose: `up -d` of a file where a last service depends on every
              other with `condition: service_healthy` (the same 1 s healthcheck)
Containers of the floors carry the label io.heph.bench=METHOD (not heph's managed label).
"""
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import docker

IMAGE = "heph/busybox:latest"
SERVE = "trap 'exit 0' TERM; sleep 0.3; exec httpd -f -p 80 -h /tmp"
TEST = ["CMD-SHELL", "nc -w 1 127.0.0.1 80 -e true || exit 1"]
# A probe's own time limit, generous: with 100 services on two cores the engine's execs
# queue for seconds, and a probe that times out is a failure that readiness never sees.
PROBE_TIMEOUT = 10
# How long any method may take before the run is given up.
LIMIT = 600
HEPH = os.environ.get("HEPH", ".build/release/heph")
ROOT = os.path.dirname(os.path.abspath(__file__))


def api():
    return docker.APIClient(base_url=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"), timeout=300)


def floor(method, count):
    client = api()
    network = f"bench-ready-{method}"
    began = time.monotonic()
    client.create_network(network, labels={"io.heph.bench": method})
    addresses = [None] * count

    def one(index):
        healthcheck = {"Test": TEST, "Interval": 1_000_000_000, "Timeout": PROBE_TIMEOUT * 1_000_000_000, "Retries": 3} if method == "healthcheck" else None
        created = client.create_container(
            IMAGE, command=["sh", "-c", SERVE], name=f"bench-ready-{method}-{index:03d}", labels={"io.heph.bench": method},
            healthcheck=healthcheck, host_config=client.create_host_config(network_mode=network))
        client.start(created["Id"])
        if method == "listen":
            addresses[index] = client.inspect_container(created["Id"])["NetworkSettings"]["Networks"][network]["IPAddress"]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if method == "listen":
        waiting = set(addresses)
        while waiting:
            for address in list(waiting):
                with socket.socket() as probe:
                    # A local bridge answers a closed port at once (refused).
                    probe.settimeout(0.05)
                    try:
                        probe.connect((address, 80))
                        waiting.discard(address)
                    except OSError:
                        pass
            if waiting:
                time.sleep(0.01)
    else:
        while True:
            listed = client.containers(all=True, filters={"label": f"io.heph.bench={method}"})
            if sum("(healthy)" in c["Status"] for c in listed) == count:
                break
            if time.monotonic() - began > LIMIT:
                raise TimeoutError(f"{method}: not every service healthy within {LIMIT} s")
            time.sleep(0.1)
    return time.monotonic() - began


def floor_down(method):
    client = api()
    for container in client.containers(all=True, filters={"label": f"io.heph.bench={method}"}):
        client.remove_container(container["Id"], force=True)
    for network in client.networks(filters={"label": f"io.heph.bench={method}"}):
        client.remove_network(network["Id"])


def compose(count):
    lines = ["version: '2.4'", "services:"]
    for index in range(count):
        lines += [f"  s{index:03d}:", f"    image: {IMAGE}", f"    command: [\"sh\", \"-c\", \"{SERVE}\"]",
                  "    healthcheck:", "      test: [\"CMD-SHELL\", \"nc -w 1 127.0.0.1 80 -e true || exit 1\"]",
                  "      interval: 1s", f"      timeout: {PROBE_TIMEOUT}s", "      retries: 3"]
    lines += ["  gate:", f"    image: {IMAGE}", "    command: [\"sleep\", \"86400\"]", "    depends_on:"]
    lines += [f"      s{index:03d}:\n        condition: service_healthy" for index in range(count)]
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "docker-compose.yml")
        with open(path, "w") as file:
            file.write("\n".join(lines) + "\n")
        command = ["docker-compose", "-p", "benchready", "-f", path]
        began = time.monotonic()
        subprocess.run(command + ["up", "-d"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elapsed = time.monotonic() - began
        subprocess.run(command + ["down", "-t", "1"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return elapsed


def heph(count):
    environment = dict(os.environ, BENCH_COUNT=str(count))
    began = time.monotonic()
    subprocess.run([HEPH, "run", "--no-progress", "-p", "benchready", os.path.join(ROOT, "bench-lua", "ready.lua")], check=True, env=environment)
    elapsed = time.monotonic() - began
    subprocess.run([HEPH, "down", "-p", "benchready"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return elapsed


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(count, seconds, mode):
    """heph's CPU share over `seconds` once every service runs: probing a silent service, one
    serving another port, or waiting without `ready` (baseline)."""
    environment = dict(os.environ, BENCH_COUNT=str(count), BENCH_PORT="81", BENCH_WAIT=str(seconds + 60))
    if mode == "silent":
        environment["BENCH_SILENT"] = "1"
    if mode == "baseline":
        environment["BENCH_NO_READY"] = "1"
    process = subprocess.Popen([HEPH, "run", "--no-progress", "-p", "benchcpu", os.path.join(ROOT, "bench-lua", "ready.lua")],
                               env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = api()
    try:
        while sum(c["State"] == "running" for c in client.containers(filters={"label": "io.heph.project=benchcpu"})) < count:
            time.sleep(0.2)
        time.sleep(1)  # the last starts' own work done
        before, began = cpu_seconds(process.pid), time.monotonic()
        time.sleep(seconds)
        share = (cpu_seconds(process.pid) - before) / (time.monotonic() - began)
    finally:
        process.kill()
        process.wait()
        subprocess.run([HEPH, "down", "-p", "benchcpu"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return share * 100


def main():
    if sys.argv[1] == "up":
        method, count = sys.argv[2], int(sys.argv[3])
        if method == "heph":
            elapsed = heph(count)
        elif method == "compose":
            elapsed = compose(count)
        else:
            try:
                elapsed = floor(method, count)
            finally:
                floor_down(method)
        print(f"{method} {count} {elapsed:.3f}")
    elif sys.argv[1] == "cpu":
        count, seconds = int(sys.argv[2]), float(sys.argv[3])
        shares = [cpu_share(count, seconds, mode) for mode in ("silent", "other", "baseline")]
        print(f"cpu {count} " + " ".join(f"{share:.2f}" for share in shares))


if __name__ == "__main__":
    main()

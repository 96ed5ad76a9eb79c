#!/usr/bin/env python3
"""scripts/bench ha: leadership and state (docs/ha.md), against the real engine.

  takeover  a leader and a standby of project bench-ha; the leader SIGKILLed; the time until
            the standby's script prints its first line (it leads), over ROUNDS rounds (the
            standby of one round leads the next, and a new standby joins); then 5 rounds
            with the leader frozen (SIGSTOP) instead, whose lease ends by its timeout;
  state     heph.state.set and heph.state.get of a small table, timed inside heph (wall time
            of each call), 300 calls each;
  idle      the engine calls an idle leader makes in a minute, counted from its debug log:
            a leader with only a timer (the lease alone), and one with a hook (the lease and
            the watcher's polls).

Prints Markdown rows. Usage: bench-ha.py HEPH [ROUNDS]
"""
import os
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import time

heph = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
work = tempfile.mkdtemp()


def script(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def start(args, **kw):
    return subprocess.Popen([heph] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def wait_line(proc, stream, needle, timeout=60):
    """Reads `stream` of `proc` until a line contains `needle`; returns when it came (monotonic)."""
    sel = selectors.DefaultSelector()
    pipe = proc.stdout if stream == "out" else proc.stderr
    sel.register(pipe, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    buffer = b""
    while time.monotonic() < deadline:
        for _ in sel.select(timeout=0.5):
            chunk = os.read(pipe.fileno(), 65536)
            if not chunk:
                raise RuntimeError(f"{needle!r}: the process ended")
            buffer += chunk
            if needle.encode() in buffer:
                sel.close()
                return time.monotonic()
    raise RuntimeError(f"{needle!r} did not come within {timeout} s")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def takeover(how, count):
    """`how`: SIGKILL, or SIGSTOP (the leader frozen: the lease ends by its timeout)."""
    watch = script("watch.lua", 'print("lead")\nheph.on("exit", function() end)\n')
    subprocess.run([heph, "down", "-p", "bench-ha", "--volumes"], capture_output=True)
    leader = start(["run", "--lead", "-p", "bench-ha", watch])
    wait_line(leader, "out", "lead")
    times = []
    for _ in range(count):
        standby = start(["run", "--lead", "-p", "bench-ha", watch])
        wait_line(standby, "err", "standing by")
        time.sleep(0.5)
        ended = time.monotonic()
        leader.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGSTOP)
        led = wait_line(standby, "out", "lead")
        times.append(led - ended)
        leader.send_signal(signal.SIGKILL)
        leader.wait()
        leader = standby
    leader.send_signal(signal.SIGTERM)
    leader.wait()
    ms = [t * 1000 for t in times]
    goal = "p95 at most 2 s" if how == "SIGKILL" else "at most 5 s"
    print(f"| takeover after the leader's {how}, {count} rounds | p50 {percentile(ms, 50):.0f} ms, "
          f"p95 {percentile(ms, 95):.0f} ms, max {max(ms):.0f} ms | {goal} |")


def state():
    timing = script("state.lua", """
local sets, gets = {}, {}
local value = { attempt = 3, restarts = { 1700000000.5, 1700000060.25 }, given_up = false }
for i = 1, 300 do
  local t0 = heph.now(); heph.state.set("bench/" .. (i % 10), value); sets[#sets + 1] = heph.now() - t0
  local t1 = heph.now(); heph.state.get("bench/" .. (i % 10)); gets[#gets + 1] = heph.now() - t1
end
local function pct(t, p) table.sort(t); return t[math.max(1, math.floor(p / 100 * #t + 0.5))] * 1000 end
print(("%.1f %.1f %.1f %.1f"):format(pct(sets, 50), pct(sets, 95), pct(gets, 50), pct(gets, 95)))
""")
    out = subprocess.run([heph, "run", "-p", "bench-ha", timing], capture_output=True, text=True, check=True).stdout.split()
    print(f"| `heph.state.set` of a small table (300 calls) | p50 {out[0]} ms, p95 {out[1]} ms | |")
    print(f"| `heph.state.get` of it | p50 {out[2]} ms, p95 {out[3]} ms | |")


def idle():
    lease_only = script("idle-lease.lua", 'print("lead")\nheph.every(3600, function() end)\n')
    hooked = script("idle-hook.lua", 'print("lead")\nheph.on("exit", function() end)\n')
    counts = {}
    procs = {}
    for name, path, project in (("lease", lease_only, "bench-ha-a"), ("hook", hooked, "bench-ha-b")):
        procs[name] = start(["run", "--log-level", "debug", "--lead", "-p", project, path])
        wait_line(procs[name], "out", "lead")
    time.sleep(5)  # settled: the watcher's first look is done
    logs = {}
    for name, proc in procs.items():
        os.set_blocking(proc.stderr.fileno(), False)
        try:
            while os.read(proc.stderr.fileno(), 1 << 20):
                pass
        except BlockingIOError:
            pass
    time.sleep(60)
    for name, proc in procs.items():
        data = b""
        try:
            while True:
                chunk = os.read(proc.stderr.fileno(), 1 << 20)
                if not chunk:
                    break
                data += chunk
        except BlockingIOError:
            pass
        logs[name] = data.decode(errors="replace")
        counts[name] = sum(1 for line in logs[name].splitlines() if " → " in line)
        proc.send_signal(signal.SIGTERM)
        proc.wait()
    for project in ("bench-ha", "bench-ha-a", "bench-ha-b"):
        subprocess.run([heph, "down", "-p", project, "--volumes"], capture_output=True)
    print(f"| engine calls of an idle leader in a minute: the lease alone (a timer, no hook) | {counts['lease']} | |")
    print(f"| the same with a hook (its watcher polls every {5} s) | {counts['hook']} | |")


print("| what | measured | goal |")
print("|---|---|---|")
takeover("SIGKILL", rounds)
takeover("SIGSTOP", 5)
state()
idle()

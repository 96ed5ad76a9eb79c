#!/usr/bin/env python3
"""Runs the README's short tour as a new operator types it, step by step, and checks that
each step prints the line its comment promises.

    readme_tour.py README HEPH [-v]

README is the README.md whose "## A short tour" ```sh block is run; every command runs in
its directory (the checkout). HEPH is the heph under test: it replaces `scripts/heph` (which
would bootstrap and build first), and examples/projects.sh gets it as HEPH.

Each line of the block is a step: a command, its `# comment`, and the lines below it that
are comments alone (`# in another shell: CMD` is run once the step is ready). STEPS below
holds, for every step, the comment the README gives it (so a changed promise is noticed
here), how it runs, and what its output must contain; a step of the README that STEPS does
not know, or one STEPS knows that the README lost, fails the run: the two stay in step.

How the steps run:
- a command that ends by itself runs to its end (a limit of its own each), exit 0;
- one that runs until Ctrl-C (`(Ctrl-C to stop)`) runs in the background until its ready
  line, then its "in another shell" command runs (after a second, as a person switching
  shells would), then its promised lines are waited for, then it gets SIGINT (Ctrl-C) and
  must exit 130;
- `scripts/heph repl` runs at a pseudo-terminal (pexpect): each statement after "then:" is
  typed, then the other shell's command runs, then Ctrl-D leaves (exit 0).
The chaos step runs as written: 30 s, then its report.

The tour uses the default project's fixed names, ports 8080, 8081, 8090, 8091 and 8092, and
the projects staging and review: it refuses to start (exit 2) when one of those projects
has a container that is not the tour's, when a watcher of the default project runs, or
when a port is taken. It removes what it made however it ends: every container of those
projects (`heph down`, `heph down -p staging`, `heph down -p review`), and the volumes of
those projects that were not there before it began (the webapp's page volume, the
restart plugin's state).

Prints `ok N - STEP` per step (with -v, and what it printed), and ends with `tour: ok`
(exit 0), or `not ok N - STEP: why` followed by what the step printed (exit 1).
"""
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time

readme_path, heph = sys.argv[1], os.path.abspath(sys.argv[2])
verbose = "-v" in sys.argv[3:]
repo = os.path.dirname(os.path.abspath(readme_path))
env = dict(os.environ, HEPH=heph, NO_COLOR="1")
for name in ("HEPH_PROJECT", "HEPH_STACK_ONCE"):  # the tour is the default project's; stack.lua keeps watching
    env.pop(name, None)

PROJECTS = ["default", "staging", "review"]
PORTS = [8080, 8081, 8090, 8091, 8092]
# What the tour's own steps create in the default project: left over from an earlier run,
# they are removed before it begins.
TOUR_CONTAINERS = ["heph-webapp-web", "heph-webapp-api", "heph-stack-db", "heph-stack-api", "heph-stack-web",
                   "heph-chaos-web", "heph-chaos-worker"]


class Step:
    """What one README step promises, and how to run it.

    comment: the README's comment for it; ready: the line a background step prints once it
    watches; shell: its "in another shell" command as the README gives it; expect: regular
    expressions, each of which some line of its output (stdout and stderr) must match;
    statements: for the REPL, each statement typed and what its answer must match; limit:
    seconds for the step (for a background one, for each wait); settle: run before Ctrl-C,
    once the promise was seen.
    """

    def __init__(self, comment, expect, ready=None, shell=None, statements=None, limit=60, settle=None):
        self.comment, self.expect, self.ready, self.shell = comment, expect, ready, shell
        self.statements, self.limit, self.settle = statements, limit, settle


def healthy(*names):
    """A settle step: waits (up to 60 s) until each container's healthcheck says healthy."""
    def wait():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = [docker("inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip() for name in names]
            if all(state == "healthy" for state in states):
                return
            time.sleep(0.5)
        raise Failure(f"{', '.join(names)} not healthy again within 60 s")
    return wait


# Every step of the README's tour, keyed by its command as written there.
STEPS = {
    "scripts/heph run examples/hello.lua": Step(
        "the engine answers; what heph manages",
        [r"^heph \S+: the Docker engine answers$"]),
    "scripts/heph check examples/stack.lua": Step(
        "what a script would create, without touching the engine",
        [r"^it would create 1 network: heph-network$", r"^heph-stack-web\s+heph/busybox:latest\s+8090→80\s"]),
    "scripts/heph run examples/webapp.lua": Step(
        "two containers with ports, a volume, env, healthchecks",
        [r"^heph-webapp-web\s+healthy\s+heph/busybox:latest\s+8080->80$", r"^heph-webapp-api\s+healthy\s+heph/busybox:latest\s+8081->8000$"]),
    "scripts/heph ps": Step(
        "…now healthy",
        [r"^heph-webapp-api\s+healthy\s+heph/busybox:latest\s+8081→8000$", r"^heph-webapp-web\s+healthy\s+heph/busybox:latest\s+8080→80$"]),
    "wget -q -O- http://127.0.0.1:8080/": Step(
        "hello from heph",
        [r"^hello from heph$"]),
    "scripts/heph run examples/watch.lua": Step(
        "every transition as it happens (Ctrl-C to stop);",
        [r"\sheph-webapp-api\s+healthy\s+-> stopped\b", r"\sheph-webapp-api\s+exit code 137\b"],
        ready=r"^watching every managed container", shell="docker kill heph-webapp-api"),
    "scripts/heph run examples/autoheal.lua": Step(
        "restarts whatever turns unhealthy (Ctrl-C to stop);",
        [r"\sheph-webapp-web is unhealthy; restarting$", r"\sheph-webapp-web restarted$"],
        ready=r"^healing containers matching", shell="docker exec heph-webapp-web rm /www/index.html"),
    "scripts/heph down": Step(
        "gone again",
        [r"^removed 2 containers \(heph-webapp-api, heph-webapp-web\), network heph-network$"]),
    "scripts/heph run examples/stack.lua": Step(
        "db <- api <- web with restart and cascade (Ctrl-C to stop);",
        [r"^heph cascade: heph-stack-db restarted; restarting heph-stack-api, heph-stack-web$"],
        ready=r"^the stack is up", shell="docker kill heph-stack-db", limit=90,
        settle=healthy("heph-stack-db", "heph-stack-api", "heph-stack-web")),
    "scripts/heph run examples/chaos.lua 30": Step(
        "30 s of random kills and pauses, then a report",
        [r"^strikes: [1-9]\d*, restarts: \d+, all healthy: true$"], limit=150),
    "examples/projects.sh": Step(
        "stack.lua as two projects side by side, then each removed",
        [r"^staging's api asks stack-db: db$", r"^staging's api cannot reach heph_review_stack-db: another project's names do not resolve$",
         r"^removed 3 containers \(heph_review_stack-api, heph_review_stack-db, heph_review_stack-web\), network heph_review_network$"],
        limit=180),
    "scripts/heph repl": Step(
        'then: heph.list_containers()   heph.on("change", print)',
        # print(ev): one line naming the container and its change, not `table: 0x…`.
        [r"heph-stack-web: \w+ (→|->) \w+"],
        statements=[("heph.list_containers()", r"heph-stack-web\s+healthy"), ('heph.on("change", print)', None)],
        shell="docker restart heph-stack-web"),
}


class Failure(Exception):
    pass


def docker(*arguments):
    return subprocess.run(["docker", *arguments], capture_output=True, text=True, env=env)


def parse_tour(text):
    """The tour's steps: [(command, comment, shell)], from the ```sh block under its heading."""
    lines = text.split("\n")
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("## A short tour"))
        opening = next(i for i in range(start, len(lines)) if lines[i].strip() == "```sh")
        closing = next(i for i in range(opening + 1, len(lines)) if lines[i].strip() == "```")
    except StopIteration:
        raise Failure("the README has no ```sh block under '## A short tour'")
    steps = []
    for line in lines[opening + 1:closing]:
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            if not steps:
                raise Failure(f"a comment before the tour's first command: {line.strip()}")
            continuation = line.strip()[1:].strip()
            match = re.match(r"in another shell: (.+)$", continuation)
            if match:
                steps[-1][2] = match.group(1).strip()
            else:
                steps[-1][1] += " " + continuation
            continue
        match = re.match(r"^(.*?)\s+#\s?(.*)$", line)
        command, comment = (match.group(1), match.group(2)) if match else (line, "")
        steps.append([command.strip(), comment.strip(), None])
    return [tuple(step) for step in steps]


def argv_of(command):
    words = shlex.split(command)
    if words and words[0] == "scripts/heph":
        words[0] = heph
    return words


def show(text):
    return "".join("    " + line + "\n" for line in text.rstrip("\n").split("\n")) if text.strip() else "    (nothing)\n"


def missing_lines(output, patterns):
    lines = output.split("\n")
    return [pattern for pattern in patterns if not any(re.search(pattern, line) for line in lines)]


def wait_for(read, patterns, limit, alive=lambda: True):
    """Waits until every pattern matches a line of read(); the patterns still missing."""
    deadline = time.monotonic() + limit
    while True:
        missing = missing_lines(read(), patterns)
        if not missing or time.monotonic() > deadline or not alive():
            return missing_lines(read(), patterns)
        time.sleep(0.2)


def another_shell(command):
    time.sleep(1)  # a person switching to another shell
    result = subprocess.run(argv_of(command), cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise Failure(f"in another shell, `{command}` exited {result.returncode}: {result.stdout}{result.stderr}")


class Background:
    """A step that runs until Ctrl-C: output in files, in a process group of its own."""

    def __init__(self, command):
        self.directory = tempfile.mkdtemp(prefix="heph-tour-")
        self.out = open(os.path.join(self.directory, "out"), "w+")
        self.err = open(os.path.join(self.directory, "err"), "w+")
        self.process = subprocess.Popen(argv_of(command), cwd=repo, env=env, stdin=subprocess.DEVNULL,
                                        stdout=self.out, stderr=self.err, start_new_session=True)

    def output(self):
        text = ""
        for handle in (self.out, self.err):
            handle.flush()
            with open(handle.name, encoding="utf-8", errors="replace") as reader:
                text += reader.read()
        return text

    def alive(self):
        return self.process.poll() is None

    def interrupt(self, limit=30):
        """Ctrl-C (SIGINT to its process group); its exit status."""
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            raise Failure(f"still running {limit} s after Ctrl-C")

    def kill(self):
        if self.alive():
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()


running = []


def run_background(step, command, shell):
    job = Background(command)
    running.append(job)
    try:
        if wait_for(job.output, [step.ready], step.limit, job.alive):
            raise Failure(f"no line /{step.ready}/ within {step.limit} s" + ("" if job.alive() else f" (it exited {job.process.returncode})"))
        if shell:
            another_shell(shell)
        missing = wait_for(job.output, step.expect, step.limit, job.alive)
        if missing:
            raise Failure(f"no line /{missing[0]}/ within {step.limit} s" + ("" if job.alive() else f" (it exited {job.process.returncode})"))
        if step.settle:
            step.settle()
        status = job.interrupt()
        if status != 130:
            raise Failure(f"exited {status} after Ctrl-C, not 130")
    except Failure as failure:
        raise Failure(failure.args[0], job.output())
    return job.output()


def run_repl(step, command, shell):
    import pexpect  # python3-pexpect (scripts/bootstrap installs it)
    home = tempfile.mkdtemp(prefix="heph-tour-home-")  # the REPL keeps its history there
    words = argv_of(command)
    child = pexpect.spawn(words[0], words[1:], cwd=repo, env=dict(env, HOME=home, TERM="xterm"),
                          encoding="utf-8", timeout=step.limit, dimensions=(24, 200))
    transcript = []
    child.logfile_read = Collect(transcript)
    waiting = "the prompt"
    try:
        child.expect_exact("> ")
        for statement, answer in step.statements:
            child.sendline(statement)
            if answer:
                waiting = f"/{answer}/ after {statement}"
                child.expect(answer)
            waiting = f"the prompt after {statement}"
            child.expect_exact("> ")
        if shell:
            another_shell(shell)
        for pattern in step.expect:
            waiting = f"/{pattern}/"
            child.expect(pattern)
        waiting = "the end after Ctrl-D"
        child.sendeof()
        child.expect(pexpect.EOF)
        child.close()
        if child.exitstatus != 0:
            raise Failure(f"left with Ctrl-D, it exited {child.exitstatus}")
    except (pexpect.ExceptionPexpect, Failure) as problem:
        child.close(force=True)
        why = problem.args[0] if isinstance(problem, Failure) else f"{waiting} did not come ({type(problem).__name__})"
        raise Failure(why, "".join(transcript).replace("\r\n", "\n"))
    finally:
        subprocess.run(["rm", "-rf", home])
    return "".join(transcript).replace("\r\n", "\n")


class Collect:
    def __init__(self, into):
        self.into = into

    def write(self, text):
        self.into.append(text)

    def flush(self):
        pass


def run_to_end(step, command):
    try:
        result = subprocess.run(argv_of(command), cwd=repo, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=step.limit)
    except subprocess.TimeoutExpired as expired:
        printed = [stream.decode(errors="replace") if isinstance(stream, bytes) else stream or "" for stream in (expired.stdout, expired.stderr)]
        raise Failure(f"still running after {step.limit} s", "".join(printed))
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise Failure(f"exited {result.returncode}", output)
    return output


def managed_containers(project):
    """The names of a project's managed containers (the default one's: also those with no project label)."""
    listed = docker("ps", "-a", "--filter", "label=io.heph.managed=true", "--format", '{{.Names}}\t{{.Label "io.heph.project"}}')
    names = []
    for line in listed.stdout.split("\n"):
        if not line.strip():
            continue
        name, _, owner = line.partition("\t")
        if (owner or "default") == project:
            names.append(name)
    return names


def heph_volumes():
    listed = docker("volume", "ls", "--format", '{{.Name}}\t{{.Label "io.heph.project"}}\t{{.Label "io.heph.managed"}}\t{{.Label "io.heph.role"}}')
    volumes = {}
    for line in listed.stdout.split("\n"):
        fields = line.split("\t")
        if len(fields) == 4 and (fields[2] == "true" or fields[3]):
            volumes[fields[0]] = fields[1] or "default"
    return volumes


def preflight():
    """Why the tour cannot run here, or None; removes what an earlier tour left."""
    leftovers = [name for name in managed_containers("default") if name in TOUR_CONTAINERS]
    if leftovers:
        print(f"tour: removing what an earlier tour left: {', '.join(leftovers)}")
        docker("rm", "-f", *leftovers)
    for project in PROJECTS:
        others = [name for name in managed_containers(project) if name not in TOUR_CONTAINERS]
        if others:
            return f"project {project} has containers the tour's `heph down` would remove: {', '.join(others)}"
    watchers = subprocess.run([heph, "status", "-p", "default"], capture_output=True, text=True, env=env)
    if watchers.returncode != 0 or "no watcher" not in watchers.stdout:
        return f"a watcher of the default project runs (its hooks would act on the tour's containers):\n{watchers.stdout}{watchers.stderr}"
    for port in PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("0.0.0.0", port))
            except OSError as problem:
                return f"port {port} is taken ({problem.strerror}); the tour publishes it"
    return None


def clean_up(volumes_before):
    for job in running:
        job.kill()
    for project in PROJECTS:
        subprocess.run([heph, "down", "-p", project], capture_output=True, env=env)
    for name, project in heph_volumes().items():
        if name not in volumes_before and project in PROJECTS:
            docker("volume", "rm", "-f", name)


def main():
    # Ended from outside (the test's timeout, a Ctrl-C): the cleanup in `finally` still runs.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(143))
    with open(readme_path, encoding="utf-8") as handle:
        try:
            tour = parse_tour(handle.read())
        except Failure as failure:
            print(f"not ok - {failure.args[0]}")
            return 1
    commands = [command for command, _, _ in tour]
    unknown = [command for command in commands if command not in STEPS]
    lost = [command for command in STEPS if command not in commands]
    if unknown or lost:
        print("not ok - the README's tour and readme_tour.py's STEPS differ:"
              + "".join(f"\n    the README has `{c}`, STEPS does not" for c in unknown)
              + "".join(f"\n    STEPS has `{c}`, the README does not" for c in lost))
        return 1
    for command, comment, shell in tour:
        step = STEPS[command]
        if comment != step.comment or shell != step.shell:
            print(f"not ok - the README's step `{command}` now reads `# {comment}`"
                  + (f" / in another shell: `{shell}`" if shell else "")
                  + f"; STEPS knows it as `# {step.comment}`" + (f" / in another shell: `{step.shell}`" if step.shell else "")
                  + ": update what STEPS expects of it")
            return 1

    problem = preflight()
    if problem:
        print(f"tour: cannot run here: {problem}")
        return 2
    volumes_before = set(heph_volumes())
    try:
        for number, (command, _, shell) in enumerate(tour, 1):
            step = STEPS[command]
            began = time.monotonic()
            try:
                if step.statements is not None:
                    output = run_repl(step, command, shell)
                elif step.ready:
                    output = run_background(step, command, shell)
                else:
                    output = run_to_end(step, command)
                missing = missing_lines(output, step.expect)
                if missing:
                    raise Failure(f"no line /{missing[0]}/", output)
            except Failure as failure:
                why, output = failure.args if len(failure.args) == 2 else (failure.args[0], "")
                print(f"not ok {number} - {command}: {why}\n  it printed:\n{show(output)}", flush=True)
                return 1
            print(f"ok {number} - {command} ({time.monotonic() - began:.1f} s)", flush=True)
            if verbose:
                print(show(output), end="", flush=True)
    finally:
        clean_up(volumes_before)
    print("tour: ok")
    return 0


sys.exit(main())

#!/usr/bin/env python3
"""Drives `heph repl` through a pseudo-terminal, as a person at a keyboard would.

    repl_session.py HEPH SCENARIO [NAME]

Exits 0 when the scenario went as expected; otherwise prints what the terminal showed and
exits 1. HOME is a fresh directory per run unless HEPH_TEST_HOME is set (history).

With HEPH_REPL_COMMAND=attach the same scenarios drive `heph attach -p HEPH_REPL_PROJECT`
(a prompt inside a running watcher) instead of `heph repl`.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile

import pexpect

heph, scenario = sys.argv[1], sys.argv[2]
name = sys.argv[3] if len(sys.argv) > 3 else "unused"
home = os.environ.get("HEPH_TEST_HOME") or tempfile.mkdtemp(prefix="heph-repl-home-")
if "HEPH_TEST_HOME" not in os.environ:
    atexit.register(shutil.rmtree, home, True)  # a fresh home is this run's: removed with it
env = dict(os.environ, HOME=home, TERM="xterm", NO_COLOR="1")
UP = "\x1b[A"


command = os.environ.get("HEPH_REPL_COMMAND", "repl")
project = os.environ.get("HEPH_REPL_PROJECT")


def start():
    arguments = [command] + (["-p", project] if project else [])
    child = pexpect.spawn(heph, arguments, env=env, encoding="utf-8", timeout=15, dimensions=(24, 200))
    child.expect_exact("> ")
    return child


def ask(child, line, answer):
    child.sendline(line)
    child.expect_exact(answer)
    child.expect_exact("> ")


def leave(child):
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    if child.exitstatus != 0:
        raise AssertionError(f"heph {command} exited {child.exitstatus}")


def expressions():
    child = start()
    ask(child, "1 + 1", "2\r\n")
    ask(child, "{ b = 1, a = { 1, 2 }, [3] = true }", "{ [3] = true, a = { 1, 2 }, b = 1 }\r\n")
    ask(child, "'text', 42, nil", "text\t42\tnil\r\n")
    child.sendline('_PROMPT = "heph> "; _PROMPT2 = "...> "')
    child.expect_exact("heph> ")
    child.sendline("(1 +")
    child.expect_exact("...> ")
    child.sendline("2)")
    child.expect_exact("3\r\n")
    child.expect_exact("heph> ")
    leave(child)


def multiline():
    child = start()
    child.sendline("function triple(a)")
    child.expect_exact(">> ")
    child.sendline("  return a * 3")
    child.expect_exact(">> ")
    child.sendline("end")
    child.expect_exact("> ")
    ask(child, "triple(5)", "15\r\n")
    leave(child)


def error_then_working():
    child = start()
    child.sendline('error("boom")')
    child.expect_exact("stdin:1: boom")
    child.expect_exact("> ")
    ask(child, "1 + 2", "3\r\n")
    leave(child)


def hook_while_waiting():
    child = start()
    child.sendline(f'h = heph.on("created", "{name}", function(ev) print("hook saw " .. ev.name) end)')
    child.expect_exact("> ")
    child.send("1 +")  # half a line typed when the hook fires
    subprocess.run(["docker", "create", "--label", "io.heph.managed=true", "--name", f"heph-{name}", "heph/busybox:latest", "true"],
                   check=True, stdout=subprocess.DEVNULL)
    child.expect_exact(f"hook saw heph-{name}")
    child.send(" 41\r")  # the line typed before the hook is still there
    child.expect_exact("42\r\n")
    child.expect_exact("> ")
    leave(child)


def interrupt_sleep():
    child = start()
    # sleeping is the behaviour under test: Ctrl-C ends a long heph.sleep at the prompt.
    child.sendline("print('sleeping') heph.sleep(60)")
    child.expect_exact("print('sleeping') heph.sleep(60)\r\n")
    child.expect_exact("sleeping\r\n")  # the statement runs now
    child.sendintr()
    child.expect_exact("interrupted", timeout=3)
    child.expect_exact("> ", timeout=3)
    child.sendline("print('spinning') while true do end")
    child.expect_exact("print('spinning') while true do end\r\n")
    child.expect_exact("spinning\r\n")  # the loop runs now
    child.sendintr()
    child.expect_exact("interrupted", timeout=3)
    child.expect_exact("> ", timeout=3)
    ask(child, "'still here'", "still here\r\n")
    leave(child)


def history():
    child = start()
    ask(child, "history_marker = 7", "history_marker = 7")
    leave(child)
    child = start()
    child.send(UP)
    child.expect_exact("history_marker = 7")
    child.send("\r")
    child.expect_exact("> ")
    ask(child, "history_marker", "7\r\n")
    leave(child)


def completion():
    child = start()
    child.send("heph.st\t\t")
    child.expect_exact("heph.st")  # the word as typed (the matches share no longer prefix)
    child.expect_exact("> heph.st")  # the list, then the prompt drawn again
    for expected in ("heph.start_container", "heph.stop_container", "heph.start_health_polling"):
        if expected not in child.before:
            raise AssertionError(f"{expected} is not offered: {child.before!r}")
    child.sendcontrol("u")
    child.send("heph.rest\t")   # one match: completed in place (heph.rest alone would be nil)
    child.expect_exact("art_container")  # the completion, drawn
    child.send("\r")
    child.expect_exact("function:")
    child.expect_exact("> ")
    ask(child, "settings = { alpha = 41, beta = 2 }", "")
    child.send("settings.al\t")  # the fields of a table built at the prompt
    child.expect_exact("pha")  # the completion, drawn
    child.send(" + 1\r")
    child.expect_exact("42\r\n")
    child.expect_exact("> ")
    leave(child)


def shutdown_on_eof():
    child = start()
    ask(child, 'heph.on_shutdown(function() print("shutdown ran") end)', "")
    child.sendeof()
    child.expect_exact("shutdown ran")
    child.expect(pexpect.EOF)
    child.close()
    if child.exitstatus != 0:
        raise AssertionError(f"heph repl exited {child.exitstatus}")


def project_prompt():
    # NAME is the project: the prompt says it, and so does heph.config.project.
    child = pexpect.spawn(heph, [command, "-p", name], env=env, encoding="utf-8", timeout=15, dimensions=(24, 200))
    child.expect_exact(f"{name}> ")
    ask(child, "heph.config.project", f"{name}\r\n")
    child.sendline("(1 +")
    child.expect_exact(f"{name}>> ")
    child.sendline("2)")
    child.expect_exact("3\r\n")
    child.expect_exact(f"{name}> ")
    leave(child)


scenarios = {f.__name__: f for f in (expressions, multiline, error_then_working, hook_while_waiting,
                                      interrupt_sleep, history, completion, shutdown_on_eof, project_prompt)}
try:
    scenarios[scenario]()
except Exception as problem:  # pexpect's timeouts and EOFs, and our own assertions
    print(f"{scenario}: {type(problem).__name__}: {problem}")
    sys.exit(1)
print(f"{scenario}: ok")

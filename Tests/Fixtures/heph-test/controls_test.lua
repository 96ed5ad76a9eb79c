-- Every sim control, as a test of heph test itself (TestCommandTests).
local transitions
local function record()
  transitions = {}
  heph.on("change", function(ev)
    transitions[#transitions + 1] = ev.name .. " " .. (ev.previous or "new") .. ">" .. ev.status
  end)
  heph.on("exit", function(ev)
    transitions[#transitions + 1] = ev.name .. " exit " .. ev.exit_code .. (ev.oom_killed and " oom" or "")
  end)
end
local function seen() return table.concat(transitions, ", ") end
local function start(name, extra)
  local config = { image = "heph/busybox:latest", name = name, healthcheck = { test = "true", interval = 1 } }
  for k, v in pairs(extra or {}) do config[k] = v end
  heph.start_container(heph.create_container(config))
  heph.sleep(1)
end
local function expect(want)
  heph.sleep(1)
  assert(seen() == want, "\nwant " .. want .. "\ngot  " .. seen())
end

test("kill, crash, oom and stop, as the engine tells them", function()
  record()
  start("a"); sim.kill("a")
  start("b"); sim.crash("b", 5)
  start("c"); sim.oom("c")
  start("d"); sim.stop("d")
  start("e"); sim.kill("e", 143)
  heph.sleep(1)
  local last = {}
  for _, t in ipairs(transitions) do
    local name = t:match("^(%S+)")
    last[name] = (last[name] and last[name] .. ", " or "") .. t:match("^%S+ (.*)")
  end
  assert(last["heph-a"] == "new>created, created>running, running>healthy, healthy>stopped, exit 137", last["heph-a"])
  assert(last["heph-b"]:find("healthy>stopped, exit 5$"), last["heph-b"])
  assert(last["heph-c"]:find("healthy>stopped, exit 137 oom$"), last["heph-c"])
  assert(last["heph-d"]:find("healthy>stopped, exit 0$"), last["heph-d"])
  assert(last["heph-e"]:find("exit 143$"), last["heph-e"])
end)

test("health, pause and removal from outside", function()
  start("web")
  record()
  sim.set_health("web", "unhealthy")
  heph.sleep(2.5)   -- probes at +1 and +2 fail
  assert(heph.health_check("web") == "healthy", "two failing probes of three: still healthy")
  heph.sleep(1)     -- the third
  assert(heph.inspect_container("web").health.failing_streak == 3, heph.inspect_container("web").health.failing_streak)
  sim.set_health("web", "healthy")
  heph.sleep(1)
  sim.pause("web")
  sim.unpause("web")
  sim.remove("web")
  expect("heph-web healthy>unhealthy, heph-web unhealthy>healthy, heph-web healthy>error, heph-web error>healthy, "
    .. "heph-web healthy>stopped, heph-web exit 137, heph-web stopped>removed")
end)

test("an engine outage, then one that restarts the engine", function()
  start("web")
  record()
  sim.engine_down(10)
  assert(not pcall(heph.list_containers), "calls fail while the engine is down")
  heph.sleep(20)
  assert(#heph.list_containers() == 1 and seen() == "", "a plain outage changes nothing: " .. seen())
  sim.engine_down(10, { restart = true })
  heph.sleep(20)
  expect("heph-web healthy>stopped, heph-web exit 0")
end)

test("exec_result, output and actions", function()
  start("web")
  sim.exec_result("web", function(cmd) return 3, "ran " .. cmd[1], "oops" end)
  local code, out, err = heph.exec("web", { "ls", "/" })
  assert(code == 3 and out == "ran ls" and err == "oops", tostring(code) .. " " .. out .. " " .. err)
  sim.output("web", "one\ntwo\nthree\n", "warn\n")
  local stdout, stderr = heph.logs("web", { tail = 2 })
  assert(stdout == "two\nthree\n" and stderr == "warn\n", stdout .. stderr)
  heph.restart_container("web")
  local ops = {}
  for _, a in ipairs(sim.actions()) do ops[#ops + 1] = a.op .. " " .. a.name .. " " .. (a.at - 1700000000) end
  assert(table.concat(ops, ", ") == "create_container heph-web 0.0, start_container heph-web 0.0, exec heph-web 1.0, restart_container heph-web 1.0",
    table.concat(ops, ", "))
end)

test("sim.run runs a script's main chunk with its arguments", function()
  local a, b = sim.run("script.lua", "x", "y")
  assert(a == "x y" and b == "script.lua", tostring(a) .. " " .. tostring(b))
end)

test("mistakes name the control and the fix", function()
  start("web")
  local function message(f, ...) return select(2, pcall(f, ...)) end
  assert(message(sim.kill, "nope"):find("sim.kill: no such container: nope"), message(sim.kill, "nope"))
  assert(message(sim.kill, "web", "x"):find("bad argument #2 to '.*exit code must be"), message(sim.kill, "web", "x"))
  sim.kill("web")
  assert(message(sim.crash, "web"):find("sim.crash: heph%-web is stopped, not running"), message(sim.crash, "web"))
  assert(message(sim.engine_down, 5, { restartt = true }):find("unknown option \"restartt\""), message(sim.engine_down, 5, { restartt = true }))
  assert(message(sim.set_health, "web", "sick"):find("\"healthy\" or \"unhealthy\" expected"), message(sim.set_health, "web", "sick"))
  heph.start_container(heph.create_container{ image = "heph/busybox:latest", name = "plain" })
  assert(message(sim.set_health, "plain", "healthy"):find("has no healthcheck"), message(sim.set_health, "plain", "healthy"))
  assert(message(sim.engine_down, 0):find("seconds must be"), message(sim.engine_down, 0))
  assert(message(test, "late", function() end):find("declare tests at the top level"), message(test, "late", function() end))
end)

-- world.lua: the conformance suite's faults and its record (ConformanceTests). A scenario
-- makes the same calls in both worlds: on the simulated engine (`heph test`, where `sim`
-- exists) they are sim's; on a real engine (`heph run`) the docker CLI's, on the
-- containers' engine names. Every transition is printed as
--   T NAME PREVIOUS STATUS expected|unexpected CAUSE STATE
--   T NAME exit EXIT_CODE oom|- CAUSE
-- and the suite compares those lines, per container, in order.
local world = {}
world.simulated = sim ~= nil

-- A busybox service that serves nothing and stays up: healthy unless /tmp/sick exists (its
-- healthcheck probes every second, and depends on nothing the process must do first),
-- exits 0 on SIGTERM, and 3 on SIGUSR1 (a crash); on SIGUSR2 it reads 64 MB into a shell
-- variable (with `memory = "16m"`, the kernel kills it: an OOM kill). `sick`: unhealthy from the first probe,
-- and after every restart. `unready`: it has a ready probe (heph's, operations.md §5) that
-- fails until world.set_ready.
local sick, unready = {}, {}
function world.service(name, extra)
  local config = {
    image = "heph/busybox:latest",
    cmd = { "sh", "-c", [[trap 'exit 0' TERM; trap 'exit 3' USR1; trap 'x=$(head -c 64000000 /dev/zero | tr "\000" a)' USR2; sleep 3600 & wait]] },
    -- A long timeout: on a busy machine a probe's exec may take seconds, which is no failure.
    -- Two retries: a probe that meets the container dying (a kill, a crash) fails once.
    healthcheck = { test = 'test -z "$SICK" && test ! -f /tmp/sick', interval = 1, timeout = 30, retries = 2 },
  }
  for key, value in pairs(extra or {}) do
    if key == "sick" then
      config.env = { SICK = "1" }
      sick[heph.CONTAINER_PREFIX .. name] = true
    elseif key == "unready" then
      config.ready = { exec = "test -f /tmp/ready", interval = 0.2 }
      unready[heph.CONTAINER_PREFIX .. name] = true
    else
      config[key] = value
    end
  end
  return config
end

-- Creates and starts the container `name` from world.service.
function world.start(name, extra)
  local config = world.service(name, extra)
  config.name = name
  heph.start_container(heph.create_container(config))
end

local function docker(...)
  local code, stdout, stderr = heph.shell({ "docker", ... })
  if code ~= 0 then error("docker " .. table.concat({ ... }, " ") .. ": " .. stderr .. stdout, 3) end
end

local function engine_name(c)
  return heph.inspect_container(c).docker_name
end

-- Prints every transition of the project's containers, and every exit with its code.
function world.record()
  heph.on("change", function(ev)
    print(("T %s %s %s %s %s %s"):format(ev.name, ev.previous or "new", ev.status, ev.expected and "expected" or "unexpected", ev.cause, ev.state))
  end)
  heph.on("exit", function(ev)
    print(("T %s exit %s %s %s"):format(ev.name, ev.exit_code, ev.oom_killed and "oom" or "-", ev.cause))
  end)
  if world.simulated then
    -- A sick service is unhealthy from its first probe on, as its healthcheck makes it.
    heph.on("created", function(ev)
      if sick[ev.name] then sim.set_health(ev.name, "unhealthy") end
      if unready[ev.name] then sim.set_ready(ev.name, false) end
    end)
  end
end

-- The faults, done from outside heph.
function world.kill(c)
  if world.simulated then return sim.kill(c) end
  docker("kill", engine_name(c))
end

function world.crash(c)   -- the process exits on its own, with 3
  if world.simulated then return sim.crash(c, 3) end
  -- The exec ends with the container, so its own result says nothing.
  heph.shell({ "docker", "exec", engine_name(c), "kill", "-USR1", "1" })
end

function world.oom(c)   -- the kernel kills it for its memory (started with memory = "16m")
  if world.simulated then return sim.oom(c) end
  heph.shell({ "docker", "exec", engine_name(c), "kill", "-USR2", "1" })
end

function world.stop(c)
  if world.simulated then return sim.stop(c) end
  docker("stop", engine_name(c))
end

function world.set_health(c, verdict)
  if world.simulated then return sim.set_health(c, verdict) end
  local script = verdict == "healthy" and "rm -f /tmp/sick" or "mkdir -p /tmp && touch /tmp/sick"
  docker("exec", engine_name(c), "sh", "-c", script)
end

-- What heph's ready probe of `c` (an `unready` service) sees from now on.
function world.set_ready(c, ready)
  if world.simulated then return sim.set_ready(c, ready) end
  docker("exec", engine_name(c), "sh", "-c", ready and "touch /tmp/ready" or "rm -f /tmp/ready")
end

-- Prints `T NAME ready true|false`: whether heph.wait_ready(c, timeout) saw it ready.
function world.ready_check(c, timeout)
  print(("T %s ready %s"):format(heph.inspect_container(c).name, heph.wait_ready(c, timeout) == true))
end

function world.pause(c)
  if world.simulated then return sim.pause(c) end
  -- On a busy host the kernel's freezer can fail to catch every process at once (runc:
  -- "unable to freeze"); the container is left running, and pausing it again works.
  local name = engine_name(c)
  for _ = 1, 4 do
    local code, _, stderr = heph.shell({ "docker", "pause", name })
    if code == 0 then return end
    if not stderr:find("unable to freeze", 1, true) then break end
    heph.sleep(0.2)
  end
  docker("pause", name)
end

function world.unpause(c)
  if world.simulated then return sim.unpause(c) end
  docker("unpause", engine_name(c))
end

function world.remove(c)
  if world.simulated then return sim.remove(c) end
  docker("rm", "-f", engine_name(c))
end

-- The engine away for `seconds`, restarted without live-restore (every container
-- stopped). On a real engine the suite does it when it reads the line below.
function world.engine_restart(seconds)
  if world.simulated then
    sim.engine_down(seconds, { restart = true })
    heph.sleep(seconds)
  else
    print("world engine-restart " .. seconds)
    -- Gone first (the suite may take a moment to read the line under load), then back.
    local deadline = heph.now() + 120
    while pcall(heph.ping) do
      if heph.now() > deadline then error("the engine was not stopped within 120 s", 2) end
      heph.sleep(0.1)
    end
    while not pcall(heph.ping) do
      if heph.now() > deadline then error("the engine did not come back within 120 s", 2) end
      heph.sleep(0.2)
    end
  end
end

-- Waits until `c` is `status` (at most 60 s).
function world.wait_for(c, status)
  local deadline = heph.now() + 60
  while heph.health_check(c) ~= status do
    if heph.now() > deadline then
      error(("%s is %s, not %s, after 60 s"):format(c, heph.health_check(c), status), 2)
    end
    heph.sleep(0.1)
  end
end

-- Waits until `check()` is true (at most 60 s): `what` says what for.
function world.wait_until(what, check)
  local deadline = heph.now() + 60
  while not check() do
    if heph.now() > deadline then error("waited 60 s for " .. what, 2) end
    heph.sleep(0.1)
  end
end

-- The end of a scenario: what is still on its way arrives, then the run ends.
function world.finish()
  heph.sleep(2)
  if not world.simulated then heph.exit(0) end
end

return world

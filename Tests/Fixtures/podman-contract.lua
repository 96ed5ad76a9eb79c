-- The Lua contract's orchestrator calls, heph.up (a healthcheck, a readiness probe, an
-- order), hooks from the event stream and heph's own healthchecks, on whatever engine
-- DOCKER_HOST names: PodmanTests runs it against Podman's service. Each line it prints is
-- checked by the test; it ends by itself (heph.exit) once every hook has fired.
local heph = require("heph")

local function say(...)
  local words = {}
  for i = 1, select("#", ...) do words[#words + 1] = tostring(select(i, ...)) end
  print(table.concat(words, " "))
  io.stdout:flush()
end

assert(heph.ping() == true)
say("network", type(heph.create_network()))

local seen = {}
local function ended(what)
  seen[what] = true
  if seen.unhealthy and seen.healthy_again and seen.exit and seen.stopped then heph.exit(0) end
end

-- Hooks first: transitions reach only hooks registered when they happen.
heph.on("unhealthy", "heph-db", function(ev)
  say("hook unhealthy", ev.name, ev.previous, ev.expected)
  ended("unhealthy")
  -- Heal it: the next check heph runs makes it healthy again.
  heph.exec("db", "echo ok > /tmp/ok")
end)
heph.on("healthy", "heph-db", function(ev)
  if seen.unhealthy then
    say("hook healthy", ev.name, ev.previous)
    ended("healthy_again")
  end
end)
heph.on("exit", "heph-crash", function(ev)
  say("hook exit", ev.name, ev.exit_code, ev.expected)
  ended("exit")
end)
heph.on("stopped", "heph-web", function(ev)
  say("hook stopped", ev.name, ev.expected)
  ended("stopped")
end)

heph.up{ services = {
  db = {
    image = "heph/busybox:latest",
    cmd = { "sh", "-c", "trap 'exit 0' TERM; echo ok > /tmp/ok; while true; do sleep 1; done" },
    healthcheck = { test = { "cat", "/tmp/ok" }, interval = 1, timeout = 2, retries = 1 },
  },
  web = {
    image = "heph/busybox:latest",
    cmd = { "sh", "-c", "trap 'exit 0' TERM; mkdir -p /www; echo 'hello from podman' > /www/index.html; sleep 0.3; exec httpd -f -p 80 -h /www" },
    volumes = { ["heph-pages"] = "/www" },
    ready = { http = "/", port = 80 },
    depends_on = { "db" },
  },
} }
say("up", heph.health_check("db"), heph.health_check("web"))

for _, c in ipairs(heph.list_containers()) do say("list", c.name, c.status) end
local info = heph.inspect_container("heph-db")
say("inspect", info.name, info.status, info.state)

local code, out = heph.exec("web", { "wget", "-q", "-O-", "http://127.0.0.1/" })
say("exec", code, (out:gsub("\n", "")))
local stdout = heph.logs("db")
say("logs", type(stdout))

heph.create_container{ name = "crash", image = "heph/busybox:latest", cmd = { "sh", "-c", "sleep 1; exit 3" } }
heph.start_container("crash")
heph.stop_container("web", 2)
heph.exec("db", "rm /tmp/ok")
heph.after(60, function() say("timed out", seen.unhealthy, seen.healthy_again, seen.exit, seen.stopped); heph.exit(1) end)

-- ScaleTests: COUNT services (arg[1]) brought up at heph.config.engine_concurrency =
-- arg[2] beside a canary container, with a hook on "exit" that prints how long after the
-- engine's event it ran ("exit NAME SECONDS"). The test kills the canary while heph.up is
-- still queueing its work, and later runs `heph down` from outside while this watches.
local count = tonumber(arg[1]) or 100
heph.config.engine_concurrency = tonumber(arg[2]) or 2
local idle = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }

heph.create_container{ image = "heph/busybox:latest", name = "canary", cmd = idle }
heph.start_container("canary")
heph.on("exit", function(ev) print(("exit %s %.3f"):format(ev.name, heph.now() - ev.at)) end)

local services = {}
for i = 1, count do services[("svc-%03d"):format(i)] = { image = "heph/busybox:latest", cmd = idle } end
print("up")
local ready = 0
for _, info in pairs(heph.up{ services = services, timeout = 300 }) do
  if info.status == "running" then ready = ready + 1 end
end
print(("ready %d"):format(ready))

-- heph's side of the bring-up benchmark: heph.up of N services (default 20) like the
-- other methods' (offline image, an HTTP server that exits on SIGTERM, a 1-second
-- healthcheck), timed from the call to the moment every service is healthy.
-- Prints "heph <seconds>", then "window <called> <returned>" (Unix seconds) for the
-- timeline that scripts/bench-topology.py reads from the engine.
local count = tonumber(arg[1]) or 20
local prefix = arg[2] or "bench-heph"

local services = {}
for i = 1, count do
  services[("%s-%02d"):format(prefix, i)] = {
    image = "heph/busybox:latest",
    cmd = { "sh", "-c", "trap 'exit 0' TERM; mkdir -p /srv; echo ok > /srv/index.html; httpd -f -p 80 -h /srv & wait" },
    healthcheck = { test = "wget -q -O- http://127.0.0.1/ || exit 1", interval = 1, timeout = 1, retries = 3 },
  }
end

local started = heph.now()
local result = heph.up{ services = services, timeout = 120 }
local elapsed = heph.now() - started
for name, info in pairs(result) do
  if info.status ~= "healthy" then error(name .. " is " .. info.status) end
end
print(("heph %.3f"):format(elapsed))
print(("window %.6f %.6f"):format(started, started + elapsed))

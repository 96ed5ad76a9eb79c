-- chaos.lua: a recovery rehearsal. Brings up two services, lets the built-in `restart`
-- plugin guard them, and lets the `chaos` plugin kill or pause one of them every few
-- seconds. After `duration` seconds it stops the chaos, waits for both to be healthy,
-- prints what happened, removes its containers, and exits 0 if everything recovered.
--
--   scripts/heph run examples/chaos.lua [duration-s] [every-s]
--
-- (Only its own containers are touched: chaos targets ^heph%-chaos%-.)
local heph = require("heph")

local duration = tonumber(arg[1]) or 30
local every = tonumber(arg[2]) or 3

local function service(port)
  return {
    image = "heph/busybox:latest",
    cmd = { "sh", "-c", ("trap 'exit 0' TERM; mkdir -p /srv; echo ok > /srv/index.html; httpd -f -p %d -h /srv & wait"):format(port) },
    healthcheck = { test = ("wget -q -O- http://127.0.0.1:%d/ || exit 1"):format(port), interval = 0.5, timeout = 1, retries = 2 },
  }
end

local names = { "chaos-web", "chaos-worker" }
heph.up{ services = { ["chaos-web"] = service(80), ["chaos-worker"] = service(8000) }, timeout = 60 }

local restarts, strikes = 0, 0
local guard = heph.use("restart", {
  target = { pattern = "^heph%-chaos%-" }, initial = 0.2, factor = 2, max = 2, max_restarts = 100, window = 60,
  on_restart = function() restarts = restarts + 1 end,
})
local chaos = heph.use("chaos", {
  every = every, target = { pattern = "^heph%-chaos%-" }, actions = { "kill", "pause" }, pause_for = 1,
  on_chaos = function() strikes = strikes + 1 end,
})

-- Healthy within `within` seconds. A container stopped now may still be restarted: the
-- last strike's restart waits out its backoff first (up to `max` s, and jitter), so a
-- stopped one is looked at again until the time is up.
local function recovers(name, within)
  local deadline = heph.now() + within
  local ok, status
  repeat
    ok, status = heph.wait_healthy(name, math.max(0.1, deadline - heph.now()))
    if ok then return true end
    heph.sleep(0.2)
  until heph.now() >= deadline
  return false, status
end

heph.after(duration, function()
  chaos.stop()
  heph.sleep(1.5)   -- a paused container is thawed after pause_for
  local healthy = true
  for _, name in ipairs(names) do
    local ok, status = recovers(name, 30)
    if not ok then
      healthy = false
      print(name .. " did not recover: " .. tostring(status))
    end
  end
  print(("strikes: %d, restarts: %d, all healthy: %s"):format(strikes, restarts, tostring(healthy)))
  guard.stop()
  for _, name in ipairs(names) do heph.remove_container(name) end
  heph.exit(healthy and 0 or 1)
end)

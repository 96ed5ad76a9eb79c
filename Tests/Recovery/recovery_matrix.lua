-- recovery_matrix.lua FAULT: db <- api <- web guarded by `restart` and `cascade` as
-- docs/recipes.md shows them, then db failed from outside: FAULT = N kills (each once the
-- stack has recovered from the one before), or "pause" (one `docker pause`). One line then
-- says what the plugins did:
--
--   MATRIX restarts=db:3,api:0,web:0 order=db api web db api web db api web cascades=3 give_ups=none
--
-- `restarts`: restarts each tier's own budget paid for (the restart plugin's on_restart);
-- `order`: every heph.restart_container, in order (restart's and cascade's); `give_ups`:
-- each on_give_up, with the cause it names. Runs with `heph run -p P` on a real engine
-- (RecoveryTests) and with sim.run in `heph test` (recovery_test.lua), where api's and
-- web's healthchecks are made to fail while their upstream is not healthy, as the real
-- ones (which fetch from it) do.
local heph = require("heph")
local fault = arg[1] or "1"
local simulated = sim ~= nil
local settle = 3
local image = "heph/busybox:latest"

local function server(port)
  return { "sh", "-c", ("trap 'exit 0' TERM; mkdir -p /srv && echo ok > /srv/index.html; httpd -f -p %d -h /srv & wait"):format(port) }
end
local function probe(url)
  return { test = "wget -q -O- " .. url .. " >/dev/null || exit 1", interval = 1, timeout = 5, retries = 2 }
end

heph.up{
  services = {
    ["m-db"] = { image = image, cmd = server(5432), healthcheck = probe("http://127.0.0.1:5432/") },
    ["m-api"] = { image = image, cmd = server(8000), depends_on = { "m-db" },
                  healthcheck = probe("http://127.0.0.1:8000/ && wget -q -O- http://m-db:5432/") },
    ["m-web"] = { image = image, cmd = server(80), depends_on = { "m-api" },
                  healthcheck = probe("http://127.0.0.1/ && wget -q -O- http://m-api:8000/") },
  },
  timeout = 60,
}

if simulated then
  -- A tier's healthcheck reaches the one below it: it fails while that one is not healthy.
  local below = { ["heph-m-db"] = "heph-m-api", ["heph-m-api"] = "heph-m-web" }
  heph.on("change", function(ev)
    local dependent = below[ev.name]
    if dependent then pcall(sim.set_health, dependent, ev.status == "healthy" and "healthy" or "unhealthy") end
  end)
end

local restarts, order, give_ups, cascades = { db = 0, api = 0, web = 0 }, {}, {}, 0
local function short(name) return (name:gsub("^heph%-m%-", "")) end

heph.use("restart", {
  target = { pattern = "^heph%-m%-" },
  initial = 0.2, factor = 1, jitter = 0, max_restarts = 5, window = 600, settle = settle,
  on_restart = function(ev) restarts[short(ev.name)] = restarts[short(ev.name)] + 1 end,
  on_give_up = function(ev) give_ups[#give_ups + 1] = short(ev.name) .. ":" .. ev.cause end,
})
heph.use("cascade", { timeout = 30, on_cascade = function() cascades = cascades + 1 end })
-- Every restart either plugin makes, in order: they call heph.restart_container by name.
local restart_container = heph.restart_container
heph.restart_container = function(c, ...)
  order[#order + 1] = short(heph.CONTAINER_PREFIX .. tostring(c):gsub("^heph%-", ""))
  return restart_container(c, ...)
end

local function all_healthy()
  for _, name in ipairs({ "m-db", "m-api", "m-web" }) do
    if heph.health_check(name) ~= "healthy" then return false end
  end
  return true
end

local function wait(condition, what)
  local deadline = heph.now() + 90
  while not condition() do
    if heph.now() > deadline then error("waited 90 s for " .. what .. " (" .. table.concat(order, " ") .. ")", 2) end
    heph.sleep(0.1)
  end
end

local function fail_db()
  local name = simulated and "m-db" or heph.inspect_container("m-db").docker_name
  if fault == "pause" then
    if simulated then return sim.pause(name) end
    -- The kernel's freezer can miss a process on a busy host; pausing again works.
    for _ = 1, 5 do
      if heph.shell({ "docker", "pause", name }) == 0 then return end
      heph.sleep(0.2)
    end
    error("docker pause " .. name .. " failed")
  end
  if simulated then return sim.kill(name) end
  local code, _, stderr = heph.shell({ "docker", "kill", name })
  if code ~= 0 then error("docker kill " .. name .. ": " .. stderr) end
end

local rounds = fault == "pause" and 1 or assert(math.tointeger(tonumber(fault)), "FAULT: a number of kills or pause")
for round = 1, rounds do
  wait(all_healthy, "every tier healthy before fault " .. round)
  fail_db()
  if fault == "pause" then
    wait(function() return heph.health_check("m-db") == "healthy" end, "db to be healthy again")
  else
    -- Recovered: web restarted once more (cascade's last step) and every tier healthy, or
    -- db given up on.
    local webs = 0
    wait(function()
      webs = 0
      for _, name in ipairs(order) do if name == "web" then webs = webs + 1 end end
      return #give_ups > 0 or (webs >= round and all_healthy())
    end, "the stack to recover from kill " .. round)
  end
  -- What the plugins do once a recovery has settled (a symptom's second look) comes in too.
  heph.sleep(settle + 1)
end

MATRIX = ("restarts=db:%d,api:%d,web:%d order=%s cascades=%d give_ups=%s"):format(
  restarts.db, restarts.api, restarts.web, table.concat(order, " "), cascades, #give_ups > 0 and table.concat(give_ups, ",") or "none")
print("MATRIX " .. MATRIX)
if not simulated then heph.exit(0) end

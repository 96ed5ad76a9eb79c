-- Tests of examples/autoheal.lua, run by `heph test examples/tests` (docs/testing.md).

local function web()
  local id = heph.create_container{
    image = "heph/busybox:latest", name = "web",
    -- Probed every 5 s; one failing probe makes it unhealthy.
    healthcheck = { test = "wget -q -O- http://127.0.0.1/ || exit 1", interval = 5, retries = 1 },
  }
  heph.start_container(id)
  assert(heph.wait_healthy("web"))
end

local function ops(since)
  local found = {}
  for _, action in ipairs(sim.actions()) do
    if action.at >= since then found[#found + 1] = action.op .. " " .. action.name end
  end
  return table.concat(found, ", ")
end

test("an unhealthy container is stopped and started again at once", function()
  web()
  sim.run("../autoheal.lua")
  local turned = heph.now()
  sim.set_health("web", "unhealthy")   -- what the next probe finds
  heph.sleep(6)
  assert(ops(turned) == "stop_container heph-web, start_container heph-web", ops(turned))
  sim.set_health("web", "healthy")
  heph.sleep(10)
  assert(heph.health_check("web") == "healthy")
end)

test("the pattern argument limits what is healed", function()
  web()
  sim.run("../autoheal.lua", "^heph%-db")
  local turned = heph.now()
  sim.set_health("web", "unhealthy")
  heph.sleep(60)
  assert(ops(turned) == "", "web is not heph-db*, yet: " .. ops(turned))
end)

test("a flapping container is restarted once per turn, not twice at once", function()
  web()
  sim.run("../autoheal.lua")
  local turned = heph.now()
  sim.set_health("web", "unhealthy")
  heph.sleep(12)   -- unhealthy again one interval after each start
  local starts = select(2, ops(turned):gsub("start_container", ""))
  local stops = select(2, ops(turned):gsub("stop_container", ""))
  assert(starts == stops and starts >= 2, ops(turned))
end)

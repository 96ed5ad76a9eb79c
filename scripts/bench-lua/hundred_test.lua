-- scripts/bench test: a file of 100 tests, each a small recovery story: a two-service
-- topology, the restart and cascade plugins, a kill, and what they did about it.
local function topology()
  heph.up{ services = {
    db = { image = "heph/busybox:latest", healthcheck = { test = "true", interval = 2 } },
    api = { image = "heph/busybox:latest", healthcheck = { test = "true", interval = 2 }, depends_on = { "db" } },
  } }
end

for n = 1, 100 do
  test(("recovery %03d"):format(n), function()
    topology()
    heph.use("restart", { log = false })
    heph.use("cascade", { log = false })
    sim.kill("db")
    heph.sleep(30)
    local restarted = {}
    for _, action in ipairs(sim.actions()) do
      if action.op == "restart_container" then restarted[#restarted + 1] = action.name end
    end
    assert(restarted[1] == "heph-db" and restarted[2] == "heph-api", table.concat(restarted, " "))
  end)
end

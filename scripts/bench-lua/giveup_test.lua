-- scripts/bench test: the restart plugin with its default options, from a container's first
-- failure to its give-up (minutes of virtual time), timed in real time. heph.shell runs
-- for real and takes no virtual time, so `date` reads the wall clock from inside a test.
local function wall_ms()
  local _, out = heph.shell({ "date", "+%s%N" })
  return tonumber(out) / 1e6
end

for round = 1, tonumber(os.getenv("GIVEUP_ROUNDS") or "9") do
  test("give-up " .. round, function()
    local gave_up_at, gave_up_virtual
    heph.use("restart", { on_give_up = function() gave_up_virtual = heph.now(); gave_up_at = wall_ms() end, log = false })
    -- Probed every 10 s, unhealthy after the engine's default 3 failing probes: each
    -- failure takes half a minute to see. (With the engine's default 30 s interval it
    -- would take 90 s, past the plugin's reset_after of 60 s: it would never give up.)
    heph.up{ services = { web = { image = "heph/busybox:latest", healthcheck = { test = "true", interval = 10 } } } }
    local shell_cost = -wall_ms() + wall_ms()        -- what one wall_ms() costs
    local failed_at, virtual_start = wall_ms(), heph.now()
    sim.set_health("web", "unhealthy")
    heph.sleep(3600)
    assert(gave_up_at, "no give-up within an hour")
    local restarts = 0
    for _, action in ipairs(sim.actions()) do
      if action.op == "restart_container" then restarts = restarts + 1 end
    end
    assert(restarts == 5, restarts)
    print(("giveup %.1f ms for %.0f virtual s (shell %.1f ms)"):format(gave_up_at - failed_at - shell_cost, gave_up_virtual - virtual_start, shell_cost))
  end)
end

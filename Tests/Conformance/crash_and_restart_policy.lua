-- Conformance: a process that exits on its own (3), started again by the engine's
-- restart policy, twice.
local world = require("world")
world.record()
world.start("web", { restart = "on-failure" })
world.wait_for("web", "healthy")
for round = 1, 2 do
  local restarts = heph.inspect_container("web").restart_count
  world.crash("web")
  world.wait_until("the engine's restart " .. round, function() return heph.inspect_container("web").restart_count > restarts end)
  world.wait_for("web", "healthy")
end
world.finish()

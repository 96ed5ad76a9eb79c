-- Conformance: the restart plugin restarts a container that stays unhealthy, then gives up.
local world = require("world")
world.record()
local gave_up = false
heph.use("restart", { initial = 0.2, factor = 1, jitter = 0, max_restarts = 2, window = 120, log = false,
                      on_give_up = function() gave_up = true end })
world.start("web", { sick = true })
world.wait_until("the restart plugin to give up", function() return gave_up end)
world.finish()

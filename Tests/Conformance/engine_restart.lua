-- Conformance: the engine restarts without live-restore (every container stopped); the
-- restart plugin brings the stack back once it answers again. (On a private engine.)
local world = require("world")
world.record()
heph.up{
  services = {
    a = world.service("a"),
    b = world.service("b", { depends_on = { "a" } }),
  },
}
heph.use("restart", { initial = 0.2, jitter = 0, log = false })
world.engine_restart(3)
world.wait_for("a", "healthy")
world.wait_for("b", "healthy")
world.finish()

-- Conformance: db killed; the restart plugin brings it back, cascade restarts api after it.
local world = require("world")
world.record()
heph.up{
  services = {
    db = world.service("db"),
    api = world.service("api", { depends_on = { "db" } }),
  },
}
heph.use("restart", { initial = 0.2, jitter = 0, log = false })
heph.use("cascade", { log = false })
local api_starts = 0
heph.on("running", "api", function() api_starts = api_starts + 1 end)
world.kill("db")
world.wait_until("api restarted after db", function() return api_starts == 1 end)
world.wait_for("db", "healthy")
world.wait_for("api", "healthy")
world.finish()

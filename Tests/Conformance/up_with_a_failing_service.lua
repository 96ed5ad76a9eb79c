-- Conformance: heph.up of db ← api ← web, where web never turns healthy.
local world = require("world")
world.record()
local ok, problem = pcall(heph.up, {
  services = {
    db = world.service("db"),
    api = world.service("api", { depends_on = { "db" } }),
    web = world.service("web", { depends_on = { "api" }, sick = true }),
  },
  timeout = 20,
})
assert(not ok, "heph.up should fail: web never turns healthy")
print("up failed: " .. tostring(problem):match("[^\n]*"))
world.kill("db")
world.wait_for("db", "stopped")
world.finish()

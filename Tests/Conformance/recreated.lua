-- Conformance: heph.up again with a changed config replaces the container.
local world = require("world")
world.record()
heph.up{ services = { web = world.service("web", { env = { VERSION = "1" } }) } }
heph.up{ services = { web = world.service("web", { env = { VERSION = "2" } }) } }
world.wait_for("web", "healthy")
heph.sleep(6)   -- past the 5 s in which a stop still counts as heph.up's
world.kill("web")
world.wait_for("web", "stopped")
world.finish()

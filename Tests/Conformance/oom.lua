-- Conformance: the kernel kills a container's process for its memory (cause oom), then the
-- script starts it again.
local world = require("world")
world.record()
world.start("web", { memory = "16m" })
world.wait_for("web", "healthy")
world.oom("web")
world.wait_for("web", "stopped")
heph.start_container("web")
world.wait_for("web", "healthy")
world.finish()

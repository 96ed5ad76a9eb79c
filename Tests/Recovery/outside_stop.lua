-- outside_stop.lua [restart_stopped]: one container guarded by `restart`, for what an
-- operator does from outside (RecoveryTests): `docker stop` (left stopped, unless
-- restart_stopped), `heph down` (no longer guarded, nothing announced). Prints every exit
-- as print(ev) does, and READY once watching.
local heph = require("heph")
local c = heph.create_container{
  name = "guarded", image = "heph/busybox:latest",
  cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" },
}
heph.start_container(c)
heph.use("restart", { target = "guarded", initial = 0.1, restart_stopped = arg[1] == "restart_stopped" })
heph.on("exit", "guarded", print)
print("READY")

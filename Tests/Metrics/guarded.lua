-- guarded.lua: one container guarded by `restart`, for MetricsTests (a kill from outside
-- is one transition, hook runs, and one restart_container), and for LogFormatTests. Prints
-- READY once watching.
local heph = require("heph")
heph.up{ services = { guarded = { image = "heph/busybox:latest", cmd = { "sleep", "3600" } } } }
heph.use("restart", { target = "guarded", initial = 0.1 })
heph.on("exit", "guarded", function(ev) print("exit", ev.name, ev.cause) end)
-- guarded.lua failing: a hook that raises on every exit as well (a hook error to count and log).
if arg[1] == "failing" then
  heph.on("exit", "guarded", function() error("a hook that fails on purpose") end)
end
print("READY")

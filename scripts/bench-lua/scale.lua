-- heph's side of the scale benchmark: N services (default 200), each a sleeping busybox
-- without a healthcheck that exits at once on SIGTERM, as the raw-API floor and compose
-- get them in scripts/bench-topology.py (BENCH_KIND=plain).
--   heph run scale.lua N up         heph.up of N services, timed until every one runs:
--                                   prints "heph <seconds>"
--   heph run scale.lua N teardown   heph.teardown_all(), timed: prints "teardown <seconds>"
local count = tonumber(arg[1]) or 200
local action = arg[2] or "up"

if action == "teardown" then
  local started = heph.now()
  heph.teardown_all()
  print(("teardown %.3f"):format(heph.now() - started))
  return
end

local started = heph.now()
local result = heph.up{ services = require("scale-services")(count), timeout = 600 }
local elapsed = heph.now() - started
for name, info in pairs(result) do
  if info.status ~= "running" then error(name .. " is " .. info.status) end
end
print(("heph %.3f"):format(elapsed))

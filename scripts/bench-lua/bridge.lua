-- Bridge overhead: calls per second of heph.now (Lua → C trampoline → Swift → back)
-- beside os.time (a standard-library C function), and beside baseline_clock.now, a plain
-- C function doing exactly heph.now's work without the bridge. CPU time, best of 5 rounds.
--   heph run bridge.lua [calls]      (scripts/bench builds baseline_clock and sets LUA_CPATH)
local calls = tonumber(arg[1]) or 3000000
local baseline = require("baseline_clock")

local function rate(f)
  local started = os.clock()
  for _ = 1, calls do f() end
  return calls / (os.clock() - started)
end

local best = { heph = 0, os = 0, baseline = 0 }
for _ = 1, 5 do
  best.heph = math.max(best.heph, rate(heph.now))
  best.os = math.max(best.os, rate(os.time))
  best.baseline = math.max(best.baseline, rate(baseline.now))
end
local function row(name, per_second)
  print(string.format("| `%s` | %.1f M | %.1f ns |", name, per_second / 1e6, 1e9 / per_second))
end
print("| function | calls/s | per call |")
print("|---|---|---|")
row("heph.now()", best.heph)
row("os.time()", best.os)
row("baseline_clock.now()", best.baseline)
print()
print(string.format("heph.now vs os.time: %.2f× (goal: at most 2×)", best.os / best.heph))
print(string.format("the bridge's own cost: %.1f ns a call (heph.now minus the same work without the bridge)",
  1e9 / best.heph - 1e9 / best.baseline))

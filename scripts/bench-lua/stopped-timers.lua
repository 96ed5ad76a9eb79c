-- Stopped timers: ROUNDS rounds (default 8) of COUNT one-minute timers (default 100,000),
-- each stopped as soon as it is made (heph.every(60, f) then :stop()), with a second's
-- pause after each round; RSS after each round, garbage collected. A stopped timer must
-- be gone within a second, not held until its deadline, so RSS settles instead of growing
-- round after round. None of it reaches the engine.
--   heph run stopped-timers.lua [rounds] [count]
local rounds, count = tonumber(arg[1]) or 8, tonumber(arg[2]) or 100000

local rss_kib = require("rss")

local function nothing() end
print("| round | timers started and stopped | RSS |")
print("|---|---|---|")
for round = 1, rounds do
  for _ = 1, count do heph.every(60, nothing):stop() end
  heph.sleep(1)
  collectgarbage("collect")
  print(string.format("| %d | %d | %.1f MiB |", round, round * count, rss_kib() / 1024))
end

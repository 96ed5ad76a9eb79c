-- Memory: RSS after 10,000 bridge calls and after 1,000,000, garbage collected both times.
-- The calls mix the three paths through the bridge: a plain result (heph.now), an argument
-- error raised by the trampoline (heph.sleep(-1)), and a config table read field by field
-- and rejected (heph.create_container). None reaches the engine.
local rss_kib = require("rss")

local bad_config = { image = "heph/busybox:latest", name = "bench", ports = { [8080] = "http" } }
local made = 0
local function bridge_calls(count)
  for _ = 1, count // 3 do
    heph.now()
    pcall(heph.sleep, -1)
    pcall(heph.create_container, bad_config)
  end
  made = made + (count // 3) * 3
  collectgarbage("collect")
  collectgarbage("collect")
end

bridge_calls(10002)
local early = rss_kib()
bridge_calls(1000000 - made)
local late = rss_kib()
print(string.format("RSS after %7d calls: %6.1f MiB", 10002, early / 1024))
print(string.format("RSS after %7d calls: %6.1f MiB", made, late / 1024))
print(string.format("difference: %+.2f MiB (goal: within 1 MiB)", (late - early) / 1024))

-- Poll cost: creates COUNT containers (not started), watches them for two polls, removes
-- them. Run with --log-level debug: the watcher logs each reconciliation (containers,
-- engine calls, milliseconds), which scripts/bench reads.
local count = tonumber(arg[1]) or 5
local names = {}
for i = 1, count do
  names[i] = "bench-poll-" .. count .. "-" .. i
  heph.create_container{ image = "heph/busybox:latest", name = names[i] }
end
local hook = heph.on("change", function() end)
heph.sleep(heph.HEALTH_INTERVAL * 2 + 1)
hook:off()
for _, name in ipairs(names) do heph.remove_container(name) end

-- Poll cost: creates COUNT containers (not started), watches them for two polls, removes
-- them. Run with --log-level debug: the watcher logs each reconciliation (containers,
-- engine calls, milliseconds), which scripts/bench reads.
-- With CURL_SOCKET (the engine's unix socket, set by scripts/bench), the same list the
-- poll makes is also asked of the engine by curl, 21 times, before the containers go:
-- prints "curl <median ms> <bytes of JSON>", the engine's share of a poll without heph.
local count = tonumber(arg[1]) or 5
local names = {}
for i = 1, count do
  names[i] = "bench-poll-" .. count .. "-" .. i
  heph.create_container{ image = "heph/busybox:latest", name = names[i] }
end
local hook = heph.on("change", function() end)
heph.sleep(heph.HEALTH_INTERVAL * 2 + 1)
hook:off()

local socket = os.getenv("CURL_SOCKET")
if socket then
  local times, size = {}, 0
  for i = 1, 21 do
    local code, out, err = heph.shell({ "curl", "-sS", "-o", "/dev/null", "-w", "%{time_total} %{size_download}",
      "--unix-socket", socket, "-G", "http://docker/containers/json",
      "--data-urlencode", "all=1", "--data-urlencode", 'filters={"label":["io.heph.managed=true"]}' })
    assert(code == 0, "curl failed: " .. err)
    local seconds, bytes = out:match("([%d.]+) (%d+)")
    times[i], size = tonumber(seconds) * 1000, tonumber(bytes)
  end
  table.sort(times)
  print(string.format("curl %.2f %d", times[11], size))
end

for _, name in ipairs(names) do heph.remove_container(name) end

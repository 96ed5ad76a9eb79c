-- Reaction latency: from the engine's timestamp of a health transition (ev.at) to the
-- first line of the Lua hook, over every flip scripts/bench makes from outside; beside it,
-- what polling alone at the 5-second default gives (when a poller first sees the new status).
--   heph run latency.lua COUNT TRANSITIONS   (scripts/bench flips /ready in the containers)
local count, wanted = tonumber(arg[1]) or 10, tonumber(arg[2]) or 60
local prefix = "bench-lat-"

local hook_lags, poll_lags = {}, {}
local pending = {}   -- name → { status, at } of the last transition the poll has not seen yet

local function record(ev)
  hook_lags[#hook_lags + 1] = heph.now() - ev.at
  pending[ev.name] = { status = ev.status, at = ev.at }
end
-- A Lua pattern for the containers' full names: "-" is a quantifier there, so escape it.
local names = "^" .. (heph.CONTAINER_PREFIX .. prefix):gsub("%-", "%%-")
heph.on("healthy", { pattern = names }, function(ev) if ev.previous ~= "running" then record(ev) end end)
heph.on("unhealthy", { pattern = names }, record)

for i = 1, count do
  heph.create_container{ image = "heph/busybox:latest", name = prefix .. i,
    cmd = { "sh", "-c", "echo ok > /ready; trap 'exit 0' TERM; sleep 3600 & wait" },
    healthcheck = { test = { "cat", "/ready" }, interval = 0.5, retries = 1 } }
  heph.start_container(prefix .. i)
end
for i = 1, count do assert(heph.wait_healthy(prefix .. i, 30), "container " .. i .. " did not become healthy") end

heph.start_health_polling(heph.HEALTH_INTERVAL, function(statuses)
  for name, last in pairs(pending) do
    if statuses[name] == last.status then
      poll_lags[#poll_lags + 1] = heph.now() - last.at
      pending[name] = nil
    end
  end
end)

local function percentile(values, p)
  table.sort(values)
  return values[math.max(1, math.ceil(#values * p))]
end
local function row(name, values)
  if #values == 0 then
    print(string.format("| %s | 0 | – | – | – |", name))
    return
  end
  print(string.format("| %s | %d | %.1f ms | %.1f ms | %.1f ms |", name, #values,
    percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000, percentile(values, 1) * 1000))
end

local deadline = heph.now() + 300
heph.every(0.5, function()
  if (#hook_lags >= wanted and #poll_lags >= wanted) or heph.now() > deadline then
    print("| path | transitions | p50 | p95 | max |")
    print("|---|---|---|---|---|")
    row("event stream → hook", hook_lags)
    row("polling alone, every " .. heph.HEALTH_INTERVAL .. " s", poll_lags)
    for i = 1, count do heph.remove_container(prefix .. i) end
    heph.exit(0)
  end
end)
io.stderr:write("ready\n")

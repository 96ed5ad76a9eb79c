-- Watches a two-service topology while a test kills the engine under it and starts it
-- again (EngineFaultTests). One line per hook call and per change in what the poller
-- reports, so the test can read what heph saw, in order.
--
--   heph run engine-restart.lua PREFIX
local prefix = assert(arg[1], "usage: engine-restart.lua PREFIX")
local pattern = "^heph%-" .. prefix:gsub("%-", "%%-")
local image = "heph/busybox:latest"
local idle = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }

heph.up{
  services = {
    [prefix .. "-a"] = { image = image, cmd = idle },
    [prefix .. "-b"] = { image = image, cmd = idle, depends_on = { prefix .. "-a" } },
  },
}

require("transition_log")(pattern)
heph.use("restart", { target = { pattern = pattern }, initial = 0.2, jitter = 0 })

local last
heph.start_health_polling(0.2, function(statuses)
  local parts = {}
  for name, status in pairs(statuses) do
    if name:find(pattern) then parts[#parts + 1] = name .. "=" .. status end
  end
  table.sort(parts)
  local text = table.concat(parts, " ")
  if text ~= last then
    last = text
    print("poll " .. text)
  end
end)

print("watching")

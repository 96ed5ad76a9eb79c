-- autoheal.lua: restart containers that turn unhealthy, as docker-autoheal does, but the
-- moment the engine says so instead of on its next 5-second poll.
--
--   scripts/heph run examples/autoheal.lua [pattern]
--
-- `pattern` is a Lua pattern for the containers' full names (default: every managed
-- container). Ctrl-C stops it. A container that heph itself stops is left alone: only
-- unexpected unhealthiness is healed.
local heph = require("heph")

local pattern = arg[1] or "^heph%-"
local restarting = {}   -- names being restarted, so a flapping container is not restarted twice

heph.on("unhealthy", { pattern = pattern }, function(ev)
  if restarting[ev.name] then return end
  restarting[ev.name] = true
  print(os.date("!%H:%M:%S") .. " " .. ev.name .. " is unhealthy; restarting")
  -- This hook waits for the stop and the start; other hooks run meanwhile.
  heph.stop_container(ev.name, 5)
  heph.start_container(ev.name)
  restarting[ev.name] = nil
  print(os.date("!%H:%M:%S") .. " " .. ev.name .. " restarted")
end)

print("healing containers matching " .. pattern .. "; Ctrl-C to stop")

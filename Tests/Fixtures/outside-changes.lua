-- Six services; a test kills, pauses and removes containers from outside while heph.up
-- waits for three of them, then does the same to the other three while the script
-- watches (EngineFaultTests). One line per hook call, so the test can read what heph saw.
--
--   heph run outside-changes.lua PREFIX
local prefix = assert(arg[1], "usage: outside-changes.lua PREFIX")
local pattern = "^heph%-" .. prefix:gsub("%-", "%%-")
local image = "heph/busybox:latest"
local idle = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }
-- Running at once, healthy only after 6 s: the window in which the test strikes.
local slow = { "sh", "-c", "trap 'exit 0' TERM; (sleep 6; touch /tmp/ready) & sleep 3600 & wait" }

require("transition_log")(pattern)

local services = {}
for _, fate in ipairs({ "killed", "paused", "removed" }) do
  services[prefix .. "-up-" .. fate] = {
    image = image, cmd = slow,
    healthcheck = { test = "test -f /tmp/ready", interval = 0.5, timeout = 1, retries = 100 },
  }
  services[prefix .. "-watch-" .. fate] = { image = image, cmd = idle }
end

print("up")
local ok, err = pcall(heph.up, { services = services, timeout = 60 })
print("up returned " .. tostring(ok))
for line in tostring(err):gmatch("[^\n]+") do print("error " .. line) end
print("watching")

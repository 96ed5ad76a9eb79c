-- watch.lua: print every transition of every managed container as it happens, with the
-- engine's timestamp.
--
--   scripts/heph run examples/watch.lua
--
-- Ctrl-C stops it. "(heph)" marks transitions this heph process asked for; others came
-- from outside (a crash, `docker stop`, the healthcheck).
local heph = require("heph")

local function stamp(at)
  return os.date("!%H:%M:%S", math.floor(at)) .. string.format(".%03d", math.floor((at % 1) * 1000))
end

heph.on("change", function(ev)
  print(string.format("%s  %-28s %-9s -> %-9s%s",
    stamp(ev.at), ev.name, ev.previous or "(new)", ev.status, ev.expected and "  (heph)" or ""))
end)

heph.on("exit", function(ev)
  print(string.format("%s  %-28s exit code %d%s",
    stamp(ev.at), ev.name, ev.exit_code, ev.oom_killed and " (out of memory)" or ""))
end)

-- An engine call made after heph.on waits until heph follows the event stream, so once
-- this line prints, nothing that happens is missed.
print(("watching every managed container (%d now); Ctrl-C to stop"):format(#heph.list_containers()))

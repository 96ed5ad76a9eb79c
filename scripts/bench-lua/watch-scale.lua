-- The watcher at scale: COUNT managed containers (the scale benchmark's sleeping busybox),
-- a hook on "exit", then KILLS exits made from outside (scripts/bench runs `docker kill`
-- and `docker start` once it reads "ready" on stderr), then IDLE seconds of nothing but the
-- watcher. Run with --log-level debug: the watcher logs each reconciliation poll, which
-- scripts/bench reads. Prints:
--   rss_start <KiB>     before any engine call (Lua, the Swift runtime, heph)
--   rss_client <KiB>    after the first engine call (plus the HTTP client and its event loop)
--   reaction <n> <p50 ms> <p95 ms>   engine's exit time → first line of the hook
--   rss_idle <KiB>      after IDLE seconds with COUNT containers watched
--   heph run watch-scale.lua COUNT KILLS IDLE
local rss = require("rss")
local count, kills, idle = tonumber(arg[1]) or 10, tonumber(arg[2]) or 10, tonumber(arg[3]) or 120
print(("rss_start %d"):format(rss()))
heph.ping()
print(("rss_client %d"):format(rss()))

heph.up{ services = require("scale-services")(count), timeout = 600 }

local lags = {}
heph.on("exit", function(ev) lags[#lags + 1] = heph.now() - ev.at end)
io.stderr:write("ready\n")
local deadline = heph.now() + 300
while #lags < kills and heph.now() < deadline do heph.sleep(0.1) end
assert(#lags >= kills, ("saw %d of %d exits"):format(#lags, kills))

table.sort(lags)
local function at(p) return lags[math.max(1, math.ceil(#lags * p))] * 1000 end
print(("reaction %d %.1f %.1f"):format(#lags, at(0.5), at(0.95)))
heph.sleep(idle)
collectgarbage()
print(("rss_idle %d"):format(rss()))
heph.exit(0)

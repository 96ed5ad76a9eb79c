-- Engine calls on a kept connection: COUNT calls of heph.list_containers() (default 200)
-- after a first one that opens the connection (over ssh, its relay too), timed with
-- heph.now(). Prints the mean per call in milliseconds.
--   heph run calls.lua [count]   (scripts/bench runs it over the unix socket and over ssh)
local count = tonumber(arg[1]) or 200

heph.list_containers()
local started = heph.now()
for _ = 1, count do heph.list_containers() end
print(string.format("%.2f", (heph.now() - started) / count * 1000))

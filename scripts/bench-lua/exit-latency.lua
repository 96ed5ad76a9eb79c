-- exit-latency.lua crash|kill [ROUNDS]: from the engine's time of a container's die to heph's
-- exit hook, ROUNDS times (10): a crash (the process exits on its own) is held 0.5 s for a
-- kill the engine may log late (docs/lua-api.md, ev.cause); a docker kill (its kill logged
-- first) is not. scripts/bench live runs it with and without --metrics and --log-format json.
--   scripts/heph run -p lat scripts/bench-lua/exit-latency.lua crash; scripts/heph down -p lat
local kind = arg[1] or "crash"
local rounds = tonumber(arg[2]) or 10
local delays = {}
heph.on("exit", "lat", function(ev) delays[#delays + 1] = (heph.now() - ev.at) * 1000 end)
local c = heph.create_container{ name = "lat", image = "heph/busybox:latest", cmd = { "sh", "-c", "trap 'exit 3' USR1; sleep 3600 & wait" } }
local name = heph.inspect_container("lat").docker_name
for i = 1, rounds do
  heph.start_container("lat")
  heph.sleep(0.3)
  if kind == "crash" then heph.shell{ "docker", "exec", name, "kill", "-USR1", "1" } else heph.shell{ "docker", "kill", name } end
  heph.sleep(0.6)
end
table.sort(delays)
local function at(q) return delays[math.max(1, math.ceil(#delays * q))] end
print(("%s: %d exits, p50 %.1f ms, p95 %.1f ms, max %.1f ms"):format(kind, #delays, at(0.5), at(0.95), delays[#delays]))
heph.remove_container("lat")
heph.exit(0)

-- scripts/bench ready: BENCH_COUNT services whose server listens 0.3 s after start, no
-- healthcheck, each with ready = { tcp = BENCH_PORT } (80; 81 never serves) unless
-- BENCH_NO_READY is set (then heph.up waits for running, and the script waits BENCH_WAIT s
-- more, for the CPU baseline). BENCH_SILENT: no server at all.
local count = tonumber(os.getenv("BENCH_COUNT") or "20")
local port = tonumber(os.getenv("BENCH_PORT") or "80")
local wait = tonumber(os.getenv("BENCH_WAIT") or "120")
local services = {}
for i = 1, count do
  services[("s%03d"):format(i)] = {
    image = "heph/busybox:latest",
    -- BENCH_SILENT: a server that never starts (no socket at all).
    cmd = { "sh", "-c", os.getenv("BENCH_SILENT") and "trap 'exit 0' TERM; sleep 86400 & wait" or "trap 'exit 0' TERM; sleep 0.3; exec httpd -f -p 80 -h /tmp" },
    ready = not os.getenv("BENCH_NO_READY") and { tcp = port } or nil,
  }
end
heph.up{ services = services, timeout = wait }
if os.getenv("BENCH_NO_READY") then heph.sleep(wait) end

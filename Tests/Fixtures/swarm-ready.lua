-- heph.up on a swarm with ready probes (SwarmTests): `web` listens one second after its
-- task starts; with arg[1] = "never", its probe waits for a port nothing listens on.
local port = arg[1] == "never" and 81 or 80
local ok, err = pcall(heph.up, {
  services = {
    web = { image = "heph/busybox:latest", cmd = { "sh", "-c", "sleep 1; exec httpd -f -p 80 -h /tmp" }, ready = { tcp = port } },
  },
  timeout = arg[1] == "never" and 15 or 60,
})
print(ok and "UP" or "FAILED " .. tostring(err))

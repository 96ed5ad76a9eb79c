-- On an engine whose container addresses heph cannot reach (ReadinessTests runs it on a
-- private engine in a network namespace of its own): one service that serves after a
-- second, probed from a probe container, which a list of roles shows while heph runs.
-- arg[1]: the port the probe waits for (81: nothing listens there, so heph.up must fail).
local port = tonumber(arg[1]) or 80
local ok, err = pcall(heph.up, {
  services = {
    web = { image = "heph/busybox:latest", cmd = { "sh", "-c", "sleep 1; exec httpd -f -p 80 -h /tmp" }, ready = { tcp = port } },
  },
  timeout = tonumber(arg[2]) or 30,
})
print(ok and "UP" or "FAILED " .. tostring(err))
local code, names = heph.shell({ "docker", "ps", "-a", "--filter", "label=io.heph.role=probe", "--format", "{{.Names}}" })
print("PROBES " .. names:gsub("\n", " "))

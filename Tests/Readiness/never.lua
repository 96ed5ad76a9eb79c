-- A service whose probe never passes (nothing listens on 81): heph.up fails at its
-- timeout and says which probe, and what it last answered. (ReadinessTests)
heph.up{
  services = {
    web = { image = "heph/busybox:latest", cmd = { "sh", "-c", "exec httpd -f -p 80 -h /tmp" }, ready = { tcp = 81, interval = 0.1 } },
  },
  timeout = tonumber(arg[1]) or 3,
}
print("UP")

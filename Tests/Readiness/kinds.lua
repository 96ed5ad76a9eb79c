-- Readiness of every kind on a real engine (ReadinessTests): four services that start
-- serving one second after they start, and have no healthcheck. heph.up returns once each
-- serves, and not before; heph.wait_ready answers for a container with a probe, without
-- one, one that never serves and one that stops.
local image = "heph/busybox:latest"
local began = heph.now()
local up = heph.up{
  services = {
    tcp = { image = image, cmd = { "sh", "-c", "sleep 1; touch /tmp/serving; exec httpd -f -p 80 -h /tmp" }, ready = { tcp = 80 } },
    http = { image = image, cmd = { "sh", "-c", "mkdir -p /www; (sleep 1; echo ok > /www/health) & exec httpd -f -p 8080 -h /www" },
             ready = { http = "/health", port = 8080 } },
    log = { image = image, cmd = { "sh", "-c", "echo starting; sleep 1; echo 'listening on port 5432'; exec sleep 3600" },
            ready = { log = "listening on port %d+" } },
    exec = { image = image, cmd = { "sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 3600" }, ready = { exec = "test -f /tmp/ready", interval = 0.1 } },
  },
  timeout = 60,
}
print(("UP %.2f"):format(heph.now() - began))
-- What made each ready is there.
print("SERVES", heph.exec(up.tcp.id, "test -f /tmp/serving") == 0, heph.exec(up.http.id, "test -f /www/health") == 0,
      heph.logs(up.log.id):find("listening on port 5432", 1, true) ~= nil, heph.exec(up.exec.id, "test -f /tmp/ready") == 0)

print("WAIT", heph.wait_ready(up.tcp.id, 5))
local plain = heph.create_container{ image = image, name = "plain", cmd = { "sleep", "3600" } }
heph.start_container(plain)
print("PLAIN", heph.wait_ready(plain, 5))
local never = heph.create_container{ image = image, name = "never", cmd = { "sleep", "3600" }, ready = { tcp = 81, interval = 0.1 } }
heph.start_container(never)
print("NEVER", heph.wait_ready(never, 1))
local stops = heph.create_container{ image = image, name = "stops", cmd = { "sh", "-c", "sleep 0.5; exit 3" }, ready = { tcp = 80 } }
heph.start_container(stops)
print("STOPS", heph.wait_ready(stops, 20))

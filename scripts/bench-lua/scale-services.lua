-- The scale benchmark's services: COUNT sleeping busyboxes without a healthcheck that exit
-- at once on SIGTERM, named scale-001…, as the raw-API floor and compose get them in
-- scripts/bench-topology.py (BENCH_KIND=plain). Loaded with require("scale-services").
return function(count)
  local services = {}
  for i = 1, count do
    services[("scale-%03d"):format(i)] = {
      image = "heph/busybox:latest",
      cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 86400 & wait" },
    }
  end
  return services
end

-- heph test -p / HEPH_PROJECT (TestCommandTests).
test("names in the project", function()
  local seen
  heph.on("created", function(ev) seen = ev.docker_name end)
  heph.create_container{ image = "heph/busybox:latest", name = "web" }
  heph.sleep(1)
  print("project " .. heph.config.project .. " " .. seen)
end)

test("the swarm is not simulated", function()
  heph.config.backend = "swarm"
  heph.ping()
end)

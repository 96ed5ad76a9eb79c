-- Readiness on the simulated engine (`heph test`): sim.set_ready decides what every kind
-- of probe sees; a container with a probe is ready once it runs unless told otherwise.

local function service(ready)
  return { image = "heph/busybox:latest", cmd = { "sleep", "3600" }, ready = ready }
end

test("heph.up waits for the probe; sim.set_ready(c, false) keeps it waiting until its timeout", function()
  -- Made first (heph.up starts it, as its config is the same), to be told before its start.
  local config = service{ tcp = 80 }
  config.name = "web"
  heph.create_container(config)
  sim.set_ready("web", false)
  local ok, err = pcall(heph.up, { services = { web = service{ tcp = 80 } }, timeout = 2 })
  assert(not ok, "heph.up returned")
  assert(tostring(err):find("ready probe (tcp port 80): not ready (sim.set_ready)", 1, true), tostring(err))
  sim.set_ready("web", true)
  assert(heph.wait_ready("web", 5) == true)
end)

test("every kind is answered alike, and a container without a probe answers as wait_healthy", function()
  local up = heph.up{ services = {
    a = service{ http = "/health", port = 8080 }, b = service{ log = "listening" }, c = service{ exec = "true" },
    d = { image = "heph/busybox:latest", cmd = { "sleep", "3600" } },
  } }
  for _, name in ipairs({ "a", "b", "c", "d" }) do assert(heph.wait_ready(up[name].id, 1) == true, name) end
  sim.set_ready("a", false)
  local ready, why = heph.wait_ready("a", 1)
  assert(ready == nil and why:find("not ready", 1, true), tostring(why))
end)

test("readiness outlives a restart, and a stopped container is not ready", function()
  heph.up{ services = { web = service{ tcp = 80 } } }
  sim.set_ready("web", false)
  sim.kill("web")
  heph.start_container("web")
  assert(heph.wait_ready("web", 1) == nil)
  sim.stop("web")
  local ready, why = heph.wait_ready("web", 5)
  assert(ready == nil and why:find("stopped", 1, true), tostring(why))
end)

test("sim.set_ready names what it needs", function()
  heph.up{ services = { plain = { image = "heph/busybox:latest", cmd = { "sleep", "3600" } } } }
  local ok, err = pcall(sim.set_ready, "plain", true)
  assert(not ok and tostring(err):find("has no ready probe", 1, true), tostring(err))
  ok, err = pcall(sim.set_ready, "plain", "yes")
  assert(not ok and tostring(err):find("true or false expected", 1, true), tostring(err))
end)

-- What `heph test` reports for each way a test ends (TestCommandTests reads its output).
local function web()
  heph.start_container(heph.create_container{ image = "heph/busybox:latest", name = "web",
    healthcheck = { test = "true", interval = 2 } })
end

test("passes in virtual time", function()
  assert(heph.now() == 1700000000 and os.time() == 1700000000, "every test starts at 1700000000")
  heph.sleep(3600)
  assert(heph.now() == 1700003600, heph.now())
  local before = heph.now()
  heph.shell("sleep 0.2")   -- real, and no virtual time
  assert(heph.now() == before, "heph.shell took virtual time")
end)

test("fails an assertion", function()
  assert(1 == 2, "one is not two")
end)

test("fails in a hook", function()
  heph.on("exit", function() error("boom in a hook") end)
  web()
  sim.crash("web")
  heph.sleep(5)
end)

test("waits for what never happens", function()
  while true do heph.sleep(7) end
end)

test("exits before it returns", function()
  heph.exit(3)
end)

test("prints a random number", function()
  print("random " .. math.random(1000000000))
  error("shown with its seed")
end)

test("passes again", function()
  web()
  assert(heph.wait_healthy("web"))
  assert(heph.now() == 1700000002, "healthy one interval after the start")
end)

-- Tests of examples/stack.lua's recovery, run by `heph test examples/tests` on a simulated
-- engine in virtual time (docs/testing.md): no Docker engine, minutes of backoff in
-- milliseconds.

-- What the stack script prints goes here, so a test can read it.
local printed = {}
local function capture_print()
  print = function(...) printed[#printed + 1] = table.concat({ ... }, "\t") end
end

-- The orchestrator calls of one kind after virtual time `since`, as "op name" strings.
local function calls(op, since)
  local found = {}
  for _, action in ipairs(sim.actions()) do
    if action.op == op and action.at >= (since or 0) then found[#found + 1] = action.name end
  end
  return found
end

test("the stack comes up in dependency order, every tier healthy", function()
  sim.run("../stack.lua")
  assert(table.concat(calls("start_container"), " ") == "heph-stack-db heph-stack-api heph-stack-web",
    table.concat(calls("start_container"), " "))
  for _, name in ipairs({ "stack-db", "stack-api", "stack-web" }) do
    assert(heph.health_check(name) == "healthy", name .. " is " .. heph.health_check(name))
  end
end)

test("a killed db is restarted, then api and web after it", function()
  sim.run("../stack.lua")
  local killed = heph.now()
  sim.kill("stack-db")
  heph.sleep(30)
  local restarts = calls("restart_container", killed)
  -- restart brings db back after its first backoff (1 s ± 10 %); cascade then restarts
  -- what depends on it, in order.
  assert(restarts[1] == "heph-stack-db", "db first, got " .. table.concat(restarts, " "))
  assert(table.concat(restarts, " "):find("heph%-stack%-api.*heph%-stack%-web"),
    "api then web after db, got " .. table.concat(restarts, " "))
  for _, name in ipairs({ "stack-db", "stack-api", "stack-web" }) do
    assert(heph.health_check(name) == "healthy", name .. " is " .. heph.health_check(name))
  end
end)

test("a db that stays unhealthy is given up after five restarts, and said so once", function()
  capture_print()
  sim.run("../stack.lua")
  local failing = heph.now()
  sim.set_health("stack-db", "unhealthy")   -- from now on, and after every restart
  heph.sleep(600)
  local db_restarts = 0
  for _, name in ipairs(calls("restart_container", failing)) do
    if name == "heph-stack-db" then db_restarts = db_restarts + 1 end
  end
  assert(db_restarts == 5, "max_restarts = 5, got " .. db_restarts)
  local gave_up = 0
  for _, line in ipairs(printed) do
    if line == "heph-stack-db keeps failing; heph gave up on it" then gave_up = gave_up + 1 end
  end
  assert(gave_up == 1, "on_give_up said so " .. gave_up .. " times")
end)

test("a container stopped by heph itself is not restarted", function()
  sim.run("../stack.lua")
  local stopped = heph.now()
  heph.stop_container("stack-web")
  heph.sleep(120)
  assert(#calls("restart_container", stopped) == 0, "restarted: " .. table.concat(calls("restart_container", stopped), " "))
  assert(heph.health_check("stack-web") == "stopped")
end)

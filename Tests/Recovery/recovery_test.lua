-- The recovery matrix (recovery_matrix.lua) on the simulated engine: db killed 1, 3 and 6
-- times, and paused once, with restart and cascade as docs/recipes.md shows them. Each db
-- failure is one restart of db and one ordered restart of api then web; a dependent's
-- failure while db is down is a symptom (never restarted on its own budget, never an
-- alert); the sixth kill spends db's budget: one alert, naming db and the cause.

local function expect(fault, want)
  sim.run("recovery_matrix.lua", fault)
  assert(MATRIX == want, "\n got:  " .. tostring(MATRIX) .. "\n want: " .. want)
end

test("one kill of db: db restarted, then api and web", function()
  expect("1", "restarts=db:1,api:0,web:0 order=db api web cascades=1 give_ups=none")
end)

test("three kills of db: three times db, api, web", function()
  expect("3", "restarts=db:3,api:0,web:0 order=db api web db api web db api web cascades=3 give_ups=none")
end)

test("six kills of db: five recoveries, then one alert naming db", function()
  expect("6", "restarts=db:5,api:0,web:0 order=" .. ("db api web "):rep(5):sub(1, -2) .. " cascades=5 give_ups=db:killed")
end)

test("a paused db is unpaused (no restart, nothing on a budget); api and web recover on their own", function()
  expect("pause", "restarts=db:0,api:0,web:0 order= cascades=0 give_ups=none")
end)

test("a restart call that fails is followed by the next attempt, on the same budget", function()
  heph.up{ services = { lone = { image = "heph/busybox:latest", cmd = { "sleep", "3600" } } } }
  local attempts, real = 0, heph.restart_container
  -- The engine refuses the first restart (as a 404 or 500 under load would).
  heph.restart_container = function(c)
    attempts = attempts + 1
    if attempts == 1 then error("heph.restart_container: the engine refused") end
    return real(c)
  end
  heph.use("restart", { initial = 1, jitter = 0, log = false })
  sim.kill("lone")
  heph.sleep(10)
  assert(attempts == 2, "attempts: " .. attempts)
  assert(heph.health_check("lone") == "running", "lone is " .. heph.health_check("lone"))
end)

-- Calls every function of the heph module with random Lua values, each under pcall.
--   heph check --sandbox Tests/Fixtures/fuzz.lua [calls] [seed]
-- (check: a dry-run orchestrator, never the engine; --sandbox: heph.shell runs nothing.)
-- Prints one line: calls=N ok=N failed=N bad=N; `bad` counts failures whose error is not a
-- string (each is printed), which would mean a raw value escaped the bridge.
local calls = tonumber(arg[1]) or 10000
local seed = tonumber(arg[2]) or 1
math.randomseed(seed)

local names = {}
for name, value in pairs(heph) do
  -- heph.exit ends the run: tested on its own.
  if type(value) == "function" and name ~= "exit" then names[#names + 1] = name end
end
table.sort(names)

local huge = string.rep("x", 1 << 20)
local cyclic = {}
cyclic.self, cyclic[1] = cyclic, cyclic
-- As durations these are all invalid or under a millisecond, so no call waits long.
local numbers = { 0, -1, 0.0005, 0 / 0, math.huge, -math.huge, 1e308, -1e308, math.maxinteger, math.mininteger,
                  2 ^ 53, 3.5e-300, 86401, 1e-9, -0.0, -80 }
local strings = { "", "web", "heph-web", "0123456789abcdef0123", huge, "\xff\xfe\0bin", "restart", "unhealthy",
                  "/etc", "80", "8080/udp", "heph/busybox:latest", "a:b:c", "127.0.0.1:8080", "^heph%-", "%", "\n" }
local functions = { function() end, function() error("from a fuzzed callback") end, function(...) return ... end }
local value

local function table_of(depth)
  local t = {}
  for _ = 1, math.random(0, 4) do
    local key = math.random(3) == 1 and math.random(1, 3) or strings[math.random(#strings)]
    t[key] = value(depth + 1)
  end
  return t
end

local fields = { "image", "name", "env", "ports", "volumes", "cmd", "healthcheck", "depends_on", "services",
                 "timeout", "tail", "pattern", "memory", "cpus", "restart", "labels", "networkName", "test" }

-- A config-like table: real field names with random values, so validation goes deep.
local function config_like(depth)
  local t = { image = "heph/busybox:latest", name = "fz" .. math.random(1, 5) }
  for _ = 1, math.random(0, 4) do t[fields[math.random(#fields)]] = value(depth + 1) end
  return t
end

function value(depth)
  depth = depth or 0
  local kind = math.random(depth > 2 and 6 or 11)
  if kind == 1 then return nil
  elseif kind == 2 then return math.random(2) == 1
  elseif kind <= 4 then return numbers[math.random(#numbers)]
  elseif kind <= 6 then return strings[math.random(#strings)]
  elseif kind == 7 then return functions[math.random(#functions)]
  elseif kind == 8 then return coroutine.create(function() end)
  elseif kind == 9 then return math.random(2) == 1 and cyclic or { { { {} } } }
  elseif kind == 10 then return config_like(depth)
  else return table_of(depth)
  end
end

local ok_count, failed, bad = 0, 0, 0
for _ = 1, calls do
  local name = names[math.random(#names)]
  local count = math.random(0, 3)
  local args = { n = count }
  for i = 1, count do args[i] = value() end
  -- Their waits default to seconds (wait_healthy: 60 s for a container that never gets
  -- healthy): give them a millisecond when the fuzz gave them no number.
  if name == "wait_healthy" and type(args[2]) ~= "number" then args[2], count = 0.001, math.max(count, 2) end
  if name == "sleep" and type(args[1]) ~= "number" then args[1], count = 0.001, math.max(count, 1) end
  local results = table.pack(pcall(heph[name], table.unpack(args, 1, count)))
  if results[1] then
    ok_count = ok_count + 1
  else
    failed = failed + 1
    if type(results[2]) ~= "string" then
      bad = bad + 1
      print(("bad error from heph.%s: a %s"):format(name, type(results[2])))
    end
  end
end
-- Whatever the calls registered (hooks, timers, pollers) goes with the run.
print(("calls=%d ok=%d failed=%d bad=%d functions=%d"):format(calls, ok_count, failed, bad, #names))

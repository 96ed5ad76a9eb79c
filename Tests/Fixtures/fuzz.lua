-- Calls every function of the heph module with random Lua values, each under pcall, each
-- in a callback of its own under a time limit of 0.05 s (heph.config.hook_timeout).
--   heph check --sandbox Tests/Fixtures/fuzz.lua [calls] [seed]
-- (check: a dry-run orchestrator, never the engine; --sandbox: heph.shell runs nothing.)
-- Among the values are hostile ones: tables whose every metamethod raises, loops or
-- yields. Prints one line: calls=N ok=N failed=N stopped=N pending=N bad=N functions=N;
-- `stopped` counts calls the time limit ended (a looping metamethod: pcall cannot catch
-- that), `pending` calls that did neither (heph lost them: always 0), `bad` failures whose
-- error is not a string (each is printed), which would mean a raw value escaped the bridge.
local calls = tonumber(arg[1]) or 10000
local seed = tonumber(arg[2]) or 1
math.randomseed(seed)
heph.config.hook_timeout = 0.05

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

-- A table whose every metamethod does `behaviour` (no __gc: a finalizer that loops cannot be
-- interrupted, and ends heph by design).
local events = { "__index", "__newindex", "__call", "__tostring", "__len", "__eq", "__lt", "__le", "__concat",
                 "__unm", "__add", "__sub", "__mul", "__div", "__mod", "__pow", "__idiv", "__band", "__bor",
                 "__bxor", "__shl", "__shr", "__bnot", "__pairs", "__close" }
local behaviours = {
  function() error("from a hostile metamethod") end,
  function() while true do end end,
  function() coroutine.yield() end,
}
local function hostile()
  local metatable = {}
  local behaviour = behaviours[math.random(#behaviours)]
  for _, event in ipairs(events) do metatable[event] = behaviour end
  return setmetatable({}, metatable)
end

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
  local kind = math.random(depth > 2 and 6 or 12)
  if kind == 12 then return hostile() end
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

-- Each call in a timer's callback of its own, so each has the time limit; the next one is
-- scheduled first, so a call the limit ends does not end the chain. The main chunk waits
-- (timers fire while it does) until every call started and the last ones settled.
local ok_count, failed, stopped, bad, started = 0, 0, 0, 0, 0
local unfinished = {}
local function step()
  if started == calls then return end
  started = started + 1
  local index = started
  heph.after(0, step)
  local name = names[math.random(#names)]
  local count = math.random(0, 3)
  local args = { n = count }
  for i = 1, count do args[i] = value() end
  -- Their waits default to seconds (wait_healthy, wait_ready: 60 s for a container that never gets
  -- healthy): give them a millisecond when the fuzz gave them no number.
  if (name == "wait_healthy" or name == "wait_ready") and type(args[2]) ~= "number" then args[2], count = 0.001, math.max(count, 2) end
  if name == "sleep" and type(args[1]) ~= "number" then args[1], count = 0.001, math.max(count, 1) end
  unfinished[index] = name
  -- A call the time limit stops never returns here: its callback is closed instead.
  local _ <close> = setmetatable({}, { __close = function()
    if unfinished[index] then unfinished[index], stopped = nil, stopped + 1 end
  end })
  local results = table.pack(pcall(heph[name], table.unpack(args, 1, count)))
  unfinished[index] = nil
  if results[1] then
    ok_count = ok_count + 1
    -- A timer, hook or poller it made stops at once: a thousand timers firing every
    -- millisecond would fuzz nothing but the machine's patience.
    local handle = results[2]
    if type(handle) == "userdata" then pcall(function() (handle.stop or handle.off)(handle) end) end
  else
    failed = failed + 1
    if type(results[2]) ~= "string" then
      bad = bad + 1
      print(("bad error from heph.%s: a %s"):format(name, type(results[2])))
    end
  end
end
heph.after(0, step)
repeat heph.sleep(0.05) until started == calls  -- the poll's interval: waits for every call to start
-- The last waits settle (each returned or was stopped), or a few seconds pass.
local settled = heph.now() + 10
while next(unfinished) ~= nil and heph.now() < settled do heph.sleep(0.05) end  -- the poll's interval: waits for the condition, to a deadline
-- A call still unfinished now neither returned nor was stopped: heph lost it.
local pending = 0
for _ in pairs(unfinished) do pending = pending + 1 end
-- Whatever the calls registered (hooks, timers, pollers) goes with the run.
print(("calls=%d ok=%d failed=%d stopped=%d pending=%d bad=%d functions=%d"):format(
  calls, ok_count, failed, stopped, pending, bad, #names))

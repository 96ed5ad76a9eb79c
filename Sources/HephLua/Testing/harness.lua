-- The harness of `heph test` (LuaRuntime+Testing.swift loads it into a test's state after
-- the prelude): declares the globals `test` and `sim`, makes time virtual for `os.time`
-- and `os.date`, and returns the function the main coroutine runs: the test file's top
-- level, then the test named `name` (or, without one, the list of the file's tests).
local heph, primitives, name, seed, filter, limit = ...
local error, type, format, pcall = error, type, string.format, pcall

local tests, by_name, declaring = {}, {}, true

function test(name, fn)
  if type(name) ~= "string" or name == "" then
    error(format("test: the first argument is the test's name, a non-empty string; got %s",
      type(name) == "string" and "an empty string" or "a " .. type(name)), 2)
  end
  if type(fn) ~= "function" then
    error(format("test %q: the second argument is the test's function; got a %s", name, type(fn)), 2)
  end
  if not declaring then
    error(format("test %q: declare tests at the top level of the file, not inside a test", name), 2)
  end
  if by_name[name] then error(format("test %q: declared twice in this file; give each test its own name", name), 2) end
  by_name[name] = fn
  tests[#tests + 1] = name
end

-- The world's controls: the C primitives, and what is better said in Lua. A fault waits
-- first until the watcher follows the engine and what is under way has happened (as
-- every heph call does), so a hook registered just before sees it; the wait takes no
-- virtual time.
local sleep = heph.sleep
sim = {}
for _, name in ipairs({ "kill", "crash", "oom", "stop", "set_health", "set_ready", "pause", "unpause", "remove", "engine_down" }) do
  local fault = primitives[name]
  sim[name] = function(...)
    sleep(0)
    fault(...)   -- not a tail call: its argument errors point one level up, at the test
  end
end
sim.output, sim.actions = primitives.output, primitives.actions

-- sim.http(fn): heph.http.request answers what fn(request) returns (status, body, headers;
-- or nil and a message, as a network failure). The request is checked as for real first.
-- Without sim.http a request is an error: a test reaches no network.
local http_answer
function sim.http(fn)
  if type(fn) ~= "function" then
    error(format("bad argument #1 to 'sim.http' (function expected, got %s)", type(fn)), 2)
  end
  http_answer = fn
end

-- What sim.http's function returned, checked: what the real call can return.
local function answered(status, body, headers, ...)
  if status == nil then
    if type(body) ~= "string" then
      error(format("sim.http: the function returned nil and %s; return status, body [, headers], or nil and a message", type(body)), 3)
    end
    return nil, body
  end
  if math.type(status) ~= "integer" or status < 100 or status > 599 then
    error(format("sim.http: the function returned the status %s; return an integer from 100 to 599", tostring(status)), 3)
  end
  if body ~= nil and type(body) ~= "string" then
    error(format("sim.http: the function returned a body that is a %s; return a string (heph.json.encode makes one)", type(body)), 3)
  end
  if headers ~= nil and type(headers) ~= "table" then
    error(format("sim.http: the function returned headers that are a %s; return a table of name = value", type(headers)), 3)
  end
  local lowered = {}
  for name, value in pairs(headers or {}) do lowered[string.lower(tostring(name))] = tostring(value) end
  return status, body or "", lowered
end

local check_request = primitives.http_check
function heph.http.request(request)
  local checked = check_request(request)   -- not a tail call: its errors point one level up
  if not http_answer then
    error("heph.http.request: heph test reaches no network; answer requests with sim.http(function(request) return 200, \"\" end)", 2)
  end
  -- The answer comes at once, in no virtual time: to test a timeout, return nil and
  -- the message the real call gives ("... no answer within 5 s").
  local status, body, headers = answered(http_answer(checked))
  return status, body, headers  -- not a tail call: answered's errors point at the test
end

-- sim.exec_result(c, fn): heph.exec in c answers fn(cmd) (default 0, "", "").
local answers, answered = {}, false
function sim.exec_result(container, fn)
  if type(fn) ~= "function" then
    error(format("bad argument #2 to 'sim.exec_result' (function expected, got %s)", type(fn)), 2)
  end
  answers[primitives.id(container, "exec_result")] = fn
  answered = true
end

local exec = heph.exec
function heph.exec(container, cmd, ...)
  -- A tail call while nothing is answered: the wrapper adds no frame to errors.
  if not answered then return exec(container, cmd, ...) end
  local ok, code, stdout, stderr = pcall(exec, container, cmd, ...)
  if not ok then
    if type(code) ~= "string" then error(code, 0) end
    error((code:gsub("^%[heph%]:%d+: ", "")), 2)
  end
  local answer = answers[primitives.id(container)]
  if answer == nil then return code, stdout, stderr end
  local c, out, err = answer(cmd)
  return c or 0, out or "", err or ""
end

-- sim.run(path, args…): a script's main chunk in this test's runtime, as heph run would
-- run it: `arg`, and require and heph.use looking next to it first. A relative path is
-- looked for next to the test file first.
local here, depth = "", 0
function sim.run(path, ...)
  if type(path) ~= "string" then
    error(format("bad argument #1 to 'sim.run' (script path expected, got %s)", type(path)), 2)
  end
  if depth >= 16 then error("sim.run: scripts run by sim.run nest 16 deep (does a script run itself?)", 2) end
  local file = path
  if path:sub(1, 1) ~= "/" and here ~= "" then
    local candidate = io.open(here .. path)
    if candidate then candidate:close(); file = here .. path end
  end
  local chunk, problem = loadfile(file)
  if not chunk then error("sim.run: " .. problem, 2) end
  local directory = file:match("^(.*/)") or "./"
  local saved_arg, saved_path = arg, package.path
  local saved_script = primitives.script_path(file)
  arg = table.pack(...)
  arg.n, arg[0], arg[-1] = nil, file, saved_arg and saved_arg[-1]
  package.path = directory .. "?.lua;" .. directory .. "?/init.lua;" .. package.path
  depth = depth + 1
  local function restore(...)
    depth = depth - 1
    arg, package.path = saved_arg, saved_path
    primitives.script_path(saved_script)
    return ...
  end
  return restore(chunk(...))
end

-- What the test writes to io.stdout and io.stderr (the plugins' logs) is the test's output,
-- shown when it fails.
local emit = primitives.emit
local function captured(name)
  local file = {}
  function file:write(...)
    for i = 1, select("#", ...) do
      local value = select(i, ...)
      if type(value) ~= "string" and type(value) ~= "number" then
        error(format("bad argument #%d to 'write' (string expected, got %s)", i, type(value)), 2)
      end
      emit(tostring(value))
    end
    return self
  end
  function file:flush() return self end
  function file:setvbuf() return true end
  function file:close() return nil, "cannot close standard file" end
  return setmetatable(file, { __name = "FILE*", __tostring = function() return "file (" .. name .. ", heph test)" end })
end
io.stdout, io.stderr = captured("stdout"), captured("stderr")
function io.write(...) return io.stdout:write(...) end

-- Virtual time for the os library too.
local time, date, floor, now = os.time, os.date, math.floor, heph.now
function os.time(t)
  if t == nil then return floor(now()) end
  return time(t)
end
function os.date(fmt, t)
  if t == nil then t = floor(now()) end
  return date(fmt, t)
end

return function(chunk, path, ...)
  here = path:match("^(.*/)") or ""
  math.randomseed(seed)
  -- A malformed --filter is the command line's mistake, whatever the file holds.
  local function matches(subject)
    local ok, found = pcall(string.find, subject, filter)
    if not ok then error("--filter: " .. tostring(found):gsub("^.-:%d+: ", ""), 0) end
    return found ~= nil
  end
  if filter then matches(""); matches(filter) end
  -- A test that waits for what never happens ends after a virtual day, saying where.
  -- (After, not at, the limit: what the test scheduled for that very instant goes first.)
  local stalled = heph.after(limit, function() heph.after(0, primitives.stalled) end)
  chunk(...)
  declaring = false
  if name == nil then
    stalled:stop()
    local list = {}
    for i, test_name in ipairs(tests) do
      list[i] = { name = test_name, selected = filter == nil or matches(test_name) }
    end
    primitives.declare(list)
    heph.exit(0)   -- hooks or timers the top level registered end with the listing
  end
  -- A wait between the top level and the test: heph.config.hook_timeout set up there
  -- holds for the test's function.
  sleep(0)
  local fn = by_name[name]
  if fn == nil then
    error(format("the file declared no test named %q this time: declare the same tests every time (not in an order from pairs, math.random or the clock)", name), 0)
  end
  fn()
  primitives.passed()
  heph.exit(0)
end

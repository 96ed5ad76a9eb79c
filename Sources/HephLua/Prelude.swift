/// The part of the `heph` module written in Lua, run once per state under `lua_pcall`.
///
/// It receives the module table, the start functions of the waiting calls, the C
/// primitives, and returns the weak set of managed coroutines, the handle metatables (in
/// `HandleKind` order), the pattern matcher for hook targets, and the value `heph.exit`
/// raises where it cannot yield.
///
/// A waiting call (a Docker call, `heph.sleep`) is a thin wrapper: the start function
/// checks the arguments and begins the operation, returning a ticket; then the wrapper
/// either yields the ticket to the runtime (in a coroutine the runtime manages, when Lua
/// can yield there), which resumes it with the result, or waits for the ticket in place
/// (inside `require`, a metamethod, a sort comparator, or a coroutine of the script's own).
/// Only this plain Lua ever yields; C never does.
let preludeSource = #"""
local heph, starts, primitives = ...
local wait, write = primitives.wait, primitives.write
local coroutine, error, select, tostring, setmetatable = coroutine, error, select, tostring, setmetatable
local concat = table.concat
local rawyield, rawisyieldable, running = coroutine.yield, coroutine.isyieldable, coroutine.running

-- Coroutines the runtime resumes: the main chunk and every callback. Weak, so a finished
-- coroutine is collected as usual.
local managed = setmetatable({}, { __mode = "k" })

-- (true, results…) → results; (false, message) → raise it as it is, with no position.
local function settle(ok, ...)
  if ok then return ... end
  error((...), 0)
end

local function await(ticket)
  if managed[running()] and rawisyieldable() then
    return settle(rawyield(ticket))
  end
  return settle(wait(ticket))
end

for name, start in pairs(starts) do
  heph[name] = function(...) return await(start(...)) end
end

-- To a script, a managed coroutine is the main thread: it cannot yield.
function coroutine.yield(...)
  if managed[running()] then error("attempt to yield from outside a coroutine", 2) end
  return rawyield(...)
end

function coroutine.isyieldable(co)
  co = co or running()
  if managed[co] then return false end
  return rawisyieldable(co)
end

-- print goes through the runtime, so a host (a test, the REPL) can take the output.
function print(...)
  local parts = { ... }
  local count = select("#", ...)
  for i = 1, count do parts[i] = tostring(parts[i]) end
  write(concat(parts, "\t", 1, count) .. "\n")
end

-- heph.exit: asks the runtime to shut down, then ends the calling code here. A managed
-- coroutine yields ticket 0, which the runtime never resumes; elsewhere the call raises a
-- value the runtime recognises and does not report.
local request_exit = primitives.request_exit
local exit_signal = setmetatable({}, { __tostring = function() return "heph.exit" end })
function heph.exit(code)
  request_exit(code)
  if managed[running()] and rawisyieldable() then rawyield(0) end
  error(exit_signal, 0)
end

-- Hook targets given as { pattern = "…" } are Lua patterns, matched with string.find.
local find = string.find
local function matches(name, pattern)
  return find(name, pattern) ~= nil
end

-- heph.use(name [, opts]): finds the plugin (next to the script, $HEPH_PATH, the user's
-- plugin directory, built in), runs its chunk, and returns what its setup returns.
local find_plugin, load, type, pack, unpack = primitives.find_plugin, load, type, table.pack, table.unpack
function heph.use(name, opts)
  if type(name) ~= "string" then
    error(("bad argument #1 to 'use' (plugin name expected, got %s)"):format(type(name)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("bad argument #2 to 'use' (options table expected, got %s)"):format(type(opts)), 2)
  end
  local chunkname, source = find_plugin(name)
  if not chunkname then error(source, 2) end
  local chunk, problem = load(source, chunkname, "t")
  if not chunk then error("heph.use: plugin '" .. name .. "' does not compile: " .. problem, 2) end
  local plugin = chunk(name)
  if type(plugin) ~= "table" or type(plugin.setup) ~= "function" then
    error(("heph.use: plugin '%s' (%s) must return a table with a setup function, got %s"):format(
      name, chunkname:gsub("^[@=]", ""), type(plugin)), 2)
  end
  -- Not a tail call, so that a plugin's error(…, 5) points at the script's heph.use line.
  local results = pack(plugin.setup(heph, opts or {}))
  return unpack(results, 1, results.n)
end

local handles = {
  { __name = "heph.poller", __index = { stop = primitives.poller_stop } },
  { __name = "heph.hook", __index = { off = primitives.hook_off } },
  { __name = "heph.timer", __index = { stop = primitives.timer_stop } },
}

return managed, handles, matches, exit_signal
"""#

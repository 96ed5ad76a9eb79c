/// The part of the `heph` module written in Lua, run once per state under `lua_pcall`.
///
/// It receives the module table, the start functions of the waiting calls, the C
/// primitives, and returns the weak set of managed coroutines and the poller metatable.
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

local poller = {
  __name = "heph.poller",
  __index = { stop = primitives.poller_stop },
}

return managed, poller
"""#

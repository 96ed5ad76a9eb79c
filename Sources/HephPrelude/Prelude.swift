/// The part of the `heph` module written in Lua, run once per state under `lua_pcall`.
///
/// It receives the module table, the start functions of the waiting calls, the C
/// primitives, and returns the weak set of managed coroutines, the handle metatables (in
/// `HandleKind` order), the pattern matcher for hook targets, the value `heph.exit`
/// raises where it cannot yield, the REPL's formatter, and the plugin describer of
/// `heph plugins NAME`.
///
/// A waiting call (a Docker call, `heph.sleep`) is a thin wrapper: the start function
/// checks the arguments and begins the operation, returning a ticket; then the wrapper
/// either yields the ticket to the runtime (in a coroutine the runtime manages, when Lua
/// can yield there), which resumes it with the result, or waits for the ticket in place
/// (inside `require`, a metamethod, a sort comparator, or a coroutine of the script's own).
/// Only this plain Lua ever yields; C never does.
public let preludeSource = #"""
local heph, starts, primitives = ...
local wait, write = primitives.wait, primitives.write
local coroutine, error, select, tostring, setmetatable, type = coroutine, error, select, tostring, setmetatable, type
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

-- What heph.state's and heph.json's encoders say of where in a value they are: "the
-- value", "value.name[3]". Only for an error; no metamethod runs.
local quoted_key, value_path
do
  local fmt, sub, find, concat, mtype, type = string.format, string.sub, string.find, table.concat, math.type, type
  function quoted_key(k)
    return fmt("%q", sub(k, 1, 64)) .. (#k > 64 and "…" or "")
  end
  local function key_text(k)
    if type(k) == "string" and #k <= 64 and find(k, "^[%a_][%w_]*$") then return "." .. k end
    if type(k) == "string" then return "[" .. quoted_key(k) .. "]" end
    if mtype(k) == "integer" then return fmt("[%d]", k) end
    if mtype(k) == "float" then return fmt("[%.14g]", k) end
    if type(k) == "boolean" then return k and "[true]" or "[false]" end
    return "[" .. type(k) .. "]"
  end
  function value_path(path, depth)
    if depth == 0 then return "the value" end
    local parts = { "value" }
    for i = 1, depth do parts[#parts + 1] = key_text(path[i]) end
    return concat(parts)
  end
end

\#(statePreludeSource)
\#(jsonPreludeSource)

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

-- Nor can a script resume or close one (coroutine.running() hands them out): heph resumes
-- them with the results of the calls they wait for, and ends them itself.
-- (close: Lua 5.4.4's own crashes on a chain of closes inside __close handlers; heph's
-- refuses to nest deeper than 100. watch: the watchdog's hook on a coroutine a finalizer
-- made where none was set.)
local rawresume, close, watch = coroutine.resume, primitives.close, primitives.watch
function coroutine.resume(co, ...)
  if managed[co] then
    if co == running() then return false, "cannot resume non-suspended coroutine" end
    return false, "cannot resume a coroutine heph runs (it waits in a heph call)"
  end
  if type(co) == "thread" then watch(co) end
  return rawresume(co, ...)
end

function coroutine.close(co)
  if managed[co] then error("cannot close a coroutine heph runs", 2) end
  return close(co)
end

-- print goes through the runtime, so a host (a test, the REPL) can take the output.
function print(...)
  local parts = { ... }
  local count = select("#", ...)
  for i = 1, count do parts[i] = tostring(parts[i]) end
  write(concat(parts, "\t", 1, count) .. "\n")
end

-- Under heph run --log-format json, what Lua writes to io.stderr (a plugin's "heph restart:
-- …") becomes log lines of its own, so standard error stays one JSON object per line.
if io and primitives.stderr_routed() then
  local write_stderr, stderr = primitives.write_stderr, {}
  function stderr:write(...)
    for i = 1, select("#", ...) do
      local piece = select(i, ...)
      if type(piece) == "number" then piece = tostring(piece) end
      if type(piece) ~= "string" then error(("bad argument #%d to 'write' (string expected, got %s)"):format(i, type(piece)), 2) end
      write_stderr(piece)
    end
    return self
  end
  function stderr:flush() return self end
  function stderr:setvbuf() return true end
  function stderr:close() return nil, "cannot close standard file" end
  io.stderr = setmetatable(stderr, { __name = "FILE*", __tostring = function() return "file (heph's JSON log)" end })
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

-- A stop (time up, interrupted) that Lua cannot yield for is raised from the watchdog's
-- hook, where Lua runs an xpcall message handler with hooks off: not a script's handler
-- then, or one that loops would hang heph.
local rawxpcall, stopping = xpcall, primitives.stopping
function xpcall(f, handler, ...)
  if type(handler) ~= "function" then
    error(("bad argument #2 to 'xpcall' (function expected, got %s)"):format(type(handler)), 2)
  end
  return rawxpcall(f, function(e)
    if stopping() then return e end
    return handler(e)
  end, ...)
end

-- os.exit ends the run as heph.exit does (the on_shutdown handlers run, the exit code is
-- kept); os.exit(code, true) would close the Lua state from inside a call it is running.
if os.exit then
  local exit = heph.exit
  function os.exit(code) return exit(code) end
end

-- Hook targets given as { pattern = "…" } are Lua patterns, matched with string.find.
local find = string.find
local function matches(name, pattern)
  return find(name, pattern) ~= nil
end

\#(pluginPreludeSource)

-- A hook's ev: tostring(ev) and print(ev) give one line, name, previous → status, cause,
-- time: "heph-db: healthy → stopped (crash, exit code 137) at 2026-11-30T03:12:09.042Z".
-- Fields are read raw and only strings and numbers shown: a script may have changed them.
local event_metatable = { __name = "heph.event", __metatable = "heph.event" }
do
  local rawget, type, floor, date, format, tostring = rawget, type, math.floor, os.date, string.format, tostring
  local function field(ev, key)
    local value = rawget(ev, key)
    local kind = type(value)
    if kind == "string" then return value end
    if kind == "number" then return tostring(value) end
    return nil
  end
  event_metatable.__tostring = function(ev)
    local name = field(ev, "task") or field(ev, "name") or "?"
    if field(ev, "node") then name = name .. " on " .. field(ev, "node") end
    local why = field(ev, "cause") or "?"
    if field(ev, "exit_code") then why = why .. ", exit code " .. field(ev, "exit_code") end
    if field(ev, "by") then why = why .. ", by " .. field(ev, "by") end
    local line = format("%s: %s \u{2192} %s (%s)", name, field(ev, "previous") or "new", field(ev, "status") or "?", why)
    local at = rawget(ev, "at")
    if date and type(at) == "number" and at == at and at >= 0 and at < 1e11 then
      line = line .. " at " .. date("!%Y-%m-%dT%H:%M:%S", floor(at)) .. format(".%03dZ", floor((at % 1) * 1000))
    end
    return line
  end
end

local handles = {
  { __name = "heph.poller", __index = { stop = primitives.poller_stop } },
  { __name = "heph.hook", __index = { off = primitives.hook_off } },
  { __name = "heph.timer", __index = { stop = primitives.timer_stop } },
}

-- The REPL's printer. A string or number at the top prints as `print` would; a table
-- prints as a literal: nested, keys sorted (the array part first), a table inside itself
-- marked as a cycle, four levels deep at most. A list of ContainerInfo (or a heph.up
-- result) prints as a small table, as `heph ps` does.
local format
do
  local sort, fmt, rep, huge = table.sort, string.format, string.rep, math.huge
  local mathtype, next, ipairs, pairs = math.type, next, ipairs, pairs
  local max_depth, width = 4, 72

  local function literal(v)
    if type(v) == "string" then
      return '"' .. v:gsub('[%c"\\]', function(c)
        local named = { ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ['"'] = '\\"', ["\\"] = "\\\\" }
        return named[c] or fmt("\\%d", c:byte())
      end) .. '"'
    end
    return tostring(v)
  end

  local function key_text(k)
    if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
    return "[" .. literal(k) .. "]"
  end

  local function before(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end

  local function is_container(v)
    return type(v) == "table" and type(v.id) == "string" and type(v.name) == "string" and type(v.status) == "string"
  end

  -- { key, ContainerInfo } rows, when `v` is a non-empty list or map of ContainerInfo.
  local function containers(v)
    if type(v) ~= "table" or next(v) == nil then return nil end
    local rows, keyed = {}, #v == 0
    for k, c in pairs(v) do
      if not is_container(c) or (not keyed and mathtype(k) ~= "integer") then return nil end
      rows[#rows + 1] = { k, c }
    end
    sort(rows, function(a, b) return before(a[1], b[1]) end)
    return rows, keyed
  end

  local function container_table(rows, keyed)
    local header = { "NAME", "STATUS", "IMAGE", "PORTS" }
    if keyed then table.insert(header, 1, "SERVICE") end
    local lines, widths = { header }, {}
    for _, row in ipairs(rows) do
      local c, ports = row[2], {}
      for host, target in pairs(type(c.ports) == "table" and c.ports or {}) do ports[#ports + 1] = tostring(host) .. "->" .. tostring(target) end
      sort(ports)
      local line = { c.name, c.status, tostring(c.image or ""), table.concat(ports, ", ") }
      if keyed then table.insert(line, 1, tostring(row[1])) end
      lines[#lines + 1] = line
    end
    for _, line in ipairs(lines) do
      for i, cell in ipairs(line) do widths[i] = math.max(widths[i] or 0, utf8.len(cell) or #cell) end
    end
    local out = {}
    for _, line in ipairs(lines) do
      local cells = {}
      for i, cell in ipairs(line) do
        cells[i] = i < #line and cell .. rep(" ", widths[i] - (utf8.len(cell) or #cell)) or cell
      end
      out[#out + 1] = (table.concat(cells, "   "):gsub("%s+$", ""))
    end
    return table.concat(out, "\n")
  end

  local function render(v, indent, depth, path)
    if type(v) ~= "table" then return literal(v) end
    if path[v] then return "<cycle>" end
    if next(v) == nil then return "{}" end
    if depth >= max_depth then return "{…}" end
    path[v] = true
    local parts, n = {}, #v
    for i = 1, n do parts[#parts + 1] = render(v[i], indent .. "  ", depth + 1, path) end
    local keys = {}
    for k in pairs(v) do
      if not (mathtype(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    sort(keys, before)
    for _, k in ipairs(keys) do
      parts[#parts + 1] = key_text(k) .. " = " .. render(v[k], indent .. "  ", depth + 1, path)
    end
    path[v] = nil
    local line = "{ " .. table.concat(parts, ", ") .. " }"
    if #line + #indent <= width and not line:find("\n") then return line end
    return "{\n" .. indent .. "  " .. table.concat(parts, ",\n" .. indent .. "  ") .. ",\n" .. indent .. "}"
  end

  function format(...)
    local out = {}
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      local rows, keyed = containers(v)
      if rows then
        out[i] = container_table(rows, keyed)
      elseif type(v) == "table" then
        out[i] = render(v, "", 0, {})
      else
        out[i] = tostring(v)
      end
    end
    return table.concat(out, "\t", 1, select("#", ...))
  end
end

-- The debug library reaches anything; what would reach into heph's own state is refused:
-- the registry (heph's references), the hook (heph's time limit and Ctrl-C), and the
-- upvalues of heph's functions (the coroutine set, the raw yield, the waiting primitives).
if debug then
  local owned = setmetatable({}, { __mode = "k" })
  local function own(t)
    for _, v in pairs(t) do
      if type(v) == "function" then owned[v] = true end
    end
  end
  own(heph); own(heph.state); own(heph.json); own(heph.http); own(starts); own(primitives); own(coroutine)
  owned[print], owned[os.exit], owned[xpcall] = true, true, true
  for _, metatable in ipairs(handles) do own(metatable.__index) end
  local getupvalue, setupvalue, upvalueid, upvaluejoin = debug.getupvalue, debug.setupvalue, debug.upvalueid, debug.upvaluejoin
  local function refused(name, why)
    return function() error("debug." .. name .. " is not available in heph: " .. why, 2) end
  end
  local function check(f, name)
    if owned[f] then error("debug." .. name .. ": not on a function of heph's own", 3) end
  end
  debug.getregistry = refused("getregistry", "the registry holds heph's own state")
  debug.sethook = refused("sethook", "heph's time limit and Ctrl-C use the hook")
  function debug.getupvalue(f, n) check(f, "getupvalue"); return getupvalue(f, n) end
  function debug.setupvalue(f, n, v) check(f, "setupvalue"); return setupvalue(f, n, v) end
  function debug.upvalueid(f, n) check(f, "upvalueid"); return upvalueid(f, n) end
  function debug.upvaluejoin(f1, n1, f2, n2)
    check(f1, "upvaluejoin"); check(f2, "upvaluejoin")
    return upvaluejoin(f1, n1, f2, n2)
  end
  own(debug)
end

return managed, handles, matches, exit_signal, format, describe_plugin, event_metatable
"""#

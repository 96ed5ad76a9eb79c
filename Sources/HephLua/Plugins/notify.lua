-- heph's built-in "notify" plugin: tells of transitions. Writes a line per transition on
-- standard error, and runs a command (without holding the loop back) with the event's
-- fields in its environment: HEPH_EVENT, HEPH_NAME, HEPH_ID, HEPH_STATUS, HEPH_PREVIOUS,
-- HEPH_AT, HEPH_EXPECTED, HEPH_BY, HEPH_EXIT_CODE, HEPH_OOM_KILLED.
--
--   heph.use("notify", { events = { "unhealthy", "exit" },
--                        command = "curl -s -d \"$HEPH_NAME is $HEPH_STATUS\" https://hooks.example/ops" })

local plugin = {}

local known_events = {
  created = true, running = true, stopped = true, error = true, healthy = true,
  unhealthy = true, change = true, exit = true, removed = true,
}

local function fail(message)
  error("heph.use('notify'): " .. message, 5)
end

local function options(opts)
  local o = { events = { "change" }, log = true }
  for key, value in pairs(opts) do
    if key == "events" then
      if type(value) ~= "table" or #value == 0 then fail("option events must be an array, such as { \"unhealthy\", \"exit\" }") end
      for _, event in ipairs(value) do
        if not known_events[event] then fail(("option events: %q is not a hook event"):format(tostring(event))) end
      end
    elseif key == "command" then
      if type(value) ~= "string" and type(value) ~= "table" then
        fail("option command must be a shell string or an array of strings, got " .. type(value))
      end
    elseif key == "target" then
      if type(value) ~= "string" and type(value) ~= "table" then
        fail("option target must be a container name or { pattern = \"…\" }, got " .. type(value))
      end
    elseif key == "log" then
      if type(value) ~= "boolean" then fail("option log must be true or false, got " .. type(value)) end
    elseif key == "on_command" then
      if type(value) ~= "function" then fail("option on_command must be a function, got " .. type(value)) end
    else
      fail(("unknown option %q (known: events, command, target, log, on_command)"):format(tostring(key)))
    end
    o[key] = value
  end
  return o
end

-- The event's fields as HEPH_* environment variables.
function plugin.environment(event, ev)
  local env = {
    HEPH_EVENT = event,
    HEPH_NAME = ev.name,
    HEPH_ID = ev.id,
    HEPH_STATUS = ev.status,
    HEPH_PREVIOUS = ev.previous or "",
    HEPH_AT = string.format("%.3f", ev.at),
    HEPH_EXPECTED = tostring(ev.expected),
    HEPH_BY = ev.by or "",
  }
  if ev.exit_code ~= nil then env.HEPH_EXIT_CODE = tostring(ev.exit_code) end
  if ev.oom_killed ~= nil then env.HEPH_OOM_KILLED = tostring(ev.oom_killed) end
  return env
end

function plugin.setup(heph, opts)
  local o = options(opts)
  local hooks = {}

  local function notify(event, ev)
    if o.log then
      local detail = ev.exit_code and (" (exit code " .. ev.exit_code .. ")") or ""
      local cause = ev.by and (" by heph." .. ev.by) or ""
      io.stderr:write(("heph notify: %s %s: %s -> %s%s%s\n"):format(
        event, ev.name, ev.previous or "new", ev.status, detail, cause))
    end
    if o.command then
      local code, out, err = heph.shell(o.command, plugin.environment(event, ev))
      if o.on_command then o.on_command(code, out, err, ev) end
      if code ~= 0 and o.log then
        io.stderr:write(("heph notify: the command failed with exit code %d: %s\n"):format(code, err))
      end
    end
  end

  for _, event in ipairs(o.events) do
    local fn = function(ev) notify(event, ev) end
    if o.target then hooks[#hooks + 1] = heph.on(event, o.target, fn) else hooks[#hooks + 1] = heph.on(event, fn) end
  end

  return {
    -- Stops the plugin: its hooks are removed.
    stop = function()
      for _, hook in ipairs(hooks) do hook:off() end
    end,
  }
end

return plugin

-- heph's built-in "notify" plugin: tells of transitions. Writes a line per transition on
-- standard error, and runs a command (without holding the loop back) with the event's
-- fields in its environment: HEPH_EVENT, HEPH_NAME, HEPH_ID, HEPH_STATUS, HEPH_PREVIOUS,
-- HEPH_AT, HEPH_EXPECTED, HEPH_BY, HEPH_CAUSE, HEPH_STATE, HEPH_EXIT_CODE, HEPH_OOM_KILLED.
--
--   heph.use("notify", { events = { "unhealthy", "exit" },
--                        command = "curl -s -d \"$HEPH_NAME is $HEPH_STATUS\" https://hooks.example/ops" })

local hooks = {}

local plugin = {
  name = "notify",
  description = "Tells of transitions: a line on stderr, and a command run with the event in its environment.",
  options = {
    events = { type = "array", of = "string", min = 1, default = { "change" },
               one_of = { "created", "running", "stopped", "error", "healthy", "unhealthy", "change", "exit", "removed" },
               doc = "the hook events to tell of" },
    target = { type = "target", doc = "the containers: a name or { pattern = \"...\" } (default: every managed container)" },
    command = { type = { "string", "array" }, of = "string", doc = "run per event with heph.shell: a shell string or an array of strings" },
    on_command = { type = "function", doc = "on_command(code, stdout, stderr, ev): after each command" },
    log = { type = "boolean", default = true, doc = "a line on stderr per transition" },
  },
}

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
    HEPH_CAUSE = ev.cause or "",
    HEPH_STATE = ev.state or "",
  }
  if ev.exit_code ~= nil then env.HEPH_EXIT_CODE = tostring(ev.exit_code) end
  if ev.oom_killed ~= nil then env.HEPH_OOM_KILLED = tostring(ev.oom_killed) end
  return env
end

function plugin.setup(heph, o)

  local function notify(event, ev)
    if o.log then
      local detail = ev.exit_code and (", exit code " .. ev.exit_code) or ""
      local by = ev.by and (" by heph." .. ev.by) or ""
      io.stderr:write(("heph notify: %s %s: %s -> %s (%s%s)%s\n"):format(
        event, ev.name, ev.previous or "new", ev.status, tostring(ev.cause), detail, by))
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
    stop = plugin.stop,
  }
end

-- At shutdown, or when the script calls the handle's stop: the hooks are removed.
function plugin.stop()
  for _, hook in ipairs(hooks) do hook:off() end
end

return plugin

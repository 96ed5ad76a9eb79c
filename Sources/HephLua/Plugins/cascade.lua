-- heph's built-in "cascade" plugin: when a service restarts or is recreated, restarts the
-- services that depend on it (directly or not), in dependency order, each once the one
-- before it is ready.
--
--   heph.up(topology)
--   heph.use("cascade")
--
-- Dependencies are those of the topologies heph.up brought up in this run
-- (heph.dependents). Not cascaded: a container's first start, heph.up's own changes (it
-- restarts dependents itself), and the restarts this plugin makes. On a swarm, a task
-- Swarm replaced (a new task in the same slot) counts as a restart of its service.

local hooks = {}

local plugin = {
  name = "cascade",
  description = "When a service restarts or is recreated, restarts the services that depend on it, in dependency order.",
  options = {
    timeout = { type = "number", above = 0, default = 60, doc = "seconds to wait for each service to be ready" },
    on_cascade = { type = "function", doc = "on_cascade(name, dependents): before each cascade" },
    log = { type = "boolean", default = true, doc = "a line on stderr per cascade" },
  },
}

function plugin.setup(heph, o)
  local known_id = {}    -- name → the id last seen running
  local stopped_by = {}  -- name → the heph call behind its last stop or removal (nil: not this process)
  local ours = {}        -- names this plugin is restarting: their own start is not cascaded

  local function log(fmt, ...)
    if o.log then io.stderr:write(("heph cascade: " .. fmt .. "\n"):format(...)) end
  end

  local function cascade(name)
    local dependents = heph.dependents(name)
    if #dependents == 0 then return end
    log("%s restarted; restarting %s", name, table.concat(dependents, ", "))
    if o.on_cascade then o.on_cascade(name, dependents) end
    local ready, status = heph.wait_healthy(name, o.timeout)
    if not ready then
      log("%s is %s, not ready; its dependents are left as they are", name, tostring(status))
      return
    end
    for _, dependent in ipairs(dependents) do
      ours[dependent] = true
      local ok, problem = pcall(heph.restart_container, dependent)
      if not ok then
        ours[dependent] = nil
        log("%s", problem)
      else
        local up, now = heph.wait_healthy(dependent, o.timeout)
        if not up then log("%s is %s after its restart", dependent, tostring(now)) end
      end
      -- On a swarm each replica starts anew; the restart is over once the service is ready.
      if heph.config.backend == "swarm" then ours[dependent] = nil end
    end
  end

  local function stopped(ev)
    stopped_by[ev.name] = ev.by
  end

  local function started(ev)
    -- On a swarm, a task that Swarm replaced is a new task in the same slot.
    local slot = ev.task or ev.name
    local restarted = ev.previous == "stopped"
    local recreated = known_id[slot] ~= nil and known_id[slot] ~= ev.id
    known_id[slot] = ev.id
    if not (restarted or recreated) then return end
    if ours[ev.name] then
      if not ev.task then ours[ev.name] = nil end
      return
    end
    if stopped_by[ev.name] == "up" then return end
    cascade(ev.name)
  end

  hooks[#hooks + 1] = heph.on("exit", stopped)
  hooks[#hooks + 1] = heph.on("removed", stopped)
  hooks[#hooks + 1] = heph.on("running", started)

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

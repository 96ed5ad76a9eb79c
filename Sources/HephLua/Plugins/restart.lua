-- heph's built-in "restart" plugin: restarts containers that turn unhealthy or exit on
-- their own, waiting longer after each restart (exponential backoff with jitter), within
-- a restart budget; past the budget it gives up on the container and says so once.
--
--   heph.use("restart", { target = { pattern = "^heph%-api" }, initial = 1, max = 60 })
--
-- Per container (by id: a new container under the same name starts afresh): one restart
-- at a time; a stop or restart this process asked for (ev.expected) is not a failure;
-- running or healthy for `reset_after` seconds starts the backoff and the budget over; a
-- container removed is forgotten.
--
-- The budget and backoff are kept in heph.state ("restart/" .. container id), so a watcher
-- that takes over (heph run --lead) or starts again continues them instead of starting
-- over. When the state cannot be reached, the plugin goes on with what it has in memory.
--
-- On a swarm (events with ev.task) Swarm replaces a failed task itself, by the service's
-- restart policy; the plugin then restarts nothing but keeps the budget, so on_give_up
-- still says when a service keeps failing.

local hooks = {}

local plugin = {
  name = "restart",
  description = "Restarts containers that turn unhealthy or exit on their own, with exponential backoff and a restart budget.",
  options = {
    target = { type = "target", doc = "the containers: a name or { pattern = \"...\" } (default: every managed container)" },
    events = { type = "array", of = "string", one_of = { "unhealthy", "exit" }, min = 1, default = { "unhealthy", "exit" },
               doc = "what counts as a failure" },
    initial = { type = "number", min = 0, default = 1, doc = "seconds before the first restart" },
    factor = { type = "number", min = 1, default = 2, doc = "each further restart waits this many times longer" },
    max = { type = "number", min = 0, default = 60, doc = "the longest wait, in seconds" },
    jitter = { type = "number", min = 0, max = 1, default = 0.1, doc = "the wait varies at random by up to this fraction, either way" },
    reset_after = { type = "number", min = 0, default = 60, doc = "seconds running or healthy after which backoff and budget start over" },
    max_restarts = { type = "number", min = 1, default = 5, doc = "at most this many restarts within window; then give up" },
    window = { type = "number", min = 0, default = 300, doc = "the seconds max_restarts counts over" },
    on_restart = { type = "function", doc = "on_restart(ev, attempt, delay): after each restart" },
    on_give_up = { type = "function", doc = "on_give_up(ev): once, when it gives up on a container" },
    log = { type = "boolean", default = true, doc = "a line on stderr per decision" },
  },
}

-- The wait before restart number `attempt` (1, 2, …): initial × factor^(attempt-1), capped
-- at max, then varied by ± jitter.
function plugin.delay(o, attempt)
  local delay = math.min(o.max, o.initial * o.factor ^ (attempt - 1))
  if o.jitter > 0 then delay = delay * (1 + o.jitter * (2 * math.random() - 1)) end
  return math.max(0, delay)
end

function plugin.setup(heph, o)
  local states = {}

  local function log(fmt, ...)
    if o.log then io.stderr:write(("heph restart: " .. fmt .. "\n"):format(...)) end
  end

  -- By container id; a Swarm task's by its service (Swarm replaces tasks under new ids).
  local ids = {}
  local function key_of(ev) return ev.task and ev.name or ev.id end

  local function state_of(ev)
    local key = key_of(ev)
    ids[ev.name] = key
    local state = states[key]
    if not state then
      local ok, saved = pcall(heph.state.get, "restart/" .. key)
      saved = ok and type(saved) == "table" and saved or {}
      state = states[key] or {
        attempt = math.tointeger(saved.attempt) or 0,
        restarts = type(saved.restarts) == "table" and saved.restarts or {},
        given_up = saved.given_up == true,
        ok_since = tonumber(saved.ok_since),
        restarting = false,
      }
      states[key] = state
    end
    return state
  end

  -- Keeps what a successor needs; a failure to write is no reason to stop restarting.
  local function save(ev, state)
    pcall(heph.state.set, "restart/" .. key_of(ev), {
      attempt = state.attempt, restarts = state.restarts, given_up = state.given_up, ok_since = state.ok_since,
    })
  end

  local function on(event, fn)
    if o.target then hooks[#hooks + 1] = heph.on(event, o.target, fn) else hooks[#hooks + 1] = heph.on(event, fn) end
  end

  local function failed(ev)
    if ev.expected then return end
    local state = state_of(ev)
    if state.restarting then return end
    local now = heph.now()
    if state.ok_since and now - state.ok_since >= o.reset_after then
      state.attempt, state.restarts, state.given_up = 0, {}, false
    end
    state.ok_since = nil
    if state.given_up then return end
    -- The budget: restarts within the window.
    local recent = {}
    for _, at in ipairs(state.restarts) do
      if now - at < o.window then recent[#recent + 1] = at end
    end
    state.restarts = recent
    if #recent >= o.max_restarts then
      state.given_up = true
      save(ev, state)
      log("%s is %s; giving up after %d restarts in %g s", ev.name, ev.status, #recent, o.window)
      if o.on_give_up then o.on_give_up(ev) end
      return
    end
    if ev.task then
      state.restarts[#state.restarts + 1] = now
      save(ev, state)
      log("%s (task %s on %s) is %s; Swarm replaces it", ev.name, ev.task, ev.node, ev.status)
      return
    end
    state.attempt = state.attempt + 1
    local attempt = state.attempt
    local delay = plugin.delay(o, attempt)
    state.restarting = true
    save(ev, state)
    log("%s is %s%s; restart %d in %.2f s", ev.name, ev.status,
      ev.exit_code and (" (exit code " .. ev.exit_code .. ")") or "", attempt, delay)
    heph.sleep(delay)
    -- Removed meanwhile (the "removed" hook forgot it): nothing left to restart.
    if states[key_of(ev)] ~= state then return end
    local ok, problem = pcall(heph.restart_container, ev.name)
    state.restarting = false
    state.restarts[#state.restarts + 1] = heph.now()
    save(ev, state)
    if not ok then
      log("%s", problem)
      return
    end
    if o.on_restart then o.on_restart(ev, attempt, delay) end
  end

  local function recovered(ev)
    local state = state_of(ev)
    if state.ok_since then return end
    state.ok_since = ev.at
    -- A container that never failed has nothing a successor needs.
    if state.attempt > 0 or #state.restarts > 0 or state.given_up then save(ev, state) end
  end

  for _, event in ipairs(o.events) do on(event, failed) end
  on("running", recovered)
  on("healthy", recovered)
  -- A task removed (Swarm prunes old ones) is not its service removed.
  on("removed", function(ev)
    if ev.task then return end
    states[ev.id] = nil
    if ids[ev.name] == ev.id then ids[ev.name] = nil end
    pcall(heph.state.set, "restart/" .. ev.id, nil)
  end)

  return {
    -- A copy of what the plugin knows of a container: attempt, restarts (times), given_up.
    state = function(name)
      local key = ids[name] or ids[heph.CONTAINER_PREFIX .. name]
      local state = key and states[key]
      if not state then return nil end
      return { attempt = state.attempt, restarts = #state.restarts, given_up = state.given_up, restarting = state.restarting }
    end,
    -- Stops the plugin: its hooks are removed.
    stop = plugin.stop,
  }
end

-- At shutdown, or when the script calls the handle's stop: the hooks are removed.
function plugin.stop()
  for _, hook in ipairs(hooks) do hook:off() end
end

return plugin

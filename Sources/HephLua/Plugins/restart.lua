-- heph's built-in "restart" plugin: restarts containers that turn unhealthy or exit on
-- their own, waiting longer after each restart (exponential backoff with jitter), within
-- a restart budget; past the budget it gives up on the container and says so once.
--
--   heph.use("restart", { target = { pattern = "^heph%-api" }, initial = 1, max = 60 })
--
-- Per container (by id: a new container under the same name starts afresh): one restart
-- at a time; running or healthy for `reset_after` seconds starts the backoff and the
-- budget over; a container removed is forgotten, with a line saying it is no longer guarded.
--
-- Causes, not symptoms (ev.cause):
-- * Among exits it acts on `crash`, `oom`, `killed`, `engine` and `unknown`; on `stopped`
--   (a `docker stop` from outside, an operator's maintenance) only with restart_stopped;
--   never on what this process asked for (`heph`, ev.expected).
-- * A paused container: unpaused (the default), restarted, or left alone (`paused`).
-- * A dependent's failure while one of its upstreams (heph.dependents) is down, being
--   restarted, or back for less than `settle` seconds is a symptom: it is not restarted
--   and not counted against the dependent's budget. `cascade` restarts the dependent once
--   the upstream is back; if it is still failing `settle` seconds after, it is restarted
--   then, on its own budget.
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
  description = "Restarts containers that turn unhealthy or exit on their own, with exponential backoff and a restart budget; a dependent's failure while its upstream is down is left to the upstream's recovery.",
  options = {
    target = { type = "target", doc = "the containers: a name or { pattern = \"...\" } (default: every managed container)" },
    events = { type = "array", of = "string", one_of = { "unhealthy", "exit" }, min = 1, default = { "unhealthy", "exit" },
               doc = "what counts as a failure" },
    restart_stopped = { type = "boolean", default = false,
                        doc = "also restart a container stopped from outside (cause \"stopped\": docker stop, heph down)" },
    paused = { type = "string", one_of = { "unpause", "restart", "ignore" }, default = "unpause",
               doc = "what to do with a container paused from outside" },
    initial = { type = "number", min = 0, default = 1, doc = "seconds before the first restart" },
    factor = { type = "number", min = 1, default = 2, doc = "each further restart waits this many times longer" },
    max = { type = "number", min = 0, default = 60, doc = "the longest wait, in seconds" },
    jitter = { type = "number", min = 0, max = 1, default = 0.1, doc = "the wait varies at random by up to this fraction, either way" },
    reset_after = { type = "number", min = 0, default = 60, doc = "seconds running or healthy after which backoff and budget start over" },
    max_restarts = { type = "number", min = 1, default = 5, doc = "at most this many restarts within window; then give up" },
    window = { type = "number", min = 0, default = 300, doc = "the seconds max_restarts counts over" },
    settle = { type = "number", min = 0, default = 10,
               doc = "seconds a dependent is given to recover once its upstream is back, before its failure counts" },
    on_restart = { type = "function", doc = "on_restart(ev, attempt, delay): after each restart" },
    on_recover = { type = "function", doc = "on_recover(ev, down_seconds, restarts): once a container it restarted is healthy (or running, without a healthcheck) again" },
    on_give_up = { type = "function", doc = "on_give_up(ev): once, when it gives up on a container (ev is the cause's transition)" },
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

-- The exits it acts on, by cause.
local failing_exit = { crash = true, oom = true, killed = true, engine = true, unknown = true }

local function plural(n, word) return ("%d %s%s"):format(n, word, n == 1 and "" or "s") end

-- `heph-db is stopped (killed, exit code 137)`
local function what(ev)
  local detail = ev.cause or "?"
  if ev.exit_code then detail = detail .. ", exit code " .. ev.exit_code end
  local status = ev.state == "paused" and "paused" or ev.status
  return ("%s is %s (%s)"):format(ev.name, status, detail)
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
        down_since = tonumber(saved.down_since),
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
      down_since = state.down_since,
    })
  end

  local function on(event, fn)
    if o.target then hooks[#hooks + 1] = heph.on(event, o.target, fn) else hooks[#hooks + 1] = heph.on(event, fn) end
  end

  -- What every managed container (targeted or not: an upstream may not be) last did, by
  -- name: { up = bool, since = time it came up, ev = its last transition }.
  local seen = {}
  -- Whether a container has a healthcheck (so `running` is not yet "up"), asked once.
  local healthchecked = {}
  local function has_healthcheck(name)
    if healthchecked[name] == nil then
      local ok, info = pcall(heph.inspect_container, name)
      if not ok then return false end
      healthchecked[name] = type(info) == "table" and info.health ~= nil
    end
    return healthchecked[name]
  end
  local function is_up(ev)
    if ev.status == "healthy" then return true end
    return ev.status == "running" and not has_healthcheck(ev.name)
  end

  -- The upstream that makes `name`'s failure a symptom: one it depends on that is down,
  -- being restarted by this plugin, or back for less than `settle` seconds.
  local function failing_upstream(name)
    local now = heph.now()
    for upstream, look in pairs(seen) do
      if upstream ~= name then
        local restarting = ids[upstream] and states[ids[upstream]] and states[ids[upstream]].restarting
        if restarting or not look.up or now - look.since < o.settle then
          for _, dependent in ipairs(heph.dependents(upstream)) do
            if dependent == name then return upstream end
          end
        end
      end
    end
    return nil
  end

  -- Symptoms waiting for their upstream: name → { ev = the failure, upstream = name }.
  local symptoms = {}
  -- Transitions seen per name: a hook that waited (an inspect) drops what a later one changed.
  local generation = {}
  -- Whether a transition is a failure this plugin acts on (by `events` and the causes).
  local acts_on = {}
  for _, event in ipairs(o.events) do acts_on[event] = true end
  local function is_failure(ev)
    if ev.expected then return false end
    if ev.status == "unhealthy" then return acts_on.unhealthy == true end
    if ev.status == "stopped" then
      return acts_on.exit == true and (failing_exit[ev.cause] == true or (ev.cause == "stopped" and o.restart_stopped))
    end
    return false
  end

  -- A paused container is thawed after `initial` seconds: no restart, so neither the
  -- budget nor the backoff counts it; one someone else thawed meanwhile is left alone.
  local function unpause(ev, state)
    state.restarting = true
    log("%s; unpausing in %.2f s", what(ev), o.initial)
    heph.sleep(o.initial)
    if states[key_of(ev)] ~= state then return end
    state.restarting = false
    local seen, info = pcall(heph.inspect_container, ev.name)
    if seen and type(info) == "table" and info.state ~= "paused" then return end
    local ok, problem = pcall(heph.unpause_container, ev.name)
    if not ok then log("%s", problem) end
  end

  -- A symptom of `upstream` judged again: still failing, it is a failure (defined below).
  local recheck_symptom

  local function failed(ev, act)
    if ev.expected then return end
    local state = state_of(ev)
    if state.restarting then return end
    local now = heph.now()
    if not ev.task then
      local upstream = failing_upstream(ev.name)
      if upstream then
        if not symptoms[ev.name] then
          log("%s while its upstream %s is down or recovering: a symptom, not restarted (cascade restarts it once %s is back; this plugin if it still fails %g s after)",
            what(ev), upstream, upstream, o.settle)
        end
        symptoms[ev.name] = { ev = ev, upstream = upstream }
        -- The upstream already back (within settle): no transition of it will recheck this.
        local look = seen[upstream]
        if look and look.up then
          heph.after(math.max(0, look.since + o.settle - heph.now()) + 0.05, function() recheck_symptom(ev.name, upstream) end)
        end
        return
      end
    end
    symptoms[ev.name] = nil
    if state.ok_since and now - state.ok_since >= o.reset_after then
      state.attempt, state.restarts, state.given_up = 0, {}, false
    end
    state.ok_since = nil
    state.down_since = state.down_since or ev.at
    if state.given_up then return end
    if act == heph.unpause_container then return unpause(ev, state) end
    -- The budget: restarts within the window.
    local recent = {}
    for _, at in ipairs(state.restarts) do
      if now - at < o.window then recent[#recent + 1] = at end
    end
    state.restarts = recent
    if #recent >= o.max_restarts then
      state.given_up = true
      save(ev, state)
      log("%s; giving up after %s in %g s", what(ev), plural(#recent, "restart"), o.window)
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
    log("%s; restart %d in %.2f s", what(ev), attempt, delay)
    heph.sleep(delay)
    -- Removed meanwhile (the "removed" hook forgot it): nothing left to restart.
    if states[key_of(ev)] ~= state then return end
    -- Back meanwhile (its restart policy, an operator's docker start): nothing to do.
    if state.ok_since then
      state.restarting, state.attempt = false, state.attempt - 1
      save(ev, state)
      log("%s is back by itself; restart %d not needed", ev.name, attempt)
      return
    end
    -- Counted as it is asked for: the container may be back before the call returns.
    state.restarts[#state.restarts + 1] = heph.now()
    local ok, problem = pcall(act or heph.restart_container, ev.name)
    state.restarting = false
    save(ev, state)
    if not ok then
      -- A call that failed leaves the container down: the next attempt follows on the
      -- budget and backoff, unless it is gone (the "removed" hook forgets it) or back.
      log("%s", problem)
      if states[key_of(ev)] == state and not state.ok_since then
        local present = pcall(heph.inspect_container, ev.name)
        if present then return failed(ev, act) end
      end
      return
    end
    if o.on_restart then o.on_restart(ev, attempt, delay) end
  end

  local function recovered(ev)
    local state = state_of(ev)
    if state.ok_since then return end
    state.ok_since = ev.at
    if state.given_up then state.down_since = nil end
    if state.down_since then
      -- Restarts since it went down: those in the budget made after down_since.
      local restarts = 0
      for _, at in ipairs(state.restarts) do
        if at >= state.down_since then restarts = restarts + 1 end
      end
      local down = math.max(0, ev.at - state.down_since)
      state.down_since = nil
      log("%s recovered: %s after %.1f s down, %s", ev.name, ev.status, down, plural(restarts, "restart"))
      save(ev, state)
      if o.on_recover then o.on_recover(ev, down, restarts) end
      return
    end
    -- A container that never failed has nothing a successor needs.
    if state.attempt > 0 or #state.restarts > 0 or state.given_up then save(ev, state) end
  end

  -- An upstream back: after `settle` seconds, its symptoms still failing are failures
  -- (those recorded meanwhile too), judged as their hooks would judge them now.
  function recheck_symptom(name, upstream)
    local symptom = symptoms[name]
    if not symptom or symptom.upstream ~= upstream then return end
    symptoms[name] = nil
    local look = seen[name]
    if look and not look.up and is_failure(look.ev) then failed(look.ev) end
  end

  local function recheck_symptoms_of(upstream)
    heph.sleep(o.settle)
    local names = {}
    for name in pairs(symptoms) do names[#names + 1] = name end
    for _, name in ipairs(names) do recheck_symptom(name, upstream) end
  end

  -- Every container's last transition (targeted or not).
  hooks[#hooks + 1] = heph.on("change", function(ev)
    if ev.task then return end
    local mine = (generation[ev.name] or 0) + 1
    generation[ev.name] = mine
    if ev.status == "removed" then
      seen[ev.name], healthchecked[ev.name], symptoms[ev.name] = nil, nil, nil
      return
    end
    if ev.status == "healthy" or ev.status == "unhealthy" then healthchecked[ev.name] = true end
    local up = is_up(ev)
    if generation[ev.name] ~= mine then return end  -- a later transition came while is_up asked
    local before = seen[ev.name]
    seen[ev.name] = { up = up, since = (before and before.up == up) and before.since or ev.at, ev = ev }
    if up and before and not before.up then recheck_symptoms_of(ev.name) end
  end)

  for _, event in ipairs(o.events) do
    if event == "exit" then
      on("exit", function(ev)
        if ev.cause == "stopped" and not o.restart_stopped then
          if not ev.expected then log("%s: stopped from outside; left stopped (restart_stopped = true restarts it)", ev.name) end
          return
        end
        if ev.cause == "stopped" or failing_exit[ev.cause] or ev.cause == nil then failed(ev) end
      end)
    else
      on(event, failed)
    end
  end
  on("error", function(ev)
    if ev.state ~= "paused" or o.paused == "ignore" or ev.expected then return end
    failed(ev, o.paused == "unpause" and heph.unpause_container or heph.restart_container)
  end)
  on("running", function(ev)
    local mine = generation[ev.name]
    if not has_healthcheck(ev.name) and generation[ev.name] == mine then recovered(ev) end
  end)
  on("healthy", recovered)
  -- A task removed (Swarm prunes old ones) is not its service removed.
  on("removed", function(ev)
    if ev.task then return end
    local state = states[ev.id]
    states[ev.id] = nil
    if ids[ev.name] == ev.id then ids[ev.name] = nil end
    pcall(heph.state.set, "restart/" .. ev.id, nil)
    if not ev.expected then
      log("%s was removed; no longer guarding it%s", ev.name, state and state.restarting and " (its pending restart is cancelled)" or "")
    end
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

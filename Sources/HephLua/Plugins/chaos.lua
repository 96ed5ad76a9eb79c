-- heph's built-in "chaos" plugin: on a timer, kills, pauses or stops one random running
-- managed container matching a target, to rehearse recovery. What it does is not
-- `expected`: recovery hooks see it as they would see a crash.
--
--   heph.use("chaos", { every = 30, target = { pattern = "^heph%-api" }, actions = { "kill", "pause" } })

local running = { running = true, healthy = true, unhealthy = true }
local timer

local plugin = {
  name = "chaos",
  description = "On a timer, kills, pauses or stops one random running container, to rehearse recovery.",
  options = {
    every = { type = "number", above = 0, default = 30, doc = "seconds between strikes" },
    target = { type = "target", doc = "the containers: a name or { pattern = \"...\" } (default: every managed container)" },
    actions = { type = "array", of = "string", one_of = { "kill", "pause", "stop" }, min = 1, default = { "kill" },
                doc = "what a strike does, chosen at random" },
    pause_for = { type = "number", above = 0, default = 5, doc = "seconds a paused container stays paused" },
    signal = { type = { "string", "number" }, default = "SIGKILL", doc = "the signal of a kill" },
    seed = { type = "number", integer = true, doc = "seeds math.random, for a repeatable sequence" },
    on_chaos = { type = "function", doc = "on_chaos(name, action): before each strike" },
    log = { type = "boolean", default = true, doc = "a line on stderr per strike" },
  },
}

-- Whether the full name `name` is one the target covers.
local function covers(heph, target, name)
  if target == nil then return true end
  if type(target) == "table" then return name:find(target.pattern) ~= nil end
  local full = target:sub(1, #heph.CONTAINER_PREFIX) == heph.CONTAINER_PREFIX and target or heph.CONTAINER_PREFIX .. target
  return name == full
end

function plugin.setup(heph, o)
  if o.seed then math.randomseed(o.seed) end

  local function log(fmt, ...)
    if o.log then io.stderr:write(("heph chaos: " .. fmt .. "\n"):format(...)) end
  end

  -- One strike: picks a running container the target covers and acts on it. Returns its
  -- name and the action, or nil when none qualifies.
  local function strike()
    local candidates = {}
    for _, info in ipairs(heph.list_containers()) do
      if running[info.status] and covers(heph, o.target, info.name) then candidates[#candidates + 1] = info end
    end
    if #candidates == 0 then return nil end
    local victim = candidates[math.random(#candidates)]
    local action = o.actions[math.random(#o.actions)]
    log("%s %s", action, victim.name)
    if o.on_chaos then o.on_chaos(victim.name, action) end
    if action == "kill" then
      heph.kill_container(victim.id, o.signal)
    elseif action == "stop" then
      heph.kill_container(victim.id, "SIGTERM")
    else
      heph.pause_container(victim.id)
      heph.after(o.pause_for, function()
        -- Someone may have thawed it already (the restart plugin unpauses by default).
        local seen, info = pcall(heph.inspect_container, victim.id)
        if seen and info.state ~= "paused" then return end
        local ok, problem = pcall(heph.unpause_container, victim.id)
        if not ok then log("%s", problem) end
      end)
    end
    return victim.name, action
  end

  timer = heph.every(o.every, function()
    local ok, problem = pcall(strike)
    if not ok then log("%s", problem) end
  end)

  return {
    -- Strikes once, now; returns the container's name and the action (nil when none qualifies).
    strike = strike,
    -- Stops the plugin's timer (a paused container is still unpaused when due).
    stop = plugin.stop,
  }
end

-- At shutdown, or when the script calls the handle's stop: the timer stops.
function plugin.stop()
  if timer then timer:stop() end
end

return plugin

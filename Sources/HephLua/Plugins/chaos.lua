-- heph's built-in "chaos" plugin: on a timer, kills, pauses or stops one random running
-- managed container matching a target, to rehearse recovery. What it does is not
-- `expected`: recovery hooks see it as they would see a crash.
--
--   heph.use("chaos", { every = 30, target = { pattern = "^heph%-api" }, actions = { "kill", "pause" } })

local plugin = {}

local known_actions = { kill = true, pause = true, stop = true }
local running = { running = true, healthy = true, unhealthy = true }

local function fail(message)
  error("heph.use('chaos'): " .. message, 5)
end

local function options(opts)
  local o = { every = 30, actions = { "kill" }, pause_for = 5, signal = "SIGKILL", log = true }
  for key, value in pairs(opts) do
    if key == "every" or key == "pause_for" then
      if type(value) ~= "number" or not (value > 0) or value == math.huge then
        fail(("option %s must be seconds above 0, got %s"):format(key, tostring(value)))
      end
    elseif key == "actions" then
      if type(value) ~= "table" or #value == 0 then fail("option actions must be an array, such as { \"kill\", \"pause\" }") end
      for _, action in ipairs(value) do
        if not known_actions[action] then fail(("option actions: %q is not kill, pause or stop"):format(tostring(action))) end
      end
    elseif key == "target" then
      if type(value) == "table" then
        if type(value.pattern) ~= "string" then fail("option target must be a container name or { pattern = \"…\" }") end
      elseif type(value) ~= "string" then
        fail("option target must be a container name or { pattern = \"…\" }, got " .. type(value))
      end
    elseif key == "signal" then
      if type(value) ~= "string" and type(value) ~= "number" then fail("option signal must be a signal name or number") end
    elseif key == "seed" then
      if math.type(value) ~= "integer" then fail("option seed must be an integer, got " .. tostring(value)) end
    elseif key == "log" then
      if type(value) ~= "boolean" then fail("option log must be true or false, got " .. type(value)) end
    elseif key == "on_chaos" then
      if type(value) ~= "function" then fail("option on_chaos must be a function, got " .. type(value)) end
    else
      fail(("unknown option %q (known: every, target, actions, pause_for, signal, seed, log, on_chaos)"):format(tostring(key)))
    end
    o[key] = value
  end
  return o
end

-- Whether the full name `name` is one the target covers.
local function covers(heph, target, name)
  if target == nil then return true end
  if type(target) == "table" then return name:find(target.pattern) ~= nil end
  local full = target:sub(1, #heph.CONTAINER_PREFIX) == heph.CONTAINER_PREFIX and target or heph.CONTAINER_PREFIX .. target
  return name == full
end

function plugin.setup(heph, opts)
  local o = options(opts)
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
        local ok, problem = pcall(heph.unpause_container, victim.id)
        if not ok then log("%s", problem) end
      end)
    end
    return victim.name, action
  end

  local timer = heph.every(o.every, function()
    local ok, problem = pcall(strike)
    if not ok then log("%s", problem) end
  end)

  return {
    -- Strikes once, now; returns the container's name and the action (nil when none qualifies).
    strike = strike,
    -- Stops the plugin's timer (a paused container is still unpaused when due).
    stop = function() timer:stop() end,
  }
end

return plugin

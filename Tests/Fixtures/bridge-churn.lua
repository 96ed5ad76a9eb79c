-- bridge-churn.lua: bridge calls that leave garbage on both sides of the Lua/Swift bridge:
-- tables and closures passed in and out, hooks, timers and pollers registered and removed,
-- coroutines that suspend, errors raised from Swift, and one engine call in fifty. For
-- LeakSanitizer (`scripts/soak leaks`), which reports what is still allocated and
-- unreachable when heph exits.
--
--   heph run bridge-churn.lua [calls] [name]
local total = tonumber(arg[1]) or 100000
local name = arg[2] or "churn"
local calls, raised = 0, 0

local function call(fn, ...)
  calls = calls + 1
  local ok, result = pcall(fn, ...)
  if not ok then raised = raised + 1 end
  return result
end

local idle = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }
call(heph.create_container, { image = "heph/busybox:latest", name = name, cmd = idle, env = { ROUND = "0" }, labels = { churn = "yes" } })
call(heph.start_container, name)

-- Lua's heap (after a full collection) and the process's RSS, printed at every tenth of
-- the run: references the bridge forgot to release would grow the first, memory Swift
-- keeps the second.
local function measure()
  collectgarbage("collect")
  local rss = "?"
  local status = io.open("/proc/self/status")
  if status then
    rss = status:read("a"):match("VmRSS:%s*(%d+)") or "?"
    status:close()
  end
  return ("lua_kib=%.0f rss_kib=%s"):format(collectgarbage("count"), rss)
end

local round, tenth = 0, 1
while calls < total do
  if calls >= tenth * total / 10 then
    print(("at %3d%%: calls=%d %s"):format(tenth * 10, calls, measure()))
    tenth = tenth + 1
  end
  round = round + 1
  local captured = { round = round, list = { 1, 2, 3 }, text = ("x"):rep(round % 64) }
  local hook = call(heph.on, "change", { pattern = "^heph%-" .. name }, function(ev) return { ev, captured } end)
  call(hook.off, hook)
  local every = call(heph.every, 60, function() return captured end)
  call(every.stop, every)
  local after = call(heph.after, 60, function() return captured end)
  call(after.stop, after)
  call(heph.now)
  call(heph.dependents, name)
  call(heph.sleep, 0)                                                  -- sleeping is the behaviour under test: suspends and resumes
  call(heph.create_container, { image = "heph/busybox:latest", name = name, ports = { bad = captured } })  -- raises
  call(heph.health_check, { nested = { captured } })                   -- raises
  if round % 10 == 0 then
    local poller = call(heph.start_health_polling, 60, function(statuses) return statuses end)
    call(poller.stop, poller)
    call(heph.list_containers)
    call(heph.inspect_container, name)
  end
end

call(heph.remove_container, name)
print(("at 100%%: calls=%d %s"):format(calls, measure()))
print(("calls=%d raised=%d rounds=%d"):format(calls, raised, round))

-- watch50.lua: 50 containers watched by hooks and a health poller at its fastest
-- (0.01 s) for POLLS poll cycles, one container restarted every 500 polls so the hooks have
-- work. Prints heph's RSS and open file descriptors after the first 100 polls and then at
-- every tenth, and removes the containers at the end. Run by `scripts/soak watch`.
--
--   heph run watch50.lua [polls] [prefix]
local polls_wanted = tonumber(arg[1]) or 10000
local prefix = arg[2] or "soak"
local count = 50
local idle = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }

local pid = io.open("/proc/self/stat"):read("l"):match("^(%d+)")
local function rss_kib()
  local file = io.open("/proc/" .. pid .. "/status")
  local kib = file:read("a"):match("VmRSS:%s*(%d+)")
  file:close()
  return tonumber(kib)
end
local function open_fds()
  local pipe = io.popen("ls /proc/" .. pid .. "/fd | wc -l")
  local n = tonumber(pipe:read("a"))
  pipe:close()
  return n - 1  -- the pipe itself
end

local services = {}
for i = 1, count do
  services[("%s-%02d"):format(prefix, i)] = { image = "heph/busybox:latest", cmd = idle }
end
heph.up{ services = services, timeout = 120 }

local transitions = 0
heph.on("change", { pattern = "^heph%-" .. prefix:gsub("%-", "%%-") }, function() transitions = transitions + 1 end)

local polls, started = 0, heph.now()
local first
local poller
poller = heph.start_health_polling(0.01, function(statuses)
  polls = polls + 1
  if polls == 100 or polls % (polls_wanted // 10) == 0 then
    collectgarbage("collect")
    local line = ("poll %5d: rss_kib=%d fds=%d lua_kib=%.0f transitions=%d elapsed=%.1fs"):format(
      polls, rss_kib(), open_fds(), collectgarbage("count"), transitions, heph.now() - started)
    first = first or line
    print(line)
  end
  if polls % 500 == 0 then
    -- In a coroutine of its own, so the poller's callback does not wait for it.
    local name = ("%s-%02d"):format(prefix, (polls // 500) % count + 1)
    heph.after(0, function() heph.restart_container(name, 1) end)
  end
  if polls >= polls_wanted then
    poller:stop()
    for name in pairs(services) do heph.remove_container(name) end
    print(("done: %d polls of %d containers in %.1f s"):format(polls, count, heph.now() - started))
    heph.exit(0)
  end
end)

-- Breaks the healthcheck of a running task of the service arg[1] (a stack.lua tier: its
-- server serves /srv/index.html) and prints what the hooks see of that service, one line
-- per transition, until a new task is healthy.
local service = "heph-" .. arg[1]
local broken

heph.on("change", service, function(ev)
  print(("%s %s %s -> %s on %s"):format(ev.task, ev.id == broken and "broken" or "other",
    tostring(ev.previous), ev.status, ev.node))
  if broken and ev.id ~= broken and ev.status == "healthy" then heph.exit(0) end
end)
heph.on("exit", service, function(ev)
  print(("%s %s exit"):format(ev.task, ev.id == broken and "broken" or "other"))
end)

local info = heph.inspect_container(service)
for _, task in ipairs(info.tasks) do
  if task.current and task.status == "healthy" then broken = task.id end
end
assert(broken, "no healthy task of " .. service)
assert(heph.exec(service, "rm /srv/index.html") == 0)
heph.after(90, function() print("timed out"); heph.exit(1) end)

-- Brings up one service arg[1] on a swarm: a busybox HTTP server answering arg[2], with
-- arg[3] replicas (default 1), placed on nodes labelled heph-tier=app when arg[4] is
-- "placed" (at most one task per node). Prints the service's id, its replica counts, and
-- each current task's slot and node; hooks print each task that starts and its node.
local name, body, replicas, placed = arg[1], arg[2], tonumber(arg[3] or "1"), arg[4] == "placed"

local started = {}  -- "slot node" of every task the hook saw start
heph.on("running", "heph-" .. name, function(ev)
  started[("%s %s"):format(ev.slot, ev.node)] = true
  print(("started %s on %s"):format(ev.task, ev.node))
end)

local result = heph.up{
  services = {
    [name] = {
      image = "heph/busybox:latest",
      cmd = { "sh", "-c", "trap 'exit 0' TERM; mkdir -p /srv && echo \"$BODY\" > /srv/index.html; httpd -f -p 80 -h /srv & wait" },
      env = { BODY = body },
      healthcheck = { test = "wget -q -O- http://127.0.0.1/ >/dev/null || exit 1", interval = 0.5, timeout = 1, retries = 2 },
      replicas = replicas,
      placement = placed and { constraints = { "node.labels.heph-tier == app" }, max_replicas = 1 } or nil,
      update = { order = "start-first", parallelism = 1 },
    },
  },
  timeout = 90,
}
local service = result[name]
print(("service %s %s %d/%d"):format(service.id, service.status, service.replicas.running, service.replicas.desired))
local tasks, current = {}, {}
for _, task in ipairs(heph.inspect_container(name).tasks) do
  if task.current then
    tasks[#tasks + 1] = ("task %d %s %s"):format(task.slot, task.node, task.status)
    current[#current + 1] = ("%s %s"):format(task.slot, task.node)
  end
end
table.sort(tasks)
for _, line in ipairs(tasks) do print(line) end
-- Ends once the hooks caught up with what heph.up saw: each current task's start.
local function caught_up()
  for _, key in ipairs(current) do
    if not started[key] then return false end
  end
  return true
end
local deadline = heph.now() + 10
while not caught_up() and heph.now() < deadline do heph.sleep(0.05) end  -- the poll's interval: waits for the condition, to a deadline
heph.exit(0)

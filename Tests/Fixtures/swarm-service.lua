-- Brings up one service arg[1] on a swarm: a busybox HTTP server answering arg[2], with
-- arg[3] replicas (default 1), placed on nodes labelled heph-tier=app when arg[4] is
-- "placed" (at most one task per node). Prints the service's id, its replica counts, and
-- each current task's slot and node; hooks print each task that starts and its node.
local name, body, replicas, placed = arg[1], arg[2], tonumber(arg[3] or "1"), arg[4] == "placed"

heph.on("running", "heph-" .. name, function(ev)
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
local tasks = {}
for _, task in ipairs(heph.inspect_container(name).tasks) do
  if task.current then tasks[#tasks + 1] = ("task %d %s %s"):format(task.slot, task.node, task.status) end
end
table.sort(tasks)
for _, line in ipairs(tasks) do print(line) end
-- Let the hooks catch up with what heph.up saw.
heph.sleep(1.5)
heph.exit(0)

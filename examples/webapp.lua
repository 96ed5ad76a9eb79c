-- webapp.lua: a web server and an API beside it on heph's network. Each publishes a port
-- and has a healthcheck; the web server serves a page it writes into a named volume from
-- its environment; the API's healthcheck reaches the web server by name.
--
--   scripts/heph run examples/webapp.lua [image] [web-port] [api-port]
--
-- The image defaults to heph/busybox:latest (any busybox-based image will do: the
-- containers need sh, httpd and wget). The containers keep running: see them with
-- `scripts/heph ps`, remove them with `scripts/heph down`. Running it again replaces them.
local heph = require("heph")

local image = arg[1] or "heph/busybox:latest"
local web_port = tonumber(arg[2]) or 8080
local api_port = tonumber(arg[3]) or 8081
local names = { "webapp-web", "webapp-api" }

-- Start afresh: remove what an earlier run left.
local existing = {}
for _, c in ipairs(heph.list_containers()) do existing[c.name] = true end
for _, name in ipairs(names) do
  if existing[heph.CONTAINER_PREFIX .. name] then heph.remove_container(name) end
end

heph.create_network()

heph.create_container{
  image = image,
  name = "webapp-web",
  ports = { [web_port] = 80 },
  volumes = { ["heph-webapp-pages"] = "/www" },   -- a named volume: kept by `heph down`
  env = { GREETING = "hello from heph" },
  cmd = { "sh", "-c", [[
    trap 'exit 0' TERM
    echo "$GREETING" > /www/index.html
    httpd -f -p 80 -h /www & wait
  ]] },
  healthcheck = { test = "wget -q -O- http://127.0.0.1/ || exit 1", interval = 1, timeout = 1, retries = 3 },
}

heph.create_container{
  image = image,
  name = "webapp-api",
  ports = { [api_port] = 8000 },
  env = { UPSTREAM = "http://webapp-web/" },
  cmd = { "sh", "-c", [[
    trap 'exit 0' TERM
    busybox mkdir -p /api
    echo '{"ok":true}' > /api/index.html
    httpd -f -p 8000 -h /api & wait
  ]] },
  -- Healthy when it answers itself and reaches the web server by its short name.
  healthcheck = {
    test = "wget -q -O- $UPSTREAM >/dev/null && wget -q -O- http://127.0.0.1:8000/ >/dev/null || exit 1",
    interval = 1, timeout = 2, retries = 3,
  },
}

for _, name in ipairs(names) do heph.start_container(name) end

-- Wait up to 30 s for both to be healthy.
local function all_healthy()
  for _, name in ipairs(names) do
    if heph.health_check(name) ~= "healthy" then return false end
  end
  return true
end
local deadline = heph.now() + 30
while not all_healthy() and heph.now() < deadline do heph.sleep(0.5) end

print(string.format("%-16s %-10s %-22s %s", "NAME", "STATUS", "IMAGE", "PORTS"))
for _, c in ipairs(heph.list_containers()) do
  if c.name:match("^heph%-webapp%-") then
    local ports = {}
    for host, container in pairs(c.ports) do ports[#ports + 1] = host .. "->" .. container end
    table.sort(ports)
    print(string.format("%-16s %-10s %-22s %s", c.name, c.status, c.image, table.concat(ports, ", ")))
  end
end

if not all_healthy() then
  error("the webapp did not become healthy within 30 s; see `scripts/heph ps`")
end
print(string.format("try: wget -q -O- http://127.0.0.1:%d/   then: scripts/heph down", web_port))

-- stack.lua: a three-tier topology (db ← api ← web) brought up in dependency order, kept
-- alive by the built-in recovery plugins: `restart` restarts a tier that turns unhealthy
-- or dies (with backoff, and gives up after a budget), `cascade` then restarts the tiers
-- that depend on it, in order.
--
--   scripts/heph run examples/stack.lua [web-port]
--
-- Every tier is a busybox HTTP server with a healthcheck; api's healthcheck reaches db by
-- name, web's reaches api. Try it: in another shell, `docker kill heph-stack-db`, and
-- watch db come back and api and web restart after it. Ctrl-C ends the watch and leaves
-- the stack running (`scripts/heph down` removes it); run the script again and heph.up
-- changes nothing.
--
-- On a Docker Swarm (a manager as DOCKER_HOST) the same script runs unchanged:
--   scripts/heph run --swarm examples/stack.lua   (docs/scaling.md)
-- Each tier is then a Swarm service; Swarm replaces a failed task, and the hooks see each
-- task with its node (`scripts/heph down --swarm` removes it).
local heph = require("heph")

local web_port = tonumber(arg[1]) or 8090
local image = "heph/busybox:latest"

-- An HTTP server that answers `body` on `port`, and stops at once on SIGTERM.
local function server(port, body)
  return { "sh", "-c", ([[
    trap 'exit 0' TERM
    mkdir -p /srv && echo '%s' > /srv/index.html
    httpd -f -p %d -h /srv & wait
  ]]):format(body, port) }
end

local function probe(url)
  return { test = "wget -q -O- " .. url .. " >/dev/null || exit 1", interval = 1, timeout = 1, retries = 2 }
end

local stack = heph.up{
  services = {
    ["stack-db"] = {
      image = image,
      cmd = server(5432, "db"),
      healthcheck = probe("http://127.0.0.1:5432/"),
    },
    ["stack-api"] = {
      image = image,
      cmd = server(8000, "api"),
      env = { DB_URL = "http://stack-db:5432/" },
      healthcheck = probe("http://127.0.0.1:8000/ && wget -q -O- $DB_URL"),
      depends_on = { "stack-db" },
    },
    ["stack-web"] = {
      image = image,
      cmd = server(80, "web"),
      ports = { [web_port] = 80 },
      env = { API_URL = "http://stack-api:8000/" },
      healthcheck = probe("http://127.0.0.1/ && wget -q -O- $API_URL"),
      depends_on = { "stack-api" },
    },
  },
  timeout = 60,
}

for _, name in ipairs({ "stack-db", "stack-api", "stack-web" }) do
  print(("%-10s %-9s %s"):format(name, stack[name].status, stack[name].id:sub(1, 12)))
end

heph.use("restart", {
  target = { pattern = "^heph%-stack%-" },
  initial = 1, factor = 2, max = 30, max_restarts = 5, window = 300,
  on_give_up = function(ev) print(ev.name .. " keeps failing; heph gave up on it") end,
})
heph.use("cascade")

print(("the stack is up: wget -q -O- http://127.0.0.1:%d/   (Ctrl-C ends the watch)"):format(web_port))
if os.getenv("HEPH_STACK_ONCE") then heph.exit(0) end

---@meta heph
-- LuaLS / EmmyLua definitions of the `heph` module, for completion and checks in editors.
-- Add this directory to `workspace.library` (LuaLS) or `library` (EmmyLua). Reference:
-- docs/lua-api.md.

---@alias heph.ContainerStatus
---| "created"   # created, not started
---| "running"   # running, no healthcheck or its first probe has not passed
---| "healthy"
---| "unhealthy"
---| "stopped"   # exited or dead
---| "error"     # paused, restarting, being removed, or gone

---A Docker healthcheck. Durations are seconds; 0 or absent takes the engine's default.
---@class heph.Healthcheck
---@field test string|string[] a string runs in the container's shell; an array runs directly
---@field interval? number seconds between probes (engine default 30)
---@field timeout? number seconds a probe may take (engine default 30)
---@field retries? integer failures in a row that make it unhealthy (engine default 3)
---@field start_period? number seconds after start during which failures do not count

---What `heph.create_container` takes.
---@class heph.ContainerConfig
---@field image string required, such as "heph/busybox:latest"; pulled only when missing
---@field name string required: [a-zA-Z0-9][a-zA-Z0-9_.-]*; created as "heph-" .. name
---@field env? table<string, string|number> NAME = value
---@field ports? table<string|integer, string|integer> HOST = CONTAINER: [8080] = 80, ["127.0.0.1:8081"] = "80/udp"
---@field volumes? table<string, string> HOST = CONTAINER: absolute existing host path or volume name = "/path[:ro]"
---@field hostname? string
---@field networkName? string defaults to heph.NETWORK_NAME; another network must already exist
---@field cmd? string[] the command; for a shell command { "sh", "-c", "…" }
---@field entrypoint? string[]
---@field workdir? string an absolute path
---@field labels? table<string, string> added to io.heph.managed=true; io.heph.* is reserved
---@field memory? string|integer bytes, or a number with k, m or g ("256m"); at least 6m
---@field cpus? number such as 0.5
---@field restart? "no"|"on-failure"|"always"|"unless-stopped"|string also "on-failure:N"
---@field healthcheck? heph.Healthcheck

---One probe of a healthcheck.
---@class heph.HealthProbe
---@field exit_code integer 0 passed
---@field output string
---@field at number Unix seconds

---A healthcheck's state.
---@class heph.Health
---@field status "healthy"|"unhealthy"|"starting"
---@field failing_streak integer
---@field log heph.HealthProbe[] the last probes, oldest first

---What heph reports about a container. The fields after `ports` come from inspect_container only.
---@class heph.ContainerInfo
---@field id string
---@field name string the full name, "heph-web"
---@field image string
---@field status heph.ContainerStatus
---@field ports table<string, string> HOST = CONTAINER
---@field exit_code? integer
---@field oom_killed? boolean
---@field restart_count? integer
---@field started_at? number Unix seconds; nil if it never started
---@field finished_at? number Unix seconds; nil if it never finished
---@field labels? table<string, string>
---@field hostname? string
---@field health? heph.Health present when the container has a healthcheck

---A running health poll.
---@class heph.Poller
local Poller = {}

---Stops polling. Stopping twice is not an error.
function Poller:stop() end

---Settings a script may change.
---@class heph.Config
---@field hook_timeout number seconds of Lua computation a callback may use (default 5)
---@field backend "engine"|"swarm"

---@class heph
---@field CONTAINER_PREFIX string "heph-"
---@field NETWORK_NAME string "heph-network"
---@field STOP_TIMEOUT integer 10 (seconds)
---@field HEALTH_INTERVAL integer 5 (seconds)
---@field VERSION string
---@field config heph.Config
heph = {}

---`true` when the engine answers; raises when it cannot be reached.
---@return true
function heph.ping() end

---Creates the managed network heph-network, or returns the existing one's id.
---@return string id
function heph.create_network() end

---Removes the managed network; no error when it does not exist.
function heph.remove_network() end

---Checks the whole config, then creates the container (not started).
---@param config heph.ContainerConfig
---@return string id
function heph.create_container(config) end

---Starts a container; starting a running one is not an error.
---@param c string short name, full name or id
function heph.start_container(c) end

---Stops a container: SIGTERM, then SIGKILL after `timeout_s` (default heph.STOP_TIMEOUT).
---@param c string short name, full name or id
---@param timeout_s? number 0 to 86400
function heph.stop_container(c, timeout_s) end

---Removes a container, stopping it gracefully first when it runs.
---@param c string short name, full name or id
function heph.remove_container(c) end

---Every managed container, sorted by name.
---@return heph.ContainerInfo[]
function heph.list_containers() end

---One managed container, with the inspect-only fields.
---@param c string short name, full name or id
---@return heph.ContainerInfo
function heph.inspect_container(c) end

---A container's status; "error" for one that does not exist (never raises for that).
---@param c string short name, full name or id
---@return heph.ContainerStatus
function heph.health_check(c) end

---Stops and removes every managed container, then the network. Named volumes are kept.
function heph.teardown_all() end

---Calls `fn(statuses)` at once and then every `interval_s` seconds with every managed
---container's status, keyed by full name. The run goes on while a poller is running.
---@param interval_s number above 0
---@param fn fun(statuses: table<string, heph.ContainerStatus>)
---@return heph.Poller
function heph.start_health_polling(interval_s, fn) end

---Waits without holding back pollers' functions.
---@param seconds number 0 to 86400
function heph.sleep(seconds) end

---Unix time in seconds, fractional.
---@return number
function heph.now() end

return heph

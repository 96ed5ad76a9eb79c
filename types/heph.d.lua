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

---heph's own readiness probe (one kind): heph.up and heph.wait_ready wait for it.
---@class heph.ReadyProbe
---@field tcp? integer a TCP connection to the container's own address on this port is accepted
---@field http? string GET this path ("/health") on `port` answers `status`
---@field port? integer http only: the container's port
---@field status? integer http only: the status that means ready (default 200)
---@field log? string a Lua pattern a line of the container's output matches
---@field exec? string|string[] a command run in the container exits 0 (a string through sh -c)
---@field interval? number seconds between probes (default 0.05; 1 for exec)
---@field timeout? number seconds one probe may take (default 1)

---What `heph.create_container` takes.
---@class heph.ContainerConfig
---@field image string required, such as "heph/busybox:latest"; pulled only when missing
---@field name string required: [a-zA-Z0-9][a-zA-Z0-9_.-]*; "heph-" .. name in Lua (every project), "heph_P_" .. name in the engine in project P
---@field env? table<string, string|number> NAME = value
---@field ports? table<string|integer, string|integer> HOST = CONTAINER: [8080] = 80, ["127.0.0.1:8081"] = "80/udp"
---@field volumes? table<string, string> HOST = CONTAINER: absolute existing host path or volume name = "/path[:ro]"
---@field hostname? string
---@field networkName? string defaults to heph.NETWORK_NAME, the project's own network; another network must already exist (named as the engine names it)
---@field cmd? string[] the command; for a shell command { "sh", "-c", "…" }
---@field entrypoint? string[]
---@field workdir? string an absolute path
---@field labels? table<string, string> added to io.heph.managed=true; io.heph.* is reserved
---@field memory? string|integer bytes, or a number with k, m or g ("256m"); at least 6m
---@field cpus? number such as 0.5
---@field restart? "no"|"on-failure"|"always"|"unless-stopped"|string also "on-failure:N"
---@field healthcheck? heph.Healthcheck
---@field ready? heph.ReadyProbe heph's own probe, from the start until it serves
---@field replicas? integer swarm: tasks (default 1); the engine backend accepts only 1
---@field placement? heph.Placement swarm only
---@field update? heph.UpdatePolicy swarm only
---@field restart_policy? heph.RestartPolicy swarm only; the condition comes from restart
---@field endpoint_mode? "vip"|"dnsrr" swarm only; default vip (or heph --endpoint-mode)

---Where a swarm runs a service's tasks.
---@class heph.Placement
---@field constraints? string[] such as "node.role == manager", "node.labels.zone != b"
---@field preferences? string[] spread descriptors, such as "node.labels.zone"
---@field max_replicas? integer at most this many tasks on one node

---How a swarm rolls out a changed service.
---@class heph.UpdatePolicy
---@field parallelism? integer tasks at a time (0 = all; default 1)
---@field delay? number seconds between batches
---@field order? "stop-first"|"start-first"
---@field failure_action? "pause"|"continue"|"rollback"
---@field monitor? number seconds to watch each new task for failure

---How a swarm replaces ended tasks.
---@class heph.RestartPolicy
---@field delay? number seconds before a new task
---@field max_attempts? integer at most this many (0 = no limit) …
---@field window? number … within this many seconds (0 = ever)

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
---@field name string the full name in Lua, "heph-web" (the same in every project)
---@field docker_name string the engine's name: "heph-web" in the default project, "heph_P_web" in project P
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
---@field replicas? { running: integer, desired: integer } swarm: the service's tasks
---@field tasks? heph.Task[] swarm, inspect only: current tasks first, then recent ended ones

---One task of a swarm service.
---@class heph.Task
---@field id string
---@field slot integer
---@field node string the node's hostname
---@field node_id string
---@field status heph.ContainerStatus
---@field state string Swarm's own: "pending", "starting", "running", "failed", "shutdown", …
---@field current boolean false for a task Swarm stopped or keeps as history
---@field message string Swarm's message, or its error
---@field exit_code? integer once it ended
---@field at? number when it last changed state, Unix seconds

---What a hook receives.
---@class heph.Event
---@field name string the full name in Lua, "heph-web" (the same in every project)
---@field docker_name string the engine's name: "heph-web" in the default project, "heph_P_web" in project P
---@field id string
---@field status heph.ContainerStatus|"removed" the new status; "stopped" for an exit, "removed" for a removal
---@field previous? heph.ContainerStatus nil for a container new to heph
---@field at number the engine's time of the event, Unix seconds
---@field expected boolean true when this heph process asked for it (a stop, restart, removal, teardown, or heph.up's replacement)
---@field by? string the call of this process behind it ("stop_container", "up", …); nil when not expected
---@field exit_code? integer "exit" only
---@field oom_killed? boolean "exit" only
---@field task? string swarm: the task, "heph-web.2"
---@field slot? integer swarm: its slot
---@field node? string swarm: the node it runs on (empty until assigned)
---@field node_id? string swarm

---@alias heph.EventName heph.ContainerStatus|"change"|"exit"|"removed"

---A registered hook.
---@class heph.Hook
local Hook = {}

---Removes the hook. Removing twice is not an error.
function Hook:off() end

---A running timer.
---@class heph.Timer
local Timer = {}

---Stops the timer. Stopping twice is not an error.
function Timer:stop() end

---A running health poll.
---@class heph.Poller
local Poller = {}

---Stops polling. Stopping twice is not an error.
function Poller:stop() end

---A service of a topology: a container config (its name is its key) plus dependencies.
---@class heph.Service: heph.ContainerConfig
---@field depends_on? string[] services that must be ready before this one starts

---What heph.up takes.
---@class heph.Topology
---@field services table<string, heph.Service>
---@field timeout? number seconds for every service to be ready (default 120)

---Settings a script may change.
---@class heph.Config
---@field hook_timeout number seconds of Lua computation a callback may use (default 5)
---@field backend "engine"|"swarm" choose before the first engine call (or heph run --swarm)
---@field engine_concurrency integer engine calls in flight at once, 1 to 256 (default 16, or --engine-concurrency); read at each engine call
---@field project string the project ("default"; or -p, HEPH_PROJECT): [a-z0-9][a-z0-9-]*, at most 24; set it before the first engine call, and only as -p/HEPH_PROJECT chose

---@class heph
---@field CONTAINER_PREFIX string "heph-", in every project
---@field NETWORK_NAME string "heph-network": the project's own network, in every project
---@field STOP_TIMEOUT integer 10 (seconds)
---@field HEALTH_INTERVAL integer 5 (seconds)
---@field VERSION string
---@field config heph.Config
---@field state heph.State
---@field json heph.JSON
---@field http heph.HTTP
heph = {}

---A value `heph.state` keeps: nil, booleans, numbers (integers stay integers; no NaN or
---infinities), strings of any bytes, and tables of those (no cycles, functions or userdata).
---@alias heph.StateValue nil|boolean|number|string|table

---The project's key–value store, kept in the engine (docs/ha.md): a new leader, on any
---host, sees what the previous one set. In heph test: in memory, per test.
---@class heph.State
heph.state = {}

---A copy of the value of `key`; nil when it has none.
---@param key string 1 to 1024 bytes
---@return heph.StateValue
function heph.state.get(key) end

---Sets `key` (nil deletes it); returns once the value is durable in the engine.
---@param key string 1 to 1024 bytes
---@param value heph.StateValue at most 1 MiB encoded
function heph.state.set(key, value) end

---Every key that has a value, sorted.
---@return string[]
function heph.state.keys() end

---JSON in plain Lua (docs/lua-api.md): keys 1..n make an array, string keys an object.
---@class heph.JSON
heph.json = {}

---JSON of `value`; an error saying where for what JSON cannot hold (NaN, a function, a
---cycle, mixed keys, text that is not UTF-8, nesting deeper than 64).
---@param value any
---@return string
function heph.json.encode(value) end

---The value of JSON `text` (null is nil); an error with line and column when malformed.
---@param text string
---@return any
function heph.json.decode(text) end

---@class heph.HTTPRequest
---@field method? string default "GET"
---@field url string http:// or https://
---@field headers? table<string, string>
---@field body? string
---@field timeout? number seconds for the whole exchange, default 30

---HTTP for plugins: waits without holding the loop back; under --sandbox only
----allow-http hosts.
---@class heph.HTTP
heph.http = {}

---Sends `request`: the status, the body and the headers (names in lower case), or nil and
---a message when there is no answer (refused, timed out, TLS failed, larger than 16 MiB).
---@param request heph.HTTPRequest
---@return integer|nil status
---@return string body_or_message
---@return table<string, string>? headers
function heph.http.request(request) end

---How a plugin declares one option (docs/plugins.md).
---@class heph.PluginOption
---@field type string|string[] number, string, boolean, function, table, array, target
---@field default? any
---@field required? boolean
---@field doc? string
---@field min? number
---@field max? number
---@field above? number
---@field integer? boolean
---@field one_of? any[]
---@field pattern? string
---@field of? string|string[]
---@field check? fun(value: any): boolean, string?
---@field secret? boolean

---What a plugin module returns (docs/plugins.md).
---@class heph.Plugin
---@field name? string
---@field version? string
---@field description? string
---@field options? table<string, heph.PluginOption>
---@field setup fun(heph: table, opts: table): any
---@field stop? fun()

---Waits until this process leads its project (standing by while another does), as
---`heph run --lead`. Call it before the script's first engine call; returns at once under
-----lead and in heph test.
function heph.lead() end

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

---`true` once the container is healthy (or running without a healthcheck); `nil, status`
---when it stops, is gone, or `timeout_s` (default 60) passes.
---@param c string short name, full name or id
---@param timeout_s? number
---@return true|nil ok
---@return heph.ContainerStatus? status
function heph.wait_healthy(c, timeout_s) end

---Probes the container with its `ready` until it serves (then waits for its healthcheck
---too, when it has one); `nil, reason` when it stops, is gone, or `timeout_s` (default 60)
---passes. Without `ready`, as heph.wait_healthy.
---@param c string short name, full name or id
---@param timeout_s? number
---@return true|nil ok
---@return string? reason
function heph.wait_ready(c, timeout_s) end

---Calls `fn(ev)` on every transition of `event` ("unhealthy", …, "change", "exit",
---"removed") of the target: a container name, { pattern = "^heph%-web" }, or every
---managed container when left out.
---@param event heph.EventName
---@param target string|{pattern: string}|fun(ev: heph.Event)
---@param fn? fun(ev: heph.Event)
---@return heph.Hook
function heph.on(event, target, fn) end

---Calls `fn()` every `seconds` (fixed rate) until stopped.
---@param seconds number above 0
---@param fn fun()
---@return heph.Timer
function heph.every(seconds, fn) end

---Calls `fn()` once after `seconds`.
---@param seconds number 0 or more
---@param fn fun()
---@return heph.Timer
function heph.after(seconds, fn) end

---Runs `fn()` when the run ends (heph.exit, SIGINT, SIGTERM, an error, or its natural end).
---@param fn fun()
function heph.on_shutdown(fn) end

---Runs the on_shutdown handlers, then ends the run with `code`.
---@param code? integer|boolean 0…255; true = 0, false = 1; default 0
function heph.exit(code) end

---Waits without holding back hooks, timers or pollers.
---@param seconds number 0 to 86400
function heph.sleep(seconds) end

---Unix time in seconds, fractional.
---@return number
function heph.now() end

---Brings a topology up: the network, then every service once its dependencies are ready,
---independent ones in parallel; waits until each is ready. Idempotent.
---@param topology heph.Topology
---@return table<string, heph.ContainerInfo> by service name
function heph.up(topology) end

---The same as heph.teardown_all().
function heph.down() end

---The full names of the services depending on `c` (directly or not), in start order,
---from the topologies heph.up brought up in this run.
---@param c string
---@return string[]
function heph.dependents(c) end

---Stops (gracefully) and starts the container under the same id.
---@param c string
---@param timeout_s? number seconds before the stop kills (default heph.STOP_TIMEOUT)
function heph.restart_container(c, timeout_s) end

---What the container wrote, each stream apart.
---@param c string
---@param options? { tail?: integer }
---@return string stdout
---@return string stderr
function heph.logs(c, options) end

---Runs a command in the running container and waits for it.
---@param c string
---@param cmd string|string[] a string runs through sh -c
---@return integer exit_code
---@return string stdout
---@return string stderr
function heph.exec(c, cmd) end

---Sends a signal to the container's process (not expected: hooks see a crash).
---@param c string
---@param signal? string|integer default "SIGKILL"
function heph.kill_container(c, signal) end

---Freezes every process of a running container.
---@param c string
function heph.pause_container(c) end

---Thaws a paused container.
---@param c string
function heph.unpause_container(c) end

---Runs a command on heph's host without holding back the loop.
---@param cmd string|string[] a string runs through /bin/sh -c
---@param env? table<string, string> added to heph's environment
---@return integer exit_code
---@return string stdout
---@return string stderr
function heph.shell(cmd, env) end

---Loads a plugin (next to the script, $HEPH_PATH, ~/.config/heph/plugins, the module
---heph.plugins.NAME on package.path, built in: restart, cascade, notify, chaos), checks
---`opts` against its declared options, and returns what its setup(heph, opts) returns.
---@param name string
---@param opts? table
---@return any
function heph.use(name, opts) end

-- heph test (docs/testing.md): in a test file, `test` declares a test and `sim` controls the
-- simulated world. Neither exists under heph run.

---Declares a test: `fn` runs in a fresh runtime on a fresh simulated engine, after the
---file's top level, in virtual time (heph.now() starts at 1700000000).
---@param name string unique in the file
---@param fn fun()
function test(name, fn) end

---@class sim.Action
---@field op string the heph function's name: "create_container", "restart_container", "exec", …
---@field name string the container's name in Lua ("heph-web"), or the network's
---@field at number heph.now() at the call

---The simulated world's controls: faults from outside heph, and what it answers.
sim = {}

---Kills the container's process from outside (as docker kill): stopped, then exit.
---@param c string
---@param exit_code? integer default 137
function sim.kill(c, exit_code) end

---The container's process exits on its own (its restart policy applies).
---@param c string
---@param exit_code? integer default 1
function sim.crash(c, exit_code) end

---The kernel kills the container's process for its memory (oom_killed, 137).
---@param c string
function sim.oom(c) end

---docker stop from outside (exit 0).
---@param c string
function sim.stop(c) end

---What the healthcheck's probes find from now on, and after restarts: healthy at the next
---probe, unhealthy after `retries` failing ones (3 by default), `interval` apart.
---@param c string
---@param verdict "healthy"|"unhealthy"
function sim.set_health(c, verdict) end

---What heph's readiness probes (the container's `ready`, any kind) find from now on, and
---after restarts. Without it, a container with `ready` is ready whenever it runs.
---@param c string
---@param ready boolean
function sim.set_ready(c, ready) end

---docker pause from outside.
---@param c string
function sim.pause(c) end

---docker unpause from outside.
---@param c string
function sim.unpause(c) end

---docker rm -f from outside.
---@param c string
function sim.remove(c) end

---The engine unreachable for `seconds` of virtual time; with restart, it comes back having
---stopped every container (a dockerd restarted without live-restore).
---@param seconds number
---@param opts? { restart?: boolean }
function sim.engine_down(seconds, opts) end

---What heph.exec in `c` answers: fn(cmd) returns exit_code, stdout, stderr (default 0, "", "").
---@param c string
---@param fn fun(cmd: string|string[]): integer?, string?, string?
function sim.exec_result(c, fn) end

---What heph.logs of `c` answers from now on.
---@param c string
---@param stdout string
---@param stderr? string
function sim.output(c, stdout, stderr) end

---What heph.http.request answers: fn(request) gets the checked request and returns what
---the call returns. Without it, a request in a test is an error.
---@param fn fun(request: heph.HTTPRequest): integer|nil, string?, table?
function sim.http(fn) end

---Every orchestrator call that changed something, in order (heph.up's and plugins' too).
---@return sim.Action[]
function sim.actions() end

---Runs a script file's main chunk in this test's runtime (a relative path is looked for
---next to the test file first); returns what the chunk returns.
---@param path string
---@param ... string the script's arguments (arg[1], …)
---@return any ...
function sim.run(path, ...) end

return heph

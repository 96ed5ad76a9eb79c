import CLua
import HephDocker

extension ContainerConfig {
    /// The fields a ContainerConfig table may have (the Go struct's JSON names, then the
    /// Lua API's additions).
    static let luaFields = [
        "image", "name", "env", "ports", "volumes", "hostname", "networkName",
        "cmd", "entrypoint", "workdir", "labels", "memory", "cpus", "restart", "healthcheck",
        "replicas", "placement", "update", "restart_policy", "endpoint_mode",
    ]

    /// Reads a ContainerConfig table. Only types are checked here (a table where a string
    /// belongs, an unknown field); what the values mean is checked by ``validate()``, so
    /// Swift and Lua callers get the same messages.
    init(lua reader: LuaTableReader, alsoKnown extraFields: [String] = []) throws(FieldError) {
        try reader.rejectUnknownFields(known: Self.luaFields + extraFields)
        self.init(image: try reader.string("image") ?? "", name: try reader.string("name") ?? "")
        env = try reader.stringMap("env", hint: "of NAME = value")
        ports = try reader.stringMap("ports", integerKeys: true, hint: #"of HOST = CONTAINER, such as { ["8080"] = "80" }"#)
        // A container port never holds ":", but compose's list form { "8080:80" } does.
        if let (host, value) = ports.first(where: { $0.value.contains(":") }) {
            throw FieldError(message: #"config.ports: "\#(value)" (at [\#(host)]) looks like compose's "HOST:CONTAINER"; write { ["8080"] = "80" }"#)
        }
        volumes = try reader.stringMap("volumes", hint: #"of HOST = CONTAINER, such as { ["/srv/data"] = "/data" }"#)
        hostname = try reader.string("hostname")
        networkName = try reader.string("networkName")
        cmd = try reader.stringArray("cmd")
        entrypoint = try reader.stringArray("entrypoint")
        workdir = try reader.string("workdir")
        labels = try reader.stringMap("labels", hint: "of name = value")
        memory = try reader.string("memory")
        cpus = try reader.number("cpus")
        restart = try reader.string("restart")
        healthcheck = try reader.withTable("healthcheck") { reader throws(FieldError) in try Healthcheck(lua: reader) }
        replicas = try reader.integer("replicas")
        swarm.placement = try reader.withTable("placement") { reader throws(FieldError) in
            try reader.rejectUnknownFields(known: ["constraints", "preferences", "max_replicas"])
            return SwarmServiceOptions.Placement(
                constraints: try reader.stringArray("constraints") ?? [],
                preferences: try reader.stringArray("preferences") ?? [],
                maxReplicas: try reader.integer("max_replicas")
            )
        }
        swarm.update = try reader.withTable("update") { reader throws(FieldError) in
            try reader.rejectUnknownFields(known: ["parallelism", "delay", "order", "failure_action", "monitor"])
            return SwarmServiceOptions.UpdatePolicy(
                parallelism: try reader.integer("parallelism"), delay: try reader.number("delay"),
                order: try reader.string("order"), failureAction: try reader.string("failure_action"), monitor: try reader.number("monitor")
            )
        }
        swarm.endpointMode = try reader.string("endpoint_mode")
        swarm.restartPolicy = try reader.withTable("restart_policy") { reader throws(FieldError) in
            try reader.rejectUnknownFields(known: ["delay", "max_attempts", "window"])
            return SwarmServiceOptions.RestartPolicy(
                delay: try reader.number("delay"), maxAttempts: try reader.integer("max_attempts"), window: try reader.number("window")
            )
        }
    }
}

extension Healthcheck {
    /// Reads `{ test = "…" or { … }, interval = s, timeout = s, retries = n, start_period = s }`.
    init(lua reader: LuaTableReader) throws(FieldError) {
        try reader.rejectUnknownFields(known: ["test", "interval", "timeout", "retries", "start_period"])
        let stack = reader.stack
        let test: Test
        switch stack.rawField(reader.table, "test") {
        case LUA_TSTRING, LUA_TNUMBER:
            stack.pop()
            test = .shell(try reader.string("test") ?? "")
        case LUA_TTABLE:
            defer { stack.pop() }
            test = .exec(try reader.stringArrayValue(at: -1, field: reader.field("test")))
        case LUA_TNIL:
            stack.pop()
            throw FieldError(message: "\(reader.field("test")): missing; give a shell command string or an array")
        default:
            let type = stack.typeName(at: -1)
            stack.pop()
            throw FieldError(message: "\(reader.field("test")): expected a string or an array, got \(type)")
        }
        self.init(
            test: test,
            interval: try reader.number("interval"),
            timeout: try reader.number("timeout"),
            retries: try reader.integer("retries"),
            startPeriod: try reader.number("start_period")
        )
    }
}

extension ContainerInfo {
    /// The ContainerInfo table: `{ id, name, docker_name, image, status, state, ports }`, plus the
    /// inspect-only fields when ``details`` is there.
    var luaValue: LuaValue {
        var fields: [String: LuaValue] = [
            "id": .string(id), "name": .string(name), "docker_name": .string(dockerName), "image": .string(image),
            "status": .string(status.rawValue), "state": .string(state.rawValue), "ports": .record(ports.mapValues(LuaValue.string)),
        ]
        if let replicas {
            fields["replicas"] = .record(["running": .integer(replicas.running), "desired": .integer(replicas.desired)])
        }
        if let details {
            fields["exit_code"] = .integer(details.exitCode)
            fields["oom_killed"] = .boolean(details.oomKilled)
            fields["restart_count"] = .integer(details.restartCount)
            fields["started_at"] = details.startedAt.map(LuaValue.number) ?? .nil
            fields["finished_at"] = details.finishedAt.map(LuaValue.number) ?? .nil
            fields["labels"] = .record(details.labels.mapValues(LuaValue.string))
            fields["hostname"] = .string(details.hostname)
            if let health = details.health {
                fields["health"] = .record([
                    "status": .string(health.status),
                    "failing_streak": .integer(health.failingStreak),
                    "log": .array(health.log.map { probe in
                        .record(["exit_code": .integer(probe.exitCode), "output": .string(probe.output), "at": .number(probe.at)])
                    }),
                ])
            }
            if let tasks = details.tasks {
                fields["tasks"] = .array(tasks.map { task in
                    .record([
                        "id": .string(task.id), "slot": .integer(task.placement.slot), "node": .string(task.placement.node),
                        "node_id": .string(task.placement.nodeID), "status": .string(task.status.rawValue), "state": .string(task.state),
                        "current": .boolean(task.current), "message": .string(task.message),
                        "exit_code": task.exitCode.map(LuaValue.integer) ?? .nil, "at": task.at.map(LuaValue.number) ?? .nil,
                    ])
                })
            }
        }
        return .record(fields)
    }
}

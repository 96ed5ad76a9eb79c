import CLua
import HephDocker

extension ContainerConfig {
    /// The fields a ContainerConfig table may have (the Go struct's JSON names, then the
    /// Lua API's additions).
    static let luaFields = [
        "image", "name", "env", "ports", "volumes", "hostname", "networkName",
        "cmd", "entrypoint", "workdir", "labels", "memory", "cpus", "restart", "healthcheck", "ready",
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
        ready = try reader.withTable("ready") { reader throws(FieldError) in try ReadinessProbe(lua: reader) }
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
        guard let test = try Self.test(reader, "test") else {
            throw FieldError(message: "\(reader.field("test")): missing; give a shell command string or an array")
        }
        self.init(
            test: test,
            interval: try reader.number("interval"),
            timeout: try reader.number("timeout"),
            retries: try reader.integer("retries"),
            startPeriod: try reader.number("start_period")
        )
    }

    /// The command in field `key`: a shell string or an array (exec form); nil when absent.
    static func test(_ reader: LuaTableReader, _ key: String) throws(FieldError) -> Test? {
        let stack = reader.stack
        switch stack.rawField(reader.table, key) {
        case LUA_TSTRING, LUA_TNUMBER:
            stack.pop()
            return .shell(try reader.string(key) ?? "")
        case LUA_TTABLE:
            defer { stack.pop() }
            return .exec(try reader.stringArrayValue(at: -1, field: reader.field(key)))
        case LUA_TNIL:
            stack.pop()
            return nil
        default:
            let type = stack.typeName(at: -1)
            stack.pop()
            throw FieldError(message: "\(reader.field(key)): expected a string or an array, got \(type)")
        }
    }
}

extension ReadinessProbe {
    /// Reads `{ tcp = PORT }`, `{ http = "/path", port = PORT [, status = 200] }`,
    /// `{ log = "pattern" }` or `{ exec = cmd }`, each with `interval` and `timeout`.
    /// What the values mean is checked by ``ContainerConfig/validate()``; a log pattern is
    /// checked here, as Lua reads it.
    init(lua reader: LuaTableReader) throws(FieldError) {
        let kinds = ["tcp", "http", "log", "exec"]
        try reader.rejectUnknownFields(known: kinds + ["port", "status", "interval", "timeout"])
        let given = kinds.filter { kind in
            defer { reader.stack.pop() }
            return reader.stack.rawField(reader.table, kind) != LUA_TNIL
        }
        guard let kind = given.first else {
            throw FieldError(message: "\(reader.path): give one kind of probe: tcp = PORT, http = \"/path\" with port = PORT, log = \"lua pattern\" or exec = command")
        }
        guard given.count == 1 else {
            throw FieldError(message: "\(reader.path): \(given.joined(separator: " and ")) are both given; a probe has one kind (more than one check: a healthcheck beside it, or heph.wait_ready in the script)")
        }
        if kind != "http" {
            for field in ["port", "status"] where try reader.number(field) != nil {
                throw FieldError(message: "\(reader.field(field)): only for an http probe; \(kind == "tcp" ? "a tcp probe names its port as tcp = PORT" : "a \(kind) probe has no port")")
            }
        }
        let check: Check
        switch kind {
        case "tcp":
            check = .tcp(port: try reader.integer("tcp") ?? 0)
        case "http":
            guard let port = try reader.integer("port") else {
                throw FieldError(message: "\(reader.field("port")): missing; the container port to send GET \(try reader.string("http") ?? "/") to, such as port = 8080")
            }
            check = .http(path: try reader.string("http") ?? "", port: port, status: try reader.integer("status") ?? 200)
        case "log":
            let source = try reader.string("log") ?? ""
            switch LuaPattern.make(source) {
            case .success(let pattern): check = .log(pattern)
            case .failure(let problem): throw FieldError(message: "\(reader.field("log")): \(quoted(source)) is not a Lua pattern: \(problem.message); escape magic characters with %, such as \"%[ready%]\"")
            }
        default:
            check = .exec(try Healthcheck.test(reader, "exec") ?? .shell(""))
        }
        self.init(check: check, interval: try reader.number("interval"), timeout: try reader.number("timeout"))
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

import CLua
import HephDocker

extension ContainerConfig {
    /// The fields a ContainerConfig table may have (the Go struct's JSON names, then the
    /// Lua API's additions).
    static let luaFields = [
        "image", "name", "env", "ports", "volumes", "hostname", "networkName",
        "cmd", "entrypoint", "workdir", "labels", "memory", "cpus", "restart", "healthcheck",
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
    /// The ContainerInfo table: `{ id, name, image, status, ports }`, plus the inspect-only
    /// fields when ``details`` is there.
    var luaValue: LuaValue {
        var fields: [String: LuaValue] = [
            "id": .string(id), "name": .string(name), "image": .string(image),
            "status": .string(status.rawValue), "ports": .record(ports.mapValues(LuaValue.string)),
        ]
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
        }
        return .record(fields)
    }
}

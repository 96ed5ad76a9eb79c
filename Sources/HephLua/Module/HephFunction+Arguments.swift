import CHephLua
import CLua
import HephDocker

/// Reading the arguments of the module's waiting calls: checked on the Lua thread, before
/// anything reaches the engine.
extension HephFunction {
    /// The operation of a call that takes a container (argument 1) and returns nothing.
    static func onContainer(_ stack: LuaStack, _ body: @escaping @Sendable (any Orchestrator, String) async throws -> Void) throws(BridgeError) -> Operation {
        let container = try stack.checkContainer(1)
        return { context in
            try await body(context.orchestrator(), container)
            return []
        }
    }

    /// Seconds `heph.wait_healthy` waits when not told.
    static let defaultWaitHealthyTimeout: Double = 60

    /// `true` once the container is healthy (or running without a healthcheck); `nil,
    /// status` when it stops, disappears, or `timeout` passes. Looks every 200 ms.
    /// Seconds `heph.wait_ready` waits when not told.
    static let defaultWaitReadyTimeout: Double = 60

    /// `heph.wait_ready`: the container's own probe (its `ready`, as its label keeps it) until
    /// it serves, then its healthcheck when it has one; as `heph.wait_healthy` without a probe.
    static func waitReady(_ orchestrator: any Orchestrator, clock: any HephClock, _ container: String, timeout: Double) async throws -> [LuaValue] {
        let began = clock.now
        let info: ContainerInfo
        do {
            info = try await orchestrator.inspectContainer(container)
        } catch let error as DockerError where error.code == .notFound {
            return [.nil, .string("\(ContainerStatus.error.rawValue) (\(error.message))")]
        }
        guard let label = info.details?.labels[readyLabel], let probe = ReadinessProbe(labelValue: label, pattern: LuaPattern.matcher) else {
            return try await waitHealthy(orchestrator, clock: clock, info.id, timeout: timeout)
        }
        switch await orchestrator.waitReady(info.id, probe: probe, timeout: .seconds(timeout)) {
        case .notReady(let why): return [.nil, .string(why)]
        case .ready:
            guard info.details?.health != nil else { return [.boolean(true)] }
            let left = max(0, timeout - (clock.now - began) / .seconds(1))
            return try await waitHealthy(orchestrator, clock: clock, info.id, timeout: left)
        }
    }

    static func waitHealthy(_ orchestrator: any Orchestrator, clock: any HephClock, _ container: String, timeout: Double) async throws -> [LuaValue] {
        var last = ContainerStatus.error
        let settled = try await clock.poll(every: .milliseconds(200), until: clock.now + .seconds(timeout)) { () async throws -> [LuaValue]? in
            do {
                let info = try await orchestrator.inspectContainer(container)
                last = info.status
                if last == .healthy || (last == .running && info.details?.health == nil) { return [.boolean(true)] }
                return last == .stopped ? [.nil, .string(last.rawValue)] : nil
            } catch let error as DockerError where error.code == .notFound {
                return [.nil, .string(ContainerStatus.error.rawValue)]
            }
        }
        return settled ?? [.nil, .string(last.rawValue)]
    }

    /// Argument `arg` as a ContainerConfig, checked completely: types here, meaning by
    /// HephDocker's own validation, so both layers word errors alike.
    static func containerConfig(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> ContainerConfig {
        try readTable(stack, arg: arg) {
            let config = try ContainerConfig(lua: LuaTableReader(stack: stack, table: stack.absolute(arg), path: "config"))
            try config.validate()
            return config
        }
    }

    /// The topology table of `heph.up`, read and validated completely (configs, unknown
    /// dependencies, cycles) before anything reaches the engine.
    static func topology(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> Topology {
        try readTable(stack, arg: arg) {
            let topology = try Topology(lua: LuaTableReader(stack: stack, table: stack.absolute(arg), path: "topology"))
            _ = try topology.validatedOrder()
            return topology
        }
    }

    /// Argument `arg`, a table, as `read` makes it; any error `read` throws is an argument error.
    private static func readTable<Value>(_ stack: LuaStack, arg: Int32, _ read: () throws -> Value) throws(BridgeError) -> Value {
        try stack.checkTable(arg)
        do {
            return try read()
        } catch let error as FieldError {
            throw .argument(arg, error.message)
        } catch let error as DockerError {
            throw .argument(arg, error.explained)
        } catch {
            throw .argument(arg, "\(error)")
        }
    }

    /// `{ tail = n }` of `heph.logs`: nil for everything.
    static func logOptions(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> Int? {
        guard !stack.isNoneOrNil(arg) else { return nil }
        try stack.checkTable(arg)
        let reader = LuaTableReader(stack: stack, table: stack.absolute(arg), path: "options")
        do throws(FieldError) {
            try reader.rejectUnknownFields(known: ["tail"])
            guard let tail = try reader.integer("tail") else { return nil }
            guard tail >= 0 else { throw FieldError(message: "options.tail: expected a number of lines, 0 or more, got \(tail)") }
            return tail
        } catch {
            throw .argument(arg, error.message)
        }
    }

    /// A command: a string runs through `sh -c`; an array of strings runs as it is.
    static func command(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> [String] {
        switch stack.type(at: arg) {
        case LUA_TSTRING:
            let text = try stack.checkString(arg)
            guard !text.isEmpty else { throw .argument(arg, "the command is empty") }
            return ["sh", "-c", text]
        case LUA_TTABLE:
            let reader = LuaTableReader(stack: stack, table: stack.absolute(arg), path: "command")
            do throws(FieldError) {
                let command = try reader.stringArrayValue(at: arg, field: "command")
                guard !command.isEmpty else { throw FieldError(message: "command: the array is empty; name a program, such as { \"ls\", \"/\" }") }
                if command.contains(where: { $0.utf8.contains(0) }) { throw FieldError(message: "command: an argument contains a NUL byte") }
                return command
            } catch {
                throw .argument(arg, error.message)
            }
        default:
            throw .argument(arg, "a command (a shell string or an array of strings) expected, got \(stack.typeName(at: arg))")
        }
    }

    /// `{ NAME = value }` added to the environment of `heph.shell`.
    static func environment(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> [String: String] {
        guard !stack.isNoneOrNil(arg) else { return [:] }
        try stack.checkTable(arg)
        let reader = LuaTableReader(stack: stack, table: stack.absolute(arg), path: "env")
        do throws(FieldError) {
            let environment = try reader.stringMapValue(at: arg, field: "env", hint: "of NAME = value")
            for (key, value) in environment where key.isEmpty || key.contains("=") || key.utf8.contains(0) || value.utf8.contains(0) {
                throw FieldError(message: "env: \(quoted(key)) cannot be a variable name (or its value holds a NUL byte)")
            }
            return environment
        } catch {
            throw .argument(arg, error.message)
        }
    }

    /// A signal for `heph.kill_container`: a name (`"SIGTERM"`, `"TERM"`) or a number; SIGKILL when absent.
    static func signal(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> String {
        switch stack.type(at: arg) {
        case LUA_TNONE, LUA_TNIL:
            return "SIGKILL"
        case LUA_TNUMBER:
            guard let number = stack.integer(at: arg), (1...64).contains(number) else {
                throw .argument(arg, "a signal number from 1 to 64 expected, got \(stack.numberText(at: arg) ?? "?")")
            }
            return String(number)
        case LUA_TSTRING:
            let name = try stack.checkString(arg).uppercased()
            let bare = name.hasPrefix("SIG") ? String(name.dropFirst(3)) : name
            guard !bare.isEmpty, bare.utf8.allSatisfy({ (65...90).contains($0) || (48...57).contains($0) || $0 == 43 || $0 == 45 }) else {
                throw .argument(arg, "\(quoted(name)) is not a signal name; use one such as \"SIGTERM\" or \"KILL\"")
            }
            return "SIG" + bare
        default:
            throw .argument(arg, "a signal (name or number) expected, got \(stack.typeName(at: arg))")
        }
    }
}

extension ExecResult {
    /// `exit_code, stdout, stderr`, as `heph.exec` and `heph.shell` return them.
    var luaValues: [LuaValue] {
        [.integer(exitCode), .bytes(output.stdout), .bytes(output.stderr)]
    }
}

extension HephFunction {
    /// A `heph.state` key: the prelude has checked it is a string of 1 to
    /// ``StateLimits/maximumKeyBytes`` bytes.
    static func stateKey(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> [UInt8] {
        guard stack.type(at: arg) == LUA_TSTRING, let bytes = stack.bytes(at: arg) else {
            throw .argument(arg, "string key expected, got \(stack.typeName(at: arg))")
        }
        return Array(bytes)
    }
}

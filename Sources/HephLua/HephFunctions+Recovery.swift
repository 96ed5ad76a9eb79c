import CHephLua
import CLua
import HephDocker

extension HephFunction {
    /// The waiting calls of section 6 (topologies, recovery, output) and heph's extensions
    /// for recovery plugins: arguments checked here, engine work in the returned operation.
    func recoveryOperation(_ stack: LuaStack) throws(BridgeError) -> Operation {
        switch self {
        case .up:
            let topology = try Self.topology(stack, arg: 1)
            return { context in
                for name in topology.services.keys.sorted() { try context.mounts?.check(topology.services[name]!.config, path: "services.\(name)") }
                context.remember(topology)
                let progress = context.progress
                let result = try await context.engine.up(topology) { step in
                    if step.step == .replacing || step.step == .restarting { context.expect(step.service) }
                    progress?("heph.up: \(step.line)\n")
                }
                return [.record(result.mapValues(\.luaValue))]
            }
        case .down:
            return { context in
                try await context.engine.teardownAll()
                return []
            }
        case .restartContainer:
            let container = try stack.checkContainer(1)
            let timeout = try stack.checkStopTimeout(2)
            return { context in
                // A container that is not running is only started: no stop of it is coming,
                // and its next crash must not pass for this call's doing.
                let status = try await context.engine.healthCheck(container)
                if status == .stopped || status == .created { context.withdraw() }
                try await context.engine.restartContainer(container, timeout: timeout)
                return []
            }
        case .logs:
            let container = try stack.checkContainer(1)
            let tail = try Self.logOptions(stack, arg: 2)
            return { context in
                let output = try await context.engine.logs(container, tail: tail)
                return [.bytes(output.stdout), .bytes(output.stderr)]
            }
        case .exec:
            let container = try stack.checkContainer(1)
            let command = try Self.command(stack, arg: 2)
            return { context in
                try await context.engine.exec(container, command: command).luaValues
            }
        case .killContainer:
            let container = try stack.checkContainer(1)
            let signal = try Self.signal(stack, arg: 2)
            return { context in
                try await context.engine.killContainer(container, signal: signal)
                return []
            }
        case .pauseContainer:
            return try Self.onContainer(stack) { try await $0.pauseContainer($1) }
        case .unpauseContainer:
            return try Self.onContainer(stack) { try await $0.unpauseContainer($1) }
        case .shell:
            let command = try Self.command(stack, arg: 1)
            let environment = try Self.environment(stack, arg: 2)
            return { _ in
                try await HostCommand.run(command, environment: environment).luaValues
            }
        default:
            throw .raise("heph internal error: \(qualifiedName) is not a recovery call")
        }
    }

    /// The topology table of `heph.up`, read and validated completely (configs, unknown
    /// dependencies, cycles) before anything reaches the engine.
    private static func topology(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> Topology {
        try stack.checkTable(arg)
        do {
            let topology = try Topology(lua: LuaTableReader(stack: stack, table: stack.absolute(arg), path: "topology"))
            _ = try topology.validatedOrder()
            return topology
        } catch let error as FieldError {
            throw .argument(arg, error.message)
        } catch let error as DockerError {
            throw .argument(arg, error.message)
        } catch {
            throw .argument(arg, "\(error)")
        }
    }

    /// `{ tail = n }` of `heph.logs`: nil for everything.
    private static func logOptions(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> Int? {
        guard heph_isnoneornil(stack.state, arg) == 0 else { return nil }
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
    private static func command(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> [String] {
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
    private static func environment(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> [String: String] {
        guard heph_isnoneornil(stack.state, arg) == 0 else { return [:] }
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
    private static func signal(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> String {
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

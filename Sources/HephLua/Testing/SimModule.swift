import CLua
import HephDocker

/// The functions behind `sim`, the controls of `heph test`'s simulated world, and the
/// harness's own primitives (`declare`, `passed`, `id`). They are entries of
/// ``HephModule/functions`` like every other, installed only in a test's state: each acts
/// at once, on the Lua thread, in no virtual time.
enum SimModule {
    static let functions: [HephFunction] = [
        .simulation("kill", wrapped: true) { runtime, stack throws(BridgeError) in
            let (engine, container) = try runtime.simulatedContainer(stack, "kill", mustBe: "running")
            engine.kill(container.id, exitCode: try stack.exitCode(2, default: 137))
            return 0
        },
        .simulation("crash", wrapped: true) { runtime, stack throws(BridgeError) in
            let (engine, container) = try runtime.simulatedContainer(stack, "crash", mustBe: "running")
            engine.crash(container.id, exitCode: try stack.exitCode(2, default: 1))
            return 0
        },
        .simulation("oom", wrapped: true) { runtime, stack throws(BridgeError) in
            let (engine, container) = try runtime.simulatedContainer(stack, "oom", mustBe: "running")
            engine.oom(container.id)
            return 0
        },
        .simulation("stop", wrapped: true) { runtime, stack throws(BridgeError) in
            // As `docker stop`: stopping a stopped container is not an error.
            let (engine, container) = try runtime.simulatedContainer(stack, "stop")
            engine.stop(container.id)
            return 0
        },
        .simulation("set_health", wrapped: true) { runtime, stack throws(BridgeError) in
            let (engine, container) = try runtime.simulatedContainer(stack, "set_health")
            let verdict = try stack.checkString(2)
            guard verdict == "healthy" || verdict == "unhealthy" else {
                throw .argument(2, "\"healthy\" or \"unhealthy\" expected, got \(quoted(verdict))")
            }
            guard container.config.healthcheck != nil else {
                throw .raise("sim.set_health: \(container.name) has no healthcheck, so it has no health to set; give its config a healthcheck")
            }
            // What the probes find: the status follows at the next ones.
            engine.setHealth(container.id, healthy: verdict == "healthy")
            return 0
        },
        .simulation("set_ready", wrapped: true) { runtime, stack throws(BridgeError) in
            let (engine, container) = try runtime.simulatedContainer(stack, "set_ready")
            guard stack.type(at: 2) == LUA_TBOOLEAN else {
                throw .argument(2, "true or false expected, got \(stack.typeName(at: 2))")
            }
            guard container.config.ready != nil else {
                throw .raise("sim.set_ready: \(container.name) has no ready probe, so there is nothing to answer; give its config ready = { tcp = PORT } (or http, log, exec)")
            }
            // What heph's probes find from now on, whatever the kind.
            engine.setReady(container.id, ready: lua_toboolean(stack.state, 2) != 0)
            return 0
        },
        .simulation("pause", wrapped: true) { runtime, stack throws(BridgeError) in
            let (engine, container) = try runtime.simulatedContainer(stack, "pause", mustBe: "running")
            engine.pause(container.id, true)
            return 0
        },
        .simulation("unpause", wrapped: true) { runtime, stack throws(BridgeError) in
            let (engine, container) = try runtime.simulatedContainer(stack, "unpause", mustBe: "paused")
            engine.pause(container.id, false)
            return 0
        },
        .simulation("remove", wrapped: true) { runtime, stack throws(BridgeError) in
            let (engine, container) = try runtime.simulatedContainer(stack, "remove")
            engine.remove(container.id)
            return 0
        },
        .simulation("engine_down", wrapped: true) { runtime, stack throws(BridgeError) in
            let seconds = try stack.checkSeconds(1, allowZero: false)
            var restarting = false
            if !stack.isNoneOrNil(2) {
                try stack.checkTable(2)
                var unknown: String?
                stack.forEachPair(2) {
                    // Read only as a string when it is one: lua_tostring would change the key lua_next needs.
                    let key = stack.type(at: -2) == LUA_TSTRING ? stack.string(at: -2) : nil
                    if key != "restart" { unknown = unknown ?? key ?? "a \(stack.typeName(at: -2)) key" }
                }
                if let unknown { throw .argument(2, "unknown option \(quoted(unknown)) (known: restart)") }
                stack.rawField(2, "restart")
                defer { stack.pop() }
                guard stack.isNoneOrNil(-1) || stack.type(at: -1) == LUA_TBOOLEAN else {
                    throw .argument(2, "restart must be a boolean, got \(stack.typeName(at: -1))")
                }
                restarting = lua_toboolean(stack.state, -1) != 0
            }
            try runtime.simulatedOrchestrator("engine_down").engine.down(for: .milliseconds(Int64((seconds * 1000).rounded())), restarting: restarting)
            return 0
        },
        .simulation("output") { runtime, stack throws(BridgeError) in
            let (engine, container) = try runtime.simulatedContainer(stack, "output")
            let stdout = try stack.checkBytes(2)
            let stderr = stack.isNoneOrNil(3) ? [] : try stack.checkBytes(3)
            engine.setOutput(container.id, stdout: stdout, stderr: stderr)
            return 0
        },
        .simulation("actions") { runtime, stack throws(BridgeError) in
            let actions = try runtime.simulatedOrchestrator("actions").actions
            stack.push(.array(actions.map { .record(["op": .string($0.op), "name": .string($0.name), "at": .number($0.at)]) }))
            return 1
        },
        // heph.http.request in a test: the request checked as for real, then handed to
        // sim.http's function as a table (method, url, headers, body, timeout).
        .simulation("http_check", qualifiedName: "heph.http.request", wrapped: true) { _, stack throws(BridgeError) in
            let request = try HephFunction.httpRequest(stack, arg: 1)
            var fields: [String: LuaValue] = [
                "method": .string(request.method), "url": .string(request.target.url),
                "headers": .record(Dictionary(request.headers.map { ($0.name, LuaValue.string($0.value)) }) { _, last in last }),
                "timeout": .number(request.timeout / .seconds(1)),
            ]
            if let body = request.body { fields["body"] = .bytes(body) }
            stack.push(.record(fields))
            return 1
        },
        // The harness's own.
        .simulation("emit") { runtime, stack throws(BridgeError) in
            runtime.configuration.output(try stack.checkBytes(1))
            return 0
        },
        .simulation("declare") { runtime, stack throws(BridgeError) in
            var declared: [TestReport.Declared] = []
            try stack.checkTable(1)
            var index = 1
            while stack.rawIndex(1, index) == LUA_TTABLE {
                stack.rawField(stack.absolute(-1), "name")
                let name = stack.string(at: -1) ?? "?"
                stack.pop()
                stack.rawField(stack.absolute(-1), "selected")
                let selected = lua_toboolean(stack.state, -1) != 0
                stack.pop(2)
                declared.append(TestReport.Declared(name: name, selected: selected))
                index += 1
            }
            stack.pop()
            runtime.configuration.testCase?.report.declare(declared)
            return 0
        },
        .simulation("stalled") { runtime, _ throws(BridgeError) in
            runtime.endUnfinishedTest(within: "\(TestCase.virtualLimit / 3600) hours of virtual time")
            return 0
        },
        .simulation("script_path") { runtime, stack throws(BridgeError) in
            // The script heph.use looks next to: sim.run's while it runs. Returns the last.
            let previous = runtime.scriptPath
            runtime.scriptPath = stack.string(at: 1)
            if let previous { stack.push(previous) } else { stack.pushNil() }
            return 1
        },
        .simulation("passed") { runtime, _ throws(BridgeError) in
            runtime.configuration.testCase?.report.markPassed()
            return 0
        },
        .simulation("id") { runtime, stack throws(BridgeError) in
            // id(c): the id or nil; id(c, "fn"): the id, or sim.fn's error.
            let reference = try stack.checkContainer(1)
            if let function = stack.string(at: 2) {
                stack.push(try runtime.simulatedContainer(stack, function).container.id)
            } else if let id = try runtime.simulatedOrchestrator("id").id(of: reference) {
                stack.push(id)
            } else {
                stack.pushNil()
            }
            return 1
        },
    ]
}

extension LuaRuntime {
    /// The simulated orchestrator of a test's run (made on first use, in the project chosen
    /// by then, as for any engine call).
    func simulatedOrchestrator(_ function: String) throws(BridgeError) -> SimulatedOrchestrator {
        try applyEngineSettings()
        let orchestrator: any Orchestrator
        do {
            orchestrator = try configuration.backend.orchestrator()
        } catch {
            throw .raise("sim.\(function): \(Self.describe(error))")
        }
        guard let simulated = orchestrator as? SimulatedOrchestrator else {
            throw .raise("sim.\(function): only in heph test")
        }
        return simulated
    }

    /// The engine and the container argument 1 names (as every `heph` function reads a
    /// container), which must be in `mustBe` state when given.
    func simulatedContainer(_ stack: LuaStack, _ function: String, mustBe state: String? = nil) throws(BridgeError)
        -> (engine: SimulatedEngine, container: SimulatedEngine.Container) {
        let reference = try stack.checkContainer(1)
        let orchestrator = try simulatedOrchestrator(function)
        guard let id = orchestrator.id(of: reference), let container = orchestrator.engine.peek(id) else {
            throw .raise("sim.\(function): no such container: \(reference) (sim acts on the containers of the test's project)")
        }
        if let state, container.state != state {
            // In heph's words: a container that exited is "stopped".
            func word(_ state: String) -> String { state == "exited" ? "stopped" : state }
            throw .raise("sim.\(function): \(Project.scriptName(container.name, labels: container.labels)) is \(word(container.state)), not \(word(state))")
        }
        return (orchestrator.engine, container)
    }
}

extension LuaStack {
    /// Argument `arg` as an exit code (0–255), `fallback` when absent.
    func exitCode(_ arg: Int32, default fallback: Int) throws(BridgeError) -> Int {
        if isNoneOrNil(arg) { return fallback }
        guard let code = integer(at: arg), (0...255).contains(code) else {
            throw .argument(arg, "exit code must be a whole number from 0 to 255, got \(numberText(at: arg) ?? typeName(at: arg))")
        }
        return code
    }

    /// Argument `arg` as bytes (a Lua string holds any).
    func checkBytes(_ arg: Int32) throws(BridgeError) -> [UInt8] {
        guard type(at: arg) == LUA_TSTRING || type(at: arg) == LUA_TNUMBER, let buffer = bytes(at: arg) else {
            throw .argument(arg, "string expected, got \(typeName(at: arg))")
        }
        return Array(buffer)
    }
}

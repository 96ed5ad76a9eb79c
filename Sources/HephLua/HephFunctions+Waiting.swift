import CHephLua
import HephDocker

/// What a waiting call does once its arguments are checked: runs on a task, away from the
/// Lua thread, and returns the values the call returns to the script.
typealias Operation = @Sendable (OperationContext) async throws -> [LuaValue]

/// What an operation may use besides its arguments.
struct OperationContext: Sendable {
    /// The orchestrator.
    let engine: any Orchestrator & DockerAPI
    /// Marks the coming stop or removal of a container (by name) as expected, before the
    /// operation asks for it.
    let expect: @Sendable (String) -> Void
    /// Takes back what the call expected when it finds it will stop nothing after all.
    let withdraw: @Sendable () -> Void
    /// Where progress lines go (a terminal), when they are shown at all.
    let progress: (@Sendable (String) -> Void)?
    /// Keeps a topology `heph.up` brings up, for `heph.dependents`.
    let remember: @Sendable (Topology) -> Void
    /// The bind mounts a sandboxed script may make; nil outside a sandbox.
    let mounts: MountPolicy?
}

extension HephFunction {
    /// Checks the arguments of a waiting call (raising `bad argument` errors through the
    /// trampoline) and returns the operation to run. Nothing reaches the engine from here.
    func operation(_ stack: LuaStack) throws(BridgeError) -> Operation {
        switch self {
        case .ping:
            return { context in
                try await context.engine.ping()
                return [.boolean(true)]
            }
        case .createNetwork:
            return { context in [.string(try await context.engine.createNetwork())] }
        case .removeNetwork:
            return { context in
                try await context.engine.removeNetwork()
                return []
            }
        case .createContainer:
            let config = try Self.containerConfig(stack, arg: 1)
            return { context in
                try context.mounts?.check(config)
                return [.string(try await context.engine.createContainer(config))]
            }
        case .startContainer:
            return try Self.onContainer(stack) { try await $0.startContainer($1) }
        case .stopContainer:
            let container = try stack.checkContainer(1)
            let timeout = try stack.checkStopTimeout(2)
            return { context in
                try await context.engine.stopContainer(container, timeout: timeout)
                return []
            }
        case .removeContainer:
            return try Self.onContainer(stack) { try await $0.removeContainer($1) }
        case .listContainers:
            return { context in [.array(try await context.engine.listContainers().map(\.luaValue))] }
        case .inspectContainer:
            let container = try stack.checkContainer(1)
            return { context in [try await context.engine.inspectContainer(container).luaValue] }
        case .healthCheck:
            let container = try stack.checkContainer(1)
            return { context in [.string(try await context.engine.healthCheck(container).rawValue)] }
        case .teardownAll:
            return { context in
                try await context.engine.teardownAll()
                return []
            }
        case .sleep:
            let seconds = try stack.checkSeconds(1, allowZero: true)
            return { _ in
                try await Task.sleep(for: .seconds(seconds))
                return []
            }
        case .waitHealthy:
            let container = try stack.checkContainer(1)
            let timeout = heph_isnoneornil(stack.state, 2) != 0 ? Self.defaultWaitHealthyTimeout : try stack.checkSeconds(2, allowZero: true)
            return { context in try await Self.waitHealthy(context.engine, container, timeout: timeout) }
        case .up, .down, .restartContainer, .logs, .exec, .killContainer, .pauseContainer, .unpauseContainer, .shell:
            return try recoveryOperation(stack)
        case .startHealthPolling, .now, .on, .every, .after, .onShutdown, .dependents, .wait, .write, .pollerStop, .hookOff, .timerStop, .requestExit, .findPlugin:
            throw .raise("heph internal error: \(qualifiedName) is not a waiting call")
        }
    }

    /// The operation of a call that takes a container (argument 1) and returns nothing.
    static func onContainer(_ stack: LuaStack, _ body: @escaping @Sendable (any Orchestrator & DockerAPI, String) async throws -> Void) throws(BridgeError) -> Operation {
        let container = try stack.checkContainer(1)
        return { context in
            try await body(context.engine, container)
            return []
        }
    }

    /// Seconds `heph.wait_healthy` waits when not told.
    static let defaultWaitHealthyTimeout: Double = 60

    /// `true` once the container is healthy (or running without a healthcheck); `nil,
    /// status` when it stops, disappears, or `timeout` passes. Looks every 200 ms.
    private static func waitHealthy(_ engine: any Orchestrator & DockerAPI, _ container: String, timeout: Double) async throws -> [LuaValue] {
        let deadline = ContinuousClock.now + .seconds(timeout)
        while true {
            let status: ContainerStatus
            do {
                let info = try await engine.inspectContainer(container)
                status = info.status
                if status == .healthy || (status == .running && info.details?.health == nil) { return [.boolean(true)] }
                if status == .stopped { return [.nil, .string(status.rawValue)] }
            } catch let error as DockerError where error.code == .notFound {
                return [.nil, .string(ContainerStatus.error.rawValue)]
            }
            if ContinuousClock.now >= deadline { return [.nil, .string(status.rawValue)] }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Argument `arg` as a ContainerConfig, checked completely: types here, meaning by
    /// HephDocker's own validation, so both layers word errors alike.
    static func containerConfig(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> ContainerConfig {
        try stack.checkTable(arg)
        do {
            let config = try ContainerConfig(lua: LuaTableReader(stack: stack, table: stack.absolute(arg), path: "config"))
            try config.validate()
            return config
        } catch let error as FieldError {
            throw .argument(arg, error.message)
        } catch let error as DockerError {
            throw .argument(arg, error.message)
        } catch {
            throw .argument(arg, "\(error)")
        }
    }
}


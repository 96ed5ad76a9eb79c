/// Every function the `heph` module gets from Swift, with its id for the C trampoline.
enum HephFunction: Int32, CaseIterable {
    // Waiting calls: the module exposes a Lua wrapper around their start function.
    case ping = 1, createNetwork, removeNetwork, createContainer, startContainer, stopContainer
    case removeContainer, listContainers, inspectContainer, healthCheck, teardownAll, sleep, waitHealthy
    case up, down, restartContainer, logs, exec, killContainer, pauseContainer, unpauseContainer, shell
    // Direct calls: scripts call the C closure itself.
    case startHealthPolling = 100, now, on, every, after, onShutdown, dependents
    // Primitives for the prelude.
    case wait = 200, write, pollerStop, hookOff, timerStop, requestExit, findPlugin

    /// How the closure is exposed.
    enum Kind {
        /// A start function wrapped by the prelude; errors name the wrapper.
        case waiting
        /// A field of `heph`, called directly.
        case direct
        /// Handed to the prelude only.
        case primitive
    }

    var kind: Kind {
        switch rawValue {
        case ..<100: .waiting
        case ..<200: .direct
        default: .primitive
        }
    }

    /// The name in `heph` (and in the prelude's primitives).
    var luaName: String {
        switch self {
        case .ping: "ping"
        case .createNetwork: "create_network"
        case .removeNetwork: "remove_network"
        case .createContainer: "create_container"
        case .startContainer: "start_container"
        case .stopContainer: "stop_container"
        case .removeContainer: "remove_container"
        case .listContainers: "list_containers"
        case .inspectContainer: "inspect_container"
        case .healthCheck: "health_check"
        case .teardownAll: "teardown_all"
        case .sleep: "sleep"
        case .waitHealthy: "wait_healthy"
        case .up: "up"
        case .down: "down"
        case .restartContainer: "restart_container"
        case .logs: "logs"
        case .exec: "exec"
        case .killContainer: "kill_container"
        case .pauseContainer: "pause_container"
        case .unpauseContainer: "unpause_container"
        case .shell: "shell"
        case .dependents: "dependents"
        case .findPlugin: "find_plugin"
        case .startHealthPolling: "start_health_polling"
        case .now: "now"
        case .on: "on"
        case .every: "every"
        case .after: "after"
        case .onShutdown: "on_shutdown"
        case .wait: "wait"
        case .write: "write"
        case .pollerStop: "poller_stop"
        case .hookOff: "hook_off"
        case .timerStop: "timer_stop"
        case .requestExit: "request_exit"
        }
    }

    /// The name argument errors use when the call site gives none (as under `pcall`).
    var qualifiedName: String {
        switch self {
        case .pollerStop: "heph.poller:stop"
        case .hookOff: "heph.hook:off"
        case .timerStop: "heph.timer:stop"
        case .requestExit: "heph.exit"
        default: "heph.\(luaName)"
        }
    }

    /// 1 when a Lua wrapper of the prelude calls the closure (errors then name the wrapper
    /// and point at the script's line), 0 when scripts call it directly.
    var visibleLevel: Int32 {
        kind == .waiting || self == .requestExit ? 1 : 0
    }
}

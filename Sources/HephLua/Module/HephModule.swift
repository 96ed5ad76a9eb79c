import HephDocker

/// Every function the `heph` module gets from Swift: adding one is adding its entry here
/// (and, for a waiting call, nothing else: the prelude wraps every waiting call alike).
/// Its id for the C trampoline is its place in the list, from 1.
///
/// Each entry's closure says `throws(BridgeError)` even when it throws nothing: without it
/// the closure is converted to the stored type through a thunk whose context lives on the
/// heap, a retain and a release on every call (a third of `heph.now`'s cost, measured).
enum HephModule {
    /// What each function does, by its id less 1: what the trampoline reads on every call,
    /// kept apart from the names (a runtime keeps its own reference, sparing the lazy
    /// global's check per call).
    static let bodies = ContiguousArray(functions.map(\.body))

    static let functions: [HephFunction] = [
        // Waiting calls: the prelude exposes a Lua wrapper around each.
        .waiting("ping") { _ throws(BridgeError) in
            { context in
                try await context.orchestrator().ping()
                return [.boolean(true)]
            }
        },
        .waiting("create_network") { _ throws(BridgeError) in { context in [.string(try await context.orchestrator().createNetwork())] } },
        .waiting("remove_network") { _ throws(BridgeError) in
            { context in
                try await context.orchestrator().removeNetwork()
                return []
            }
        },
        .waiting("create_container") { stack throws(BridgeError) in
            let config = try HephFunction.containerConfig(stack, arg: 1)
            return { context in
                try context.sandbox?.mounts.check(config)
                return [.string(try await context.orchestrator().createContainer(config))]
            }
        },
        .waiting("start_container") { stack throws(BridgeError) in try HephFunction.onContainer(stack) { try await $0.startContainer($1) } },
        .waiting("stop_container", expects: .argumentContainer) { stack throws(BridgeError) in
            let container = try stack.checkContainer(1)
            let timeout = try stack.checkStopTimeout(2)
            return { context in
                try await context.orchestrator().stopContainer(container, timeout: timeout)
                return []
            }
        },
        .waiting("remove_container", expects: .argumentContainer) { stack throws(BridgeError) in try HephFunction.onContainer(stack) { try await $0.removeContainer($1) } },
        .waiting("list_containers") { _ throws(BridgeError) in { context in [.array(try await context.orchestrator().listContainers().map(\.luaValue))] } },
        .waiting("inspect_container") { stack throws(BridgeError) in
            let container = try stack.checkContainer(1)
            return { context in [try await context.orchestrator().inspectContainer(container).luaValue] }
        },
        .waiting("health_check") { stack throws(BridgeError) in
            let container = try stack.checkContainer(1)
            return { context in [.string(try await context.orchestrator().healthCheck(container).rawValue)] }
        },
        .waiting("teardown_all", expects: .everything) { _ throws(BridgeError) in
            { context in
                try await context.orchestrator().teardownAll()
                return []
            }
        },
        .waiting("sleep", usesEngine: false) { stack throws(BridgeError) in
            let seconds = try stack.checkSeconds(1, allowZero: true)
            return { context in
                try await context.clock.sleep(for: .seconds(seconds))
                return []
            }
        },
        .waiting("wait_healthy") { stack throws(BridgeError) in
            let container = try stack.checkContainer(1)
            let timeout = stack.isNoneOrNil(2) ? HephFunction.defaultWaitHealthyTimeout : try stack.checkSeconds(2, allowZero: true)
            return { context in try await HephFunction.waitHealthy(context.orchestrator(), clock: context.clock, container, timeout: timeout) }
        },
        .waiting("wait_ready") { stack throws(BridgeError) in
            let container = try stack.checkContainer(1)
            let timeout = stack.isNoneOrNil(2) ? HephFunction.defaultWaitReadyTimeout : try stack.checkSeconds(2, allowZero: true)
            return { context in try await HephFunction.waitReady(context.orchestrator(), clock: context.clock, container, timeout: timeout) }
        },
        .waiting("up") { stack throws(BridgeError) in
            let topology = try HephFunction.topology(stack, arg: 1)
            return { context in
                for (name, service) in topology.services.sorted(by: { $0.key < $1.key }) { try context.sandbox?.mounts.check(service.config, path: "services.\(name)") }
                context.remember(topology)
                let progress = context.progress
                // What it did so far, for saying what it leaves when it fails or is cancelled
                // (Ctrl-C, the run ending): a rerun converges from there.
                let record = BringUpRecord(services: Array(topology.services.keys))
                let project = context.backend.project
                do {
                    let result = try await context.orchestrator().up(topology) { step in
                        record.note(step)
                        if step.step == .replacing || step.step == .restarting { context.expect(step.service) }
                        // Once cancelled, what the services' tasks finish is in the summary below.
                        if !Task.isCancelled { progress?("heph.up: \(step.remedy?.applied(to: step.line) ?? step.line)\n") }
                    }
                    return [.record(result.mapValues(\.luaValue))]
                } catch {
                    // Cancelled (Ctrl-C, the run ending): said once the bring-up has stopped,
                    // so the lists are final.
                    if Task.isCancelled {
                        if let left = record.leftBehind(in: project, interrupted: true) { context.diagnostics(left + "\n") }
                        throw error
                    }
                    guard let failure = error as? DockerError, let left = record.leftBehind(in: project, interrupted: false) else { throw error }
                    throw DockerError(failure.code, failure.explained + "\n" + left, underlying: failure)
                }
            }
        },
        .waiting("down", expects: .everything) { _ throws(BridgeError) in
            { context in
                try await context.orchestrator().teardownAll()
                return []
            }
        },
        .waiting("restart_container", expects: .argumentContainer) { stack throws(BridgeError) in
            let container = try stack.checkContainer(1)
            let timeout = try stack.checkStopTimeout(2)
            return { context in
                // A container that is not running is only started: no stop of it is coming,
                // and its next crash must not pass for this call's doing.
                let status = try await context.orchestrator().healthCheck(container)
                if status == .stopped || status == .created { context.withdraw() }
                try await context.orchestrator().restartContainer(container, timeout: timeout)
                return []
            }
        },
        .waiting("logs") { stack throws(BridgeError) in
            let container = try stack.checkContainer(1)
            let tail = try HephFunction.logOptions(stack, arg: 2)
            return { context in
                let output = try await context.orchestrator().logs(container, tail: tail)
                return [.bytes(output.stdout), .bytes(output.stderr)]
            }
        },
        .waiting("exec") { stack throws(BridgeError) in
            let container = try stack.checkContainer(1)
            let command = try HephFunction.command(stack, arg: 2)
            return { context in try await context.orchestrator().exec(container, command: command).luaValues }
        },
        .waiting("kill_container") { stack throws(BridgeError) in
            let container = try stack.checkContainer(1)
            let signal = try HephFunction.signal(stack, arg: 2)
            return { context in
                try await context.orchestrator().killContainer(container, signal: signal)
                return []
            }
        },
        .waiting("pause_container") { stack throws(BridgeError) in try HephFunction.onContainer(stack) { try await $0.pauseContainer($1) } },
        .waiting("unpause_container") { stack throws(BridgeError) in try HephFunction.onContainer(stack) { try await $0.unpauseContainer($1) } },
        .waiting("shell", usesEngine: false, allowedInSandbox: false) { stack throws(BridgeError) in
            let command = try HephFunction.command(stack, arg: 1)
            let environment = try HephFunction.environment(stack, arg: 2)
            // Runs for real and takes no virtual time (heph test): the call's task holds the
            // clock while it runs, as every call's does until it sleeps on the clock.
            return { _ in try await HostCommand.run(command, environment: environment).luaValues }
        },
        HephFunction.httpRequestCall,

        .waiting("lead") { _ throws(BridgeError) in
            { context in
                try await context.lead()
                return []
            }
        },
        // heph.state: the prelude moves these into `heph.state` and encodes the values.
        .waiting("state_get", qualifiedName: "heph.state.get") { stack throws(BridgeError) in
            let key = try HephFunction.stateKey(stack, arg: 1)
            return { context in [try await context.orchestrator().coordination.state.get(key).map { .bytes($0) } ?? .nil] }
        },
        .waiting("state_set", qualifiedName: "heph.state.set") { stack throws(BridgeError) in
            let key = try HephFunction.stateKey(stack, arg: 1)
            let value = stack.isNoneOrNil(2) ? nil : stack.bytes(at: 2).map { Array($0) }
            // Taken here, on the Lua thread: the order the script asked in.
            let order = StateWriteOrder.next()
            return { context in
                try await context.orchestrator().coordination.state.set(key, value, order: order)
                return []
            }
        },
        .waiting("state_keys", qualifiedName: "heph.state.keys") { _ throws(BridgeError) in
            { context in [.array(try await context.orchestrator().coordination.state.keys().map { .bytes($0) })] }
        },

        // Direct calls: scripts call the C closure itself.
        .direct("start_health_polling") { runtime, stack throws(BridgeError) in try runtime.startPolling(stack) },
        .direct("now") { runtime, stack throws(BridgeError) in
            stack.push(runtime.epochSeconds())
            return 1
        },
        .direct("on") { runtime, stack throws(BridgeError) in try runtime.registerHook(stack) },
        .direct("every") { runtime, stack throws(BridgeError) in try runtime.startTimer(stack, repeats: true) },
        .direct("after") { runtime, stack throws(BridgeError) in try runtime.startTimer(stack, repeats: false) },
        .direct("on_shutdown") { runtime, stack throws(BridgeError) in try runtime.registerShutdownHandler(stack) },
        .direct("dependents") { runtime, stack throws(BridgeError) in try runtime.pushDependents(stack) },

        // Primitives for the prelude.
        .primitive("wait") { runtime, stack throws(BridgeError) in try runtime.waitInPlace(stack) },
        .primitive("write") { runtime, stack throws(BridgeError) in
            // Bytes as they are: a Lua string need not be UTF-8 (logs of a binary, "caf\xe9").
            guard let bytes = stack.bytes(at: 1) else { throw .argument(1, "string expected, got \(stack.typeName(at: 1))") }
            // A statement of a `heph attach` session prints in the session; hooks print here.
            (runtime.attachedOutput(of: stack.state) ?? runtime.configuration.output)(Array(bytes))
            return 0
        },
        .primitive("stderr_routed") { runtime, stack throws(BridgeError) in
            stack.push(runtime.configuration.errorOutput != nil)
            return 1
        },
        .primitive("write_stderr", qualifiedName: "io.stderr:write") { runtime, stack throws(BridgeError) in
            guard let bytes = stack.bytes(at: 1) else { throw .argument(1, "string expected, got \(stack.typeName(at: 1))") }
            runtime.configuration.errorOutput?(Array(bytes))
            return 0
        },
        .primitive("poller_stop", qualifiedName: "heph.poller:stop") { runtime, stack throws(BridgeError) in try runtime.stopPolling(stack) },
        .primitive("hook_off", qualifiedName: "heph.hook:off") { runtime, stack throws(BridgeError) in try runtime.removeHook(stack) },
        .primitive("timer_stop", qualifiedName: "heph.timer:stop") { runtime, stack throws(BridgeError) in try runtime.stopTimer(stack) },
        .primitive("request_exit", qualifiedName: "heph.exit", visibleLevel: 1) { runtime, stack throws(BridgeError) in try runtime.requestExit(stack) },
        .primitive("find_plugin") { runtime, stack throws(BridgeError) in try runtime.findPlugin(stack) },
        .primitive("plugin_scope_open") { runtime, stack throws(BridgeError) in runtime.openPluginScope(stack) },
        .primitive("plugin_scope_close") { runtime, stack throws(BridgeError) in runtime.closePluginScope(stack) },
        .primitive("plugin_stop") { runtime, stack throws(BridgeError) in try runtime.keepPluginStop(stack) },
        .primitive("plugin_described") { runtime, stack throws(BridgeError) in try runtime.pluginDescribed(stack) },
    ] + SimModule.functions
}

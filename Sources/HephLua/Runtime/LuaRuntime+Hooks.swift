import CHephLua
import CLua
import Foundation
import HephDocker

/// What `heph.on` can wait for.
enum HookEvent: String, CaseIterable {
    case created, running, stopped, error, healthy, unhealthy, change, exit, removed
}

/// Which containers a hook is for.
enum HookTarget {
    case all
    /// One container, by the name the script gave (`web`, `heph-web`, or the engine's
    /// `heph_P_web`), matched at the time of each event.
    case name(String)
    /// A Lua pattern matched against the full name.
    case pattern(String)
}

/// A hook a script registered with `heph.on`.
struct LuaHook {
    var event: HookEvent
    var target: HookTarget
    /// Registry reference to the script's function.
    var function: Int32
}

extension LuaRuntime {
    /// `heph.on(event, [target,] fn)`: calls `fn(ev)` on every matching transition, each
    /// call in a coroutine of its own. Returns a handle with `:off()`.
    func registerHook(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        let name = try stack.checkString(1)
        guard let event = HookEvent(rawValue: name) else {
            throw .argument(1, "unknown event \(quoted(name)); use \(HookEvent.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var target = HookTarget.all
        var functionIndex: Int32 = 2
        switch stack.type(at: 2) {
        case LUA_TFUNCTION:
            break
        case LUA_TSTRING, LUA_TNUMBER:
            target = .name(try stack.checkContainer(2))
            functionIndex = 3
        case LUA_TTABLE:
            target = .pattern(try patternTarget(stack, at: 2))
            functionIndex = 3
        default:
            throw .argument(2, "a container name, { pattern = \"…\" } or a function expected, got \(stack.typeName(at: 2))")
        }
        try stack.checkFunction(functionIndex)
        try startWatcher()
        lua_pushvalue(stack.state, functionIndex)
        let function = stack.makeReference()
        let id = hooks.add { _ in LuaHook(event: event, target: target, function: function) }.id
        try pushHandle(stack, kind: .hook, id: id)
        return 1
    }

    /// `hook:off()`: the hook is called no more; twice is fine.
    func removeHook(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        let id = try handleID(stack, kind: .hook, at: 1)
        if let hook = hooks.remove(id) { stack.releaseReference(hook.function) }
        if hooks.isEmpty { stopWatcher() }
        checkRunFinished()
        return 0
    }

    /// `{ pattern = "…" }` at `index`, with the pattern checked by a trial match.
    private func patternTarget(_ stack: LuaStack, at index: Int32) throws(BridgeError) -> String {
        let reader = LuaTableReader(stack: stack, table: stack.absolute(index), path: "target")
        do throws(FieldError) {
            try reader.rejectUnknownFields(known: ["pattern"])
            guard let pattern = try reader.string("pattern") else {
                throw FieldError(message: #"target.pattern: missing; write { pattern = "^heph%-web" }"#)
            }
            if case .failure(let problem) = patternMatches("", pattern, on: stack) {
                throw FieldError(message: "target.pattern: \(quoted(pattern)) is not a Lua pattern: \(problem.message)")
            }
            return pattern
        } catch {
            throw .argument(index, error.message)
        }
    }

    /// Whether `pattern` matches `name`, by `string.find` under `lua_pcall` with the hook
    /// time limit (a pattern can take long; inside `string.find` only the watch thread can
    /// end it); the failure is the message of a malformed pattern.
    private func patternMatches(_ name: String, _ pattern: String, on stack: LuaStack) -> Result<Bool, FieldError> {
        guard lua_checkstack(stack.state, 3) != 0 else { return .failure(FieldError(message: "no room on the Lua stack")) }
        stack.pushReference(module.matches)
        stack.push(name)
        stack.push(pattern)
        let limit = hookTimeout()
        heph_guard_push(info.pointee.guard, limit, "matching the hook pattern \(quoted(pattern))")
        defer { heph_guard_pop(info.pointee.guard) }
        guard heph_pcall_limited(stack.state, 2, 1, limit) == LUA_OK else {
            // string.find's complaint, without the position of the prelude's call to it.
            var message = Substring(stack.lossyString(at: -1) ?? "?")
            if message.hasPrefix("[heph]:"), let end = message.range(of: ": ") { message = message[end.upperBound...] }
            stack.pop()
            return .failure(FieldError(message: String(message)))
        }
        let matched = lua_toboolean(stack.state, -1) != 0
        stack.pop()
        return .success(matched)
    }

    /// Starts watching the engine, once, for the first hook. Engine calls started after
    /// this wait until the watcher follows the stream, so a hook sees the transitions of
    /// containers the script creates after registering it.
    private func startWatcher() throws(BridgeError) {
        guard watcher == nil else { return }
        try applyEngineSettings()
        usedEngine = true
        let thread = self.thread
        do {
            let orchestrator = try configuration.backend.orchestrator()
            guard let feed = configuration.transitionFeed else {
                guard let watcher = try orchestrator.makeWatcher(
                    pollInterval: defaultHealthCheckInterval,
                    onTransition: { transition in thread.post { [weak self] in self?.deliver(transition, claimed: nil, claiming: true) } },
                    onNotice: { notice in thread.post { [weak self] in self?.tell(notice) } }
                ) else { return }
                startWatching(watcher, orchestrator)
                self.watcher = watcher
                return
            }
            // The process's watcher: made by the first state that wants it, kept across reloads.
            guard let watcher = try feed.watcher(make: {
                guard let made = try orchestrator.makeWatcher(
                    pollInterval: defaultHealthCheckInterval,
                    onTransition: { transition in feed.publish(transition) },
                    onNotice: { notice in feed.publish(.notice(notice)) }
                ) else { return nil }
                startWatching(made, orchestrator)
                return made
            }) else { return }
            feed.subscribe(owner: serial) { item in
                thread.post { [weak self] in
                    switch item {
                    case .transition(let transition, let caller): self?.deliver(transition, claimed: caller)
                    case .notice(let notice): self?.tell(notice)
                    case .stopped: break
                    }
                }
            }
            self.watcher = watcher
        } catch {
            throw .raise("heph.on: cannot watch the engine: \(Self.describe(error))")
        }
    }

    func stopWatcher() {
        if let feed = configuration.transitionFeed {
            feed.unsubscribe(owner: serial)
        } else {
            watcher?.stop()
        }
        watcher = nil
        lastWatchFailure = nil
    }

    /// Calls every hook that matches `transition`, in the order they were registered.
    /// `claimed`: the call that caused it, as the feed claimed it; `claiming`: claim it
    /// from the expectations now (a runtime watching on its own).
    private func deliver(_ transition: ContainerTransition, claimed: String?, claiming: Bool = false) {
        guard lifecycle.current != nil, lifecycle.shutdown == nil, !hooks.isEmpty else { return }
        let events: [HookEvent]
        let status: String
        var fields: [String: LuaValue] = [:]
        switch transition.kind {
        case .status(let new):
            events = [HookEvent(status: new), .change]
            status = new.rawValue
        case .exited(let code, let oomKilled):
            events = [.exit]
            status = ContainerStatus.stopped.rawValue
            fields["exit_code"] = .integer(code)
            fields["oom_killed"] = .boolean(oomKilled)
        case .removed:
            events = [.removed, .change]
            status = "removed"
        }
        fields["name"] = .string(transition.name)
        fields["docker_name"] = .string(transition.dockerName)
        fields["id"] = .string(transition.id)
        fields["status"] = .string(status)
        fields["previous"] = transition.previous.map { .string($0.rawValue) } ?? .nil
        fields["at"] = .number(transition.at)
        if let task = transition.task {
            fields["task"] = .string("\(transition.name).\(task.slot)")
            fields["slot"] = .integer(task.slot)
            fields["node"] = .string(task.node)
            fields["node_id"] = .string(task.nodeID)
        }
        let now = configuration.clock.now
        let caller = claiming ? configuration.expectations.withBook { $0.claim(transition, now: now) } : claimed
        fields["expected"] = .boolean(caller != nil)
        fields["by"] = caller.map { .string($0) } ?? .nil
        fields["cause"] = .string(caller == nil ? transition.cause.rawValue : TransitionCause.heph.rawValue)
        fields["state"] = .string(transition.state.rawValue)
        let description = "\(transition.task.map { "\(transition.name).\($0.slot)" } ?? transition.name) (\(transition.previous?.rawValue ?? "new") → \(status))"
        guard let state else { return }
        for id in hooks.ids {
            // A hook called earlier in this loop may have removed this one.
            guard let hook = hooks[id], events.contains(hook.event), targets(hook.target, transition, LuaStack(state)) else { continue }
            call(hook.function, kind: .hook(id, on: hook.event.rawValue, event: "\"\(hook.event.rawValue)\" for \(description)"), argument: .record(fields), metatable: module.eventMetatable)
        }
    }

    private func targets(_ target: HookTarget, _ transition: ContainerTransition, _ stack: LuaStack) -> Bool {
        switch target {
        case .all: true
        case .name(let reference): ContainerName.full(reference) == transition.name || reference == transition.dockerName
        case .pattern(let pattern): (try? patternMatches(transition.name, pattern, on: stack).get()) ?? false
        }
    }

    /// Reports the watcher's troubles once each, until it recovers.
    private func tell(_ notice: ContainerWatcher.Notice) {
        guard watcher != nil else { return }
        switch notice {
        case .streamLost(let error):
            report("lost the engine's event stream (\(error.explained)); reconnecting, and polling every \(Int(defaultHealthCheckInterval.components.seconds)) s meanwhile")
        case .streamConnected, .found:
            break
        case .streamRestored:
            lastWatchFailure = nil
            report("the engine's event stream is back")
        case .pollFailed(let error):
            guard lastWatchFailure != error.explained else { return }
            lastWatchFailure = error.explained
            report("cannot poll the engine: \(error.explained)")
        }
    }

    // MARK: Expected transitions

    /// Records that the call behind `ticket` will stop or remove `reference` (nil: every
    /// container), so the transitions it causes are delivered as expected.
    func expect(_ reference: String?, ticket: Int, caller: String) {
        let (key, now) = (ExpectationKey(owner: serial, ticket: ticket), configuration.clock.now)
        configuration.expectations.withBook { $0.expect(reference, ticket: key, caller: caller, now: now) }
    }

    /// How many expectations this runtime's calls keep now (a diagnostic the tests assert on).
    public func expectationCount() async -> Int {
        configuration.expectations.withBook { $0.count(owner: serial) }
    }
}

extension HookEvent {
    /// The hook event of a status.
    init(status: ContainerStatus) {
        switch status {
        case .created: self = .created
        case .running: self = .running
        case .stopped: self = .stopped
        case .error: self = .error
        case .healthy: self = .healthy
        case .unhealthy: self = .unhealthy
        }
    }
}

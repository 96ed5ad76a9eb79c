import CHephLua
import CLua
import Foundation

/// A shutdown in progress: a `heph.up` the main chunk waits in stops, then its
/// `on_shutdown` handlers run, then the plugins' stops, then the run ends with `outcome`.
struct ShutdownState {
    var outcome: LuaRunOutcome
    /// The tickets of the main chunk's `heph.up` still stopping: the handlers wait for them.
    var bringUps: Set<Int> = []
    /// The handlers not begun yet (while a `heph.up` stops).
    var pendingHandlers: [Int32] = []
    /// Handlers (or the stop) not yet finished.
    var running: Int
    /// The plugins' stops not yet begun, in the order they run.
    var stops: [(plugin: String, function: Int32)]
    /// The stop under way, by its number, and how many have begun.
    var currentStop: Int?
    var stopsBegun = 0
}

extension LuaRuntime {
    /// How long one plugin's `stop` may take before the next one begins anyway.
    static let pluginStopLimit: Duration = .seconds(10)
    /// How long the handlers wait for a cancelled `heph.up` of the main chunk to stop.
    static let bringUpStopLimit: Duration = .seconds(10)

    /// Asks the run to shut down with `exitCode` (a signal: 130 for SIGINT, 143 for
    /// SIGTERM): runaway Lua is interrupted, the `on_shutdown` handlers run, the run ends
    /// as `.exited(exitCode)`. Safe from any thread; the first request wins.
    public func requestShutdown(exitCode: Int32) {
        guard ask(.exited(exitCode)) else { return }
        heph_request_interrupt(info)
        thread.post { [weak self] in self?.beginShutdown(.exited(exitCode)) }
    }

    /// Records how the run is to end; false when that was asked already (the first ask wins).
    private func ask(_ outcome: LuaRunOutcome) -> Bool {
        pendingShutdown.withLock { pending in
            guard pending == nil else { return false }
            pending = outcome
            return true
        }
    }

    /// Whether a shutdown was asked for or is under way.
    var shutdownRequested: Bool {
        lifecycle.shutdown != nil || pendingShutdown.withLock { $0 } != nil
    }

    /// `heph.on_shutdown(fn)`: `fn()` runs when the run ends (heph.exit, a signal, an
    /// error in the main chunk, or its natural end), before the process does.
    func registerShutdownHandler(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        try stack.checkFunction(1)
        lua_pushvalue(stack.state, 1)
        let reference = stack.makeReference()
        lifecycle.shutdownHandlers.append(reference)
        // Registered by a plugin that is loading: gone too if that one fails.
        pluginScopes.record(.shutdownHandler(reference), on: stack.state)
        return 0
    }

    /// The start of `heph.exit([code])`: checks the code and asks for the shutdown (the
    /// prelude's wrapper then ends the calling code).
    func requestExit(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        let code: Int32
        switch stack.type(at: 1) {
        case LUA_TNONE, LUA_TNIL:
            code = 0
        case LUA_TBOOLEAN:
            code = lua_toboolean(stack.state, 1) != 0 ? 0 : 1
        default:
            guard let number = stack.integer(at: 1), (0...255).contains(number) else {
                throw .argument(1, "exit code must be a whole number from 0 to 255 or a boolean, got \(stack.numberText(at: 1) ?? stack.typeName(at: 1))")
            }
            code = Int32(number)
        }
        // Begin it from the loop, not now: Lua is running (this is a script's call).
        if ask(.exited(code)) { thread.post { [weak self] in self?.beginShutdown(.exited(code)) } }
        return 0
    }

    /// Stops what produces new work, runs the `on_shutdown` handlers and then the `stop` of
    /// every plugin set up (each in a coroutine of its own; they may wait), and ends the run
    /// once they are done: as asked (heph.exit, a
    /// signal) if it was, else with `outcome`. A reload's old state runs only the stops
    /// (`runningHandlers` false): the process goes on.
    func beginShutdown(_ outcome: LuaRunOutcome, runningHandlers: Bool = true) {
        guard let run = lifecycle.current else { return }
        guard lifecycle.shutdown == nil else {
            // Asked while a natural end's shutdown is under way (a signal, heph.exit in a
            // handler): the run ends as asked.
            if let asked = pendingShutdown.withLock({ $0 }) { lifecycle.shutdown?.outcome = asked }
            return
        }
        // A lost lead runs no handler: another process may lead by now.
        if let reason = leadLost {
            completeRun(.lostLead(reason))
            return
        }
        // A reload's new state that ends before it took over (an error in its main chunk,
        // heph.exit there, nothing to keep it going) ran nothing: it is refused, and no
        // handler or plugin's stop of it runs beside the state that goes on.
        if dormant != nil {
            completeRun(pendingShutdown.withLock { $0 } ?? outcome)
            return
        }
        let outcome = pendingShutdown.withLock { $0 } ?? outcome
        // An interrupt asked for along with this shutdown was for what ran before it; the
        // handlers have their own time limits.
        info.pointee.interrupt = 0
        heph_guard_calm(info.pointee.guard)
        stopWatcher()
        stopAllPollers()
        stopAllTimers()
        let bringUps = abandonMainBringUp()
        let handlers = runningHandlers ? lifecycle.shutdownHandlers : []
        // The plugins' stops once the script's handlers are done, one after another, the
        // last set up first.
        let stops = Array(lifecycle.pluginStops.reversed())
        lifecycle.shutdown = ShutdownState(outcome: outcome, bringUps: bringUps, pendingHandlers: handlers, running: 0, stops: stops)
        if bringUps.isEmpty {
            beginShutdownHandlers()
        } else {
            // A bring-up that does not stop within its limit is not waited for any longer.
            let number = run.number
            let thread = self.thread
            let clock = configuration.clock
            clock.task {
                try? await clock.sleep(for: Self.bringUpStopLimit)
                thread.post { [weak self] in
                    guard let self, self.lifecycle.current?.number == number, self.lifecycle.shutdown?.bringUps.isEmpty == false else { return }
                    self.lifecycle.shutdown?.bringUps = []
                    self.beginShutdownHandlers()
                }
            }
        }
        if !handlers.isEmpty || !stops.isEmpty || !bringUps.isEmpty {
            let number = run.number
            let thread = self.thread
            let clock = configuration.clock
            let grace = configuration.shutdownGrace
            clock.task {
                try? await clock.sleep(for: grace)
                thread.post { [weak self] in
                    guard let self, let run = self.lifecycle.current, run.number == number, let shutdown = self.lifecycle.shutdown else { return }
                    self.report("on_shutdown handlers or plugins' stop functions still running after \(grace); ending anyway")
                    self.completeRun(shutdown.outcome)
                }
            }
        }
        checkRunFinished()
    }

    /// Begins the next plugin's stop once nothing of the shutdown runs; its finish begins
    /// the one after.
    func runNextPluginStop() {
        guard var shutdown = lifecycle.shutdown, shutdown.bringUps.isEmpty, shutdown.pendingHandlers.isEmpty,
              shutdown.running <= 0, !shutdown.stops.isEmpty else { return }
        let stop = shutdown.stops.removeFirst()
        shutdown.stopsBegun += 1
        let number = shutdown.stopsBegun
        shutdown.running = 1
        shutdown.currentStop = number
        lifecycle.shutdown = shutdown
        // One that waits for ever does not keep the others from running.
        let thread = self.thread
        let clock = configuration.clock
        clock.task {
            try? await clock.sleep(for: Self.pluginStopLimit)
            thread.post { [weak self] in
                guard let self, self.lifecycle.shutdown?.currentStop == number else { return }
                self.report("the stop function of plugin \(stop.plugin) did not finish within \(Self.pluginStopLimit); going on without it")
                self.pluginStopEnded(number)
            }
        }
        call(stop.function, kind: .pluginStop(stop.plugin, number))
    }

    /// The stop numbered `number` is over (returned, failed, or past its limit): the next
    /// one begins. Its coroutine finishing later changes nothing.
    func pluginStopEnded(_ number: Int) {
        guard lifecycle.shutdown?.currentStop == number else { return }
        lifecycle.shutdown?.currentStop = nil
        lifecycle.shutdown?.running = 0
        runNextPluginStop()
        checkRunFinished()
    }

    /// A plugin set up while the shutdown runs (in a handler or a stop): its stop runs next.
    func queuePluginStopDuringShutdown(_ stop: (plugin: String, function: Int32)) {
        guard lifecycle.shutdown != nil else { return }
        lifecycle.shutdown?.stops.insert(stop, at: 0)
        runNextPluginStop()
    }

    /// The main chunk runs no further once the run shuts down: a `heph.up` it waits in
    /// stops now, and the handlers begin once it has (one may tear down what it made); it
    /// says what it left. Its coroutine stays suspended and is closed with the run. Returns
    /// the tickets cancelled.
    private func abandonMainBringUp() -> Set<Int> {
        var cancelled: Set<Int> = []
        for (id, coroutine) in suspended where coroutine.kind == .main {
            guard let ticket = tickets[id], ticket.call == "heph.up" else { continue }
            abandonedTickets.insert(id)
            cancelled.insert(id)
            ticket.cancel()
        }
        return cancelled
    }

    /// An abandoned call has ended: the handlers begin once no `heph.up` is stopping.
    func abandonedCallEnded(_ id: Int) {
        guard lifecycle.shutdown?.bringUps.remove(id) != nil, lifecycle.shutdown?.bringUps.isEmpty == true else { return }
        beginShutdownHandlers()
    }

    /// Runs the `on_shutdown` handlers (each in a coroutine of its own), or, with none, the
    /// plugins' stops.
    private func beginShutdownHandlers() {
        guard var shutdown = lifecycle.shutdown, shutdown.bringUps.isEmpty else { return }
        let handlers = shutdown.pendingHandlers
        shutdown.pendingHandlers = []
        shutdown.running = handlers.count
        lifecycle.shutdown = shutdown
        for handler in handlers { call(handler, kind: .shutdown) }
        if handlers.isEmpty { runNextPluginStop() }
        checkRunFinished()
    }
}

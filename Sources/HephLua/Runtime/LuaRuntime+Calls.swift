import CHephLua
import CLua
import Foundation
import HephDocker

extension LuaRuntime {
    /// Runs one Swift function for the trampoline; returns how many results it pushed.
    @inline(__always)
    func call(id: Int32, _ stack: LuaStack) throws(BridgeError) -> Int32 {
        let index = Int(id) - 1
        guard index >= 0, index < functions.count else { throw Self.noFunction(id) }
        switch functions[index] {
        case .waiting(let waiting): return try startOperation(waiting, stack)
        case .immediate(let body): return try body(self, stack)
        }
    }

    @inline(never)
    private static func noFunction(_ id: Int32) -> BridgeError {
        .raise("heph internal error: no function \(id)")
    }

    /// Checks the arguments of a waiting call, starts its operation on a task, and pushes
    /// the ticket the prelude's wrapper waits for.
    private func startOperation(_ waiting: HephFunction.Waiting, _ stack: LuaStack) throws(BridgeError) -> Int32 {
        let name = waiting.qualifiedName
        if !waiting.allowedInSandbox, configuration.sandbox != nil {
            throw .raise("\(name): not available in a sandbox (heph run --sandbox)")
        }
        if waiting.usesEngine {
            if leadLapsed() {
                throw .raise("\(name): this process no longer leads project \(configuration.backend.project.name) (its lease lapsed): it does nothing more and stands by")
            }
            try applyEngineSettings()
            // heph.lead() itself is the one engine call allowed before it.
            if waiting.luaName != "lead" { usedEngine = true }
        }
        let operation = try waiting.start(stack)
        let ticket = tickets.add { Ticket(id: $0, call: name) }.value
        let caller = waiting.luaName
        switch waiting.expects {
        // The container as the call checked it (a number names a container too: nil here
        // would mean every container).
        case .argumentContainer: expect(try stack.checkContainer(1), ticket: ticket.id, caller: caller)
        case .everything: expect(nil, ticket: ticket.id, caller: caller)
        case .nothing: break
        }
        let thread = self.thread
        let watcher = self.watcher
        let context = OperationContext(
            backend: configuration.backend,
            // Straight into the shared book, not through this state's thread: a reload may
            // close this state while the call runs, and its transitions stay expected.
            expect: { [expectations = configuration.expectations, clock = configuration.clock, key = ExpectationKey(owner: serial, ticket: ticket.id)] container in
                expectations.withBook { $0.expect(container, ticket: key, caller: caller, now: clock.now) }
            },
            withdraw: { [expectations = configuration.expectations, key = ExpectationKey(owner: serial, ticket: ticket.id)] in
                expectations.withBook { $0.withdraw(ticket: key) }
            },
            progress: configuration.progress,
            diagnostics: configuration.diagnostics,
            remember: { topology in thread.post { [weak self] in self?.remember(topology) } },
            sandbox: configuration.sandbox,
            lead: { [weak self] in try await self?.lead() }
        )
        // In virtual time the call holds the clock until its result is posted, except while
        // it sleeps on the clock: the clock never moves past a call at work.
        let work = configuration.clock.task {
            // A hook registered just before must see what this call does.
            await watcher?.waitUntilWatching()
            let outcome: Ticket.Outcome
            do {
                outcome = .success(try await operation(context))
            } catch {
                outcome = .failure(TicketFailure(message: "\(name): \(Self.describe(error))"))
            }
            ticket.complete(outcome)
            thread.post { [weak self] in self?.ticketCompleted(ticket.id) }
        }
        ticket.attach(work)
        stack.push(ticket.id)
        return 1
    }

    /// `wait(ticket)`: blocks the Lua thread until the ticket's call is done, then pushes
    /// `true, results…` or `false, message`. For where Lua cannot yield: the call still
    /// works, holding back the loop until it is done, and as waiting it does not count
    /// towards the time limit (the deadline moves on by the time waited). An interrupt
    /// (Ctrl-C, SIGINT, SIGTERM) ends it: the call is cancelled and the calling code
    /// stopped as the watchdog stops it.
    func waitInPlace(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        guard let id = stack.integer(at: 1), let ticket = tickets.remove(id) else {
            throw .raise("heph internal error: no waiting call with ticket \(stack.numberText(at: 1) ?? "?")")
        }
        let info = self.info
        // Stopped already (a finalizer, which hooks cannot stop, looping over failed waits),
        // or closing: no wait at all.
        if let message = heph_stop_message(info).map({ String(cString: $0) }) ?? (lifecycle.closing ? "the Lua runtime is closing" : nil) {
            ticket.cancel()
            stack.push(false)
            stack.push(message)
            return 2
        }
        // Real time, not the run's clock: the watchdog's deadline, which this moves on, is real.
        let started = ContinuousClock.now
        if let virtual = configuration.clock as? VirtualClock { ticket.waitingInPlace(on: virtual) }
        defer { ticket.doneWaitingInPlace() }
        let outcome = thread.whileBlocked {
            ticket.waitForOutcome {
                guard info.pointee.interrupt != 0 else { return false }
                info.pointee.interrupt = 0
                return true
            }
        }
        let waited = (ContinuousClock.now - started) / .seconds(1)
        if info.pointee.deadline > 0 { info.pointee.deadline += waited }
        waitedInPlace += waited
        guard let outcome else {
            heph_stop_now(stack.state, "interrupted")
            // The wrapper's next instruction suspends or raises; this is what a pcall
            // around it would see if it could.
            stack.push(false)
            stack.push("interrupted")
            return 2
        }
        return push(outcome, onto: stack)
    }

    /// An error in words: a ``DockerError``'s message, never a type dump.
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let error as DockerError: error.explained
        case is CancellationError: "cancelled"
        default: "\(error)"
        }
    }
}


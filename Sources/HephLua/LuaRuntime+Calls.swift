import CHephLua
import CLua
import Foundation
import HephDocker

extension LuaRuntime {
    /// Runs one Swift function for the trampoline; returns how many results it pushed.
    func call(_ function: HephFunction, _ stack: LuaStack) throws(BridgeError) -> Int32 {
        switch function.kind {
        case .waiting:
            return try startOperation(function, stack)
        case .direct, .primitive:
            switch function {
            case .now:
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                stack.push(Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
                return 1
            case .write:
                // Bytes as they are: a Lua string need not be UTF-8 (logs of a binary, "caf\xe9").
                guard let bytes = stack.bytes(at: 1) else { throw .argument(1, "string expected, got \(stack.typeName(at: 1))") }
                configuration.output(Array(bytes))
                return 0
            case .wait:
                return try waitInPlace(stack)
            case .startHealthPolling:
                return try startPolling(stack)
            case .pollerStop:
                return try stopPolling(stack)
            case .on:
                return try registerHook(stack)
            case .hookOff:
                return try removeHook(stack)
            case .every, .after:
                return try startTimer(stack, repeats: function == .every)
            case .timerStop:
                return try stopTimer(stack)
            case .onShutdown:
                return try registerShutdownHandler(stack)
            case .requestExit:
                return try requestExit(stack)
            case .dependents:
                return try pushDependents(stack)
            case .findPlugin:
                return try findPlugin(stack)
            default:
                throw .raise("heph internal error: \(function.qualifiedName) has no implementation")
            }
        }
    }

    /// Checks the arguments of a waiting call, starts its operation on a task, and pushes
    /// the ticket the prelude's wrapper waits for.
    private func startOperation(_ function: HephFunction, _ stack: LuaStack) throws(BridgeError) -> Int32 {
        if function == .shell, configuration.sandbox != nil {
            throw .raise("heph.shell: not available in a sandbox (heph run --sandbox)")
        }
        if function != .sleep && function != .shell { try applyBackendChoice() }
        let operation = try function.operation(stack)
        let ticket = Ticket(id: nextTicketID)
        nextTicketID += 1
        tickets[ticket.id] = ticket
        switch function {
        // The container as the call checked it (a number names a container too: nil here
        // would mean every container).
        case .stopContainer, .removeContainer, .restartContainer: expect(try stack.checkContainer(1), ticket: ticket.id, caller: function)
        case .teardownAll, .down: expect(nil, ticket: ticket.id, caller: function)
        default: break
        }
        let name = function.qualifiedName
        let thread = self.thread
        let watcher = self.watcher
        let context = OperationContext(
            engine: configuration.engine,
            expect: { container in thread.post { [weak self] in self?.expect(container, ticket: ticket.id, caller: function) } },
            withdraw: { thread.post { [weak self] in self?.expectations[ticket.id] = nil } },
            progress: configuration.progress,
            remember: { topology in thread.post { [weak self] in self?.remember(topology) } },
            mounts: configuration.sandbox
        )
        let work = Task {
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
    private func waitInPlace(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        guard let id = stack.integer(at: 1), let ticket = tickets.removeValue(forKey: id) else {
            throw .raise("heph internal error: no waiting call with ticket \(stack.numberText(at: 1) ?? "?")")
        }
        let info = self.info
        // Stopped already (a finalizer, which hooks cannot stop, looping over failed waits),
        // or closing: no wait at all.
        if let message = heph_stop_message(info).map({ String(cString: $0) }) ?? (closing ? "the Lua runtime is closing" : nil) {
            ticket.cancel()
            stack.push(false)
            stack.push(message)
            return 2
        }
        let started = ContinuousClock.now
        let outcome = ticket.waitForOutcome {
            guard info.pointee.interrupt != 0 else { return false }
            info.pointee.interrupt = 0
            return true
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
        case let error as DockerError: error.message
        case is CancellationError: "cancelled"
        default: "\(error)"
        }
    }
}


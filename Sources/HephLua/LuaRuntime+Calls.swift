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
                configuration.output(try stack.checkString(1))
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
        case .stopContainer, .removeContainer, .restartContainer: expect(stack.string(at: 1), ticket: ticket.id, caller: function)
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
        Task {
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
        stack.push(ticket.id)
        return 1
    }

    /// `wait(ticket)`: blocks the Lua thread until the ticket's call is done, then pushes
    /// `true, results…` or `false, message`. For where Lua cannot yield.
    private func waitInPlace(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        guard let id = stack.integer(at: 1), let ticket = tickets.removeValue(forKey: id) else {
            throw .raise("heph internal error: no waiting call with ticket \(stack.numberText(at: 1) ?? "?")")
        }
        return push(ticket.waitForOutcome(), onto: stack)
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


import Foundation
import HephDocker
import Synchronization

/// A waiting call in progress: started on a task, finished by its results or its error
/// message, collected on the Lua thread either by the coroutine that yielded it or by a
/// wait in place. Cancelling it cancels the task, so work nobody waits for stops.
final class Ticket: Sendable {
    /// What the call came to: its results, or the message to raise (`heph.fn: …`).
    typealias Outcome = Result<[LuaValue], TicketFailure>

    let id: Int
    /// The call's name (`heph.wait_healthy`), for what a stalled test waits in.
    let call: String
    private let outcome = Mutex<Outcome?>(nil)
    /// A virtual clock the Lua thread waits on in place for this call (it then holds
    /// nothing), and whether the completion handed it a hold to cover the moment until the
    /// thread runs again.
    private let inPlace = Mutex<(clock: VirtualClock?, handedOver: Bool)>((nil, false))
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    init(id: Int, call: String) {
        self.id = id
        self.call = call
    }

    /// The task doing the call's work, so that ``cancel()`` can reach it.
    func attach(_ work: Task<Void, Never>) {
        task.withLock { $0 = work }
    }

    /// Stops the call's work (an engine call's request, a sleep); its outcome, if it
    /// still comes, is dropped by whoever no longer waits for it.
    func cancel() {
        task.withLock { $0 }?.cancel()
    }

    /// Records the outcome (once) and wakes a wait in place (handing it a hold on a
    /// virtual clock, so time cannot move before the Lua thread runs on).
    func complete(_ result: Outcome) {
        outcome.withLock { $0 = result }
        inPlace.withLock { inPlace in
            guard let clock = inPlace.clock, !inPlace.handedOver else { return }
            clock.hold()
            inPlace.handedOver = true
        }
        finished.signal()
    }

    /// The Lua thread is about to wait for this call in place, holding `clock` no more.
    func waitingInPlace(on clock: VirtualClock) {
        inPlace.withLock { $0.clock = clock }
    }

    /// The wait in place is over (done or given up): the hold the completion handed over,
    /// if it did, is let go now that the thread holds the clock again.
    func doneWaitingInPlace() {
        let handedOver = inPlace.withLock { inPlace in
            defer { inPlace = (nil, false) }
            return inPlace.handedOver ? inPlace.clock : nil
        }
        handedOver?.release()
    }

    /// Blocks the calling thread until the outcome is there.
    func waitForOutcome() -> Outcome {
        finished.wait()
        finished.signal()  // a second look must not block
        return recorded
    }

    /// Blocks the calling thread until the outcome is there, or until `giveUp` says so
    /// (asked every few milliseconds): then nil, and the call is cancelled.
    func waitForOutcome(unless giveUp: () -> Bool) -> Outcome? {
        // Real time, not the run's clock: how often an interrupt is looked for.
        while finished.wait(timeout: .now() + .milliseconds(5)) == .timedOut {
            if giveUp() {
                cancel()
                return nil
            }
        }
        finished.signal()
        return recorded
    }

    private var recorded: Outcome {
        outcome.withLock { $0 } ?? .failure(TicketFailure(message: "heph internal error: ticket \(id) finished without an outcome"))
    }
}

/// The message a failed waiting call raises.
struct TicketFailure: Error, Sendable {
    var message: String
}

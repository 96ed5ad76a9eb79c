import Foundation
import Synchronization

/// A waiting call in progress: started on a task, finished by its results or its error
/// message, collected on the Lua thread either by the coroutine that yielded it or by a
/// wait in place.
final class Ticket: Sendable {
    /// What the call came to: its results, or the message to raise (`heph.fn: …`).
    typealias Outcome = Result<[LuaValue], TicketFailure>

    let id: Int
    private let outcome = Mutex<Outcome?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    init(id: Int) {
        self.id = id
    }

    /// Records the outcome (once) and wakes a wait in place.
    func complete(_ result: Outcome) {
        outcome.withLock { $0 = result }
        finished.signal()
    }

    /// Blocks the calling thread until the outcome is there.
    func waitForOutcome() -> Outcome {
        finished.wait()
        finished.signal()  // a second look (there is none today) must not block
        return outcome.withLock { $0 } ?? .failure(TicketFailure(message: "heph internal error: ticket \(id) finished without an outcome"))
    }
}

/// The message a failed waiting call raises.
struct TicketFailure: Error, Sendable {
    var message: String
}

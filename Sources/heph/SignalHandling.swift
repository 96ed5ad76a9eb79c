import Dispatch
import Foundation
import Synchronization

/// Signals handled by closures, on one queue, instead of by their default actions, until
/// ``stop()``.
final class SignalHandling: @unchecked Sendable {
    // @unchecked: `sources` is set in init and only cancelled in stop().
    private let sources: [DispatchSourceSignal]
    private let numbers: [Int32]

    /// Exit codes by convention: 128 + the signal's number.
    static let exitCodes: [Int32: Int32] = [SIGINT: 130, SIGTERM: 143]

    /// Starts handling each signal with its closure.
    init(_ handlers: [(Int32, @Sendable () -> Void)]) {
        let queue = DispatchQueue(label: "heph.signals")
        numbers = handlers.map(\.0)
        sources = handlers.map { number, handler in
            signal(number, SIG_IGN)  // the dispatch source takes over from the default action
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    /// SIGINT and SIGTERM while a script runs: the first asks for a graceful shutdown (the
    /// script's on_shutdown handlers run), a second one ends the process at once. `shutdown`
    /// gets the exit code to end with.
    /// `say` writes heph's line about the second one (stderr, or `heph run`'s JSON log).
    static func shuttingDown(say: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) },
                             _ shutdown: @escaping @Sendable (Int32) -> Void) -> SignalHandling {
        let received = Mutex(0)
        return SignalHandling(exitCodes.sorted { $0.key < $1.key }.map { number, code in
            (number, {
                let count = received.withLock { count in
                    count += 1
                    return count
                }
                if count == 1 {
                    shutdown(code)
                } else {
                    say("heph: stopping now, without waiting for the shutdown handlers\n")
                    exit(code)
                }
            })
        })
    }

    /// Stops handling; the default actions apply again.
    func stop() {
        for source in sources { source.cancel() }
        for number in numbers { signal(number, SIG_DFL) }
    }
}

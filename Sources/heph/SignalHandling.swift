import Dispatch
import Foundation

/// SIGINT and SIGTERM while a script runs: the first asks for a graceful shutdown (the
/// script's on_shutdown handlers run), a second one ends the process at once.
final class SignalHandling: @unchecked Sendable {
    // @unchecked: `received` is only touched on `queue`.
    private let queue = DispatchQueue(label: "heph.signals")
    private var sources: [DispatchSourceSignal] = []
    private var received = 0

    /// Exit codes by convention: 128 + the signal's number.
    static let exitCodes: [Int32: Int32] = [SIGINT: 130, SIGTERM: 143]

    /// Starts handling; `shutdown` gets the exit code to end with.
    init(shutdown: @escaping @Sendable (Int32) -> Void) {
        for (number, code) in Self.exitCodes {
            signal(number, SIG_IGN)  // the dispatch source takes over from the default action
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [unowned self] in
                received += 1
                if received == 1 {
                    shutdown(code)
                } else {
                    FileHandle.standardError.write(Data("heph: stopping now, without waiting for the shutdown handlers\n".utf8))
                    exit(code)
                }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Stops handling; the default actions apply again.
    func stop() {
        for source in sources { source.cancel() }
        for number in Self.exitCodes.keys { signal(number, SIG_DFL) }
    }
}

import Foundation
import Synchronization

/// The client side of a control socket (`heph attach`): requests go out one
/// at a time, each answered in order; output frames in between go to the request's
/// `output`.
public final class ControlClient: Sendable {
    private let descriptor: Int32
    private let state = Mutex(State())

    private struct State {
        var waiting: [CheckedContinuation<ControlFrame?, Never>] = []
        var output: (@Sendable ([UInt8]) -> Void)?
        var ended = false
    }

    /// Connects to the socket at `path`; throws with the reason a person can act on.
    public static func connect(path: String) throws(ControlSocketError) -> ControlClient {
        guard var address = unixAddress(path) else { throw ControlSocketError("the control socket path \(path) is too long") }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ControlSocketError("cannot make a unix socket: \(String(cString: strerror(errno)))") }
        // Non-blocking: a frozen watcher's full backlog answers EAGAIN rather than a wait
        // without end; tried again for 10 s.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        let deadline = ContinuousClock.now + .seconds(10)
        var connected: Int32 = -1
        var code: Int32 = 0
        repeat {
            connected = withSocketAddress(&address) { Foundation.connect(descriptor, $0, $1) }
            code = errno
            if connected != 0, code == EAGAIN { Thread.sleep(forTimeInterval: 0.05) }
        } while connected != 0 && code == EAGAIN && ContinuousClock.now < deadline
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        guard connected == 0 else {
            Foundation.close(descriptor)
            if code == EAGAIN { throw ControlSocketError("the watcher accepts no connection (frozen, or too busy) for 10 s") }
            throw ControlSocketError(code == EACCES ? "permission denied" : code == ENOENT || code == ECONNREFUSED ? "no control socket at \(path)" : String(cString: strerror(code)),
                                     permissionDenied: code == EACCES)
        }
        // A watcher that is frozen (SIGSTOP) accepts nothing: give up on its greeting.
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let reader = ControlFrameReader(descriptor: descriptor)
        guard let first = reader.next() else {
            let timedOut = errno == EAGAIN || errno == EWOULDBLOCK
            Foundation.close(descriptor)
            throw ControlSocketError(timedOut ? "the watcher did not answer for 10 s (frozen, or too busy)" : "the watcher closed the connection at once")
        }
        guard first.kind == .hello else {
            Foundation.close(descriptor)
            // A watcher refuses a peer that is not its user (nor root) with a failure first.
            throw ControlSocketError(first.kind == .failed ? first.text : "the watcher answered something other than a greeting",
                                     permissionDenied: first.kind == .failed && first.text.hasPrefix(ControlServer.refusalPrefix))
        }
        var forever = timeval(tv_sec: 0, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &forever, socklen_t(MemoryLayout<timeval>.size))
        let client = ControlClient(descriptor: descriptor)
        let thread = Thread { client.readLoop(reader) }
        thread.name = "heph-attach-read"
        thread.start()
        return client
    }

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Sends `frame` and returns the reply (nil once the watcher is gone); `output` gets
    /// what is printed before it.
    public func request(_ frame: ControlFrame, output: (@Sendable ([UInt8]) -> Void)? = nil) async -> ControlFrame? {
        await withCheckedContinuation { continuation in
            // Sent under the lock: the reader closes the descriptor under it too, so a send
            // never reaches a descriptor that was closed (and perhaps reused).
            let sent = state.withLock { state in
                guard !state.ended else { return false }
                state.waiting.append(continuation)
                state.output = output
                if !sendAll(descriptor, frame.encoded) { shutdown(descriptor, Int32(SHUT_RDWR)) }
                return true
            }
            if !sent { continuation.resume(returning: nil) }
        }
    }

    /// Sends a frame that has no reply (an interrupt).
    public func send(_ frame: ControlFrame) {
        state.withLock { state in
            if !state.ended { _ = sendAll(descriptor, frame.encoded) }
        }
    }

    /// Closes the connection (the watcher goes on).
    public func close() {
        state.withLock { state in
            if !state.ended { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    private func readLoop(_ reader: ControlFrameReader) {
        while let frame = reader.next() {
            if frame.kind == .output {
                state.withLock { $0.output }?(frame.payload)
                continue
            }
            let waiter = state.withLock { state in state.waiting.isEmpty ? nil : state.waiting.removeFirst() }
            waiter?.resume(returning: frame)
        }
        let waiting = state.withLock { state in
            state.ended = true
            Foundation.close(descriptor)
            defer { state.waiting = [] }
            return state.waiting
        }
        for waiter in waiting { waiter.resume(returning: nil) }
    }

}

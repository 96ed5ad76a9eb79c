import Foundation
import Synchronization

/// One client of a ``ControlServer``: reads its requests on the calling thread, answers
/// through a queue of its own.
final class ControlConnection: Sendable {
    /// Output held for a client that does not read it, at most; past it output is dropped.
    static let outputBound = 4 * 1024 * 1024

    private let descriptor: Int32
    private let session: Int
    private let handler: any ControlHandler
    /// Takes the connection out of the server's table, just before its descriptor closes.
    private let leave: @Sendable () -> Void
    private let writes = DispatchQueue(label: "heph-control-write")
    private let state = Mutex(State())

    private struct State {
        var open = true
        var evaluating = false
        var queuedBytes = 0
        var droppedBytes = 0
    }

    init(descriptor: Int32, session: Int, handler: any ControlHandler, leave: @escaping @Sendable () -> Void) {
        self.descriptor = descriptor
        self.session = session
        self.handler = handler
        self.leave = leave
    }

    /// Serves the client until it goes (or the server closes), then closes the socket once
    /// its statement, interrupted, has ended.
    func serve() {
        reply(ControlFrame(.hello))
        let reader = ControlFrameReader(descriptor: descriptor)
        while let frame = reader.next() {
            handle(frame)
        }
        // Gone mid-statement: the statement stops; the watcher goes on as it was.
        if state.withLock({ $0.evaluating }) { handler.interrupt(session: session) }
        let deadline = ContinuousClock.now + .seconds(60)
        while state.withLock({ $0.evaluating }), ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        writes.sync {
            state.withLock { $0.open = false }
            leave()
            Foundation.close(descriptor)
        }
    }

    private func handle(_ frame: ControlFrame) {
        switch frame.kind {
        case .evaluate:
            let busy = state.withLock { state in
                defer { state.evaluating = true }
                return state.evaluating
            }
            guard !busy else { return reply(ControlFrame(.failed, text: "a statement of this session is still running")) }
            let source = frame.text
            Task {
                let result = await handler.evaluate(source, session: session) { [weak self] bytes in self?.output(bytes) }
                let dropped = state.withLock { state in
                    defer { state.droppedBytes = 0 }
                    return state.droppedBytes
                }
                if dropped > 0 { reply(ControlFrame(.output, text: "(\(dropped) bytes of output dropped: the session did not read them in time)\n")) }
                state.withLock { $0.evaluating = false }
                reply(result)
            }
        case .interrupt:
            // Only while a statement is under way: a Ctrl-C that crossed its answer must not
            // be kept for the next one.
            if state.withLock({ $0.evaluating }) { handler.interrupt(session: session) }
        // Asked between statements (the prompt, Tab): answered in order before the next
        // request is read, so replies pair with requests.
        case .global:
            let name = frame.text
            reply(waiting { await self.handler.global(name).map { ControlFrame(.text, text: $0) } ?? ControlFrame(.absent) })
        case .complete:
            let word = frame.text
            reply(waiting { ControlFrame(.completions, Array(await self.handler.completions(for: word).joined(separator: "\0").utf8)) })
        case .reload:
            reply(waiting { await self.handler.reload() })
        default:
            reply(ControlFrame(.failed, text: "not a request"))
        }
    }

    /// `body`'s answer, waited for on this connection's own thread (not the pool's).
    private func waiting(_ body: @escaping @Sendable () async -> ControlFrame) -> ControlFrame {
        let answer = Mutex<ControlFrame?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let frame = await body()
            answer.withLock { $0 = frame }
            done.signal()
        }
        done.wait()
        return answer.withLock { $0 } ?? ControlFrame(.absent)
    }

    /// What the statement printed: queued, never waited for (this runs on the Lua thread);
    /// dropped, and counted, past ``outputBound``.
    private func output(_ bytes: [UInt8]) {
        let kept = state.withLock { state in
            guard state.queuedBytes + bytes.count <= Self.outputBound else {
                state.droppedBytes += bytes.count
                return false
            }
            state.queuedBytes += bytes.count
            return true
        }
        guard kept else { return }
        write(ControlFrame(.output, bytes), counted: bytes.count)
    }

    /// A reply; one larger than a frame may carry (a huge result) is cut, and says so.
    private func reply(_ frame: ControlFrame) {
        var frame = frame
        if frame.payload.count > ControlFrame.maximumPayload {
            let note = Array("\n(cut: the answer was \(frame.payload.count) bytes, more than a session takes)".utf8)
            frame.payload = Array(frame.payload.prefix(ControlFrame.maximumPayload - note.count)) + note
        }
        write(frame, counted: 0)
    }

    private func write(_ frame: ControlFrame, counted: Int) {
        writes.async { [self] in
            let open = state.withLock { state in
                state.queuedBytes -= counted
                return state.open
            }
            if open, !sendAll(descriptor, frame.encoded) { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }
}

import Foundation
import Synchronization

/// A watcher's control socket: a unix socket that only its user (and root, checked again
/// on every connection with SO_PEERCRED) can connect to. Each connection is a session of
/// its own (`heph attach`). Never a TCP listener.
///
/// Nothing a client does can stall the watcher: replies are queued and written on a queue
/// of the connection's own (a client that stops reading loses output past a bound, and is
/// told), a client that goes away mid-statement interrupts that statement only, and a
/// write to a closed socket raises no SIGPIPE.
public final class ControlServer: Sendable {
    /// The socket's path.
    public let path: String
    private let listener: Int32
    private let handler: any ControlHandler
    private let state = Mutex(State())

    private struct State {
        var closed = false
        var nextSession = 1
        var connections: [Int: Int32] = [:]
    }

    /// Listens on `path` (its directory is made, or checked, first; a stale socket of a
    /// process that is gone is replaced).
    public init(path: String, handler: any ControlHandler) throws(ControlSocketError) {
        self.path = path
        self.handler = handler
        let directory = (path as NSString).deletingLastPathComponent
        try ControlSocketPath.prepareDirectory(directory)
        ControlSocketPath.removeStale(in: directory)
        // Bound and listening under a name of its own first, then renamed into place: a
        // stale-socket sweep of another watcher starting meanwhile never sees it refuse.
        let staging = path + ".new"
        guard var address = unixAddress(staging) else { throw ControlSocketError("the control socket path \(path) is too long") }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ControlSocketError("cannot make a unix socket: \(String(cString: strerror(errno)))") }
        unlink(staging)
        let bound = withSocketAddress(&address) { bind(descriptor, $0, $1) }
        guard bound == 0, chmod(staging, 0o600) == 0, listen(descriptor, 16) == 0, rename(staging, path) == 0 else {
            let reason = String(cString: strerror(errno))
            Foundation.close(descriptor)
            unlink(staging)
            throw ControlSocketError("cannot listen on \(path): \(reason)")
        }
        listener = descriptor
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "heph-control"
        thread.start()
    }

    /// How the refusal of a peer that is neither the watcher's user nor root begins.
    public static let refusalPrefix = "this watcher belongs to user"

    /// Sessions at once, at most: one more is told so and closed.
    public static let maximumSessions = 16

    /// Stops listening, removes the socket, and ends every session.
    public func close() {
        // Under the lock: a connection leaves the table before its descriptor is closed, so
        // no descriptor shut down here was reused for something else.
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            shutdown(listener, Int32(SHUT_RDWR))
            for descriptor in state.connections.values { shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
        unlink(path)
    }

    private func acceptLoop() {
        while true {
            let descriptor = accept(listener, nil, nil)
            if descriptor < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if state.withLock({ $0.closed }) { break }
                // Out of descriptors (or memory) for now: the socket stays, try again soon.
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            // Not inherited by what the script starts (heph.shell).
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            // The directory keeps others out; this keeps out whoever got in anyway.
            guard let peer = peerUser(of: descriptor), peer == geteuid() || peer == 0 else {
                _ = sendAll(descriptor, ControlFrame(.failed, text: "\(Self.refusalPrefix) \(geteuid()); only that user or root may attach").encoded)
                Foundation.close(descriptor)
                continue
            }
            let session = state.withLock { state -> Int? in
                guard !state.closed, state.connections.count < Self.maximumSessions else { return nil }
                defer { state.nextSession += 1 }
                state.connections[state.nextSession] = descriptor
                return state.nextSession
            }
            guard let session else {
                if !state.withLock({ $0.closed }) {
                    _ = sendAll(descriptor, ControlFrame(.failed, text: "\(Self.maximumSessions) sessions are attached already; leave one first").encoded)
                }
                Foundation.close(descriptor)
                continue
            }
            let thread = Thread { [self] in
                ControlConnection(descriptor: descriptor, session: session, handler: handler) { [self] in
                    state.withLock { _ = $0.connections.removeValue(forKey: session) }
                }.serve()
            }
            thread.name = "heph-control-\(session)"
            thread.start()
        }
        Foundation.close(listener)
    }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// HTTP/1.1 over a unix socket, on the calling thread, for a command that makes a few
/// calls and ends (`heph ps`, `heph status`, `heph version`).
///
/// AsyncHTTPClient's pools start NIO's event-loop threads, one per core, each with a
/// handshake: about a third of a `heph ps` (docs/benchmarks.md, "Installed"). The Docker CLI
/// does what this does: one keep-alive connection, a request, its answer.
///
/// Only whole answers (no streams, no upgrades): those still go through AsyncHTTPClient.
/// A call blocks its thread for as long as the engine takes (at most its timeout), so it
/// is meant for commands that make their calls one after another.
final class UnixSocketHTTP: Sendable {
    private let socketPath: String
    /// Connections whose last answer was whole and that the engine kept open.
    private let idle = Mutex<[Int32]>([])

    init(socketPath: String) {
        self.socketPath = socketPath
    }

    deinit {
        for descriptor in idle.withLock({ $0 }) { _ = Glibc.close(descriptor) }
    }

    /// Closes the connections kept open.
    func close() {
        for descriptor in idle.withLock({ held in defer { held = [] }; return held }) { _ = Glibc.close(descriptor) }
    }

    /// Sends the request and reads the whole answer (at most `maximumBodyBytes` of body)
    /// within `timeout`. Throws `IOError` for a socket that fails (the engine's socket
    /// missing, refused, reset) and `HTTPClientError.deadlineExceeded` when the answer is late.
    func execute(_ method: HTTPMethod, target: String, headers: [(String, String)], body: [UInt8]?, timeout: Duration,
                 maximumBodyBytes: Int) throws -> EngineResponse {
        let deadline = ContinuousClock.now + timeout
        var request = "\(method.rawValue) \(target) HTTP/1.1\r\nHost: docker\r\nUser-Agent: heph\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Length: \(body.count)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8) + (body ?? [])
        // A kept connection that has visibly ended (readable while idle: its end, or bytes
        // nobody asked for) is not used. One the engine closes as the request goes ends
        // before the first byte of an answer: a request that changes nothing is then sent
        // once more on a new connection.
        if let kept = idle.withLock({ $0.popLast() }) {
            var poller = pollfd(fd: kept, events: Int16(POLLIN), revents: 0)
            if poll(&poller, 1, 0) == 0 {
                do {
                    return try exchange(kept, bytes, method: method, deadline: deadline, maximumBodyBytes: maximumBodyBytes,
                                        kept: method == .GET || method == .HEAD)
                } catch is StaleConnection {}
            } else {
                _ = Glibc.close(kept)
            }
        }
        return try exchange(try connect(before: deadline), bytes, method: method, deadline: deadline, maximumBodyBytes: maximumBodyBytes, kept: false)
    }

    /// How long a connection may take to be accepted, as AsyncHTTPClient's connect timeout
    /// for the other calls.
    static let connectTimeout = Duration.seconds(5)

    /// A kept connection that ended before its answer began.
    private struct StaleConnection: Error {}

    /// A new connection, accepted before the connect timeout and `deadline`. Non-blocking
    /// (as every read and write after it): an engine whose backlog is full (it has stopped
    /// accepting) is a timeout, not a hang.
    private func connect(before deadline: ContinuousClock.Instant) throws -> Int32 {
        let deadline = min(deadline, ContinuousClock.now + Self.connectTimeout)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else {
            _ = Glibc.close(descriptor)
            throw IOError(errnoCode: ENAMETOOLONG, reason: "connect")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path)
            raw[path.count] = 0
        }
        while true {
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            let code = errno
            if connected == 0 { return descriptor }
            // A unix socket's full backlog says EAGAIN: try again shortly, until the deadline.
            guard code == EAGAIN || code == EINTR, ContinuousClock.now < deadline else {
                _ = Glibc.close(descriptor)
                throw IOError(errnoCode: code == EAGAIN ? ETIMEDOUT : code, reason: "connect")
            }
            if code == EAGAIN { usleep(10_000) }
        }
    }

    /// One request and its answer on `descriptor`, which is kept for the next request when
    /// the answer allows it, and closed otherwise.
    /// `kept`: the connection served an answer before, and the request may be sent again:
    /// its end before a byte of this answer is ``StaleConnection``.
    private func exchange(_ descriptor: Int32, _ request: [UInt8], method: HTTPMethod, deadline: ContinuousClock.Instant,
                          maximumBodyBytes: Int, kept: Bool) throws -> EngineResponse {
        var reader = AnswerReader(descriptor: descriptor, deadline: deadline)
        do {
            try reader.write(request)
            let (status, headers) = try reader.head()
            var body = [UInt8]()
            var keep = !headers[canonicalForm: "Connection"].contains { $0.lowercased() == "close" }
            if status.code == 101 { keep = false }
            let bodiless = method == .HEAD || status.code == 204 || status.code == 304 || status.code < 200
            if bodiless {
                // Nothing follows the head.
            } else if headers[canonicalForm: "Transfer-Encoding"].contains(where: { $0.lowercased() == "chunked" }) {
                body = try reader.chunked(limit: maximumBodyBytes)
            } else if let length = headers.first(name: "Content-Length").flatMap(Int.init) {
                guard length >= 0 else { throw IOError(errnoCode: EPROTO, reason: "read") }
                guard length <= maximumBodyBytes else { throw IOError(errnoCode: EMSGSIZE, reason: "read") }
                body = try reader.bytes(length)
            } else {
                body = try reader.untilClosed(limit: maximumBodyBytes)
                keep = false
            }
            if keep, !reader.hasUnread {
                idle.withLock { $0.append(descriptor) }
            } else {
                _ = Glibc.close(descriptor)
            }
            return EngineResponse(status: status, headers: headers, body: ByteBuffer(bytes: body))
        } catch {
            _ = Glibc.close(descriptor)
            if kept, error is IOError, !reader.receivedAny { throw StaleConnection() }
            throw error
        }
    }
}

/// Reads an HTTP/1.1 answer from a socket, each read waiting at most until `deadline`.
private struct AnswerReader {
    let descriptor: Int32
    let deadline: ContinuousClock.Instant
    /// Bytes read; those before `taken` are consumed.
    private var storage: [UInt8] = []
    private var taken = 0
    /// Whether any byte of an answer arrived.
    private(set) var receivedAny = false

    init(descriptor: Int32, deadline: ContinuousClock.Instant) {
        self.descriptor = descriptor
        self.deadline = deadline
    }

    /// Whether bytes were read past the answer (then the connection is not reused).
    var hasUnread: Bool { taken < storage.count }

    func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            try wait(for: Int16(POLLOUT))
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw IOError(errnoCode: errno, reason: "write")
            }
            sent += count
        }
    }

    /// Waits until the socket is ready for `events`, or throws at the deadline.
    private func wait(for events: Int16) throws {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw HTTPClientError.deadlineExceeded }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var poller = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&poller, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw IOError(errnoCode: errno, reason: "poll") }
        }
    }

    /// Reads more; false at the end of the stream.
    private mutating func fill() throws -> Bool {
        if taken > 0, taken == storage.count {
            storage.removeAll(keepingCapacity: true)
            taken = 0
        }
        let before = storage.count
        storage.append(contentsOf: repeatElement(0, count: 64 * 1024))
        while true {
            try wait(for: Int16(POLLIN))
            let descriptor = descriptor
            let count = storage[before...].withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                storage.removeSubrange((before)...)
                throw IOError(errnoCode: errno, reason: "read")
            }
            storage.removeSubrange((before + count)...)
            receivedAny = receivedAny || count > 0
            return count > 0
        }
    }

    /// A line ending in LF (CRLF), without it.
    private mutating func line() throws -> String {
        // Bytes past `taken` already searched (`fill` may move what is unread to the start).
        var searched = 0
        while true {
            if let end = storage[(taken + searched)...].firstIndex(of: 0x0A) {
                var text = storage[taken..<end]
                if text.last == 0x0D { text = text.dropLast() }
                taken = end + 1
                return String(decoding: text, as: UTF8.self)
            }
            searched = storage.count - taken
            guard try fill() else { throw IOError(errnoCode: ECONNRESET, reason: "read") }
        }
    }

    /// The status line and the headers.
    mutating func head() throws -> (HTTPResponseStatus, HTTPHeaders) {
        while true {
            let parts = try line().split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]) else {
                throw IOError(errnoCode: EPROTO, reason: "read")
            }
            var headers = HTTPHeaders()
            while case let field = try line(), !field.isEmpty {
                guard let colon = field.firstIndex(of: ":") else { continue }
                headers.add(name: String(field[..<colon]), value: field[field.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            // An interim answer (100 Continue) comes before the real one.
            if (100..<200).contains(code), code != 101 { continue }
            return (HTTPResponseStatus(statusCode: code), headers)
        }
    }

    /// Exactly `count` bytes.
    mutating func bytes(_ count: Int) throws -> [UInt8] {
        while storage.count - taken < count {
            guard try fill() else { throw IOError(errnoCode: ECONNRESET, reason: "read") }
        }
        defer { taken += count }
        return Array(storage[taken..<(taken + count)])
    }

    /// A chunked body (RFC 9112 §7.1), trailers skipped.
    mutating func chunked(limit: Int) throws -> [UInt8] {
        var body = [UInt8]()
        while true {
            let sizeLine = try line()
            guard let size = Int(sizeLine.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw IOError(errnoCode: EPROTO, reason: "read")
            }
            if size == 0 {
                while try !line().isEmpty {}
                return body
            }
            guard size <= limit - body.count else { throw IOError(errnoCode: EMSGSIZE, reason: "read") }
            body += try bytes(size)
            guard try line().isEmpty else { throw IOError(errnoCode: EPROTO, reason: "read") }
        }
    }

    /// Everything until the engine closes the connection.
    mutating func untilClosed(limit: Int) throws -> [UInt8] {
        while try fill() {
            guard storage.count - taken <= limit else { throw IOError(errnoCode: EMSGSIZE, reason: "read") }
        }
        defer { taken = storage.count }
        return Array(storage[taken...])
    }
}

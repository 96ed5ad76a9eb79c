#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Synchronization

/// Runs every tcp and http readiness probe of the process on one thread of its own, with
/// non-blocking sockets and `poll`: a probe never blocks the event loop, a hook or another
/// probe, and a hundred services probed every 50 ms cost a few syscalls each (no task, no
/// channel, no allocation beyond the request). Probes are not engine calls: they take no
/// slot of the engine's concurrency (operations.md §8).
final class SocketProber: Sendable {
    /// What one probe found.
    enum Outcome: Sendable, Equatable {
        /// The connection was accepted (tcp).
        case open
        /// The address answered: nothing listens on the port (yet).
        case refused
        /// An HTTP answer with this status (http).
        case status(Int)
        /// No route, or no answer within the probe's timeout: the address may not be
        /// reachable from here at all.
        case unreachable(String)
        /// Anything else (reset mid-answer, not HTTP): not ready, say why.
        case failed(String)
    }

    /// The process's prober; its thread starts with the first probe.
    static let shared = SocketProber()

    private struct Request: @unchecked Sendable {
        var address: sockaddr_storage
        var length: socklen_t
        /// The HTTP request to send once connected; nil for a plain tcp probe.
        var http: [UInt8]?
        var timeout: Duration
        var continuation: CheckedContinuation<Outcome, Never>
    }

    /// One probe under way on the thread.
    private struct InFlight {
        var request: Request
        var deadline: ContinuousClock.Instant
        var connected = false
        var sent = 0
        var received: [UInt8] = []
    }

    private let submissions = Mutex<[Request]>([])
    private let started = Mutex(false)
    /// A pipe whose read end wakes the thread when a probe is submitted.
    private let wake: (read: Int32, write: Int32)

    private init() {
        var ends: [Int32] = [-1, -1]
        _ = pipe(&ends)
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wake = (ends[0], ends[1])
    }

    /// Connects to `host` (an IPv4 or IPv6 address, never a name) on `port`; with
    /// `httpPath`, sends `GET httpPath` and reads the status line.
    func probe(host: String, port: Int, httpPath: String? = nil, timeout: Duration) async -> Outcome {
        guard let (address, length) = Self.socketAddress(host, port: port) else { return .failed("\(host) is not an IP address") }
        let http = httpPath.map { path in
            let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            return Array("GET \(path) HTTP/1.1\r\nHost: \(authority)\r\nUser-Agent: heph-ready\r\nConnection: close\r\n\r\n".utf8)
        }
        startIfNeeded()
        return await withCheckedContinuation { continuation in
            submissions.withLock { $0.append(Request(address: address, length: length, http: http, timeout: timeout, continuation: continuation)) }
            var byte: UInt8 = 1
            _ = write(wake.write, &byte, 1)
        }
    }

    private func startIfNeeded() {
        let first = started.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        let thread = Thread { [self] in run() }
        thread.name = "heph-ready-probes"
        thread.start()
    }

    /// The thread's loop: takes new probes, waits for their sockets or the nearest deadline.
    private func run() {
        var inFlight: [Int32: InFlight] = [:]
        var descriptors: [pollfd] = []
        while true {
            let now = ContinuousClock.now
            let nearest = inFlight.values.map(\.deadline).min()
            let waitMilliseconds: Int32 = nearest.map { max(0, Int32(min(1000, (($0 - now) / .milliseconds(1)).rounded(.up)))) } ?? -1
            descriptors.removeAll(keepingCapacity: true)
            descriptors.append(pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0))
            for (fd, probe) in inFlight {
                descriptors.append(pollfd(fd: fd, events: Int16(probe.connected && probe.sent >= (probe.request.http?.count ?? 0) ? POLLIN : POLLOUT), revents: 0))
            }
            if poll(&descriptors, nfds_t(descriptors.count), waitMilliseconds) > 0 {
                for descriptor in descriptors where descriptor.revents != 0 {
                    if descriptor.fd == wake.read {
                        var bytes = [UInt8](repeating: 0, count: 64)
                        while read(wake.read, &bytes, bytes.count) > 0 {}
                        continue
                    }
                    guard var probe = inFlight[descriptor.fd] else { continue }
                    if let outcome = advance(descriptor.fd, &probe) {
                        finish(descriptor.fd, probe, outcome, &inFlight)
                    } else {
                        inFlight[descriptor.fd] = probe
                    }
                }
            }
            let submitted = submissions.withLock { submissions in
                defer { submissions = [] }
                return submissions
            }
            for request in submitted {
                begin(request, &inFlight)
            }
            let after = ContinuousClock.now
            for (fd, probe) in inFlight where probe.deadline <= after {
                let seconds = formatted(probe.request.timeout / .seconds(1))
                finish(fd, probe, probe.connected ? .failed("no HTTP answer within \(seconds) s") : .unreachable("no answer within \(seconds) s"), &inFlight)
            }
        }
    }

    private func begin(_ request: Request, _ inFlight: inout [Int32: InFlight]) {
        var request = request
        let family = Int32(request.address.ss_family)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            request.continuation.resume(returning: .failed("socket: \(String(cString: strerror(errno)))"))
            return
        }
        let result = withUnsafePointer(to: &request.address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, request.length) }
        }
        var probe = InFlight(request: request, deadline: ContinuousClock.now + request.timeout)
        if result != 0 && errno != EINPROGRESS {
            finish(fd, probe, Self.connectFailure(errno), &inFlight)
            return
        }
        probe.connected = result == 0
        if probe.connected, let outcome = advance(fd, &probe) {
            finish(fd, probe, outcome, &inFlight)
        } else {
            inFlight[fd] = probe
        }
    }

    /// Moves one probe on after its socket became ready; its outcome once it has one.
    private func advance(_ fd: Int32, _ probe: inout InFlight) -> Outcome? {
        if !probe.connected {
            var error: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
            if error != 0 { return Self.connectFailure(error) }
            probe.connected = true
        }
        guard let request = probe.request.http else { return .open }
        while probe.sent < request.count {
            let written = request[probe.sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 { return errno == EAGAIN ? nil : .failed("the connection failed while sending: \(String(cString: strerror(errno)))") }
            probe.sent += written
        }
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 { return errno == EAGAIN ? nil : .failed("the connection failed before an answer: \(String(cString: strerror(errno)))") }
            if count == 0 { return Self.status(probe.received) ?? .failed("the connection closed without an HTTP answer") }
            probe.received += buffer[..<count]
            if let status = Self.status(probe.received) { return status }
            if probe.received.count > 4096 { return .failed("the answer does not start with an HTTP status line") }
        }
    }

    private func finish(_ fd: Int32, _ probe: InFlight, _ outcome: Outcome, _ inFlight: inout [Int32: InFlight]) {
        // No lingering: a refused or finished probe leaves nothing behind on either side.
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        if probe.connected { setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size)) }
        close(fd)
        inFlight[fd] = nil
        probe.request.continuation.resume(returning: outcome)
    }

    /// `HTTP/1.1 200 OK\r\n` → `.status(200)`, once the line is complete.
    private static func status(_ bytes: [UInt8]) -> Outcome? {
        guard let end = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = String(decoding: bytes[..<end], as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else {
            return .failed("the answer does not start with an HTTP status line")
        }
        return .status(code)
    }

    private static func connectFailure(_ error: Int32) -> Outcome {
        switch error {
        case ECONNREFUSED: .refused
        case EHOSTUNREACH, ENETUNREACH, ETIMEDOUT, EADDRNOTAVAIL: .unreachable(String(cString: strerror(error)))
        default: .failed(String(cString: strerror(error)))
        }
    }

    /// The socket address of an IPv4 or IPv6 literal.
    static func socketAddress(_ host: String, port: Int) -> (sockaddr_storage, socklen_t)? {
        var storage = sockaddr_storage()
        if host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { return nil }
            withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
            return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
        withUnsafeMutableBytes(of: &storage) { raw in withUnsafeBytes(of: address) { raw.copyMemory(from: $0) } }
        return (storage, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import Synchronization

/// Runs every tcp and http readiness probe of the process on one thread of its own, with
/// non-blocking sockets and `poll`: a probe never blocks the event loop, a hook or another
/// probe. The thread also repeats a probe every interval until it passes (or a given
/// instant), so a service probed every 50 ms costs a socket, a connect and a close per
/// probe, and its waiting task wakes once, not twenty times a second. Probes are not engine
/// calls: they take no slot of the engine's concurrency (operations.md §8).
///
/// Given the container's process, a probe first reads the socket count of its network
/// namespace (the first line of `/proc/PID/net/sockstat`, readable without privileges, a
/// microsecond), and connects only when the count differs from what it was at the last
/// refused connection, or on a request's first probe (at least once a second): a server
/// that starts listening adds a socket. A connection to a closed port costs the
/// kernel a SYN, a reset and a conntrack entry through the bridge, tens of times the read.
/// (The count is not zero before a server starts: on a user-defined network the engine's
/// DNS resolver listens in every container. The socket tables themselves,
/// `/proc/PID/net/tcp`, cost milliseconds: the kernel walks its whole hash to list one
/// namespace's.) The verdict is always a real connection's.
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

    /// One probe's request, repeated until it ends: a class, so the thread's lists move a
    /// reference and never copy the address and the continuation.
    private final class Request: @unchecked Sendable {
        let address: sockaddr_storage
        let length: socklen_t
        /// The HTTP request to send once connected; nil for a plain tcp probe.
        let http: [UInt8]?
        /// The status that passes an http probe.
        let expecting: Int
        let timeout: Duration
        /// Probes again this long after the last began, until one passes or `until`.
        let interval: Duration
        let until: ContinuousClock.Instant
        let continuation: CheckedContinuation<Outcome, Never>
        /// The container's socket counters, open, while they can be read (only the thread
        /// changes it).
        var counters: [Int32]
        /// The socket count when the last connection was refused: no connection while it
        /// stays so.
        var refusedAt: Int?

        init(address: sockaddr_storage, length: socklen_t, http: [UInt8]?, expecting: Int, timeout: Duration, interval: Duration,
             until: ContinuousClock.Instant, continuation: CheckedContinuation<Outcome, Never>, counters: [Int32]) {
            (self.address, self.length, self.http, self.expecting, self.timeout) = (address, length, http, expecting, timeout)
            (self.interval, self.until, self.continuation, self.counters) = (interval, until, continuation, counters)
        }

        func passes(_ outcome: Outcome) -> Bool {
            http == nil ? outcome == .open : outcome == .status(expecting)
        }
    }

    /// One probe under way on the thread.
    private struct InFlight {
        var request: Request
        /// The container's socket count as the connection began.
        var sockets: Int?
        var began: ContinuousClock.Instant
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

    /// Connects to `host` (an IPv4 or IPv6 address, never a name) on `port`; with `http`,
    /// sends `GET path` and reads the status line. Probes again every `interval` until a
    /// probe passes (accepted; for http, answered `status`), one finds the address
    /// unreachable, or the next would begin after `until`: the last probe's outcome.
    ///
    /// `pid`: the container's process in this process's pid namespace, whose socket
    /// counters tell when to connect (the caller has checked it is the container's).
    func probe(host: String, port: Int, http: (path: String, status: Int)? = nil, timeout: Duration,
               every interval: Duration, until: ContinuousClock.Instant, pid: Int? = nil) async -> Outcome {
        guard let (address, length) = Self.socketAddress(host, port: port) else { return .failed("\(host) is not an IP address") }
        let request = http.map { http in
            let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            return Array("GET \(http.path) HTTP/1.1\r\nHost: \(authority)\r\nUser-Agent: heph-ready\r\nConnection: close\r\n\r\n".utf8)
        }
        startIfNeeded()
        var counters: [Int32] = []
        if let pid {
            let file = open("/proc/\(pid)/net/sockstat", O_RDONLY | O_CLOEXEC)
            if file >= 0 { counters.append(file) }
        }
        return await withCheckedContinuation { continuation in
            submissions.withLock {
                $0.append(Request(address: address, length: length, http: request, expecting: http?.status ?? 0, timeout: timeout,
                                  interval: interval, until: until, continuation: continuation, counters: counters))
            }
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
            let nearest = (inFlight.values.map(\.deadline) + retries.map(\.at)).min()
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
            if retries.contains(where: { $0.at <= after }) {
                let due = retries.filter { $0.at <= after }
                retries.removeAll { $0.at <= after }
                for retry in due { begin(retry.request, &inFlight) }
            }
        }
    }

    /// Probes that failed, to begin again at `at` (only the thread touches it).
    nonisolated(unsafe) private var retries: [(at: ContinuousClock.Instant, request: Request)] = []

    private func begin(_ request: Request, _ inFlight: inout [Int32: InFlight]) {
        var sockets: Int?
        if !request.counters.isEmpty {
            sockets = Self.sockets(request.counters, buffer: &scratch)
            switch sockets {
            case let count? where count == request.refusedAt:
                complete(request, .refused, began: ContinuousClock.now)
                return
            case _?:
                break
            case nil:
                // Unreadable now (the process gone): plain connections from here on.
                for file in request.counters { close(file) }
                request.counters = []
            }
        }
        let family = Int32(request.address.ss_family)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            complete(request, .failed("socket: \(String(cString: strerror(errno)))"), began: ContinuousClock.now)
            return
        }
        var address = request.address
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, request.length) }
        }
        let began = ContinuousClock.now
        var probe = InFlight(request: request, sockets: sockets, began: began, deadline: began + request.timeout)
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
        probe.request.refusedAt = outcome == .refused ? probe.sockets : nil
        complete(probe.request, outcome, began: probe.began)
    }

    /// Hands `outcome` to the waiting task, or schedules the next probe.
    private func complete(_ request: Request, _ outcome: Outcome, began: ContinuousClock.Instant) {
        let next = began + request.interval
        var final = request.passes(outcome) || next > request.until
        if case .unreachable = outcome { final = true }
        guard final else {
            retries.append((next, request))
            return
        }
        for file in request.counters { close(file) }
        request.continuation.resume(returning: outcome)
    }

    /// The sockets of a network namespace, every family's, from the first line of its
    /// `sockstat` (`sockets: used 3`); nil when it cannot be read.
    static func sockets(_ counters: [Int32], buffer: inout [UInt8]) -> Int? {
        var total = 0
        for file in counters {
            let counted = buffer.withUnsafeMutableBufferPointer { bytes -> Int? in
                let length = pread(file, bytes.baseAddress, bytes.count, 0)
                guard length > 0 else { return nil }
                // The digits after the first line's last space.
                var index = 0
                while index < length, bytes[index] != 0x0A { index += 1 }
                var start = index
                while start > 0, bytes[start - 1] != 0x20 { start -= 1 }
                guard start < index else { return nil }
                var value = 0
                for digit in start..<index {
                    guard bytes[digit] >= 0x30, bytes[digit] <= 0x39 else { return nil }
                    value = value * 10 + Int(bytes[digit] - 0x30)
                }
                return value
            }
            guard let counted else { return nil }
            total += counted
        }
        return total
    }

    /// The buffer the counters are read into (only the thread touches it).
    nonisolated(unsafe) private var scratch = [UInt8](repeating: 0, count: 256)

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

import Foundation
@testable import HephDocker
import HephTestSupport
import NIOCore
import Synchronization
import Testing

/// ``UnixSocketHTTP``, the transport of one-shot commands (`heph ps`, `heph status`), against
/// a scripted server on a unix socket: every way an HTTP/1.1 answer may end, kept
/// connections, and the three failures (no engine, a late answer, a connection dropped).
/// `heph ps` against the real engine and Podman is in `CommandLineTests` and `PodmanTests`.
@Suite struct DirectTransportTests {
    @Test func everyWayAnAnswerMayEndIsReadWhole() async throws {
        let answers = [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\nTrailer: t\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 304 Not Modified\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"message\":\"no such thing\"}",
            // No length: the body ends with the connection.
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello",
        ]
        try await ScriptedSocket.with(answers: answers.map { .answer($0) }) { server, client in
            let first = try await client.execute(.GET, path: "/a", query: [("filters", "{\"label\":[\"x=y\"]}")], body: nil, timeout: .seconds(5))
            #expect(first.status == .ok)
            #expect(String(buffer: first.body) == "hello")
            let chunked = try await client.execute(.POST, path: "/b", query: [], body: ByteBuffer(string: "{}"), timeout: .seconds(5))
            #expect(String(buffer: chunked.body) == "hello")
            let interim = try await client.execute(.GET, path: "/c", query: [], body: nil, timeout: .seconds(5))
            #expect(interim.status == .created)
            #expect(String(buffer: interim.body) == "hello")
            let unchanged = try await client.execute(.POST, path: "/d", query: [], body: nil, timeout: .seconds(5))
            #expect(unchanged.status == .notModified)
            #expect(unchanged.body.readableBytes == 0)
            let missing = try await client.execute(.GET, path: "/e", query: [], body: nil, timeout: .seconds(5))
            #expect(missing.status == .notFound)
            #expect(missing.engineMessage == "no such thing")
            let closing = try await client.execute(.GET, path: "/f", query: [], body: nil, timeout: .seconds(5))
            #expect(String(buffer: closing.body) == "hello")
            let requests = server.requests
            // Five answers on one kept connection; the sixth closed it.
            #expect(server.connections == 1)
            #expect(requests.count == 6)
            #expect(requests[0].hasPrefix("GET /a?filters=%7B%22label%22%3A%5B%22x%3Dy%22%5D%7D HTTP/1.1\r\nHost: docker\r\n"))
            #expect(requests[1].hasPrefix("POST /b HTTP/1.1\r\n"))
            #expect(requests[1].contains("\r\nContent-Type: application/json\r\n"))
            #expect(requests[1].hasSuffix("\r\nContent-Length: 2\r\n\r\n{}"))
        }
    }

    /// An answer that arrives a few bytes at a time (as from a loaded engine) is put together
    /// across reads, heads and chunk lines split anywhere.
    @Test func anAnswerInPiecesIsReadWhole() async throws {
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
            + "1a\r\n{\"message\":\"in pieces 26\"}\r\n0\r\n\r\n"
        let sized = "HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\n\r\n{\"message\":\"sized\"}\n"
        try await ScriptedSocket.with(answers: [.inPieces(chunked), .inPieces(sized), .inPieces(chunked)]) { server, client in
            for expected in ["in pieces 26", "sized", "in pieces 26"] {
                let response = try await client.execute(.GET, path: "/p", query: [], body: nil, timeout: .seconds(10))
                #expect(response.engineMessage == expected)
            }
            #expect(server.connections == 1)
        }
    }

    @Test func aKeptConnectionThatEndedWhileIdleIsNotUsed() async throws {
        try await ScriptedSocket.with(answers: [.answerThenHangUp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
                                                .answer("HTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\ncreated")]) { server, client in
            _ = try await client.execute(.GET, path: "/one", query: [], body: nil, timeout: .seconds(5))
            // The server has hung up meanwhile: a create goes on a new connection, sent once.
            #expect(await Fixtures.eventually(timeout: .seconds(5)) { server.connections == 1 && server.hungUp })
            let created = try await client.execute(.POST, path: "/create", query: [], body: ByteBuffer(string: "{}"), timeout: .seconds(5))
            #expect(created.status == .created)
            #expect(server.connections == 2)
            #expect(server.requests.filter { $0.hasPrefix("POST /create") }.count == 1)
        }
    }

    @Test func aKeptConnectionTheEngineClosedIsReplacedUnseen() async throws {
        try await ScriptedSocket.with(answers: [.answer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), .closeWithoutAnswer,
                                                .answer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nagain")]) { server, client in
            let first = try await client.execute(.GET, path: "/one", query: [], body: nil, timeout: .seconds(5))
            #expect(String(buffer: first.body) == "ok")
            // The server drops the kept connection on the next request: it is sent again on a new one.
            let second = try await client.execute(.GET, path: "/two", query: [], body: nil, timeout: .seconds(5))
            #expect(String(buffer: second.body) == "again")
            #expect(server.connections == 2)
        }
    }

    @Test func aLateAnswerIsAnEngineTimeoutAndNoEngineIsUnreachable() async throws {
        try await ScriptedSocket.with(answers: [.silence]) { _, client in
            let started = ContinuousClock.now
            let error = await #expect(throws: DockerError.self) {
                _ = try await client.execute(.GET, path: "/slow", query: [], body: nil, timeout: .milliseconds(300))
            }
            #expect(error?.code == .engineTimeout)
            #expect(ContinuousClock.now - started < .seconds(3))
        }
        let nowhere = "/tmp/heph-\(TestNames.unique("direct")).sock"
        let client = try EngineClient(endpoint: EngineEndpoint(environment: ["DOCKER_HOST": "unix://\(nowhere)"]), direct: true)
        let error = await #expect(throws: DockerError.self) { try await client.ping() }
        #expect(error?.code == .engineUnreachable)
        #expect(error?.message == "cannot reach the Docker engine at unix://\(nowhere): no such file or directory")
        try await client.close()
    }

    @Test(arguments: [
        // Dropped mid-answer.
        "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort",
        // Lengths no engine sends.
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\nConnection: close\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n1\r\nx\r\n7fffffffffffffff\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n-5\r\n",
        "HTTP/1.1 2OO OK\r\nConnection: close\r\n\r\n",
    ])
    func aBrokenAnswerIsUnreachableNotACrash(answer: String) async throws {
        try await ScriptedSocket.with(answers: [.answer(answer)]) { _, client in
            let error = await #expect(throws: DockerError.self) {
                _ = try await client.execute(.GET, path: "/broken", query: [], body: nil, timeout: .seconds(5))
            }
            #expect(error?.code == .engineUnreachable)
        }
    }

    /// An engine that no longer accepts (its backlog full) is a wait that ends, not a hang.
    @Test func anEngineThatAcceptsNothingIsUnreachableWithinTheDeadline() async throws {
        let path = "/tmp/heph-\(TestNames.unique("backlog")).sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let connectTo = { (descriptor: Int32) in withUnixAddress(path) { connect(descriptor, $0, $1) } }
        _ = withUnixAddress(path) { bind(listener, $0, $1) }
        #expect(listen(listener, 0) == 0)
        // Fill the backlog: connections nobody accepts, until the next would wait.
        var fillers: [Int32] = []
        while fillers.count < 16 {
            let filler = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            fillers.append(filler)
            if connectTo(filler) != 0 { break }
        }
        defer {
            for filler in fillers { close(filler) }
            close(listener)
            unlink(path)
        }
        let client = try EngineClient(endpoint: EngineEndpoint(environment: ["DOCKER_HOST": "unix://\(path)"]), direct: true)
        let started = ContinuousClock.now
        let error = await #expect(throws: DockerError.self) {
            _ = try await client.execute(.GET, path: "/_ping", query: [], body: nil, timeout: .milliseconds(500))
        }
        #expect(error?.code == .engineUnreachable)
        #expect(error?.message == "cannot reach the Docker engine at unix://\(path): connection timed out")
        #expect(ContinuousClock.now - started < .seconds(3))
        try await client.close()
        // And once closed, the client makes no new connection.
        let closed = await #expect(throws: DockerError.self) { try await client.ping() }
        #expect(closed?.code == .engineUnreachable)
    }
}

/// A unix-socket server that answers each request with the next of its scripted answers,
/// on one thread, and records what it was sent.
private final class ScriptedSocket: Sendable {
    enum Step: Sendable {
        /// These bytes, then wait for the next request on the same connection (unless the
        /// answer says `Connection: close`, or a body shorter than its length: then close).
        case answer(String)
        /// Read the request and close the connection without a word.
        case closeWithoutAnswer
        /// Read the request and never answer.
        case silence
        /// These bytes three at a time, a millisecond apart; then as `answer`.
        case inPieces(String)
        /// These bytes, then close the connection (whatever the answer said).
        case answerThenHangUp(String)
    }

    private struct Record {
        var requests: [String] = []
        var connections = 0
        var hungUp = false
    }

    private let record = Mutex(Record())
    private let listener: Int32
    let path: String

    var requests: [String] { record.withLock { $0.requests } }
    var connections: Int { record.withLock { $0.connections } }
    /// An `answerThenHangUp` has closed its connection.
    var hungUp: Bool { record.withLock { $0.hungUp } }

    private init(steps: [Step]) throws {
        path = "/tmp/heph-\(TestNames.unique("direct")).sock"
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let bound = withUnixAddress(path) { bind(listener, $0, $1) }
        guard bound == 0, listen(listener, 4) == 0 else { throw POSIXError(.EADDRINUSE) }
        let thread = Thread { [self] in serve(steps) }
        thread.start()
    }

    /// Runs `body` with a server of `answers` and a direct client of it; removes the socket.
    static func with(answers: [Step], _ body: (ScriptedSocket, EngineClient) async throws -> Void) async throws {
        let server = try ScriptedSocket(steps: answers)
        defer {
            shutdown(server.listener, Int32(SHUT_RDWR))
            close(server.listener)
            unlink(server.path)
        }
        let client = try EngineClient(endpoint: EngineEndpoint(environment: ["DOCKER_HOST": "unix://\(server.path)"]), direct: true)
        do {
            try await body(server, client)
        } catch {
            try await client.close()
            throw error
        }
        try await client.close()
    }

    private func serve(_ steps: [Step]) {
        var steps = steps[...]
        while !steps.isEmpty {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            record.withLock { $0.connections += 1 }
            defer { close(connection) }
            while let step = steps.first {
                guard let request = readRequest(connection) else { break }
                record.withLock { $0.requests.append(request) }
                steps = steps.dropFirst()
                switch step {
                case .answer(let text):
                    _ = text.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                    if text.contains("Connection: close") || text.hasSuffix("short") { break }
                    continue
                case .inPieces(let text):
                    for piece in Array(text.utf8).chunks(of: 3) {
                        _ = piece.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                        usleep(1000)
                    }
                    continue
                case .answerThenHangUp(let text):
                    _ = text.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                    shutdown(connection, Int32(SHUT_RDWR))
                    record.withLock { $0.hungUp = true }
                case .closeWithoutAnswer:
                    break
                case .silence:
                    // Hold the connection open until the client gives up.
                    var byte: UInt8 = 0
                    _ = recv(connection, &byte, 1, 0)
                }
                break
            }
        }
    }

    /// The head and the body (by its Content-Length) of one request; nil when the client closed.
    private func readRequest(_ connection: Int32) -> String? {
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = bytes.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: bytes[..<end.upperBound], as: UTF8.self)
                let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if bytes.count - end.upperBound >= length { return String(decoding: bytes, as: UTF8.self) }
            }
            let count = recv(connection, &chunk, chunk.count, 0)
            guard count > 0 else { return nil }
            bytes += chunk[..<count]
        }
    }
}

/// `body` (bind, connect) with the socket address of `path`.
private func withUnixAddress(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        raw.copyBytes(from: Array(path.utf8))
        raw[path.utf8.count] = 0
    }
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
}

extension Array {
    /// Consecutive slices of `size` elements (the last one shorter).
    fileprivate func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

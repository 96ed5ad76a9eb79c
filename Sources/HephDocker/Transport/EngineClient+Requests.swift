import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL

/// A whole engine answer.
struct EngineResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer

    /// 2xx, or 304 (start of a running / stop of a stopped container: nothing to do).
    var succeeded: Bool { (200..<300).contains(status.code) || status == .notModified }

    /// The engine's clock when it answered, from the `Date` header (Unix seconds, to the
    /// second; the engine's time lies within the second after it).
    var engineDate: Double? {
        headers.first(name: "Date").flatMap(Self.unixSeconds(httpDate:))
    }

    /// `Mon, 30 Nov 2026 09:24:27 GMT` (RFC 9110's IMF-fixdate, the form Go's servers
    /// write) as Unix seconds; nil for anything else. By hand: a `DateFormatter` shared
    /// between tasks is not safe to use at once.
    static func unixSeconds(httpDate text: String) -> Double? {
        let fields = text.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard fields.count == 6, fields[5] == "GMT", let day = Int(fields[1]), let year = Int(fields[3]),
              let monthIndex = months.firstIndex(of: String(fields[2])) else { return nil }
        let time = fields[4].split(separator: ":").compactMap { Int($0) }
        guard time.count == 3 else { return nil }
        // Days from 1970-01-01 to the date (the proleptic Gregorian calendar, as in
        // Howard Hinnant's days_from_civil).
        let month = monthIndex + 1
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Double(days * 86_400 + time[0] * 3_600 + time[1] * 60 + time[2])
    }

    /// The engine's `message`, or the body as text when it is not the usual JSON.
    var engineMessage: String {
        if let error = try? JSONDecoder().decode(EngineErrorBody.self, from: Data(buffer: body)) {
            return error.message.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "HTTP \(status.code) \(status.reasonPhrase)" : text
    }

    /// Podman's answer as dockerd gives it: Podman 4 answers 500 where dockerd answers 409
    /// (a name taken, a container running that a call needs stopped, a network in use),
    /// and heph decides on the 409 (a lease is taken by the one create that succeeds).
    var inDockersTerms: EngineResponse {
        guard status == .internalServerError else { return self }
        let message = engineMessage
        // Podman's own sentinel errors, at the end of its messages (a subnet "already used
        // on the host", say, is a genuine failure and stays one).
        let conflicts = ["that name is already in use", "container already exists", "network already exists", "network is being used", "container state improper"]
        guard conflicts.contains(where: { message.contains($0) }) else { return self }
        var converted = self
        converted.status = .conflict
        return converted
    }

    /// A ``DockerError`` for a failed answer: the code from the status, the engine's words.
    func failure(_ context: String? = nil) -> DockerError {
        let code: DockerError.Code = switch status.code {
        case 404: .notFound
        case 403, 409: .conflict
        default: .engine
        }
        return DockerError(code, context.map { "\($0): \(engineMessage)" } ?? engineMessage)
    }

    /// Decodes a JSON body.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch {
            throw DockerError(.engine, "the engine's answer could not be read as \(T.self): \(error)", underlying: error)
        }
    }
}

extension HTTPClientResponse {
    /// Largest error answer of a streaming request read: the engine's message is short.
    static let maximumErrorBytes = 1024 * 1024

    /// The answer of a streaming request that failed (its status not 200), read whole so
    /// its message can be worded.
    func collectedFailure() async throws -> EngineResponse {
        EngineResponse(status: status, headers: headers, body: try await body.collect(upTo: Self.maximumErrorBytes))
    }
}

extension EngineClient {
    /// Largest answer collected in memory; logs and lists are far smaller.
    static let maximumBodyBytes = 256 * 1024 * 1024

    /// Sends a request to the versioned API and collects the whole answer.
    ///
    /// `timeout` bounds the wait for the answer's head (``answerTimeout`` when nil); calls
    /// that block in the engine (a stop waits for the container) must pass a longer one than
    /// the engine's own wait. A bulk call first waits for a slot (``EngineLane``).
    /// Throws only transport failures; an engine error is an answer for the caller to read.
    func request(
        _ method: HTTPMethod,
        _ path: String,
        query: [(String, String)] = [],
        json body: (some Encodable & Sendable)? = Optional<EngineEmptyObject>.none,
        timeout: Duration? = nil
    ) async throws -> EngineResponse {
        try await request(method, path, query: query, jsonData: body.map { try JSONEncoder().encode($0) }, timeout: timeout)
    }

    /// Sends `body`, JSON bytes as they are, to the versioned API and collects the answer:
    /// for a document heph changes in part and sends back (a Swarm service's spec).
    func request(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], jsonData body: Data?, timeout: Duration? = nil) async throws -> EngineResponse {
        let version = try await apiVersion()
        let response = try await execute(method, path: "/v\(version)\(path)", query: query, body: body.map { ByteBuffer(data: $0) }, timeout: timeout ?? answerTimeout)
        return try await kind() == .podman ? response.inDockersTerms : response
    }

    /// Sends `body` (a tar archive) to the versioned API and collects the answer.
    func request(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], tar body: [UInt8], timeout: Duration? = nil) async throws -> EngineResponse {
        let version = try await apiVersion()
        return try await execute(method, path: "/v\(version)\(path)", query: query, body: ByteBuffer(bytes: body), contentType: "application/x-tar", timeout: timeout ?? answerTimeout)
    }

    /// Sends a request to the versioned API and returns as soon as the answer's head arrives,
    /// leaving the body to stream (pull progress, the event stream, an exec's output). A
    /// bulk stream holds its slot only until the head arrives: a followed log holds none.
    func streamingRequest(
        _ method: HTTPMethod,
        _ path: String,
        query: [(String, String)] = [],
        json body: (some Encodable & Sendable)? = Optional<EngineEmptyObject>.none,
        timeout: Duration? = nil
    ) async throws -> HTTPClientResponse {
        let version = try await apiVersion()
        let encoded = try body.map { ByteBuffer(data: try JSONEncoder().encode($0)) }
        return try await inLane { try await send(method, path: "/v\(version)\(path)", query: query, body: encoded, timeout: timeout ?? answerTimeout) }
    }

    /// Sends a request to `path` as given (unversioned for `/_ping`) and collects the answer.
    func execute(_ method: HTTPMethod, path: String, query: [(String, String)], body: ByteBuffer?, contentType: String = "application/json",
                 timeout: Duration) async throws -> EngineResponse {
        try await inLane {
            if let direct {
                guard !isClosed else { throw transportFailure(HTTPClientError.alreadyShutdown, timeout: timeout) }
                return try directly(direct, method, path: path, query: query, body: body, contentType: contentType, timeout: timeout)
            }
            let response = try await send(method, path: path, query: query, body: body, contentType: contentType, timeout: timeout)
            do {
                let collected = try await response.body.collect(upTo: Self.maximumBodyBytes)
                return EngineResponse(status: response.status, headers: response.headers, body: collected)
            } catch {
                throw transportFailure(error, timeout: timeout)
            }
        }
    }

    /// Runs one exchange as its task's lane says: control at once, bulk holding a slot.
    private func inLane<T>(_ exchange: () async throws -> T) async throws -> T {
        switch EngineLane.current {
        case .control: try await exchange()
        case .bulk: try await slots.withSlot(exchange)
        }
    }

    private func send(_ method: HTTPMethod, path: String, query: [(String, String)], body: ByteBuffer?, contentType: String = "application/json",
                      timeout: Duration) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url(path: path, query: query))
        request.method = method
        if !endpoint.transport.isTCP {
            // dockerd rejects HTTP/1.1 without a Host header, and none is derived from a
            // socket path (the engine's own, or the ssh relay's).
            request.headers.add(name: "Host", value: "docker")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(body)
        }
        // Real time, not the run's clock: how long the engine took, for the debug log.
        let started = ContinuousClock.now
        do {
            let response = try await http(for: EngineLane.current).execute(request, timeout: TimeAmount(timeout))
            logger.debug("\(method) \(path) → \(response.status.code) in \(ContinuousClock.now - started)")
            return response
        } catch {
            logger.debug("\(method) \(path) failed in \(ContinuousClock.now - started): \(error)")
            throw transportFailure(error, timeout: timeout)
        }
    }

    /// One exchange over ``direct``, on this thread.
    private func directly(_ direct: UnixSocketHTTP, _ method: HTTPMethod, path: String, query: [(String, String)], body: ByteBuffer?,
                          contentType: String, timeout: Duration) throws -> EngineResponse {
        let started = ContinuousClock.now
        do {
            let response = try direct.execute(
                method, target: path + queryString(query), headers: body == nil ? [] : [("Content-Type", contentType)],
                body: body.map { Array($0.readableBytesView) }, timeout: timeout, maximumBodyBytes: Self.maximumBodyBytes)
            logger.debug("\(method) \(path) → \(response.status.code) in \(ContinuousClock.now - started)")
            return response
        } catch {
            logger.debug("\(method) \(path) failed in \(ContinuousClock.now - started): \(error)")
            throw transportFailure(error, timeout: timeout)
        }
    }

    private func queryString(_ query: [(String, String)]) -> String {
        query.isEmpty ? "" : "?" + query.map { "\(percentEncoded($0.0))=\(percentEncoded($0.1))" }.joined(separator: "&")
    }

    private func url(path: String, query: [(String, String)]) -> String {
        let queryString = queryString(query)
        switch endpoint.transport {
        case .unix(let socketPath):
            return Self.unixURL(socketPath, path + queryString)
        case .ssh:
            return Self.unixURL(sshDialer?.socketPath ?? "", path + queryString)
        case .tcp(let host, let port, let tls):
            let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            return "\(tls == nil ? "http" : "https")://\(authority)\(path)\(queryString)"
        }
    }

    private static func unixURL(_ socketPath: String, _ pathAndQuery: String) -> String {
        let host = socketPath.addingPercentEncoding(withAllowedCharacters: .urlHostAllowed) ?? socketPath
        return "http+unix://\(host)\(pathAndQuery)"
    }

    /// RFC 3986's unreserved characters, the only ones a query value keeps as they are.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Encodes everything but the unreserved characters: the engine's Go server would read
    /// a raw `+` in a filter as a space.
    private func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? text
    }

    /// Turns what the HTTP layer threw into a ``DockerError`` in words (or lets a
    /// cancellation through as one). Three kinds of wait, three errors: the engine took the
    /// call and did not answer (``DockerError/Code/engineTimeout``), heph's own pool had no
    /// connection free (``DockerError/Code/queueTimeout``), the engine could not be reached
    /// at all (``DockerError/Code/engineUnreachable``).
    func transportFailure(_ error: any Error, timeout: Duration) -> any Error {
        if error is DockerError || error is CancellationError { return error }
        if let clientError = error as? HTTPClientError {
            if clientError == .cancelled { return CancellationError() }
            if clientError == .deadlineExceeded || clientError == .readTimeout {
                return DockerError(
                    .engineTimeout,
                    "the Docker engine at \(endpoint) took the call but did not answer within \(formatted(timeout)): it is overloaded or stuck (see `docker info` and the engine's log)",
                    remedy: .lowerEngineConcurrency(current: slots.capacity), underlying: error)
            }
            if clientError == .getConnectionFromPoolTimeout {
                // heph's own pool was full: the wait is heph's, whatever the engine does.
                let message = switch EngineLane.current {
                case .bulk: "no connection of heph's own to the engine came free in time: its \(EngineSlots.maximumCapacity + Self.streamConnections) are held by calls and by streams (followed logs, exec output); end some streams"
                case .control: "none of heph's \(Self.controlConnections) control connections to the engine came free in time: event streams, polls and readiness checks hold them all; run fewer watchers and pollers in this process"
                }
                return DockerError(.queueTimeout, message, underlying: error)
            }
        }
        // Over ssh the relay's socket always answers, and the HTTP layer sees only a
        // connection that closed; ssh (or the remote docker) says why on stderr.
        if let complaint = sshDialer?.complaint {
            return DockerError(.engineUnreachable, "cannot reach the Docker engine at \(endpoint): ssh said: \(complaint)", underlying: error)
        }
        return DockerError(.engineUnreachable, "cannot reach the Docker engine at \(endpoint): \(Self.reason(error))", underlying: error)
    }

    /// The words of a transport error: `no such file or directory`, `TLS handshake failed:
    /// certificate verify failed`, rather than a type dump.
    static func reason(_ error: any Error) -> String {
        if let ioError = error as? IOError {
            return String(cString: strerror(ioError.errnoCode)).lowercased()
        }
        if error is NIOSSLError || error is NIOSSLExtraError {
            // BoringSSL names the failure as `…:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at …`.
            let text = String(describing: error)
            guard let marker = text.range(of: "OPENSSL_internal:") else { return "TLS handshake failed: \(text)" }
            let code = text[marker.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            return "TLS handshake failed: \(code.lowercased().replacingOccurrences(of: "_", with: " "))"
        }
        return String(describing: error)
    }
}

extension TimeAmount {
    /// The same span as a Swift `Duration`.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

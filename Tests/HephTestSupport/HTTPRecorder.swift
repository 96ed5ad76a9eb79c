import Foundation

/// A real HTTP server on loopback that records what it receives (Tests/Fixtures/
/// http_recorder.py): for heph.http.request and for plugins that post. Its paths choose
/// the answer (`/status/N`, `/slow/SECONDS`, `/fail-first/N`, anything else 200 "ok").
/// With `tls`, it serves HTTPS with a certificate for 127.0.0.1 signed by nobody: a client
/// trusts it through ``certificate`` (`SSL_CERT_FILE`).
public final class HTTPRecorder: Sendable {
    /// One request as the server saw it.
    public struct Request: Decodable, Sendable, Equatable {
        public var method: String
        public var path: String
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: String
    }

    private let directory: String
    private let server: BackgroundProcess
    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// `http` or `https`.
    public let scheme: String

    /// Starts a server; throws when it does not listen within 10 s.
    public init(tls: Bool = false) async throws {
        directory = NSTemporaryDirectory() + "heph-recorder-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var arguments = [HephBinary.repositoryRoot + "/Tests/Fixtures/http_recorder.py", directory + "/port", directory + "/log"]
        if tls {
            let made = try await Command.run("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
            ])
            guard made.status == 0 else { throw CommandError(description: "openssl could not make a certificate: \(made.stderr)") }
            arguments += ["--tls", directory + "/cert.pem", directory + "/key.pem"]
        }
        scheme = tls ? "https" : "http"
        server = try BackgroundProcess("/usr/bin/python3", arguments)
        let portFile = directory + "/port"
        guard await Fixtures.eventually(timeout: .seconds(10), { FileManager.default.fileExists(atPath: portFile) }),
              let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) else {
            server.stop()
            throw CommandError(description: "the HTTP recorder did not start (python3 \(arguments.joined(separator: " ")))")
        }
        self.port = port
    }

    /// The URL of `path` on this server (without one, the server's: `http://127.0.0.1:PORT`).
    public func url(_ path: String = "") -> String {
        "\(scheme)://127.0.0.1:\(port)\(path)"
    }

    /// The certificate a client must trust (TLS only).
    public var certificate: String { directory + "/cert.pem" }

    /// Every request received so far, in order.
    public var requests: [Request] {
        let text = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    /// Stops the server and removes its files.
    public func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit {
        stop()
    }
}

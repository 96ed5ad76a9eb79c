import AsyncHTTPClient
import Foundation
import HephDocker

/// Images, commands and helpers the engine tests share.
public enum Fixtures {
    /// The offline image `scripts/bootstrap` builds.
    public static let image = "heph/busybox:latest"

    /// Idles until SIGTERM, then exits at once. (A plain `sleep` as PID 1 ignores SIGTERM,
    /// so every stop would wait out the full timeout.)
    public static let idle = ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]

    /// Serves `directory` over HTTP on port 80 until SIGTERM.
    public static func httpServer(serving directory: String = "/www") -> [String] {
        ["sh", "-c", "trap 'exit 0' TERM; busybox mkdir -p \(directory); httpd -f -p 80 -h \(directory) & wait"]
    }

    /// An orchestrator for this process's `DOCKER_HOST`, closed when `body` ends.
    @discardableResult
    public static func withOrchestrator<T: Sendable>(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        _ body: (DockerOrchestrator) async throws -> T
    ) async throws -> T {
        try await DockerOrchestrator.withOrchestrator(endpoint: EngineEndpoint(environment: environment), body)
    }

    /// Polls `condition` every 100 ms until it holds or `timeout` passes; returns whether it held.
    public static func eventually(timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            // The poll's interval: what is waited for is `condition`, up to the deadline.
            try? await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// The body of `GET http://127.0.0.1:port/path` once the server answers 200, trying
    /// for up to `timeout` (a container's server takes a moment to start); nil if it never did.
    public static func httpBody(port: Int, path: String = "/", timeout: Duration = .seconds(10)) async -> String? {
        var body: String?
        _ = await eventually(timeout: timeout) {
            guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(2)),
                  response.status == .ok, let bytes = try? await response.body.collect(upTo: 1 << 20) else { return false }
            body = String(buffer: bytes)
            return true
        }
        return body
    }

    /// A TCP port nothing listens on right now (the kernel's pick).
    public static func freePort() -> Int {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketDescriptor, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketDescriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

import AsyncHTTPClient
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The Engine API client: HTTP/1.1 to the engine named by `DOCKER_HOST`, with the API
/// version negotiated once through `/_ping`.
///
/// Creating a client does no I/O, so it fails only on a malformed `DOCKER_HOST` or missing
/// TLS files (for `ssh://` it opens a local socket, and ssh starts with the first request);
/// an engine that is down shows on the first request. Call ``close()`` when done.
public final class EngineClient: Sendable {
    /// The newest Engine API version heph speaks. An older engine is spoken to in its own
    /// version (what heph relies on was checked against 1.41).
    public static let maximumAPIVersion = EngineAPIVersion(major: 1, minor: 47)
    /// The oldest engine heph works with: healthcheck start periods arrived in 1.29.
    public static let minimumAPIVersion = EngineAPIVersion(major: 1, minor: 29)

    /// Where the engine is.
    public let endpoint: EngineEndpoint
    let http: HTTPClient
    let logger: Logger
    /// For `ssh://`: the local socket relayed to the remote engine.
    let sshDialer: SSHDialer?
    private let negotiatedVersion = Mutex<EngineAPIVersion?>(nil)
    private let closed = Mutex(false)

    /// A client for `endpoint`.
    public init(endpoint: EngineEndpoint, logger: Logger = Logger(label: "heph.docker")) throws {
        self.endpoint = endpoint
        self.logger = logger
        var configuration = HTTPClient.Configuration()
        // Long calls (a 10 s stop, a pull, the event stream) each hold a connection, so allow many.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        // Fail at once when the engine is down instead of retrying until the connect timeout:
        // the caller decides whether to try again.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(5), read: nil)
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        if case .tcp(_, _, let tls?) = endpoint.transport {
            configuration.tlsConfiguration = try Self.tlsConfiguration(tls)
        } else if case .tcp = endpoint.transport {
            // An engine's API is root on its host: in the clear, anyone on the path can drive it.
            logger.warning("\(endpoint) is not encrypted: anyone who can reach it can control that engine; use TLS (DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH with ca.pem, cert.pem, key.pem)")
        }
        // ssh is started per connection, by the first request, not here.
        if case .ssh(let destination) = endpoint.transport {
            sshDialer = try SSHDialer(destination, logger: logger)
        } else {
            sshDialer = nil
        }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// `GET /_ping`; also negotiates the API version.
    public func ping() async throws {
        _ = try await negotiate()
    }

    /// Shuts the HTTP client down. Calling it twice is not an error.
    public func close() async throws {
        let alreadyClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !alreadyClosed else { return }
        defer { sshDialer?.close() }
        try await http.shutdown()
    }

    /// The API version in use: min(engine's, ``maximumAPIVersion``), asked once.
    public func apiVersion() async throws -> EngineAPIVersion {
        if let version = negotiatedVersion.withLock({ $0 }) { return version }
        return try await negotiate()
    }

    private func negotiate() async throws -> EngineAPIVersion {
        let response = try await execute(.GET, path: "/_ping", query: [], body: nil, timeout: .seconds(30))
        guard response.status == .ok else {
            throw DockerError(.engine, "the engine at \(endpoint) answered /_ping with \(response.status.code): \(response.engineMessage)")
        }
        let advertised = response.headers.first(name: "API-Version").flatMap(EngineAPIVersion.init(parsing:)) ?? Self.minimumAPIVersion
        guard advertised >= Self.minimumAPIVersion else {
            throw DockerError(.engine, "the engine at \(endpoint) speaks API \(advertised); heph needs \(Self.minimumAPIVersion) or newer")
        }
        let version = min(advertised, Self.maximumAPIVersion)
        negotiatedVersion.withLock { $0 = version }
        return version
    }

    private static func tlsConfiguration(_ files: EngineEndpoint.TLSFiles) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if files.verify {
                tls.trustRoots = .file(files.caPath)
                tls.certificateVerification = .fullVerification
            } else {
                tls.certificateVerification = .none
            }
            if let certificatePath = files.certificatePath, let keyPath = files.keyPath {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
            }
        } catch {
            throw DockerError(.invalidConfig, "the TLS files in \(files.caPath.dropLast("/ca.pem".count)) cannot be used: \(error)", underlying: error)
        }
        return tls
    }
}

/// An Engine API version, `1.41`.
public struct EngineAPIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `1` of `1.41`.
    public var major: Int
    /// `41` of `1.41`.
    public var minor: Int

    /// Makes a version.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses `"1.41"`; nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        self.init(major: major, minor: minor)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    public var description: String { "\(major).\(minor)" }
}

/// What `GET /version` says of the engine.
public struct EngineVersion: Sendable, Decodable, Hashable {
    /// The engine's release: `20.10.24`.
    public var Version: String
    /// The newest API it speaks: `1.41`.
    public var ApiVersion: String
}

extension EngineClient {
    /// The engine's release and API version (`GET /version`).
    public func engineVersion() async throws -> EngineVersion {
        let response = try await request(.GET, "/version")
        guard response.succeeded else { throw response.failure("cannot read the engine's version") }
        return try response.decode(EngineVersion.self)
    }
}

import AsyncHTTPClient
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The Engine API client: HTTP/1.1 to the engine named by `DOCKER_HOST`, with the API
/// version negotiated once through `/_ping`.
///
/// Two ways in, so observation never waits behind work (``EngineLane``): bulk calls take
/// one of the process's ``slots`` and go over one connection pool; control calls take no
/// slot and go over a small pool of their own.
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
    /// The bound on bulk calls in flight; shared by every client of one process.
    public let slots: EngineSlots
    /// How long a call waits for the engine's answer unless it says otherwise.
    public let answerTimeout: Duration
    /// For a one-shot command on a unix socket: its whole answers, without NIO's threads.
    let direct: UnixSocketHTTP?
    private let configuration: HTTPClient.Configuration
    /// The two pools, each made on its first call: a command whose calls all go
    /// ``direct`` starts no event-loop thread.
    private let pools = Mutex(Pools())
    let logger: Logger
    /// For `ssh://`: the local socket relayed to the remote engine.
    let sshDialer: SSHDialer?
    private let negotiatedVersion = Mutex<EngineAPIVersion?>(nil)
    private let negotiatedKind = Mutex<EngineKind?>(nil)

    /// ``close()`` was called.
    var isClosed: Bool { pools.withLock { $0.closed } }

    /// The pool of a lane: bulk calls and the streams a script asks for (followed logs, an
    /// exec's output), or control calls (the event stream, polls, pings). After ``close()``,
    /// `HTTPClientError.alreadyShutdown`, as a pool that was shut down says.
    func http(for lane: EngineLane) throws -> HTTPClient {
        try pools.withLock { pools in
            guard !pools.closed else { throw HTTPClientError.alreadyShutdown }
            return lane == .control ? pools.control(configuration) : pools.bulk(configuration)
        }
    }

    /// Connections the bulk pool opens beyond the slots, for streams a script follows
    /// (they take a slot only until their answer's head arrives).
    static let streamConnections = 64
    /// Connections of the control pool: event streams, and the polls, readiness rounds and
    /// pings of every watcher, poller and `heph.up` of the process at once.
    /// (AsyncHTTPClient fails a request that waits longer than the connect timeout for one.)
    static let controlConnections = 32

    /// A client for `endpoint` whose bulk calls take `slots`.
    /// `direct`: whole answers over a unix socket are read on the calling thread
    /// (``UnixSocketHTTP``), for a command that makes a few calls one after another and ends.
    public init(endpoint: EngineEndpoint, slots: EngineSlots = EngineSlots(), answerTimeout: Duration = .seconds(60),
                logger: Logger = Logger(label: "heph.docker"), direct: Bool = false) throws {
        self.endpoint = endpoint
        self.slots = slots
        self.answerTimeout = answerTimeout
        self.logger = logger
        var configuration = HTTPClient.Configuration()
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
        // The slots bound the bulk calls; the pool has room for all of them and 64 streams,
        // so a call holding a slot waits for a connection only past 64 followed streams.
        self.configuration = configuration
        if direct, case .unix(let socketPath) = endpoint.transport {
            self.direct = UnixSocketHTTP(socketPath: socketPath)
        } else {
            self.direct = nil
        }
    }

    /// The HTTP clients made so far.
    private struct Pools: ~Copyable {
        var bulkClient: HTTPClient?
        var controlClient: HTTPClient?
        /// ``close()`` took the pools: none is made after it.
        var closed = false

        mutating func bulk(_ configuration: HTTPClient.Configuration) -> HTTPClient {
            if let bulkClient { return bulkClient }
            var configuration = configuration
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = EngineSlots.maximumCapacity + EngineClient.streamConnections
            let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            bulkClient = made
            return made
        }

        mutating func control(_ configuration: HTTPClient.Configuration) -> HTTPClient {
            if let controlClient { return controlClient }
            var configuration = configuration
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = EngineClient.controlConnections
            let made = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            controlClient = made
            return made
        }
    }

    /// `GET /_ping`; also negotiates the API version.
    public func ping() async throws {
        _ = try await negotiate()
    }

    /// Shuts the HTTP client down. Calling it twice is not an error.
    public func close() async throws {
        let made: [HTTPClient]? = pools.withLock { pools in
            guard !pools.closed else { return nil }
            pools.closed = true
            return [pools.bulkClient, pools.controlClient].compactMap { $0 }
        }
        guard let made else { return }
        defer { sshDialer?.close() }
        direct?.close()
        // Both pools are shut down, whichever fails.
        var failure: (any Error)?
        for client in made {
            do { try await client.shutdown() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    /// The API version in use: min(engine's, ``maximumAPIVersion``), asked once.
    public func apiVersion() async throws -> EngineAPIVersion {
        if let version = negotiatedVersion.withLock({ $0 }) { return version }
        return try await negotiate()
    }

    /// Which engine answers, learnt from the same `/_ping` (docs/engines.md).
    public func kind() async throws -> EngineKind {
        if let kind = negotiatedKind.withLock({ $0 }) { return kind }
        _ = try await negotiate()
        return negotiatedKind.withLock { $0 } ?? .docker
    }

    private func negotiate() async throws -> EngineAPIVersion {
        // A ping is control traffic: it neither waits for nor holds a slot.
        let response = try await EngineLane.asControl {
            try await execute(.GET, path: "/_ping", query: [], body: nil, timeout: min(.seconds(30), answerTimeout))
        }
        guard response.status == .ok else {
            throw DockerError(.engine, "the engine at \(endpoint) answered /_ping with \(response.status.code): \(response.engineMessage)")
        }
        let advertised = response.headers.first(name: "API-Version").flatMap(EngineAPIVersion.init(parsing:)) ?? Self.minimumAPIVersion
        guard advertised >= Self.minimumAPIVersion else {
            throw DockerError(.engine, "the engine at \(endpoint) speaks API \(advertised); heph needs \(Self.minimumAPIVersion) or newer")
        }
        let version = min(advertised, Self.maximumAPIVersion)
        // Podman's service says so on every answer; dockerd never does.
        negotiatedKind.withLock { $0 = response.headers.contains(name: "Libpod-API-Version") ? .podman : .docker }
        negotiatedVersion.withLock { $0 = version }
        return version
    }

    static func tlsConfiguration(_ files: EngineEndpoint.TLSFiles) throws -> TLSConfiguration {
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

/// The engine behind the Docker Engine API: Docker's dockerd, or Podman's service, which
/// speaks the same API with differences heph works around (docs/engines.md).
public enum EngineKind: String, Sendable {
    case docker
    case podman
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
    /// The name of the running container of this engine whose host name is `hostname` and
    /// whose id starts with it (the engine's default host name: a heph in a container);
    /// nil when there is none.
    public func runningContainerName(hostname: String) async throws -> String? {
        guard ContainerName.isIDPrefix(hostname) else { return nil }
        let response = try await EngineLane.asControl { try await request(.GET, "/containers/\(hostname)/json") }
        guard response.succeeded, let container = try? response.decode(EngineContainerInspect.self),
              container.State.Status == "running", container.Config.Hostname == hostname, container.Id.hasPrefix(hostname) else { return nil }
        return String(container.Name.drop { $0 == "/" })
    }

    /// The engine's release and API version (`GET /version`).
    public func engineVersion() async throws -> EngineVersion {
        let response = try await request(.GET, "/version")
        guard response.succeeded else { throw response.failure("cannot read the engine's version") }
        return try response.decode(EngineVersion.self)
    }
}

import Foundation

/// Where the engine is, read from `DOCKER_HOST` the way the Docker CLI reads it.
///
/// - unset or empty: `unix:///var/run/docker.sock`
/// - `unix:///path/to/docker.sock`
/// - `tcp://host:port` (`host:port` alone means the same); port 2375 by default, 2376 with TLS
/// - `ssh://[user@]host[:port]`: through `ssh … docker system dial-stdio`, as the Docker CLI
///   does (the remote host needs the docker CLI; ssh uses the user's keys and config)
/// - TLS when `DOCKER_TLS_VERIFY` is set (non-empty): the server certificate is verified
///   against `$DOCKER_CERT_PATH/ca.pem` and the client presents `cert.pem` and `key.pem`
///   (`DOCKER_CERT_PATH` defaults to `~/.docker`). `DOCKER_TLS` alone: TLS without verifying
///   the server.
public struct EngineEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// How to reach the engine.
    public enum Transport: Sendable, Hashable {
        /// A unix socket at this path.
        case unix(path: String)
        /// TCP, in plain text or with TLS.
        case tcp(host: String, port: Int, tls: TLSFiles?)
        /// ssh to a host that runs `docker system dial-stdio`.
        case ssh(SSHDestination)

        /// Whether requests go over TCP (else over a unix socket: the engine's, or the ssh relay's).
        var isTCP: Bool {
            if case .tcp = self { true } else { false }
        }
    }

    /// Where ssh goes: `ssh://[user@]host[:port]`.
    public struct SSHDestination: Sendable, Hashable {
        public var user: String?
        public var host: String
        public var port: Int?

        /// ssh's arguments for it (without the command).
        var sshArguments: [String] {
            (user.map { ["-l", $0] } ?? []) + (port.map { ["-p", String($0)] } ?? []) + [host]
        }
    }

    /// The certificate files for TLS.
    public struct TLSFiles: Sendable, Hashable {
        /// `ca.pem`: the authority the server's certificate must chain to.
        public var caPath: String
        /// `cert.pem`: the client certificate; nil if the file is absent.
        public var certificatePath: String?
        /// `key.pem`: the client key; nil if the file is absent.
        public var keyPath: String?
        /// Whether the server's certificate is verified (`DOCKER_TLS_VERIFY`).
        public var verify: Bool
    }

    /// The default engine socket on Linux.
    public static let defaultSocketPath = "/var/run/docker.sock"

    /// How to reach the engine.
    public var transport: Transport

    /// Reads `DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_TLS` and `DOCKER_CERT_PATH`.
    ///
    /// - Throws: ``DockerError`` with ``DockerError/Code/invalidConfig`` when `DOCKER_HOST`
    ///   has a scheme heph cannot use or no host, or when TLS files are missing.
    public init(environment: [String: String]) throws {
        let host = environment["DOCKER_HOST"] ?? ""
        if host.isEmpty {
            transport = .unix(path: Self.defaultSocketPath)
            return
        }
        if host.hasPrefix("unix://") {
            let path = String(host.dropFirst("unix://".count))
            guard path.hasPrefix("/") else {
                throw DockerError(.invalidConfig, "DOCKER_HOST=\(host): the socket path must be absolute, such as unix:///var/run/docker.sock")
            }
            transport = .unix(path: path)
            return
        }
        if host.hasPrefix("ssh://") {
            transport = .ssh(try Self.sshDestination(host))
            return
        }
        // A socket's path without its scheme would be read as a host name: say what was meant.
        if !host.contains("://"), host.hasPrefix("/") || host.hasSuffix(".sock") {
            throw DockerError(.invalidConfig, host.hasPrefix("/")
                ? "DOCKER_HOST=\(host): a socket path needs the unix:// scheme; write DOCKER_HOST=unix://\(host)"
                : "DOCKER_HOST=\(host): a socket path needs the unix:// scheme and an absolute path, such as DOCKER_HOST=unix:///var/run/docker.sock")
        }
        var address = Substring(host)
        if let schemeEnd = host.range(of: "://") {
            let scheme = host[..<schemeEnd.lowerBound]
            guard scheme == "tcp" else {
                throw DockerError(.invalidConfig, "DOCKER_HOST=\(host): the scheme \"\(scheme)\" is not supported; use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST")
            }
            address = host[schemeEnd.upperBound...]
        }
        if let slash = address.firstIndex(of: "/") { address = address[..<slash] }
        let tls = try Self.tlsFiles(environment)
        let defaultPort = tls == nil ? 2375 : 2376
        let (name, port) = try Self.splitHostPort(address, defaultPort: defaultPort, original: host)
        transport = .tcp(host: name, port: port, tls: tls)
    }

    /// Reads the environment of this process.
    public static func fromProcessEnvironment() throws -> EngineEndpoint {
        try EngineEndpoint(environment: ProcessInfo.processInfo.environment)
    }

    /// The endpoint as a `DOCKER_HOST` value, for messages.
    public var description: String {
        switch transport {
        case .unix(let path): "unix://\(path)"
        case .tcp(let host, let port, _): "tcp://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        case .ssh(let destination):
            "ssh://\(destination.user.map { "\($0)@" } ?? "")\(destination.host.contains(":") ? "[\(destination.host)]" : destination.host)\(destination.port.map { ":\($0)" } ?? "")"
        }
    }

    /// `ssh://[user@]host[:port]`, with no path (the remote `docker system dial-stdio`
    /// finds its engine itself).
    private static func sshDestination(_ url: String) throws -> SSHDestination {
        var address = Substring(url.dropFirst("ssh://".count))
        if let slash = address.firstIndex(of: "/") {
            guard address[slash...] == "/" else {
                throw DockerError(.invalidConfig, "DOCKER_HOST=\(url): a path is not supported in an ssh URL; the remote docker finds its own engine (write ssh://USER@HOST[:PORT])")
            }
            address = address[..<slash]
        }
        var user: String?
        if let at = address.lastIndex(of: "@") {
            user = String(address[..<at])
            address = address[address.index(after: at)...]
            guard !(user ?? "").isEmpty else {
                throw DockerError(.invalidConfig, "DOCKER_HOST=\(url): the user name before @ is empty")
            }
        }
        let hasPort = address.hasPrefix("[") ? address.contains("]:") : address.contains(":")
        let (host, port) = try splitHostPort(address, defaultPort: 22, original: url, example: "ssh://USER@HOST")
        guard !host.hasPrefix("-") else {
            throw DockerError(.invalidConfig, "DOCKER_HOST=\(url): a host name cannot start with -")
        }
        return SSHDestination(user: user, host: host, port: hasPort ? port : nil)
    }

    private static func splitHostPort(_ address: Substring, defaultPort: Int, original: String, example: String = "tcp://HOST:PORT") throws -> (String, Int) {
        var hostPart = address
        var portPart: Substring?
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            hostPart = address[address.index(after: address.startIndex)..<close]
            let after = address[address.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() }
        } else if let colon = address.lastIndex(of: ":") {
            hostPart = address[..<colon]
            portPart = address[address.index(after: colon)...]
        }
        guard !hostPart.isEmpty else {
            throw DockerError(.invalidConfig, "DOCKER_HOST=\(original): no host name; use \(example)")
        }
        guard let portPart else { return (String(hostPart), defaultPort) }
        guard let port = Int(portPart), (1...65535).contains(port) else {
            throw DockerError(.invalidConfig, "DOCKER_HOST=\(original): the port \"\(portPart)\" is not a number in 1…65535")
        }
        return (String(hostPart), port)
    }

    private static func tlsFiles(_ environment: [String: String]) throws -> TLSFiles? {
        let verify = !(environment["DOCKER_TLS_VERIFY"] ?? "").isEmpty
        guard verify || !(environment["DOCKER_TLS"] ?? "").isEmpty else { return nil }
        let directory = environment["DOCKER_CERT_PATH"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? "") + "/.docker")
        let ca = directory + "/ca.pem"
        let certificate = directory + "/cert.pem"
        let key = directory + "/key.pem"
        if verify, !FileManager.default.isReadableFile(atPath: ca) {
            throw DockerError(.invalidConfig, "DOCKER_TLS_VERIFY is set but \(ca) cannot be read; set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem")
        }
        let hasClientCertificate = FileManager.default.isReadableFile(atPath: certificate) && FileManager.default.isReadableFile(atPath: key)
        return TLSFiles(
            caPath: ca,
            certificatePath: hasClientCertificate ? certificate : nil,
            keyPath: hasClientCertificate ? key : nil,
            verify: verify
        )
    }
}

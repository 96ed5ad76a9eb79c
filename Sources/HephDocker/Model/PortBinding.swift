#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One published port: a ContainerConfig `ports` entry, parsed.
///
/// Host side: `"8080"`, `"127.0.0.1:8080"` or `"[::1]:8080"`. Container side: `"80"`,
/// `"80/tcp"` or `"80/udp"`.
struct PortBinding: Sendable, Hashable {
    var hostIP: String?
    var hostPort: Int
    var containerPort: Int
    var proto: String

    /// The engine's key for the container side: `80/tcp`.
    var containerKey: String { "\(containerPort)/\(proto)" }

    /// Parses one entry; the error names `config.ports` and what is wrong.
    static func parse(host: String, container: String) throws -> PortBinding {
        if let entry = composeEntry(host) {
            throw DockerError(.invalidConfig, "config.ports: the key \(quoted(host)) is compose's HOST:CONTAINER; here the key is the host port and the value the container port: write \(entry)")
        }
        let (hostIP, hostPortText) = try splitHost(host)
        guard let hostPort = portNumber(hostPortText) else {
            throw DockerError(.invalidConfig, "config.ports: host port \(quoted(host)) is not a number in 1…65535")
        }
        var containerPortText = Substring(container)
        var proto = "tcp"
        if let slash = container.firstIndex(of: "/") {
            proto = String(container[container.index(after: slash)...])
            containerPortText = container[..<slash]
            guard proto == "tcp" || proto == "udp" else {
                throw DockerError(.invalidConfig, "config.ports: container port \(quoted(container)) (published on \(quoted(host))) has protocol \(quoted(proto)); use tcp or udp")
            }
        }
        guard let containerPort = portNumber(containerPortText) else {
            throw DockerError(.invalidConfig, "config.ports: container port \(quoted(container)) (published on \(quoted(host))) is not a number in 1…65535")
        }
        return PortBinding(hostIP: hostIP, hostPort: hostPort, containerPort: containerPort, proto: proto)
    }

    /// `"127.0.0.1:8080"` → (`127.0.0.1`, `8080`); `"8080"` → (nil, `8080`).
    private static func splitHost(_ host: String) throws -> (String?, Substring) {
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let address = String(host[host.index(after: host.startIndex)..<close])
            let after = host[host.index(after: close)...]
            guard after.hasPrefix(":"), isIPAddress(address, family: AF_INET6) else {
                throw DockerError(.invalidConfig, "config.ports: host address in \(quoted(host)) is not of the form [IPv6]:PORT")
            }
            return (address, after.dropFirst())
        }
        guard let colon = host.lastIndex(of: ":") else { return (nil, Substring(host)) }
        let address = String(host[..<colon])
        guard isIPAddress(address, family: AF_INET) else {
            throw DockerError(.invalidConfig, "config.ports: host address \(quoted(address)) in \(quoted(host)) is not an IPv4 address (write IPv6 as \"[::1]:8080\")")
        }
        return (address, host[host.index(after: colon)...])
    }

    /// The entry meant by a key in compose's form: `"8080:80"` → `[8080] = 80`,
    /// `"127.0.0.1:8080:80/udp"` → `["127.0.0.1:8080"] = "80/udp"`; nil for any other key.
    private static func composeEntry(_ host: String) -> String? {
        guard !host.hasPrefix("["), let colon = host.lastIndex(of: ":") else { return nil }
        let published = host[..<colon]
        let target = host[host.index(after: colon)...]
        guard let port = target.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first, portNumber(port) != nil else { return nil }
        let value = target.contains("/") ? quoted(target) : String(target)
        if portNumber(published) != nil { return "[\(published)] = \(value)" }
        guard let inner = published.lastIndex(of: ":"), portNumber(published[published.index(after: inner)...]) != nil,
              isIPAddress(String(published[..<inner]), family: AF_INET) else { return nil }
        return "[\(quoted(published))] = \(value)"
    }

    /// A decimal port in 1…65535, digits only (no sign, no spaces).
    private static func portNumber(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 5, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let port = Int(text), (1...65535).contains(port) else { return nil }
        return port
    }

    private static func isIPAddress(_ text: String, family: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(family, text, &buffer) == 1
    }
}

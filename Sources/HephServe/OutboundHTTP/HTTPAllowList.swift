/// The hosts a sandboxed script may reach with `heph.http.request`: `heph run --sandbox
/// --allow-http HOST[:PORT]` (repeatable). Without a port, any port of the host.
public struct HTTPAllowList: Sendable, Hashable {
    /// One allowed host, and port when one was given.
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        /// The host, lower case, IPv6 without brackets.
        public let host: String
        /// The port; nil allows every port.
        public let port: Int?

        /// Parses `HOST`, `HOST:PORT`, `[IPv6]` or `[IPv6]:PORT`.
        public init(_ text: String) throws(OutboundHTTPError) {
            var host = Substring(text)
            var port: Int?
            if host.hasPrefix("[") {
                guard let close = host.firstIndex(of: "]") else { throw Self.malformed(text) }
                let rest = host[host.index(after: close)...]
                host = host[host.index(after: host.startIndex)..<close]
                if !rest.isEmpty {
                    guard rest.hasPrefix(":"), let number = Int(rest.dropFirst()) else { throw Self.malformed(text) }
                    port = number
                }
            } else if let colon = host.lastIndex(of: ":") {
                guard host.firstIndex(of: ":") == colon, let number = Int(host[host.index(after: colon)...]) else { throw Self.malformed(text) }
                port = number
                host = host[..<colon]
            }
            guard !host.isEmpty, !host.contains("/") else { throw Self.malformed(text) }
            if let port, !(1...65535).contains(port) { throw OutboundHTTPError("--allow-http \(text): port \(port) is not from 1 to 65535") }
            self.host = host.lowercased()
            self.port = port
        }

        private static func malformed(_ text: String) -> OutboundHTTPError {
            OutboundHTTPError("--allow-http \(text): give a host and optionally a port, such as hooks.example, 127.0.0.1:8080 or [::1]:8080 (not a URL)")
        }

        public var description: String {
            let shown = host.contains(":") ? "[\(host)]" : host
            return port.map { "\(shown):\($0)" } ?? shown
        }
    }

    /// The allowed hosts; empty allows none.
    public let entries: [Entry]

    /// An allow list of `entries`.
    public init(_ entries: [Entry]) { self.entries = entries }

    /// Whether `target` may be reached.
    public func permits(_ target: OutboundTarget) -> Bool {
        entries.contains { $0.host == target.host && ($0.port == nil || $0.port == target.port) }
    }

    /// Why `target` may not be reached, for the error a script sees.
    public func refusal(_ target: OutboundTarget) -> String {
        let port = target.port == (target.scheme == "https" ? 443 : 80) ? "" : ":\(target.port)"
        let shown = target.host.contains(":") ? "[\(target.host)]" : target.host
        let allowed = entries.isEmpty ? "no --allow-http was given" : "allowed: \(entries.map(\.description).joined(separator: ", "))"
        return "\(shown)\(port) is not a host this sandboxed script may reach (\(allowed)); run it with --allow-http \(shown)\(port) to allow it"
    }
}

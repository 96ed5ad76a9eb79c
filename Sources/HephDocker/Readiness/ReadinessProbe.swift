import Foundation

/// How heph itself tells that a container serves (operations.md §5): `ready = { tcp = 80 }`
/// and its kin. Unlike a ``Healthcheck`` it is not the engine's: heph probes, from the
/// moment the container starts, until the first success.
public struct ReadinessProbe: Sendable, Hashable {
    /// What one probe does.
    public enum Check: Sendable, Hashable {
        /// A TCP connection to the container's own address on `port` is accepted.
        case tcp(port: Int)
        /// `GET path` on the container's own address and `port` answers `status`.
        case http(path: String, port: Int, status: Int)
        /// A line of the container's output (stdout or stderr) matches a Lua pattern.
        case log(LogPattern)
        /// A command run in the container (`heph.exec`'s forms) exits 0.
        case exec(Healthcheck.Test)
    }

    /// The probe.
    public var check: Check
    /// Seconds between probes; nil for the default (0.05 s, 1 s for `exec`).
    public var interval: Double?
    /// Seconds one probe may take; nil for the default (1 s).
    public var timeout: Double?

    /// Makes a probe.
    public init(check: Check, interval: Double? = nil, timeout: Double? = nil) {
        self.check = check
        self.interval = interval
        self.timeout = timeout
    }

    /// The time between two probes' starts.
    public var effectiveInterval: Duration {
        if let interval { return .seconds(interval) }
        if case .exec = check { return .seconds(1) }
        return .milliseconds(50)
    }

    /// One probe's limit.
    public var effectiveTimeout: Duration { .seconds(timeout ?? 1) }

    /// What it waits for, in words: `tcp port 80`, `GET /health on port 8080 answering 200`.
    public var summary: String {
        switch check {
        case .tcp(let port): "tcp port \(port)"
        case .http(let path, let port, let status): "GET \(path) on port \(port) answering \(status)"
        case .log(let pattern): "a line of output matching \(quoted(pattern.source))"
        case .exec(.shell(let command)): "exec \(quoted(command)) exiting 0"
        case .exec(.exec(let arguments)): "exec \(arguments.map(quoted).joined(separator: " ")) exiting 0"
        }
    }

    /// Throws ``DockerError/Code/invalidConfig`` naming the field at fault and the fix.
    func validate() throws {
        func invalid(_ text: String) -> DockerError { DockerError(.invalidConfig, "config.ready.\(text)") }
        func checkPort(_ port: Int, field: String) throws {
            guard (1...65535).contains(port) else { throw invalid("\(field): \(port) is not a port; use the container's port, 1 to 65535") }
        }
        switch check {
        case .tcp(let port):
            try checkPort(port, field: "tcp")
        case .http(let path, let port, let status):
            guard path.hasPrefix("/") else { throw invalid("http: \(quoted(path)) is not a path; start it with \"/\", such as \"/health\"") }
            guard !path.contains(where: { $0 == " " || $0.isNewline || $0 == "\0" }) else {
                throw invalid("http: \(quoted(path)) holds a space or a line break; percent-encode them (%20)")
            }
            try checkPort(port, field: "port")
            guard (100...599).contains(status) else { throw invalid("status: \(status) is not an HTTP status; use 100 to 599 (default 200)") }
        case .log(let pattern):
            guard !pattern.source.isEmpty else { throw invalid("log: is empty; give a Lua pattern a line of the output matches, such as \"listening on\"") }
        case .exec(.shell(let command)):
            guard !command.allSatisfy(\.isWhitespace) else { throw invalid("exec: is empty; give a shell command or an array") }
            guard !command.utf8.contains(0) else { throw invalid("exec: contains a NUL byte") }
        case .exec(.exec(let arguments)):
            guard let first = arguments.first, !first.isEmpty else { throw invalid("exec: is empty; give a shell command or an array") }
            guard !arguments.contains(where: { $0.utf8.contains(0) }) else { throw invalid("exec: contains a NUL byte") }
        }
        for (field, value) in [("interval", interval), ("timeout", timeout)] {
            guard let value else { continue }
            guard value.isFinite, value >= 0.01, value <= 3600 else {
                throw invalid("\(field): \(formatted(value)) is out of range; use seconds from 0.01 to 3600")
            }
        }
    }
}

/// A Lua pattern a log line must match. Matching needs Lua, which this module does not
/// link: the Lua module makes it with its matcher (and checks the pattern as it does).
public struct LogPattern: Sendable, Hashable {
    /// The pattern as written.
    public let source: String
    /// Whether a line (without its line break) matches.
    public let matches: @Sendable (String) -> Bool

    /// A pattern with its matcher.
    public init(source: String, matches: @escaping @Sendable (String) -> Bool) {
        self.source = source
        self.matches = matches
    }

    /// A pattern matched as plain text (a substring): for Swift callers and tests.
    public init(plain text: String) {
        self.init(source: text) { $0.contains(text) }
    }

    public static func == (lhs: LogPattern, rhs: LogPattern) -> Bool { lhs.source == rhs.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
}

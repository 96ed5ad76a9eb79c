import Foundation

/// The label a container made from a config with `ready` carries: its probe, as JSON, so
/// `heph.wait_ready` (in any process) probes it as `heph.up` did. Left out of the config's
/// fingerprint: changing only how readiness is probed never replaces a container.
public let readyLabel = "io.heph.ready"

extension ReadinessProbe {
    /// The label's form: one field per kind, as the Lua table is written.
    private struct Wire: Codable {
        var tcp: Int?
        var http: String?
        var port: Int?
        var status: Int?
        var log: String?
        var exec: [String]?
        var shell: String?
        var interval: Double?
        var timeout: Double?
    }

    /// The probe as ``readyLabel``'s value.
    public var labelValue: String {
        var wire = Wire(interval: interval, timeout: timeout)
        switch check {
        case .tcp(let port): wire.tcp = port
        case .http(let path, let port, let status): (wire.http, wire.port, wire.status) = (path, port, status)
        case .log(let pattern): wire.log = pattern.source
        case .exec(.exec(let arguments)): wire.exec = arguments
        case .exec(.shell(let command)): wire.shell = command
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(wire)) ?? Data(), as: UTF8.self)
    }

    /// The probe a ``readyLabel`` value holds; nil when it holds none. `pattern` makes a log
    /// probe's matcher from its source.
    public init?(labelValue: String, pattern: (String) -> LogPattern?) {
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(labelValue.utf8)) else { return nil }
        let check: Check
        if let port = wire.tcp {
            check = .tcp(port: port)
        } else if let path = wire.http, let port = wire.port {
            check = .http(path: path, port: port, status: wire.status ?? 200)
        } else if let source = wire.log, let matcher = pattern(source) {
            check = .log(matcher)
        } else if let arguments = wire.exec {
            check = .exec(.exec(arguments))
        } else if let command = wire.shell {
            check = .exec(.shell(command))
        } else {
            return nil
        }
        self.init(check: check, interval: wire.interval, timeout: wire.timeout)
    }
}

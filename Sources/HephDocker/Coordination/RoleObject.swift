import Foundation

/// The label naming what a coordination object is: `lease`, `state`, `watcher` or `probe`.
///
/// Such objects carry it and **not** ``managedLabel``: lists, `heph ps`, hooks, pollers,
/// `teardown_all` and a plain `heph down` never see them.
public let roleLabel = "io.heph.role"

/// Labels a watcher's registry entry (and a lease) carries about the process behind it.
enum WatcherLabel {
    static let instance = "io.heph.instance"
    static let host = "io.heph.host"
    static let pid = "io.heph.pid"
    static let since = "io.heph.since"
}

/// The coordination objects heph keeps in the engine for a project: one lease, one state,
/// and one registry entry per running watcher.
public enum RoleObject: String, Sendable, CaseIterable, Codable {
    /// Held by the project's leading watcher (`heph-.lease.P`).
    case lease
    /// The project's `heph.state`: one volume per key (`heph-.state.P.HASH.VERSION`).
    case state
    /// One per running watcher (`heph-.watcher.P.INSTANCE`).
    case watcher
    /// Where heph cannot reach a container's address itself, the readiness probes run from
    /// one of these on the container's network, as long as this process needs it
    /// (`heph-.probe.P.INSTANCE.NETWORK`).
    case probe

    /// What every coordination object's engine name starts with. A service's engine name
    /// is `heph-NAME` with NAME starting with a letter or digit, or `heph_P_NAME`: no
    /// service can produce a name starting with `heph-.`.
    public static let namePrefix = "heph-."

    /// The engine name of this project's object; a watcher's is per instance (and a state
    /// volume's per key, after this).
    public func engineName(project: Project, instance: String? = nil) -> String {
        let base = "\(Self.namePrefix)\(rawValue).\(project.name)"
        return instance.map { "\(base).\($0)" } ?? base
    }

    /// The labels of this project's object.
    func labels(project: Project, identity: WatcherIdentity? = nil) -> [String: String] {
        var labels = [roleLabel: rawValue, projectLabel: project.name]
        if let identity {
            labels[WatcherLabel.instance] = identity.instance
            labels[WatcherLabel.host] = identity.host
            labels[WatcherLabel.pid] = String(identity.pid)
            labels[WatcherLabel.since] = identity.since
        }
        return labels
    }
}

/// Who a heph process is, as its registry entry and lease say.
public struct WatcherIdentity: Sendable, Hashable, Codable {
    /// Random per process: pids and host names repeat (in containers above all).
    public var instance: String
    /// The host name.
    public var host: String
    /// The process id.
    public var pid: Int
    /// When the process started, ISO 8601 in UTC.
    public var since: String

    /// This process.
    public static let current: WatcherIdentity = {
        let instance = (0..<6).map { _ in
            let byte = String(UInt8.random(in: 0...255), radix: 16)
            return byte.count == 1 ? "0" + byte : byte
        }.joined()
        // By hand, not with Foundation's host name and date formatter: those load ICU's
        // data and resolve the name, milliseconds at the start of every `heph run`.
        var name = [UInt8](repeating: 0, count: 256)
        let host = gethostname(&name, name.count - 1) == 0 ? String(decoding: name.prefix { $0 != 0 }, as: UTF8.self) : "localhost"
        return WatcherIdentity(instance: instance, host: host, pid: Int(getpid()), since: iso8601(unixSeconds: Int(time(nil))))
    }()

    /// `2026-11-30T09:24:27Z`. Not with gmtime: glibc reads the time zone files on its first
    /// call, which a time in UTC does not need.
    static func iso8601(unixSeconds: Int) -> String {
        // Howard Hinnant's civil_from_days: the proleptic Gregorian date of a day count.
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let seconds = unixSeconds - days * 86_400
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))Z"
    }

    /// Read back from an object's labels; nil when they lack any of it.
    init?(labels: [String: String]?) {
        guard let labels, let instance = labels[WatcherLabel.instance], let host = labels[WatcherLabel.host],
              let pid = labels[WatcherLabel.pid].flatMap(Int.init), let since = labels[WatcherLabel.since] else { return nil }
        self.init(instance: instance, host: host, pid: pid, since: since)
    }

    /// Makes an identity.
    public init(instance: String, host: String, pid: Int, since: String) {
        self.instance = instance
        self.host = host
        self.pid = pid
        self.since = since
    }
}

/// The image heph's own small containers run (the lease and registry entries run `sh`; the
/// state's is never started): `HEPH_SYSTEM_IMAGE`, else `busybox:latest`. It needs a shell
/// whose `read` takes `-t` (busybox's, bash; not dash).
public enum SystemImage {
    /// The default.
    public static let defaultName = "busybox:latest"

    /// The image in use.
    public static var name: String {
        let configured = ProcessInfo.processInfo.environment["HEPH_SYSTEM_IMAGE"] ?? ""
        return configured.isEmpty ? defaultName : configured
    }
}

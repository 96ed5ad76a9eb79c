import ArgumentParser
import Foundation
import HephDocker
import HephLua
import Logging
import Synchronization

/// `heph run --log-format json`: one JSON object per line on stderr for every transition,
/// hook run, action, engine notice, `heph.up` progress line and script print
/// (docs/operations.md, "The JSON log"). Every object opens with `ts` (Unix seconds),
/// `level`, `kind` and `project`; the other fields depend on the kind.
final class StructuredLog: Sendable {
    /// A field's value.
    enum Value: Sendable, ExpressibleByStringLiteral {
        case string(String)
        case number(Double)
        case integer(Int)
        case boolean(Bool)
        case null

        init(stringLiteral value: String) { self = .string(value) }
    }

    /// Where the project comes from (read at each line: a script may choose its project),
    /// and what it said last.
    private let projectSource = Mutex<(read: @Sendable () -> String, last: String)>(({ "default" }, "default"))
    /// What was written to standard error by Lua without its line's end yet.
    private let partial = Mutex<[UInt8]>([])

    /// A log whose `project` is `default` until ``follow(project:)``.
    init() {}

    /// Each line's project is what `source` says then.
    func follow(project source: @escaping @Sendable () -> String) {
        let name = source()
        projectSource.withLock { $0 = (source, name) }
    }

    /// The project now; `cached`: what it was last (for a line swift-log writes, which may
    /// come while the backend holds the lock the project is read under).
    private func project(cached: Bool) -> String {
        let read = projectSource.withLock { $0.read }
        guard !cached else { return projectSource.withLock { $0.last } }
        let name = read()
        projectSource.withLock { $0.last = name }
        return name
    }

    /// Writes one object: the common fields, then `fields` in order.
    func emit(_ kind: String, level: String = "info", cachedProject: Bool = false, _ fields: KeyValuePairs<String, Value>) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var line = "{\"ts\":\(String(format: "%.6f", Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)),\"level\":\(Self.quoted(level)),\"kind\":\(Self.quoted(kind)),\"project\":\(Self.quoted(project(cached: cachedProject)))"
        for (key, value) in fields {
            line += ",\(Self.quoted(key)):" + Self.encoded(value)
        }
        line += "}\n"
        // One write per line (stderr is unbuffered): lines of threads never interleave.
        LuaRuntime.standardError(line)
    }

    private static func encoded(_ value: Value) -> String {
        switch value {
        case .string(let text): quoted(text)
        case .number(let number): number.isFinite ? String(format: "%.6f", number) : "null"
        case .integer(let number): String(number)
        case .boolean(let flag): flag ? "true" : "false"
        case .null: "null"
        }
    }

    /// `text` as a JSON string.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    // MARK: What a run produces

    /// A script's `print` (standard output: one object per line it printed).
    func printed(_ bytes: [UInt8]) {
        for line in Self.lines(bytes) { emit("print", ["stream": "stdout", "text": .string(line)]) }
    }

    /// What Lua wrote to `io.stderr` (a plugin's `heph restart: …`): one object per line,
    /// once the line is complete.
    func wroteToStandardError(_ bytes: [UInt8]) {
        let complete: [UInt8] = partial.withLock { partial in
            partial += bytes
            guard let end = partial.lastIndex(of: 0x0A) else { return [] }
            defer { partial.removeSubrange(...end) }
            return Array(partial[...end])
        }
        for line in Self.lines(complete) { emit("print", level: "warning", ["stream": "stderr", "text": .string(line)]) }
    }

    /// A line heph says (`heph: …`): a notice; `info` for what only reports progress, else
    /// `warning` unless `level` says.
    func notice(_ text: String, level: String? = nil, cachedProject: Bool = false) {
        // One object per notice: a report's traceback stays in its message.
        let message = text.hasPrefix("heph: ") ? String(text.dropFirst("heph: ".count)) : text
        let trimmed = message.hasSuffix("\n") ? String(message.dropLast()) : message
        guard !trimmed.isEmpty else { return }
        emit("notice", level: level ?? (Self.informational.contains { trimmed.hasPrefix($0) } ? "info" : "warning"), cachedProject: cachedProject,
             ["message": .string(trimmed)])
    }

    /// How the notices that only report progress begin.
    static let informational = ["reload: took", "metrics at", "leading project", "standing by", "the engine's event stream is back", "--down removed"]

    /// A `heph.up` progress line.
    func progress(_ text: String) {
        emit("progress", ["message": .string(text.hasSuffix("\n") ? String(text.dropLast()) : text)])
    }

    /// A hook run that ended.
    func hook(_ run: HookRun) {
        emit("hook", level: run.error == nil ? "info" : "error",
             ["event": .string(run.event), "duration_s": .number(run.seconds), "error": run.error.map(Value.string) ?? .null])
    }

    /// An orchestrator call that changes something.
    func action(_ op: String) {
        emit("action", ["op": .string(op)])
    }

    /// A transition the watcher reported (notices are said by the runtime, as ``notice(_:level:)``).
    func observe(_ item: TransitionFeed.Item) {
        guard case .transition(let transition, let caller) = item else { return }
        let (event, status, code): (String, String, Value) = switch transition.kind {
        case .status(let status): ("status", status.rawValue, .null)
        case .exited(let code, _): ("exit", "stopped", .integer(code))
        case .removed: ("removed", "removed", .null)
        }
        emit("transition", [
            "container": .string(transition.name), "id": .string(transition.id), "event": .string(event), "status": .string(status),
            "previous": transition.previous.map { .string($0.rawValue) } ?? .null, "cause": .string(transition.cause.rawValue),
            "state": .string(transition.state.rawValue), "exit_code": code,
            "expected": .boolean(caller != nil), "by": caller.map(Value.string) ?? .null,
        ])
    }

    /// Lines of `bytes`, without their ends (bytes that are not UTF-8 replaced).
    private static func lines(_ bytes: [UInt8]) -> [String] {
        guard !bytes.isEmpty else { return [] }
        var text = String(decoding: bytes, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        return text.components(separatedBy: "\n")
    }
}

/// swift-log's lines (the engine layer's warnings) as notices of the JSON log.
struct StructuredLogHandler: LogHandler {
    let log: StructuredLog
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        log.notice("\(event.message)", level: event.level.rawValue, cachedProject: true)
    }
}

/// `heph run --log-format`.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

import CHephLua
import CLua
import HephDocker
import Synchronization

/// Lua patterns matched outside any script's state: a readiness probe's `log` pattern is
/// matched against the container's output off the Lua thread, by heph.up's probes and
/// heph.wait_ready's, on one small state of its own (only the string library).
enum LuaPattern {
    /// The state: a bare Lua with the string library, used only under ``lock`` (matches
    /// are short, and there are few at once).
    nonisolated(unsafe) private static let lua: OpaquePointer? = {
        let lua = luaL_newstate()
        if let lua {
            luaL_requiref(lua, LUA_STRLIBNAME, luaopen_string, 1)
            heph_pop(lua, 1)
        }
        return lua
    }()
    private static let lock = Mutex(())

    /// Longest line matched, in bytes: a longer line is matched by its start. Lua's
    /// matcher backtracks, and a pattern such as `.-.-.-x` costs the line's length to the
    /// power of its quantifiers.
    static let maximumLine = 1024

    /// A ``LogPattern`` of `source`, or the reason it is malformed (Lua's own words).
    static func make(_ source: String) -> Result<LogPattern, FieldError> {
        // Lua reports most malformed patterns only when it meets them: tried on lines that
        // reach every part of the pattern's syntax.
        for sample in ["", "x", source] {
            if case .malformed(let message) = find(sample, source) { return .failure(FieldError(message: message)) }
        }
        return .success(LogPattern(source: source) { line in
            find(String(line.utf8.prefix(maximumLine)) ?? line, source) == .matches
        })
    }

    /// A ``LogPattern`` of `source`, nil when malformed.
    static func matcher(_ source: String) -> LogPattern? {
        try? make(source).get()
    }

    private enum Found: Equatable {
        case matches, differs
        case malformed(String)
    }

    private static func find(_ subject: String, _ pattern: String) -> Found {
        lock.withLock { _ in
            guard let lua else { return .malformed("no memory for the pattern matcher") }
            var error = [CChar](repeating: 0, count: 256)
            let found = subject.withCString { subjectPointer in
                pattern.withCString { patternPointer in
                    heph_pattern_find(lua, subjectPointer, subject.utf8.count, patternPointer, pattern.utf8.count, &error, error.count)
                }
            }
            if found < 0 {
                // "malformed pattern (missing ']')", without Lua's "[C]: in ?" position.
                let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return .malformed(message.components(separatedBy: ": ").last ?? message)
            }
            return found == 1 ? .matches : .differs
        }
    }
}

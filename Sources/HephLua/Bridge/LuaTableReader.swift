import CLua
import HephDocker

/// A problem with one field of a table argument; the message names the field
/// (`config.ports: …`) and becomes the text of a `bad argument` error.
struct FieldError: Error {
    var message: String
}

/// Reads the fields of one table argument (at an absolute stack index) into Swift values,
/// naming each field by its path (`config.healthcheck.interval`) in errors. Raw access
/// only: a table's metatable is never consulted.
struct LuaTableReader {
    let stack: LuaStack
    /// Absolute index of the table.
    let table: Int32
    /// How errors name this table: `config`, `config.healthcheck`.
    let path: String

    /// Throws for a key that is not a string or not in `known`, suggesting the closest
    /// known name for a misspelling.
    func rejectUnknownFields(known: [String]) throws(FieldError) {
        var problem: FieldError?
        stack.forEachPair(table) {
            guard problem == nil else { return }
            guard let key = stack.string(at: -2) else {
                problem = FieldError(message: "\(path): field names must be strings, got \(describeKey(at: -2))")
                return
            }
            guard !known.contains(key) else { return }
            if let suggestion = Self.closest(to: key, in: known) {
                problem = FieldError(message: "\(field(key)): unknown field; did you mean \(suggestion)?")
            } else {
                problem = FieldError(message: "\(field(key)): unknown field (known: \(known.joined(separator: ", ")))")
            }
        }
        if let problem { throw problem }
    }

    /// A string field (numbers are converted); nil when absent.
    func string(_ key: String) throws(FieldError) -> String? {
        defer { stack.pop() }
        stack.rawField(table, key)
        return try stringValue(at: -1, field: field(key))
    }

    /// A number field; nil when absent.
    func number(_ key: String) throws(FieldError) -> Double? {
        defer { stack.pop() }
        let type = stack.rawField(table, key)
        if type == LUA_TNIL { return nil }
        guard let value = stack.number(at: -1) else {
            throw FieldError(message: "\(field(key)): expected a number, got \(stack.typeName(at: -1))")
        }
        return value
    }

    /// A whole-number field; nil when absent.
    func integer(_ key: String) throws(FieldError) -> Int? {
        guard let value = try number(key) else { return nil }
        guard value == value.rounded() else { throw FieldError(message: "\(field(key)): expected a whole number, got \(formatted(value))") }
        guard abs(value) <= Double(Int32.max) else { throw FieldError(message: "\(field(key)): \(formatted(value)) is too large") }
        return Int(value)
    }

    /// A table of string keys to string values (`env`, `labels`, `volumes`); with
    /// `integerKeys`, integer keys are allowed too and converted (`ports = { [8080] = 80 }`).
    func stringMap(_ key: String, integerKeys: Bool = false, hint: String) throws(FieldError) -> [String: String] {
        defer { stack.pop() }
        let type = stack.rawField(table, key)
        if type == LUA_TNIL { return [:] }
        return try stringMapValue(at: -1, field: field(key), integerKeys: integerKeys, hint: hint)
    }

    /// The value at `index` as a table of strings to strings, named `path` in errors.
    func stringMapValue(at index: Int32, field path: String, integerKeys: Bool = false, hint: String) throws(FieldError) -> [String: String] {
        guard stack.type(at: index) == LUA_TTABLE else { throw FieldError(message: "\(path): expected a table \(hint), got \(stack.typeName(at: index))") }
        let map = stack.absolute(index)
        var result: [String: String] = [:]
        var problem: FieldError?
        stack.forEachPair(map) {
            guard problem == nil else { return }
            let name: String
            if let text = stack.string(at: -2) {
                name = text
            } else if integerKeys, let number = stack.integer(at: -2) {
                name = String(number)
            } else {
                problem = FieldError(message: "\(path): expected a table \(hint), but it has \(describeKey(at: -2))")
                return
            }
            do throws(FieldError) {
                result[name] = try requiredString(at: -1, field: "\(path)\(Self.member(name))")
            } catch {
                problem = error
            }
        }
        if let problem { throw problem }
        return result
    }

    /// An array of strings (`cmd`, `entrypoint`); nil when absent.
    func stringArray(_ key: String) throws(FieldError) -> [String]? {
        defer { stack.pop() }
        let type = stack.rawField(table, key)
        if type == LUA_TNIL { return nil }
        return try stringArrayValue(at: -1, field: field(key))
    }

    /// Reads the field `key`, when it is a table, through a reader for it.
    func withTable<T>(_ key: String, _ body: (LuaTableReader) throws(FieldError) -> T) throws(FieldError) -> T? {
        defer { stack.pop() }
        let type = stack.rawField(table, key)
        if type == LUA_TNIL { return nil }
        guard type == LUA_TTABLE else { throw FieldError(message: "\(field(key)): expected a table, got \(stack.typeName(at: -1))") }
        return try body(LuaTableReader(stack: stack, table: stack.absolute(-1), path: field(key)))
    }

    /// The value at `index` as an array of strings, named `field` in errors.
    func stringArrayValue(at index: Int32, field: String) throws(FieldError) -> [String] {
        let array = stack.absolute(index)
        guard stack.type(at: array) == LUA_TTABLE else {
            throw FieldError(message: "\(field): expected an array of strings, got \(stack.typeName(at: array))"
                + (stack.type(at: array) == LUA_TSTRING ? #" (for a shell command write { "sh", "-c", "…" })"# : ""))
        }
        let count = Int(lua_rawlen(stack.state, array))
        var problem: FieldError?
        stack.forEachPair(array) {
            guard problem == nil else { return }
            if let position = stack.integer(at: -2), stack.string(at: -2) == nil, (1...max(count, 1)).contains(position) { return }
            problem = FieldError(message: "\(field): expected an array of strings, but it has \(describeKey(at: -2))")
        }
        if let problem { throw problem }
        var result: [String] = []
        for position in 1...max(count, 1) where count > 0 {
            stack.rawIndex(array, position)
            defer { stack.pop() }
            result.append(try requiredString(at: -1, field: "\(field)[\(position)]"))
        }
        return result
    }

    // MARK: Helpers

    /// `config.image`, or `config["odd key"]` when the key is not an identifier.
    func field(_ key: String) -> String { path + Self.member(key) }

    private static func member(_ key: String) -> String {
        let isIdentifier = key.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } == true
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        return isIdentifier ? ".\(key)" : "[\(quoted(key))]"
    }

    /// The string (or number, converted) at `index`; nil for nil.
    private func stringValue(at index: Int32, field: String) throws(FieldError) -> String? {
        switch stack.type(at: index) {
        case LUA_TNIL: return nil
        case LUA_TSTRING:
            guard let text = stack.string(at: index) else { throw FieldError(message: "\(field): is not valid UTF-8") }
            return text
        case LUA_TNUMBER: return stack.numberText(at: index)
        default: throw FieldError(message: "\(field): expected a string, got \(stack.typeName(at: index))")
        }
    }

    /// Like ``stringValue(at:field:)``, but nil is an error too.
    private func requiredString(at index: Int32, field: String) throws(FieldError) -> String {
        guard let text = try stringValue(at: index, field: field) else {
            throw FieldError(message: "\(field): expected a string, got nil")
        }
        return text
    }

    /// `the key "x"`, `the number key 1.5`, `a boolean key`: for messages about keys.
    private func describeKey(at index: Int32) -> String {
        if let text = stack.string(at: index) { return "the key \(quoted(text))" }
        if let text = stack.numberText(at: index) { return "the number key \(text)" }
        return "a \(stack.typeName(at: index)) key"
    }

    /// The known name `key` most likely misspells: same letters ignoring case and `_`, or
    /// at most two edits away.
    static func closest(to key: String, in known: [String]) -> String? {
        // A key longer than every known name by more than two is none of them misspelt (and
        // comparing a megabyte-long key letter by letter would hold the Lua thread for seconds).
        guard key.utf8.count <= (known.map(\.utf8.count).max() ?? 0) + 2 else { return nil }
        let folded = key.lowercased().filter { $0 != "_" }
        if let match = known.first(where: { $0.lowercased().filter { $0 != "_" } == folded }) { return match }
        let scored = known.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 < $1.1 }?.0
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

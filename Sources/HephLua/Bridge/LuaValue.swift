import CLua

/// A Lua value built away from the Lua thread (by an engine call on another task) and
/// pushed onto the stack there. Strings are UTF-8; `bytes` are any bytes.
indirect enum LuaValue: Sendable, Hashable {
    case `nil`
    case boolean(Bool)
    case integer(Int)
    case number(Double)
    case string(String)
    /// A string of any bytes (a container's output need not be UTF-8).
    case bytes([UInt8])
    /// A sequence `{ v1, v2, … }`.
    case array([LuaValue])
    /// A record `{ key = value, … }`.
    case record([String: LuaValue])
}

extension LuaStack {
    /// Pushes `value` (tables are built with raw sets, so nothing can raise but memory).
    func push(_ value: LuaValue) {
        switch value {
        case .nil: pushNil()
        case .boolean(let flag): push(flag)
        case .integer(let number): push(number)
        case .number(let number): push(number)
        case .string(let text): push(text)
        case .bytes(let bytes):
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(state, $0.baseAddress, $0.count) }
            }
        case .array(let items):
            lua_createtable(state, Int32(clamping: items.count), 0)
            for (offset, item) in items.enumerated() {
                push(item)
                lua_rawseti(state, -2, lua_Integer(offset + 1))
            }
        case .record(let fields):
            lua_createtable(state, 0, Int32(clamping: fields.count))
            let table = absolute(-1)
            for (key, field) in fields {
                push(field)
                setRawField(table, key)
            }
        }
    }
}

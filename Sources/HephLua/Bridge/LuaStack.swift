import CHephLua
import CLua
import HephDocker

/// Swift's view of a Lua stack: only calls that cannot raise a Lua error.
///
/// A Lua error is a longjmp, and a longjmp across Swift frames is undefined behaviour, so
/// nothing here calls a metamethod or an API function documented as raising (other than
/// by running out of memory): tables are read and written raw, strings are read without
/// conversion. Whatever may raise runs in C (`CHephLua`) or under `lua_pcall`.
struct LuaStack {
    /// The `lua_State *` (a coroutine's or the main state's).
    let state: OpaquePointer

    init(_ state: OpaquePointer) {
        self.state = state
    }

    var top: Int32 { lua_gettop(state) }

    func type(at index: Int32) -> Int32 { lua_type(state, index) }

    /// Loads a chunk of bytes (`mode` "b": bytecode) and pushes it, or the error message;
    /// returns the status (`LUA_OK`).
    func load(_ chunk: [UInt8], chunkName: String, mode: String) -> Int32 {
        chunk.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { luaL_loadbufferx(state, $0.baseAddress, $0.count, chunkName, mode) }
        }
    }

    /// Compiles `source` as the chunk `chunkName` (`=stdin`, `@file`) in `mode` (`t`: text
    /// only; nil: text or binary) and pushes the function, or the message; returns the
    /// status (`LUA_OK`).
    func load(_ source: String, chunkName: String, mode: String? = "t") -> Int32 {
        var source = source
        return source.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { luaL_loadbufferx(state, $0.baseAddress, $0.count, chunkName, mode) }
        }
    }

    /// Whether argument `index` is absent or nil.
    func isNoneOrNil(_ index: Int32) -> Bool {
        heph_isnoneornil(state, index) != 0
    }

    /// `no value`, `nil`, `table`…, as Lua's own messages name types.
    func typeName(at index: Int32) -> String {
        type(at: index) == LUA_TNONE ? "no value" : String(cString: heph_typename_at(state, index))
    }

    func absolute(_ index: Int32) -> Int32 { lua_absindex(state, index) }

    func pop(_ count: Int32 = 1) { heph_pop(state, count) }

    // MARK: Pushing

    func pushNil() { lua_pushnil(state) }
    func push(_ value: Bool) { lua_pushboolean(state, value ? 1 : 0) }
    func push(_ value: Int) { lua_pushinteger(state, lua_Integer(value)) }
    func push(_ value: Double) { lua_pushnumber(state, value) }

    func push(_ value: String) {
        var value = value
        value.withUTF8 { bytes in
            _ = bytes.withMemoryRebound(to: CChar.self) { lua_pushlstring(state, $0.baseAddress, $0.count) }
        }
    }

    // MARK: Reading without conversion

    /// The bytes of the string at `index`; nil unless it is a string (numbers are not converted).
    func bytes(at index: Int32) -> UnsafeRawBufferPointer? {
        guard type(at: index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = lua_tolstring(state, index, &length) else { return nil }
        return UnsafeRawBufferPointer(start: pointer, count: length)
    }

    /// The string at `index` if it is valid UTF-8; nil if it is not a string or not UTF-8.
    func string(at index: Int32) -> String? {
        bytes(at: index).flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// The string at `index` with invalid UTF-8 replaced by U+FFFD: for messages, which must
    /// be shown whatever bytes a script put in them.
    func lossyString(at index: Int32) -> String? {
        bytes(at: index).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The number at `index`; nil unless it is a number (strings are not converted).
    func number(at index: Int32) -> Double? {
        type(at: index) == LUA_TNUMBER ? lua_tonumberx(state, index, nil) : nil
    }

    /// The integer at `index` when it is an integer, or a float with an integral value.
    func integer(at index: Int32) -> Int? {
        guard type(at: index) == LUA_TNUMBER else { return nil }
        if lua_isinteger(state, index) != 0 { return Int(lua_tointegerx(state, index, nil)) }
        let value = lua_tonumberx(state, index, nil)
        guard value == value.rounded(), abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    /// A number as text the way a person writes it: `8080`, `0.5`, `1e+300`, `nan`.
    func numberText(at index: Int32) -> String? {
        if lua_isinteger(state, index) != 0 { return String(lua_tointegerx(state, index, nil)) }
        return number(at: index).map(formatted)
    }

    // MARK: Raw table access

    /// Pushes `table[key]` (raw) and returns its type. `table` is an absolute index.
    @discardableResult
    func rawField(_ table: Int32, _ key: String) -> Int32 {
        push(key)
        return lua_rawget(state, table)
    }

    /// Pushes `table[index]` (raw) and returns its type.
    @discardableResult
    func rawIndex(_ table: Int32, _ index: Int) -> Int32 {
        lua_rawgeti(state, table, lua_Integer(index))
    }

    /// Sets `table[key]` (raw) to the value on top, popping it. `table` is an absolute index.
    func setRawField(_ table: Int32, _ key: String) {
        push(key)
        heph_insert(state, -2)
        lua_rawset(state, table)
    }

    /// Calls `body` for each key/value of the table at `table` (absolute), with the key at
    /// -2 and the value at -1. `body` must leave the stack as it found it, and must not
    /// convert the key in place (so `bytes`/`string`, never `lua_tolstring` on a number).
    func forEachPair(_ table: Int32, _ body: () throws -> Void) rethrows {
        pushNil()
        while lua_next(state, table) != 0 {
            do {
                try body()
            } catch {
                pop(2)
                throw error
            }
            pop(1)
        }
    }

    /// Pushes the registry value `reference` names.
    func pushReference(_ reference: Int32) {
        lua_rawgeti(state, heph_registryindex(), lua_Integer(reference))
    }

    /// Pops the top value into the registry and returns its reference.
    func makeReference() -> Int32 {
        luaL_ref(state, heph_registryindex())
    }

    /// Frees `reference`; the value may then be collected.
    func releaseReference(_ reference: Int32) {
        luaL_unref(state, heph_registryindex(), reference)
    }
}

import CHephLua
import CLua
import Foundation
import Synchronization

extension LuaRuntime {
    /// What Tab offers for `word` at the REPL: the globals starting with it, or for
    /// `a.b.pre` (`a.b:pre`) the fields (methods) of the table `a.b` starting with `pre`,
    /// through `__index` tables too, sorted. Raw reads only: completing runs no script code.
    /// Blocks the calling thread until the Lua thread answers (at most a second).
    public func completions(for word: String) -> [String] {
        let answer = Mutex<[String]>([])
        let done = DispatchSemaphore(value: 0)
        let posted = thread.post { [weak self] in
            answer.withLock { $0 = self?.candidates(for: word) ?? [] }
            done.signal()
        }
        // Real time, not the run's clock: a person waits at the prompt.
        guard posted, done.wait(timeout: .now() + 1) == .success else { return [] }
        return answer.withLock { $0 }
    }

    /// ``completions(for:)`` without blocking the caller: for a `heph attach` session,
    /// answered once the Lua thread is free (between hooks).
    public func completionsWhenFree(for word: String) async -> [String] {
        await thread.perform { [weak self] in self?.candidates(for: word) ?? [] } ?? []
    }

    private func candidates(for word: String) -> [String] {
        guard let state else { return [] }
        let stack = LuaStack(state)
        let separator = word.lastIndex { $0 == "." || $0 == ":" }
        let path = separator.map { word[..<$0].split(separator: ".", omittingEmptySubsequences: false).map(String.init) } ?? []
        let partial = separator.map { String(word[word.index(after: $0)...]) } ?? word
        let methodsOnly = separator.map { word[$0] == ":" } ?? false
        let top = lua_gettop(state)
        defer { lua_settop(state, top) }
        lua_rawgeti(state, heph_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        for segment in path {
            guard stack.type(at: -1) == LUA_TTABLE else { return [] }
            stack.rawField(stack.absolute(-1), segment)
        }
        guard stack.type(at: -1) == LUA_TTABLE else { return [] }
        var names = Set<String>()
        var table = stack.absolute(-1)
        // The table's own keys, then those of its __index tables (a handle's methods).
        for _ in 0..<4 {
            stack.forEachPair(table) {
                guard let key = stack.string(at: -2), stack.type(at: -2) == LUA_TSTRING, key.hasPrefix(partial),
                      Self.isIdentifier(key), !methodsOnly || stack.type(at: -1) == LUA_TFUNCTION else { return }
                names.insert(key)
            }
            guard lua_getmetatable(state, table) != 0 else { break }
            stack.rawField(stack.absolute(-1), "__index")
            guard stack.type(at: -1) == LUA_TTABLE else { break }
            table = stack.absolute(-1)
        }
        let prefix = separator.map { String(word[...$0]) } ?? ""
        return names.sorted().map { prefix + $0 }
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.utf8.first, first == 95 || (65...90).contains(first) || (97...122).contains(first) else { return false }
        return key.utf8.allSatisfy { $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }

    /// The global `name` as text when it is a string or a number (`_PROMPT`); nil otherwise.
    public func globalText(_ name: String) async -> String? {
        await thread.perform { [weak self] () -> String? in
            guard let self, let state = self.state else { return nil }
            let stack = LuaStack(state)
            lua_rawgeti(state, heph_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
            stack.rawField(stack.absolute(-1), name)
            defer { stack.pop(2) }
            return stack.type(at: -1) == LUA_TSTRING || stack.type(at: -1) == LUA_TNUMBER ? stack.lossyString(at: -1) ?? stack.numberText(at: -1) : nil
        } ?? nil
    }
}

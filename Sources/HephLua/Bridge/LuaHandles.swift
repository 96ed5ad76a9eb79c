import CHephLua
import CLua

/// The kinds of handle a script holds: a full userdata carrying an id, with a metatable per
/// kind (made by the prelude) whose methods stop or remove the thing.
enum HandleKind: Int, CaseIterable {
    /// `heph.start_health_polling`: `:stop()`.
    case poller
    /// `heph.on`: `:off()`.
    case hook
    /// `heph.every`, `heph.after`: `:stop()`.
    case timer

    /// The name `tostring` shows and argument errors use.
    var typeName: String {
        switch self {
        case .poller: "heph.poller"
        case .hook: "heph.hook"
        case .timer: "heph.timer"
        }
    }
}

extension LuaRuntime {
    /// Pushes a new handle of `kind` carrying `id`.
    func pushHandle(_ stack: LuaStack, kind: HandleKind, id: Int) throws(BridgeError) {
        guard let memory = lua_newuserdatauv(stack.state, MemoryLayout<Int>.size, 0) else {
            throw .raise("\(kind.typeName): out of memory")
        }
        memory.storeBytes(of: id, as: Int.self)
        stack.pushReference(module.handleMetatables[kind.rawValue])
        lua_setmetatable(stack.state, -2)
        pluginScopes.record(.handle(kind, id), on: stack.state)
    }

    /// The id in the handle of `kind` at `index`; a `bad argument` error for anything else.
    func handleID(_ stack: LuaStack, kind: HandleKind, at index: Int32) throws(BridgeError) -> Int {
        guard stack.type(at: index) == LUA_TUSERDATA, lua_getmetatable(stack.state, index) != 0 else {
            throw .argument(index, "\(kind.typeName) expected, got \(stack.typeName(at: index))")
        }
        stack.pushReference(module.handleMetatables[kind.rawValue])
        let ours = lua_rawequal(stack.state, -1, -2) != 0
        stack.pop(2)
        guard ours, let memory = lua_touserdata(stack.state, index) else {
            throw .argument(index, "\(kind.typeName) expected, got \(stack.typeName(at: index))")
        }
        return memory.load(as: Int.self)
    }
}

/// One function of the `heph` module: its name, how scripts reach it, and what it does.
/// Every function is one entry of ``HephModule/functions``.
struct HephFunction: Sendable {
    /// How a waiting call runs: arguments checked on the Lua thread, then an ``Operation``
    /// on a task; the prelude wraps it so the calling coroutine waits for its ticket.
    struct Waiting: Sendable {
        /// The name in `heph`: the `by` of the transitions it causes.
        var luaName: String
        /// `heph.NAME`, what its errors say (`heph.state.get` for a function the prelude
        /// moves into a sub-table).
        var qualifiedName: String
        /// Whether it reaches the engine (and so fixes the backend a script chose).
        var usesEngine = true
        /// Whether a sandboxed script may call it.
        var allowedInSandbox = true
        /// What stops or removals of containers the call is expected to cause.
        var expects = Expects.nothing
        /// Checks the arguments (raising `bad argument` errors through the trampoline) and
        /// returns the operation to run. Nothing reaches the engine from here.
        var start: @Sendable (LuaStack) throws(BridgeError) -> Operation
    }

    /// Which stops and removals a waiting call causes, so hooks see them as expected.
    enum Expects: Sendable {
        case nothing
        /// Those of the container its first argument names.
        case argumentContainer
        /// Those of every container (a teardown).
        case everything
    }

    /// What the function does.
    enum Body: Sendable {
        /// A waiting call (``Waiting``). Indirect: the table is read on every call, and a
        /// body of two words copies faster than one that holds a ``Waiting`` inline.
        indirect case waiting(Waiting)
        /// Runs on the Lua thread and returns how many results it pushed.
        case immediate(@Sendable (LuaRuntime, LuaStack) throws(BridgeError) -> Int32)
    }

    /// Where the closure goes.
    enum Kind {
        /// Wrapped by the prelude (`heph.NAME` is the wrapper); errors name the wrapper.
        case waiting
        /// A field of `heph`, called directly.
        case direct
        /// Handed to the prelude only.
        case primitive
        /// Handed to `heph test`'s harness only (``SimModule``): absent from any other state.
        case simulation
    }

    /// The name in `heph` (or among the prelude's primitives).
    let luaName: String
    let kind: Kind
    /// The name argument errors use when the call site gives none (as under `pcall`).
    let qualifiedName: String
    /// 1 when a Lua wrapper of the prelude calls the closure (errors then name the wrapper
    /// and point at the script's line), 0 when scripts call it directly.
    let visibleLevel: Int32
    let body: Body

    /// `heph.NAME`, a waiting call.
    static func waiting(_ name: String, qualifiedName: String? = nil, usesEngine: Bool = true, allowedInSandbox: Bool = true, expects: Expects = .nothing,
                        _ start: @escaping @Sendable (LuaStack) throws(BridgeError) -> Operation) -> HephFunction {
        let qualifiedName = qualifiedName ?? "heph.\(name)"
        return HephFunction(luaName: name, kind: .waiting, qualifiedName: qualifiedName, visibleLevel: 1,
                            body: .waiting(Waiting(luaName: name, qualifiedName: qualifiedName, usesEngine: usesEngine, allowedInSandbox: allowedInSandbox,
                                                   expects: expects, start: start)))
    }

    /// `heph.NAME`, called directly.
    static func direct(_ name: String, _ body: @escaping @Sendable (LuaRuntime, LuaStack) throws(BridgeError) -> Int32) -> HephFunction {
        HephFunction(luaName: name, kind: .direct, qualifiedName: "heph.\(name)", visibleLevel: 0, body: .immediate(body))
    }

    /// A control of `heph test`'s simulated world, `sim.NAME`, or a primitive of its harness.
    /// `wrapped`: the harness calls it from a Lua wrapper (a fault's), so its argument
    /// errors point at the script's line one level up.
    static func simulation(_ name: String, qualifiedName: String? = nil, wrapped: Bool = false,
                           _ body: @escaping @Sendable (LuaRuntime, LuaStack) throws(BridgeError) -> Int32) -> HephFunction {
        HephFunction(luaName: name, kind: .simulation, qualifiedName: qualifiedName ?? "sim.\(name)", visibleLevel: wrapped ? 1 : 0, body: .immediate(body))
    }

    /// A primitive of the prelude; `qualifiedName` is what its argument errors say
    /// (`heph.timer:stop`); `visibleLevel` 1 when a wrapper calls it.
    static func primitive(_ name: String, qualifiedName: String? = nil, visibleLevel: Int32 = 0,
                          _ body: @escaping @Sendable (LuaRuntime, LuaStack) throws(BridgeError) -> Int32) -> HephFunction {
        HephFunction(luaName: name, kind: .primitive, qualifiedName: qualifiedName ?? "heph.\(name)", visibleLevel: visibleLevel, body: .immediate(body))
    }
}

import CHephLua
import Foundation
import CLua
import HephDocker
import HephPrelude

extension LuaRuntime {
    /// The one C dispatcher, installed once per process: finds the runtime of the calling
    /// state and runs the Swift function, turning a `BridgeError` into a status the
    /// trampoline raises.
    static let installDispatcher: Void = heph_set_dispatcher { state, info, id in
        guard let state, let runtime = info?.pointee.runtime else {
            return HEPH_RAISE
        }
        let stack = LuaStack(state)
        // The runtime outlives its state, so the reference needs no retain per call.
        let outcome = Unmanaged<LuaRuntime>.fromOpaque(runtime)._withUnsafeGuaranteedRef { runtime in
            Result<Int32, BridgeError> { () throws(BridgeError) -> Int32 in try runtime.call(id: id, stack) }
        }
        switch outcome {
        case .success(let results):
            return results
        case .failure(.argument(let position, let message)):
            stack.push(message)
            return HEPH_ARGERROR_BASE - position
        case .failure(.raise(let message)):
            stack.push(message)
            return HEPH_RAISE
        }
    }

    /// Makes the state (on the Lua thread): standard libraries, the `heph` module (also
    /// `package.loaded.heph` and the global `heph`), then the prelude.
    func setUp() {
        guard let state = heph_new_state(info) else {
            setupFailure = "cannot create a Lua state: out of memory"
            return
        }
        self.state = state
        info.pointee.runtime = Unmanaged.passUnretained(self).toOpaque()
        heph_set_info(state, info)
        luaL_openlibs(state)
        let stack = LuaStack(state)

        lua_createtable(state, 0, 32)
        let heph = stack.absolute(-1)
        installConstants(stack, into: heph)
        lua_createtable(state, 0, 16)
        let starts = stack.absolute(-1)
        lua_createtable(state, 0, 4)
        let primitives = stack.absolute(-1)
        lua_createtable(state, 0, 16)
        let simulation = stack.absolute(-1)
        for (index, function) in HephModule.functions.enumerated() {
            if function.kind == .simulation, configuration.testCase == nil { continue }
            heph_push_function(state, Int32(index + 1), function.qualifiedName, function.visibleLevel)
            switch function.kind {
            case .waiting: stack.setRawField(starts, function.luaName)
            case .direct: stack.setRawField(heph, function.luaName)
            case .primitive: stack.setRawField(primitives, function.luaName)
            case .simulation: stack.setRawField(simulation, function.luaName)
            }
        }

        for (name, function) in [("stopping", heph_lua_stopping), ("watch", heph_lua_watch), ("close", heph_lua_close)] as [(String, lua_CFunction)] {
            lua_pushcclosure(state, function, 0)
            stack.setRawField(primitives, name)
        }

        // The prelude gets (heph, starts, primitives) and returns (managed, handle
        // metatables, matcher, exit signal, formatter, plugin describer, event metatable).
        lua_pushcclosure(state, heph_traceback, 0)
        let handler = stack.absolute(-1)
        guard loadPrelude(stack) else {
            lua_settop(state, 0)
            return
        }
        lua_pushvalue(state, heph)
        lua_pushvalue(state, starts)
        lua_pushvalue(state, primitives)
        guard heph_pcall(state, 3, 7, handler) == LUA_OK else {
            setupFailure = "heph internal error: the prelude failed: \(stack.string(at: -1) ?? "?")"
            lua_settop(state, 0)
            return
        }
        module.eventMetatable = stack.makeReference()
        module.describePlugin = stack.makeReference()
        module.format = stack.makeReference()
        module.exitSignal = stack.makeReference()
        module.matches = stack.makeReference()
        let metatables = stack.absolute(-1)
        module.handleMetatables = HandleKind.allCases.map { kind in
            stack.rawIndex(metatables, kind.rawValue + 1)
            return stack.makeReference()
        }
        stack.pop()  // the metatables' array
        module.managed = stack.makeReference()
        if let testCase = configuration.testCase {
            guard installTestHarness(stack, heph: heph, primitives: simulation, handler: handler, testCase: testCase) else {
                lua_settop(state, 0)
                return
            }
        }
        stack.pop(4)  // handler, simulation, primitives, starts

        lua_pushvalue(state, heph)
        setGlobal(stack, "heph")
        withPackageTable(stack) { package in
            stack.rawField(package, "loaded")
            if stack.type(at: -1) == LUA_TTABLE {
                lua_pushvalue(state, heph)
                stack.setRawField(stack.absolute(-2), "heph")
            }
            stack.pop()
        }
        module.heph = stack.makeReference()
        applySandbox(stack)
        // The collector runs only while Lua code does (heph_enter_lua), so a finalizer never
        // runs while the host pushes a value, where no time or memory limit holds.
        if let state = self.state { heph_gc_stop(state) }
    }

    /// `heph.CONTAINER_PREFIX` and the other constants, and `heph.config`.
    private func installConstants(_ stack: LuaStack, into heph: Int32) {
        stack.push(.string(containerNamePrefix)); stack.setRawField(heph, "CONTAINER_PREFIX")
        stack.push(.string(networkName)); stack.setRawField(heph, "NETWORK_NAME")
        stack.push(.integer(Int(stopTimeout.components.seconds))); stack.setRawField(heph, "STOP_TIMEOUT")
        stack.push(.integer(Int(defaultHealthCheckInterval.components.seconds))); stack.setRawField(heph, "HEALTH_INTERVAL")
        stack.push(.string(hephVersion)); stack.setRawField(heph, "VERSION")
        stack.push(.record([
            "hook_timeout": .integer(Int(Self.defaultHookTimeout)),
            "backend": .string(configuration.backend.backend.rawValue),
            "project": .string(configuration.backend.project.name),
            "engine_concurrency": .integer(configuration.backend.engineSlots.capacity),
        ]))
        stack.setRawField(heph, "config")
    }

    /// Seconds of computation a callback may use by default (`heph.config.hook_timeout`).
    static let defaultHookTimeout: Double = 5

    /// Pushes the prelude's chunk: its bytecode, made as heph was built, when the Lua heph
    /// runs with is the one that made it; else compiled from the source (about 2 ms).
    private func loadPrelude(_ stack: LuaStack) -> Bool {
        if let bytecode = Self.preludeBytecode {
            if stack.load(bytecode, chunkName: "=[heph]", mode: "b") == LUA_OK { return true }
            stack.pop()
        }
        return loadChunk(stack, source: preludeSource, name: "=[heph]")
    }

    /// The prelude's bytecode, when the Lua linked is the one that compiled it.
    static let preludeBytecode: [UInt8]? = {
        guard String(cString: heph_lua_ident()) == preludeBytecodeLua else { return nil }
        return Data(base64Encoded: preludeBytecodeBase64).map { Array($0) }
    }()

    /// Compiles `source` and pushes the chunk; on failure records why and pushes nothing.
    func loadChunk(_ stack: LuaStack, source: String, name: String) -> Bool {
        guard stack.load(source, chunkName: name) == LUA_OK else {
            setupFailure = "heph internal error: \(name) does not compile: \(stack.string(at: -1) ?? "?")"
            stack.pop()
            return false
        }
        return true
    }

    /// Pops the top value into the global `name` (raw).
    func setGlobal(_ stack: LuaStack, _ name: String) {
        lua_rawgeti(stack.state, heph_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        heph_insert(stack.state, -2)
        stack.setRawField(stack.absolute(-2), name)
        stack.pop()
    }

    /// Runs `body` with the `package` table at an absolute index (when it exists).
    func withPackageTable(_ stack: LuaStack, _ body: (Int32) -> Void) {
        lua_rawgeti(stack.state, heph_registryindex(), lua_Integer(LUA_RIDX_GLOBALS))
        stack.rawField(stack.absolute(-1), "package")
        if stack.type(at: -1) == LUA_TTABLE { body(stack.absolute(-1)) }
        stack.pop(2)
    }
}

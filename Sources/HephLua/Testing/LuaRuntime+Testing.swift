import CHephLua
import CLua
import HephDocker

/// `heph test`'s harness (Testing/harness.lua): `test`, `sim`, virtual `os.time`.
let testHarnessSource = String(decoding: PackageResources.harness_lua, as: UTF8.self)

extension LuaRuntime {
    /// Loads the harness into a test's state: it gets the module, the `sim` primitives and
    /// the test case, declares `test` and `sim`, and returns the function the main
    /// coroutine runs (kept as ``ModuleReferences/testHarness``). False when it failed
    /// (a bug: ``setupFailure`` says what).
    func installTestHarness(_ stack: LuaStack, heph: Int32, primitives: Int32, handler: Int32, testCase: TestCase) -> Bool {
        guard loadChunk(stack, source: testHarnessSource, name: "=[heph]") else { return false }
        lua_pushvalue(stack.state, heph)
        lua_pushvalue(stack.state, primitives)
        stack.push(testCase.index)
        stack.push(testCase.seed)
        if let filter = testCase.filter { stack.push(filter) } else { stack.pushNil() }
        guard heph_pcall(stack.state, 5, 1, handler) == LUA_OK else {
            setupFailure = "heph internal error: the test harness failed: \(stack.string(at: -1) ?? "?")"
            stack.pop()
            return false
        }
        module.testHarness = stack.makeReference()
        return true
    }

    /// The main coroutine of a run: the loaded chunk on top of the stack, run by itself, or
    /// in a test by the harness (with the chunk and the file's path as its first
    /// arguments). Returns the coroutine and how many arguments it was given beyond the
    /// script's.
    func spawnMain(_ stack: LuaStack, for script: LuaScript) -> (coroutine: ManagedCoroutine, extra: Int32)? {
        guard configuration.testCase != nil, module.testHarness != LUA_NOREF else {
            return spawnCoroutine(stack, kind: .main).map { ($0, 0) }
        }
        stack.pushReference(module.testHarness)        // chunk, harness
        guard let main = spawnCoroutine(stack, kind: .main) else {
            stack.pop()
            return nil
        }                                              // chunk
        lua_xmove(stack.state, main.state, 1)
        LuaStack(main.state).push(script.argumentZero)
        return (main, 2)
    }

    /// Ends a test that has run for the harness's limit of virtual time (24 hours): it fails
    /// with the script's line the test waits at and the call it waits in. (Posted: the
    /// harness's timer calls it, and the shutdown must not begin inside that timer.)
    func testStalled() {
        thread.post { [weak self] in
            guard let self, self.lifecycle.current != nil else { return }
            self.beginShutdown(.failed(LuaFailure(kind: .runtime, message: self.stallReport())))
        }
    }

    /// `FILE:LINE: the test did not finish …: it waits in heph.wait_healthy`.
    private func stallReport() -> String {
        let limit = "the test did not finish within 24 hours of virtual time"
        guard let state, let (ticket, main) = suspended.first(where: { $0.value.kind == .main }) else {
            return "\(limit): it computes, or waits where heph cannot see"
        }
        heph_push_script_where(state, main.state)
        let stack = LuaStack(state)
        let position = stack.lossyString(at: -1) ?? ""
        stack.pop()
        return "\(position)\(limit); it was waiting in \(tickets[ticket]?.call ?? "a waiting call")"
    }
}

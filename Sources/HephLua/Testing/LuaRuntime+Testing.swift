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
        if let name = testCase.name { stack.push(name) } else { stack.pushNil() }
        stack.push(testCase.seed)
        if let filter = testCase.filter { stack.push(filter) } else { stack.pushNil() }
        stack.push(TestCase.virtualLimit)
        guard heph_pcall(stack.state, 6, 1, handler) == LUA_OK else {
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

    /// Ends a test that has not finished within one of its limits (`limit`: "24 hours of
    /// virtual time", the harness's timer; "60 s of real time", the runner's): it fails with
    /// the script's line the test waits at and the call it waits in. From any thread;
    /// whatever runs Lua meanwhile is interrupted.
    public func endUnfinishedTest(within limit: String) {
        unfinishedTest.withLock { $0 = $0 ?? limit }
        heph_request_interrupt(info)
        thread.post { [weak self] in
            guard let self, self.lifecycle.current != nil else { return }
            self.beginShutdown(.failed(LuaFailure(kind: .runtime, message: self.unfinishedReport(limit))))
        }
    }

    /// The report of a test's main coroutine that failed with `failure` because it ran out
    /// of a limit while it waited where it could not yield (the interrupt ended the wait):
    /// nil for any other failure.
    func unfinishedTestReport(_ failure: String) -> String? {
        guard let limit = unfinishedTest.withLock({ $0 }), Self.isInterruption(failure) else { return nil }
        let firstLine = failure.prefix { $0 != "\n" }
        let position = Self.startsWithPosition(String(firstLine)) ? String(firstLine.dropLast("interrupted".count)) : ""
        return "\(position)the test did not finish within \(limit); it was waiting where heph sees no call (in a coroutine of the script's own, a metamethod or require)"
    }

    /// `FILE:LINE: the test did not finish within LIMIT; it was waiting in heph.wait_healthy`.
    private func unfinishedReport(_ limit: String) -> String {
        let unfinished = "the test did not finish within \(limit)"
        guard let state, let (ticket, main) = suspended.first(where: { $0.value.kind == .main }) else {
            return "\(unfinished); it was computing, or waiting where heph cannot see"
        }
        heph_push_script_where(state, main.state)
        let stack = LuaStack(state)
        let position = stack.lossyString(at: -1) ?? ""
        stack.pop()
        return "\(position)\(unfinished); it was waiting in \(tickets[ticket]?.call ?? "a waiting call")"
    }
}

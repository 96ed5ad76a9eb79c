import CLua
import HephDocker
@testable import HephLua
import HephPrelude
import HephTestSupport
import Testing

/// The runtime's parts that need no engine: the registries, the expectation book, the
/// module's table, and whole runtimes on a manual clock (the virtual time `heph test` and
/// reload build on).
@Suite struct RuntimePartsTests {
    @Test func aRegistryHandsOutIdsOnceAndListsOldestFirst() {
        var registry = Registry<String>()
        let first = registry.add { "a\($0)" }.id
        let second = registry.add { "b\($0)" }.id
        #expect((first, second) == (1, 2))
        #expect(registry.values == ["a1", "b2"])
        #expect(registry.remove(first) == "a1")
        #expect(registry.remove(first) == nil)
        #expect(registry.add { "c\($0)" } == (3, "c3"), "a removed id is not handed out again")
        #expect(registry.ids == [2, 3])
        #expect(registry.removeAll() == ["b2", "c3"])
        #expect(registry.isEmpty)
    }

    private func transition(_ kind: ContainerTransition.Kind, _ name: String = "heph-web") -> ContainerTransition {
        ContainerTransition(kind: kind, id: String(repeating: "a", count: 64), name: name, previous: .running, at: 0, source: .events)
    }

    @Test func anExpectationMatchesEachKindOnceAndLapsesAfterItsGrace() {
        let start = ContinuousClock.now
        var book = ExpectationBook()
        book.expect("web", ticket: ExpectationKey(owner: 1, ticket: 1), caller: "stop_container", now: start)
        #expect(book.claim(transition(.status(.running)), now: start) == nil, "a start is never expected")
        #expect(book.claim(transition(.exited(code: 0, oomKilled: false), "heph-db"), now: start) == nil, "another container")
        #expect(book.claim(transition(.exited(code: 0, oomKilled: false)), now: start) == "stop_container")
        #expect(book.claim(transition(.exited(code: 0, oomKilled: false)), now: start) == nil, "claimed once only")
        #expect(book.claim(transition(.status(.stopped)), now: start) == "stop_container")
        book.close(ticket: ExpectationKey(owner: 1, ticket: 1), now: start)
        #expect(book.count(owner: 1) == 1)
        #expect(book.claim(transition(.removed), now: start + Expectation.grace - .milliseconds(1)) == "stop_container", "within the grace")
        book.expect(nil, ticket: ExpectationKey(owner: 1, ticket: 2), caller: "teardown_all", now: start + Expectation.grace)
        #expect(book.count(owner: 1) == 1, "the lapsed one was pruned")
        #expect(book.claim(transition(.removed, "heph-anything"), now: start + Expectation.grace) == "teardown_all")
        book.withdraw(ticket: ExpectationKey(owner: 1, ticket: 2))
        #expect(book.count(owner: 1) == 0)
    }

    /// The engine layer's messages with their remedies, as heph's users read them (the
    /// messages as HephDocker writes them, the texts as heph printed them before remedies).
    @Test(arguments: [
        (DockerError(.invalidConfig, "config.replicas: 2 tasks need the swarm backend; this engine runs one container per service", remedy: .useBackend(.swarm)), "run",
         "config.replicas: 2 tasks need the swarm backend (heph run --swarm, or heph.config.backend = \"swarm\"); this engine runs one container per service"),
        (DockerError(.conflict, "the engine backend is in use already (the first engine call chose it)", remedy: .chooseBackendFirst(wanted: .swarm)), "check",
         "the engine backend is in use already (the first engine call chose it); choose the backend before any engine call (heph.config.backend = \"swarm\" at the top of the script, or heph check --swarm)"),
        (DockerError(.conflict, "heph-network on this engine is a bridge network, made by heph; services need an overlay", remedy: .tearDownEngineBackendFirst), "run",
         "heph-network on this engine is a bridge network, made by heph without --swarm; services need an overlay: run `heph down` (without --swarm) first"),
        (DockerError(.conflict, "the engine at unix:///x is a swarm worker; heph needs a manager: promote this node with `docker node promote`", remedy: .pointAtManager), "run",
         "the engine at unix:///x is a swarm worker; heph needs a manager: point DOCKER_HOST (or --host, --context) at one, or promote this node with `docker node promote`"),
        (DockerError(.conflict, "a service named heph-web exists already; remove it or give this one another name", remedy: .removeFirst("heph-web")), "run",
         "a service named heph-web exists already; remove it (heph.remove_container(\"heph-web\")) or give this one another name"),
        (DockerError(.engine, "2 of 2 services are not ready:\n  a: heph-a was paused from outside before it was ready; `docker unpause heph-a`\n  b: not started", remedy: .bringUpAgain(container: "heph-a")), "run",
         "2 of 2 services are not ready:\n  a: heph-a was paused from outside before it was ready; `docker unpause heph-a`, or run heph.up again (it unpauses)\n  b: not started"),
    ])
    func anEngineErrorsRemedyIsWordedWhereItsMessageNeedsIt(error: DockerError, command: String, worded: String) {
        #expect(error.explained(command: command) == worded)
    }

    @Test func theModuleTableHasOneEntryPerNameAndTheTrampolineFindsEach() {
        let names = HephModule.functions.map(\.luaName)
        #expect(Set(names).count == names.count, "\(names)")
        #expect(HephModule.bodies.count == names.count, "the trampoline's ids are the places in the table")
        #expect(names.contains("now") && names.contains("up") && names.contains("timer_stop"))
    }

    /// A runtime over a dry run on `clock`, printing into `output`.
    private func runtime(_ clock: ManualClock, _ output: Recorder<String>) -> LuaRuntime {
        LuaRuntime(configuration: LuaRuntime.Configuration(
            backend: BackendSession(DryRunOrchestrator(clock: clock)),
            output: { output.append(String(decoding: $0, as: UTF8.self)) }, diagnostics: { _ in }, userPluginDirectory: nil))
    }

    /// Waits (in real time) until `count` tasks sleep on `clock`.
    private func sleepers(_ count: Int, on clock: ManualClock) async -> Bool {
        // Generous: the suite's start has stalled every task for 10 s on two cores.
        await Fixtures.eventually(timeout: .seconds(60)) { clock.sleeperCount >= count }
    }

    @Test func aRuntimeWaitsOnTheClockItIsGiven() async {
        let clock = ManualClock(epochSeconds: 1_000)
        let output = Recorder<String>()
        let lua = runtime(clock, output)
        let run = Task {
            await lua.run(LuaScript(.code("""
                print(heph.now())
                heph.after(60, function() print("timer at", heph.now()) end)
                heph.sleep(30)
                print("slept until", heph.now())
                """, name: "clock.lua")))
        }
        #expect(await sleepers(2, on: clock))
        clock.advance(by: .seconds(30))
        #expect(await Fixtures.eventually(timeout: .seconds(10)) { output.all.joined().contains("slept until\t1030.0") })
        #expect(!output.all.joined().contains("timer at"), "the timer is not due before the clock reaches it")
        #expect(await sleepers(1, on: clock))
        clock.advance(by: .seconds(30))
        #expect(await run.value == .finished)
        #expect(output.all.joined() == "1000.0\nslept until\t1030.0\ntimer at\t1060.0\n")
        await lua.close()
    }

    @Test func aScriptRunsInVirtualTimeOnTheSimulatedEngine() async throws {
        let clock = VirtualClock()
        defer { clock.stop() }
        let orchestrator = SimulatedOrchestrator(engine: SimulatedEngine(clock: clock))
        let output = Recorder<String>()
        let lua = LuaRuntime(configuration: LuaRuntime.Configuration(
            backend: BackendSession(orchestrator),
            output: { output.append(String(decoding: $0, as: UTF8.self)) }, diagnostics: { output.append($0) }, userPluginDirectory: nil))
        let started = ContinuousClock.now
        // Ten minutes' sleep, a timer and a hook, each at its virtual time, in a moment of
        // real time. (The simulated engine's own waits: SimulatedEngineTests, VirtualClockTests.)
        let outcome = await lua.run(LuaScript(.code("""
            local t0 = heph.now()
            local function at() return ("%.1f"):format(heph.now() - t0) end
            heph.on("exit", function(ev) print("exit", ev.name, ev.exit_code, at()); heph.exit(0) end)
            heph.start_container(heph.create_container{ image = "heph/busybox:latest", name = "web" })
            heph.after(300, function() print("timer", at()) end)
            heph.sleep(600)
            print("slept", at(), heph.health_check("web"))
            heph.kill_container("web")
            """, name: "virtual.lua")))
        #expect(outcome == .exited(0))
        #expect(output.all.joined() == "timer\t300.0\nslept\t600.0\trunning\nexit\theph-web\t137\t600.0\n", "\(output.all)")
        // Virtual: ten minutes in far less real time (how little is a benchmark's to say).
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(orchestrator.actions.map(\.op) == ["create_container", "start_container", "kill_container"])
        await lua.close()
    }

    @Test func twoRuntimesLiveSideBySideAndOneAfterTheOther() async {
        let clocks = (ManualClock(), ManualClock())
        let outputs = (Recorder<String>(), Recorder<String>())
        let first = runtime(clocks.0, outputs.0)
        let second = runtime(clocks.1, outputs.1)
        let script = LuaScript(.code("x = (x or 0) + 1\nheph.after(5, function() print('fired', x) end)", name: "side.lua"))
        let runs = (Task { await first.run(script) }, Task { await second.run(script) })
        #expect(await sleepers(1, on: clocks.0))
        #expect(await sleepers(1, on: clocks.1))
        clocks.1.advance(by: .seconds(5))
        #expect(await runs.1.value == .finished)
        #expect(outputs.1.all == ["fired\t1\n"])
        #expect(outputs.0.all.isEmpty, "the other runtime's clock did not move")
        clocks.0.advance(by: .seconds(5))
        #expect(await runs.0.value == .finished)
        #expect(outputs.0.all == ["fired\t1\n"], "each runtime has its own state")
        await first.close()
        await second.close()

        let third = runtime(clocks.0, outputs.0)
        #expect(await third.run(LuaScript(.code("print('again')", name: "again.lua"))) == .finished)
        #expect(outputs.0.all.last == "again\n")
        await third.close()
    }

    /// A state loads the prelude as bytecode (the PreludeBytecode build plugin), made from
    /// the source as it is now and for the Lua linked.
    @Test func thePreludeIsLoadedAsBytecodeOfItsSource() throws {
        let bytecode = try #require(LuaRuntime.preludeBytecode, "no bytecode for \(String(cString: heph_lua_ident()))")
        let state = try #require(luaL_newstate())
        defer { lua_close(state) }
        var source = preludeSource
        let loaded = source.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { luaL_loadbufferx(state, $0.baseAddress, $0.count, "=[heph]", "t") }
        }
        #expect(loaded == LUA_OK)
        var dumped = [UInt8]()
        _ = withUnsafeMutablePointer(to: &dumped) { collected in
            lua_dump(state, { _, chunk, size, collected in
                collected!.assumingMemoryBound(to: [UInt8].self).pointee.append(contentsOf: UnsafeRawBufferPointer(start: chunk, count: size))
                return 0
            }, collected, 0)
        }
        #expect(dumped == bytecode)
    }
}

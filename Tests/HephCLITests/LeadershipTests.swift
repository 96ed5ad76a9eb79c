import Foundation
import HephDocker
import HephTestSupport
import Testing

/// One leading watcher per project (docs/ha.md), on the real engine: a leader and two
/// standbys of a project of the test's own, the leader ended every way a leader ends, and
/// each time exactly one standby takes over, no hook runs twice for one transition, and a
/// container that failed in the leaderless gap reaches the new leader's hooks once.
@Suite(.usesEngine) struct LeadershipTests {
    /// A watcher: says when it leads, and prints each exit and start it sees, signed.
    static let watcher = """
        local me = arg[1]
        print("lead " .. me)
        heph.on("exit", function(ev) print("exit " .. ev.name .. " " .. me) end)
        heph.on("running", function(ev) print("running " .. ev.name .. " " .. me) end)
        """

    /// One service, `svc`, that sleeps (no restart policy: only the watcher restarts).
    static let upOne = """
        heph.up{ services = { svc = { image = "heph/busybox:latest", cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" } } } }
        """

    /// Three candidates A, B, C of `project` running `script`, A leading, B and C standing by.
    struct Trio {
        var processes: [String: HephProcess]

        /// `byFunction`: the script calls `heph.lead()` (its first line) instead of `--lead`.
        init(project: String, script: String, environment: [String: String] = [:], environmentOfA: [String: String] = [:], byFunction: Bool = false) async throws {
            let script = byFunction ? try LeadershipTests.script("heph.lead()\n" + (try String(contentsOfFile: script, encoding: .utf8))) : script
            let lead = byFunction ? [] : ["--lead"]
            let a = try HephProcess(["run", "--log-level", "debug"] + lead + ["-p", project, script, "A"], environment: environment.merging(environmentOfA) { _, new in new })
            #expect(await a.waitFor("lead A", timeout: .seconds(30)), "\(a.stderr)")
            var processes = ["A": a]
            for name in ["B", "C"] {
                let process = try HephProcess(["run", "--log-level", "debug"] + lead + ["-p", project, script, name], environment: environment)
                #expect(await process.waitFor("standing by: project \(project) is led by", in: \.stderr, timeout: .seconds(30)),
                        "\(name): \(process.stderr.split(separator: "\n").filter { $0.contains("lease") || $0.contains("lead") }.joined(separator: "\n"))\nA: \(a.stderr.split(separator: "\n").filter { $0.contains("lease") || $0.contains("lead") }.joined(separator: "\n"))")
                processes[name] = process
            }
            self.processes = processes
        }

        subscript(_ name: String) -> HephProcess { processes[name]! }

        /// The names of the processes whose output has `line`.
        func saying(_ line: String) -> [String] {
            processes.filter { $0.value.stdout.split(separator: "\n").contains { $0 == line } }.keys.sorted()
        }

        /// How many times `line` appears in all outputs together.
        func count(_ line: String) -> Int {
            processes.values.reduce(0) { $0 + $1.stdout.split(separator: "\n").filter { $0 == line }.count }
        }

        /// Waits until one of B and C leads; returns it.
        func successor(of ended: String, timeout: Duration = .seconds(15)) async -> String? {
            let candidates = processes.keys.filter { $0 != ended }.sorted()
            _ = await Fixtures.eventually(timeout: timeout) { candidates.contains { processes[$0]!.stdout.contains("lead \($0)\n") } }
            let leaders = candidates.filter { processes[$0]!.stdout.contains("lead \($0)\n") }
            #expect(leaders.count == 1, "leaders: \(leaders)")
            return leaders.first
        }

        func stop() {
            for process in processes.values { process.signal(SIGKILL) }
        }

        /// What each process logged about the lease (with --log-level debug).
        var leaseLog: String {
            processes.sorted { $0.key < $1.key }.map { name, process in
                "\(name): " + process.stderr.split(separator: "\n").filter { $0.contains("lease") || $0.contains("lead") }.joined(separator: "\n   ")
            }.joined(separator: "\n")
        }
    }

    static func script(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("lead")).lua").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `heph run --lead -p project script NAME` for each name in turn: the first leads (its
    /// script prints `lead NAME`), the others stand by. Killed when the test lets go.
    static func candidates(_ names: [String], project: String, script: String) async throws -> [HephProcess] {
        var processes: [HephProcess] = []
        for name in names {
            let process = try HephProcess(["run", "--lead", "-p", project, script, name])
            processes.append(process)
            if processes.count == 1 {
                #expect(await process.waitFor("lead \(name)", timeout: .seconds(30)), "\(process.stderr)")
            } else {
                #expect(await process.waitFor("standing by", in: \.stderr, timeout: .seconds(30)), "\(process.stderr)")
            }
        }
        return processes
    }

    /// The leader's journal of `project`: what it last saw of each container, as JSON.
    static func journal(_ project: String) async -> String {
        let values = (try? await Docker.run("volume", "ls", "-q", "--filter", "label=io.heph.project=\(project)", "--filter", "label=io.heph.state-key=statuses"))?.stdout
            .split(separator: "\n") ?? []
        var text = ""
        for name in values {
            let value = (try? await Docker.run("volume", "inspect", "--format", "{{index .Labels \"io.heph.value\"}}", String(name)))?.stdout ?? ""
            text += Data(base64Encoded: value.trimmingCharacters(in: .whitespacesAndNewlines)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
        return text
    }

    /// Brings `svc` up in `project`; returns its engine name.
    static func upService(_ project: String) async throws -> String {
        let result = try await HephBinary.run(["run", "-p", project, try script(upOne)])
        #expect(result.status == 0, "\(result.stderr)")
        return "heph_\(project)_svc"
    }

    @Test func aKilledLeaderIsFollowedByExactlyOneStandbyThatSeesTheGapsFailureOnce() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let svc = try await Self.upService(project)
        let trio = try await Trio(project: project, script: try Self.script(Self.watcher))
        defer { trio.stop() }
        // Only the leader reacts.
        try await Docker.output("kill", svc)
        #expect(await trio["A"].waitFor("exit heph-svc A"), "\(trio.leaseLog)")
        try await Docker.output("start", svc)
        #expect(await trio["A"].waitFor("running heph-svc A"))
        // The leader's journal (what it last saw, kept with the state) says so.
        #expect(await Fixtures.eventually(timeout: .seconds(20)) { await Self.journal(project).contains("\"running\"") })
        #expect(trio.saying("exit heph-svc B").isEmpty && trio.saying("exit heph-svc C").isEmpty)
        // SIGKILL: no handler runs; the kernel closes the lease's connection.
        trio["A"].signal(SIGKILL)
        try await Docker.output("kill", svc)  // in the leaderless gap
        let next = try #require(await trio.successor(of: "A"))
        #expect(await trio[next].waitFor("exit heph-svc \(next)"))
        try await Task.sleep(for: .seconds(1))
        #expect(trio.count("exit heph-svc \(next)") == 1, "\(trio[next].stdout)")
        let other = next == "B" ? "C" : "B"
        #expect(!trio[other].stdout.contains("exit"), "\(trio[other].stdout)")
        #expect(trio[other].isRunning)
        // The lease and registry containers that came and went reached no hook.
        #expect(trio.processes.values.allSatisfy { !$0.stdout.contains("heph-.") })
    }

    @Test func aLeaderThatCallsHephExitHandsOver() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        // A exits once the test says so (once B and C stand by, however long that takes).
        let trigger = FileManager.default.temporaryDirectory.appendingPathComponent("\(project).exit").path
        defer { try? FileManager.default.removeItem(atPath: trigger) }
        let script = try Self.script(Self.watcher + """

            if arg[1] == "A" then
              heph.every(0.1, function() local f = io.open("\(trigger)") if f then f:close(); heph.exit(0) end end)
            end

            """)
        let trio = try await Trio(project: project, script: script)
        defer { trio.stop() }
        #expect(FileManager.default.createFile(atPath: trigger, contents: Data()))
        #expect(await trio["A"].status() == 0)
        _ = try #require(await trio.successor(of: "A"))
    }

    /// With `--lead`, and with `heph.lead()` in the script: both stand by again.
    @Test(arguments: [false, true]) func aFrozenLeaderIsReplacedAndOnceThawedRunsNoHookAndStandsBy(byFunction: Bool) async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let svc = try await Self.upService(project)
        let trio = try await Trio(project: project, script: try Self.script(Self.watcher), byFunction: byFunction)
        defer { trio.stop() }
        trio["A"].signal(SIGSTOP)
        let next = try #require(await trio.successor(of: "A"))
        try await Docker.output("kill", svc)
        #expect(await trio[next].waitFor("exit heph-svc \(next)"))
        let before = trio["A"].stdout
        trio["A"].signal(SIGCONT)
        #expect(await trio["A"].waitFor("lost the lead of project \(project)", in: \.stderr), "\(trio["A"].stderr)")
        #expect(await trio["A"].waitFor("standing by: project \(project) is led by", in: \.stderr, after: trio["A"].stderr.range(of: "lost the lead").map { trio["A"].stderr.distance(from: trio["A"].stderr.startIndex, to: $0.lowerBound) } ?? 0))
        try await Task.sleep(for: .seconds(1))
        // The exit came while it was frozen: it never ran a hook for it.
        #expect(trio["A"].stdout == before)
        #expect(!trio["A"].stdout.contains("exit heph-svc A"))
        #expect(trio["A"].isRunning)
        #expect(trio.count("exit heph-svc \(next)") == 1)
    }

    @Test func aTerminatedLeaderReleasesTheLeaseAtOnce() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let trio = try await Trio(project: project, script: try Self.script(Self.watcher))
        defer { trio.stop() }
        trio["A"].signal(SIGTERM)
        #expect(await trio["A"].status() == 143)
        _ = try #require(await trio.successor(of: "A"))
    }

    @Test func aStandbysDownLeavesTheLeadersProjectAlone() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let svc = try await Self.upService(project)
        let watch = try Self.script(Self.watcher)
        let candidates = try await Self.candidates(["A"], project: project, script: watch)
        defer { for process in candidates { process.signal(SIGKILL) } }
        let standby = try HephProcess(["run", "--lead", "--down", "-p", project, watch, "B"])
        defer { standby.signal(SIGKILL) }
        #expect(await standby.waitFor("standing by", in: \.stderr, timeout: .seconds(30)))
        standby.signal(SIGTERM)
        #expect(await standby.status() == 143)
        #expect(standby.stderr.contains("heph: --down left project \(project) alone: this process does not lead it"), "\(standby.stderr)")
        #expect(try await Docker.output("inspect", "-f", "{{.State.Running}}", svc) == "true")
    }

    @Test func aLeaderCutOffFromTheEngineLosesTheLeadAndAStandbyTakesOver() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let port = Fixtures.freePort()
        let relay = try BackgroundProcess("/usr/bin/socat", ["tcp-listen:\(port),bind=127.0.0.1,reuseaddr,fork", "unix-connect:\(EngineEndpoint.defaultSocketPath)"], ownGroup: true)
        defer { relay.stop() }
        _ = await Fixtures.eventually(timeout: .seconds(5)) { (try? await Command.run("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"]).status) == 0 }
        let trio = try await Trio(project: project, script: try Self.script(Self.watcher), environmentOfA: ["DOCKER_HOST": "tcp://127.0.0.1:\(port)"])
        defer { trio.stop() }
        relay.stop()  // every connection of A's drops, the lease's with them
        let next = try #require(await trio.successor(of: "A"))
        #expect(await trio["A"].waitFor("lost the lead of project \(project)", in: \.stderr), "\(trio["A"].stderr)")
        #expect(trio["A"].isRunning)
        #expect(trio.saying("lead \(next)") == [next])
    }

    @Test func afterTheEngineRestartsExactlyOneCandidateLeads() async throws {
        try await PrivateEngine.with { engine in
            try await engine.docker("tag", Fixtures.image, SystemImage.defaultName)
            let project = TestNames.project()
            let script = try Self.script(Self.watcher)
            let environment = ["DOCKER_HOST": engine.host]
            let a = try HephProcess(["run", "--lead", "-p", project, script, "A"], environment: environment)
            defer { a.signal(SIGKILL) }
            #expect(await a.waitFor("lead A", timeout: .seconds(30)), "\(a.stderr)")
            let b = try HephProcess(["run", "--lead", "-p", project, script, "B"], environment: environment)
            defer { b.signal(SIGKILL) }
            #expect(await b.waitFor("standing by", in: \.stderr, timeout: .seconds(30)), "\(b.stderr)")
            engine.kill()
            #expect(await a.waitFor("lost the lead of project \(project)", in: \.stderr), "\(a.stderr)")
            try await Task.sleep(for: .seconds(2))
            try await engine.start()
            // Both compete once the engine is back (A too: it stands by again); one wins.
            func leads() -> [String] {
                (a.stdout.components(separatedBy: "lead A\n").count - 1 == 2 ? ["A"] : []) + (b.stdout.contains("lead B\n") ? ["B"] : [])
            }
            #expect(await Fixtures.eventually(timeout: .seconds(60)) { !leads().isEmpty }, "A: \(a.stderr)\nB: \(b.stderr)")
            try await Task.sleep(for: .seconds(3))
            #expect(leads().count == 1, "\(leads())")
            #expect(a.isRunning && b.isRunning)
        }
    }

    @Test func theStateALeaderWroteIsAllThereForTheNextOneEvenAfterSIGKILL() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let script = try Self.script("""
            local me = arg[1]
            if me == "A" then
              heph.lead()
              for i = 1, 50 do heph.state.set("k" .. i, { i = i, f = i + 0.5, s = "b\\0\\255" .. i, nested = { list = { i, -i } } }) end
              heph.state.set("gone", true)
              heph.state.set("gone", nil)
              print("written")
              heph.on("exit", function() end)
            else
              heph.lead()
              local keys, ok = heph.state.keys(), true
              for i = 1, 50 do
                local v = heph.state.get("k" .. i)
                ok = ok and v.i == i and math.type(v.i) == "integer" and v.f == i + 0.5 and math.type(v.f) == "float"
                  and v.s == "b\\0\\255" .. i and v.nested.list[1] == i and v.nested.list[2] == -i
              end
              print(#keys, ok, heph.state.get("gone"))
              heph.exit(0)
            end
            """)
        let a = try HephProcess(["run", "-p", project, script, "A"])
        defer { a.signal(SIGKILL) }
        #expect(await a.waitFor("written", timeout: .seconds(30)), "\(a.stderr)")
        a.signal(SIGKILL)
        let b = try await HephBinary.run(["run", "-p", project, script, "B"])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(b.stdout == "50\ttrue\tnil\n")
    }

    @Test func theRestartPluginsBudgetContinuesAcrossATakeover() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let up = try Self.script("""
            heph.up{ services = { flaky = { image = "heph/busybox:latest", cmd = { "sh", "-c", "sleep 1; exit 1" } } } }
            """)
        let watch = try Self.script("""
            local me = arg[1]
            print("lead " .. me)
            heph.use("restart", { initial = 0.1, factor = 1, jitter = 0, max_restarts = 5, window = 300, log = false,
              on_restart = function(ev, attempt) print("restart " .. attempt .. " " .. me) end,
              on_give_up = function(ev) print("gave up " .. me) end })
            """)
        let candidates = try await Self.candidates(["A", "B"], project: project, script: watch)
        defer { for process in candidates { process.signal(SIGKILL) } }
        let (a, b) = (candidates[0], candidates[1])
        let upped = try await HephBinary.run(["run", "-p", project, up])
        #expect(upped.status == 0, "\(upped.stderr)")
        #expect(await a.waitFor("restart 4 A", timeout: .seconds(30)), "\(a.stdout)\(a.stderr)")
        a.signal(SIGKILL)
        #expect(await b.waitFor("gave up B", timeout: .seconds(30)), "\(b.stdout)\(b.stderr)")
        #expect(b.stdout.split(separator: "\n").filter { $0.hasPrefix("restart") } == ["restart 5 B"], "\(b.stdout)")
    }

    @Test func coordinationObjectsAreInvisibleToListsAndTeardownsButStatusAndPsAllSeeThem() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        _ = try await Self.upService(project)
        let watch = try Self.script("""
            heph.state.set("alpha", 1)
            heph.state.set("beta", { 2 })
            print("lead " .. arg[1])
            heph.on("exit", function() end)
            """)
        let candidates = try await Self.candidates(["A", "B"], project: project, script: watch)
        defer { for process in candidates { process.signal(SIGKILL) } }

        // Lists, hooks' scripts and teardown_all see the service only.
        let listed = try await HephBinary.run(["run", "-p", project, try Self.script("""
            local names = {}
            for _, c in ipairs(heph.list_containers()) do names[#names + 1] = c.name end
            print(table.concat(names, ","))
            heph.teardown_all()
            """)])
        #expect(listed.stdout == "heph-svc\n", "\(listed.stderr)")
        let ps = try await HephBinary.run(["ps", "-p", project, "--json"])
        #expect(ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]", "\(ps.stdout)")

        // heph status: both watchers, A leading, the state's keys.
        struct Watcher: Decodable { var project: String; var instance: String; var host: String; var pid: Int; var since: String; var leading: Bool; var state_keys: [String] }
        // A standby's entry is made beside its campaign: on a loaded engine it may come a
        // moment after "standing by".
        var status = try await HephBinary.run(["status", "-p", project, "--json"])
        var watchers: [Watcher] = []
        _ = try await Fixtures.eventually(timeout: .seconds(20)) {
            status = try await HephBinary.run(["status", "-p", project, "--json"])
            watchers = (try? JSONDecoder().decode([Watcher].self, from: Data(status.stdout.utf8))) ?? []
            return watchers.count == 2
        }
        #expect(status.status == 0, "\(status.stderr)")
        #expect(watchers.count == 2, "\(status.stdout)")
        #expect(watchers.filter(\.leading).count == 1)
        #expect(Set(watchers.map(\.instance)).count == 2)
        #expect(watchers.allSatisfy { $0.project == project && $0.state_keys == ["alpha", "beta"] && $0.pid > 0 && !$0.host.isEmpty && $0.since.hasSuffix("Z") })
        let table = try await HephBinary.run(["status"])
        #expect(table.stdout.contains(project) && table.stdout.contains("LEADING"), "\(table.stdout)")

        // ps --all: the three roles, named as no service can be.
        struct Entry: Decodable { var name: String; var project: String?; var role: String? }
        let all = try JSONDecoder().decode([Entry].self, from: Data(try await HephBinary.run(["ps", "--all", "--json"]).stdout.utf8))
        let mine = all.filter { $0.project == project && $0.role != nil }
        #expect(Set(mine.map { $0.role! }) == ["lease", "state", "watcher"], "\(mine)")
        #expect(mine.allSatisfy { $0.name.hasPrefix("heph-.") })
        #expect(mine.filter { $0.role == "watcher" }.count == 2)

        // heph down keeps the state and names the watchers; with --volumes the state goes.
        let down = try await HephBinary.run(["down", "-p", project])
        #expect(down.stdout.contains("still running: 2 watchers"), "\(down.stdout)")
        #expect(try await HephBinary.run(["status", "-p", project, "--json"]).stdout.contains("alpha"))
        let downVolumes = try await HephBinary.run(["down", "-p", project, "--volumes"])
        #expect(downVolumes.stdout.contains("the heph.state of project \(project)"), "\(downVolumes.stdout)")
        let after = try JSONDecoder().decode([Watcher].self, from: Data(try await HephBinary.run(["status", "-p", project, "--json"]).stdout.utf8))
        #expect(after.allSatisfy { $0.state_keys.isEmpty })
        #expect(after.count == 2)
    }

    @Test func aKilledWatchersRegistryEntryGoesAway() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let watch = try HephProcess(["run", "-p", project, try Self.script("""
            heph.ping()
            heph.every(1, function() end)
            print("watching")
            """)])
        defer { watch.signal(SIGKILL) }
        #expect(await watch.waitFor("watching", timeout: .seconds(30)))
        #expect(await Fixtures.eventually(timeout: .seconds(10)) { (try? await HephBinary.run(["status", "-p", project, "--json"]).stdout.contains("\"leading\" : false")) == true })
        watch.signal(SIGKILL)
        #expect(await Fixtures.eventually(timeout: .seconds(10)) { (try? await HephBinary.run(["status", "-p", project]).stdout.contains("no watcher of project \(project) runs")) == true })
    }

    @Test func leadingFixesTheProjectAndComesFirst() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let other = try await HephBinary.run(["run", "--lead", "-p", project, try Self.script(#"heph.config.project = "elsewhere"; heph.ping()"#)])
        #expect(other.status == 1)
        #expect(other.stderr.contains("heph.config.project") && other.stderr.contains("cannot choose elsewhere"), "\(other.stderr)")
        let late = try await HephBinary.run(["run", "-p", project, try Self.script("heph.ping(); heph.lead()")])
        #expect(late.status == 1)
        #expect(late.stderr.contains("heph.lead: call it before the script's first engine call"), "\(late.stderr)")
        let stdin = try await HephBinary.run(["run", "--lead", "-"], input: "print(1)")
        #expect(stdin.status == 64)
        #expect(stdin.stderr.contains("--lead needs a script file"), "\(stdin.stderr)")
        let named = try await HephBinary.run(["run", "-p", project, try Self.script(#"heph.create_container{ image = "heph/busybox:latest", name = "heph-.lease.x" }"#)])
        #expect(named.status == 1)
        #expect(named.stderr.contains("which heph keeps for its lease, state and watcher registry"), "\(named.stderr)")
    }
}

/// A leader under heph's own bulk work: its lease traffic never waits behind it. It runs
/// alone, so that what it shows is heph's bulk work and not the rest of the suite's.
@Suite(.ownsEngine) struct LeadershipUnderLoadTests {
    @Test func aLeaderBringingUpFiftyServicesKeepsItsLead() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let up = try LeadershipTests.script("""
            print("lead " .. arg[1])
            local services = {}
            for i = 1, 50 do services["s" .. i] = { image = "heph/busybox:latest", cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" } } end
            heph.up{ services = services }
            print("up done")
            heph.on("exit", function() end)
            """)
        let candidates = try await LeadershipTests.candidates(["A", "B"], project: project, script: up)
        defer { for process in candidates { process.signal(SIGKILL) } }
        let (leader, standby) = (candidates[0], candidates[1])
        #expect(await leader.waitFor("up done", timeout: .seconds(120)), "\(leader.stderr)")
        #expect(!leader.stderr.contains("lost the lead"), "\(leader.stderr)")
        #expect(!standby.stdout.contains("lead B"))
    }
}

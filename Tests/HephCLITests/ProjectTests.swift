import Foundation
import HephDocker
import HephTestSupport
import Testing

/// Projects on the shared engine: one script run as two projects side by side, each blind
/// to the other; teardowns that stay in their project; the default project as heph made it
/// before projects. Every test makes projects of its own (``TestNames/project()``), so the
/// tests share the engine with the rest of the suite.
@Suite(.usesEngine) struct ProjectTests {
    /// Two HTTP services, web and db, each answering with its name and its project (so a
    /// request shows which project's service answered), db with a named volume; then the
    /// names the script sees.
    static let twoServices = """
        local function server(body)
          return { "sh", "-c", "trap 'exit 0' TERM; mkdir -p /w && echo " .. body .. " > /w/index.html && httpd -f -p 80 -h /w & wait" }
        end
        -- Healthy once it serves: heph.up returns when both answer.
        local serving = { test = "wget -q -O- http://127.0.0.1/ >/dev/null", interval = 0.2 }
        heph.up{ services = {
          web = { image = "heph/busybox:latest", cmd = server("web-" .. heph.config.project), healthcheck = serving },
          db = { image = "heph/busybox:latest", cmd = server("db-" .. heph.config.project), healthcheck = serving, volumes = { data = "/data" } },
        } }
        for _, c in ipairs(heph.list_containers()) do print(c.name, c.docker_name) end
        print(heph.NETWORK_NAME, heph.config.project)
        """

    static func script(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("project")).lua").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// What `wget` in `container` gets from `url` (its error output when it fails).
    static func fetch(_ url: String, from container: String) async throws -> String {
        let result = try await Docker.run("exec", container, "wget", "-q", "-O-", url)
        return (result.status == 0 ? result.stdout : result.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `heph ps --json` entries.
    struct Listed: Decodable, Equatable {
        var name: String
        var status: String
        var project: String?
        /// Set for heph's coordination objects (`ps --all`).
        var role: String?
    }

    static func listed(_ arguments: [String], environment: [String: String] = [:]) async throws -> [Listed] {
        let result = try await HephBinary.run(["ps", "--json"] + arguments, environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode([Listed].self, from: Data(result.stdout.utf8))
    }

    @Test func oneScriptRunsAsTwoProjectsSideBySideAndEachIsBlindToTheOther() async throws {
        let (a, b) = (TestNames.project(), TestNames.project())
        defer { Docker.removeProjects([a, b]) }
        let path = try Self.script(Self.twoServices)
        defer { try? FileManager.default.removeItem(atPath: path) }

        // The same script, chosen by -p and by HEPH_PROJECT, at the same time.
        async let first = HephBinary.run(["run", "-p", a, path])
        async let second = HephBinary.run(["run", path], environment: ["HEPH_PROJECT": b])
        let (runA, runB) = try await (first, second)
        #expect(runA.status == 0, "\(runA.stderr)")
        #expect(runB.status == 0, "\(runB.stderr)")
        // Names in Lua are the same in every project; the engine's are the project's.
        #expect(runA.stdout == "heph-db\theph_\(a)_db\nheph-web\theph_\(a)_web\nheph-network\t\(a)\n")
        #expect(runB.stdout == "heph-db\theph_\(b)_db\nheph-web\theph_\(b)_web\nheph-network\t\(b)\n")

        // Every object carries its project's label.
        #expect(try await Docker.output("inspect", "-f", #"{{index .Config.Labels "io.heph.project"}} {{index .Config.Labels "io.heph.managed"}}"#, "heph_\(a)_web") == "\(a) true")
        #expect(try await Docker.output("network", "inspect", "-f", #"{{.Driver}} {{index .Labels "io.heph.project"}}"#, "heph_\(a)_network") == "bridge \(a)")
        #expect(try await Docker.output("volume", "inspect", "-f", #"{{index .Labels "io.heph.project"}}"#, "heph_\(b)_data") == b)

        // On its project's network a service answers to its short name, its Lua name and
        // its engine name; another project's names do not resolve.
        let web = "heph_\(a)_web"
        #expect(try await Self.fetch("http://db/", from: web) == "db-\(a)")
        #expect(try await Self.fetch("http://heph-db/", from: web) == "db-\(a)")
        #expect(try await Self.fetch("http://heph_\(a)_db/", from: web) == "db-\(a)")
        #expect(try await Self.fetch("http://heph_\(b)_db/", from: web).contains("bad address"))
        #expect(try await Self.fetch("http://db/", from: "heph_\(b)_web") == "db-\(b)")

        // A container of b put on a's network by its engine name: a reaches it by its
        // engine name only, and a's own names still answer with a's services.
        let visitor = try await HephBinary.run(["run", "-p", b, "-"], input: """
            heph.up{ services = { visitor = { image = "heph/busybox:latest", networkName = "heph_\(a)_network",
              cmd = { "sh", "-c", "trap 'exit 0' TERM; mkdir -p /w && echo visitor > /w/index.html && httpd -f -p 80 -h /w & wait" },
              healthcheck = { test = "wget -q -O- http://127.0.0.1/ >/dev/null", interval = 0.2 } } } }
            """)
        #expect(visitor.status == 0, "\(visitor.stderr)")
        #expect(try await Self.fetch("http://heph_\(b)_visitor/", from: web) == "visitor")
        #expect(try await Self.fetch("http://visitor/", from: web).contains("bad address"))
        for _ in 0..<4 { #expect(try await Self.fetch("http://db/", from: web) == "db-\(a)") }
        _ = try await Docker.run("rm", "-f", "heph_\(b)_visitor")

        // ps: the project's containers by engine name; --all: every project, with its name.
        #expect(try await Self.listed(["-p", a]).map(\.name) == ["heph_\(a)_db", "heph_\(a)_web"])
        #expect(try await Self.listed(["-p", a]).allSatisfy { $0.project == nil })
        let all = try await Self.listed(["--all"])
        #expect(all.filter { ($0.project == a || $0.project == b) && $0.role == nil }.map(\.name) == ["heph_\(a)_db", "heph_\(a)_web", "heph_\(b)_db", "heph_\(b)_web"].sorted())
        #expect(all.contains { $0.name == ForeignSentinel.projectName && $0.project == ForeignSentinel.project })
        let table = try await HephBinary.run(["ps", "--all"])
        let rows = table.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.first == ["PROJECT", "NAME", "STATUS", "IMAGE", "PORTS", "ROLE"])
        #expect(rows.contains([a, "heph_\(a)_web", "healthy", "heph/busybox:latest"]), "\(table.stdout)")

        // Another project's containers are "no such container", by id and by engine name.
        let idB = try await Docker.output("inspect", "-f", "{{.Id}}", "heph_\(b)_web")
        let probe = try await HephBinary.run(["run", "-p", a, "-", idB, "heph_\(b)_web", "heph_\(a)_web"], input: """
            for _, reference in ipairs(arg) do
              local ok, info = pcall(heph.inspect_container, reference)
              print(ok, ok and info.docker_name or info)
            end
            """)
        #expect(probe.stdout == """
            false\theph.inspect_container: no such container in project \(a): \(idB)
            false\theph.inspect_container: no such container in project \(a): heph_\(b)_web
            true\theph_\(a)_web

            """, "\(probe.stderr)")
        #expect(try await HephBinary.run(["logs", "-p", b, "web"]).status == 0)
        let crossed = try await HephBinary.run(["logs", "-p", a, idB])
        #expect(crossed.status == 1)
        #expect(crossed.stderr == "heph: no such container in project \(a): \(idB)\n")

        // teardown_all in one project: the other runs on, untouched.
        let teardown = try await HephBinary.run(["run", "-p", a, "-"], input: "heph.teardown_all()")
        #expect(teardown.status == 0, "\(teardown.stderr)")
        #expect(try await Docker.managedContainers(project: a).isEmpty)
        #expect(try await Docker.managedNetworks(project: a).isEmpty)
        #expect(try await Self.listed(["-p", b]).map(\.status) == ["healthy", "healthy"])
        #expect(try await Self.fetch("http://db/", from: "heph_\(b)_web") == "db-\(b)")

        // down with --volumes: only the project's own volume.
        let down = try await HephBinary.run(["down", "-p", b, "--volumes"])
        #expect(down.stdout == "removed 2 containers (heph_\(b)_db, heph_\(b)_web), network heph_\(b)_network, volume heph_\(b)_data\n", "\(down.stderr)")
        #expect(try await Docker.run("volume", "inspect", "heph_\(a)_data").status == 0)
        let volumes = try await HephBinary.run(["down", "-p", a, "--volumes"])
        #expect(volumes.stdout == "removed volume heph_\(a)_data\n")
    }

    @Test func hooksAndDependentsTakeTheEngineNameToo() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let result = try await HephBinary.run(["run", "-p", project, "-", "heph_\(project)_"], input: """
            local prefix = ...
            local idle = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }
            heph.up{ services = { db = { image = "heph/busybox:latest", cmd = idle },
                                  web = { image = "heph/busybox:latest", cmd = idle, depends_on = { "db" } } } }
            print(table.concat(heph.dependents(prefix .. "db"), ","))
            heph.on("exit", prefix .. "web", function(ev) print(ev.name, ev.docker_name); heph.exit(0) end)
            heph.kill_container(prefix .. "web")
            heph.after(20, function() heph.exit(1) end)
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "heph-web\nheph-web\theph_\(project)_web\n")
    }

    @Test func aCrashedWatchersProjectIsCleanedUpAndNoOtherIsTouched() async throws {
        let (a, b) = (TestNames.project(), TestNames.project())
        defer { Docker.removeProjects([a, b]) }
        let path = try Self.script("""
            heph.up{ services = { worker = { image = "heph/busybox:latest", cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" } } } }
            heph.use("restart", { target = { pattern = "^heph%-worker" } })
            print("up")
            if arg[1] == "once" then heph.after(0.2, function() heph.exit(0) end) end
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let watcher = try HephProcess.run(["-p", a, "--down", path])
        #expect(await watcher.waitFor("up"), "\(watcher.stdout)\(watcher.stderr)")
        let other = try await HephBinary.run(["run", "-p", b, path, "once"])
        #expect(other.status == 0, "\(other.stderr)")

        // SIGKILL: --down cannot run; what the watcher made stays, in its project.
        watcher.signal(SIGKILL)
        #expect(await watcher.status() == 137)
        #expect(try await Docker.managedContainers(project: a).count == 1)

        // The cleanup of the crashed one's project, from another process.
        let down = try await HephBinary.run(["down", "-p", a])
        #expect(down.stdout == "removed 1 container (heph_\(a)_worker), network heph_\(a)_network\n", "\(down.stderr)")
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", "heph_\(b)_worker") == "running")

        // --down at a normal end: its own project only.
        let once = try await HephBinary.run(["run", "-p", b, "--no-progress", "--down", path, "once"])
        #expect(once.status == 0)
        #expect(once.stderr == "heph: --down removed 1 container and the network\n")
        #expect(try await Docker.managedContainers(project: b).isEmpty)
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", ForeignSentinel.projectName) == "running")
    }

    @Test func containersWithoutAProjectLabelAreTheDefaultProjectsAndHephUpKeepsThem() async throws {
        let name = TestNames.unique("legacy")
        let other = TestNames.project()
        defer { Docker.forceRemove(["heph-\(name)"]) }
        // As heph made it before projects: the managed label and the config's fingerprint,
        // no project label.
        let fingerprint = try ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle).fingerprint()
        let id = try await Docker.output("run", "-d", "--name", "heph-\(name)", "--label", "io.heph.managed=true",
                                         "--label", "io.heph.config-hash=\(fingerprint)", Fixtures.image, Fixtures.idle[0], Fixtures.idle[1], Fixtures.idle[2])

        #expect(try await Self.listed([]).contains(Listed(name: "heph-\(name)", status: "running", project: nil)))
        #expect(try await Self.listed(["-p", other]).isEmpty)
        #expect(try await Self.listed(["--all"]).contains(Listed(name: "heph-\(name)", status: "running", project: "default")))
        let blind = try await HephBinary.run(["logs", "-p", other, id])
        #expect(blind.stderr == "heph: no such container in project \(other): \(id)\n")

        // The default project's script sees it as its own, and heph.up finds it unchanged.
        let up = try await HephBinary.run(["run", "--progress", "-", name], input: """
            local name = ...
            local stack = heph.up{ services = { [name] = { image = "heph/busybox:latest", cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" } } } }
            print(stack[name].id)
            """)
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stdout == id + "\n")
        #expect(up.stderr.contains("heph.up: \(name) unchanged"), "\(up.stderr)")
    }
}

/// The examples as two projects at once. Alone on the engine, as the other examples' tests:
/// two stacks with 1-second healthchecks and two chaos rehearsals load this 2-core machine,
/// and their recovery is timed.
@Suite(.ownsEngine) struct ProjectExampleTests {
    @Test func theProjectsExampleRunsOneScriptAsTwoProjects() async throws {
        let (a, b) = (TestNames.project(), TestNames.project())
        defer { Docker.removeProjects([a, b]) }
        let result = try await Command.run("/bin/bash", [HephBinary.repositoryRoot + "/examples/projects.sh", a, b, String(Fixtures.freePort()), String(Fixtures.freePort())],
                                           environment: ["HEPH": HephBinary.path])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.hasPrefix("\(a) ") || $0.hasPrefix("\(b) ") }.count == 6 + 3, "\(result.stdout)")
        #expect(lines.contains("\(a)'s api asks stack-db: db"))
        #expect(lines.contains("\(a)'s api cannot reach heph_\(b)_stack-db: another project's names do not resolve"))
        #expect(lines.last == "removed 3 containers (heph_\(b)_stack-api, heph_\(b)_stack-db, heph_\(b)_stack-web), network heph_\(b)_network")
        #expect(try await Docker.managedContainers(project: a).isEmpty)
        #expect(try await Docker.managedContainers(project: b).isEmpty)
    }

    @Test func theExamplesRunAsTwoProjectsAtOnceAndEachRecoversOnlyItsOwn() async throws {
        let (a, b) = (TestNames.project(), TestNames.project())
        defer { Docker.removeProjects([a, b]) }
        let stack = HephBinary.repositoryRoot + "/examples/stack.lua"
        let runs = try [a, b].map { project in
            try HephProcess.run(["-p", project, stack, String(Fixtures.freePort())])
        }
        for run in runs { #expect(await run.waitFor("the stack is up", timeout: .seconds(60)), "\(run.stderr)") }
        for project in [a, b] { try await Docker.output("kill", "heph_\(project)_stack-db") }
        // Each project's restart brings its db back, and its cascade restarts its tiers.
        for run in runs {
            #expect(await run.waitFor("heph cascade: heph-stack-db restarted; restarting heph-stack-api, heph-stack-web", in: \.stderr, timeout: .seconds(40)), "\(run.stderr)")
        }
        // Nothing crossed: each reacted to one kill, its own.
        for run in runs {
            #expect(run.stderr.components(separatedBy: "heph restart: heph-stack-db is stopped").count == 2, "\(run.stderr)")
        }
        for run in runs { run.signal(SIGINT) }
        for run in runs { #expect(await run.status() == 130) }

        // The chaos rehearsal, as both projects at once: each strikes and heals its own.
        let chaos = HephBinary.repositoryRoot + "/examples/chaos.lua"
        async let chaosA = HephBinary.run(["run", "-p", a, chaos, "8", "1.5"])
        async let chaosB = HephBinary.run(["run", "-p", b, chaos, "8", "1.5"])
        for result in try await [chaosA, chaosB] {
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.split(separator: "\n").last?.hasSuffix("all healthy: true") == true, "\(result.stdout)")
        }
        for project in [a, b] {
            let down = try await HephBinary.run(["down", "-p", project])
            #expect(down.stdout == "removed 3 containers (heph_\(project)_stack-api, heph_\(project)_stack-db, heph_\(project)_stack-web), network heph_\(project)_network\n", "\(down.stderr)")
        }
    }
}

/// Projects refused, chosen and named without an engine (`heph check`, and commands that
/// stop at their command line).
@Suite struct ProjectChoiceTests {
    static let noEngine = ["DOCKER_HOST": "unix:///nonexistent/heph-projects.sock"]

    static func check(_ arguments: [String], _ script: String, environment: [String: String] = [:]) async throws -> Docker.Result {
        try await HephBinary.run(["check"] + arguments + ["-"], environment: noEngine.merging(environment) { $1 }, input: script)
    }

    @Test(arguments: [
        (["ps", "-p", "Staging"], [:]), (["down", "--project", "a_b"], [:]), (["run", "-p", String(repeating: "x", count: 25), "-"], [:]),
        (["logs", "--project=-x", "web"], [:]), (["repl", "-p", "x.y"], [:]), (["check", "-p", "", "-"], [:]),
        (["ps"], ["HEPH_PROJECT": "Bad"]), (["ps"], ["HEPH_PROJECT": ""]), (["ps", "--all", "-p", "a"], [:]), (["down", "--all", "-p", "a"], [:]),
    ] as [([String], [String: String])])
    func aWrongProjectIsACommandLineError(arguments: [String], environment: [String: String]) async throws {
        let result = try await HephBinary.run(arguments, environment: Self.noEngine.merging(environment) { $1 }, input: "")
        #expect(result.status == 64, "\(result.stderr)")
        let said = result.stderr.contains(Project.rule) || result.stderr.contains("--all and --project cannot be used together")
        #expect(said, "\(result.stderr)")
    }

    @Test func aScriptChoosesItsProjectOnlyBeforeItsFirstEngineCallAndOnlyAsTheCommandLineSays() async throws {
        let chosen = try await Self.check([], #"heph.config.project = "qa"; heph.create_container{ image = "heph/busybox:latest", name = "web" }"#)
        #expect(chosen.status == 0, "\(chosen.stderr)")
        #expect(chosen.stdout.contains("in project qa it would create 1 network: heph_qa_network"))

        let wrong = try await Self.check([], #"heph.config.project = "QA"; heph.list_containers()"#)
        #expect(wrong.status == 1)
        #expect(wrong.stderr.hasPrefix(#"stdin:1: heph.config.project: project name "QA" does not start with a lowercase letter or digit; \#(Project.rule)"#), "\(wrong.stderr)")

        let notString = try await Self.check([], "heph.config.project = 42; heph.list_containers()")
        #expect(notString.stderr.hasPrefix("stdin:1: heph.config.project: a number is not a project name; \(Project.rule)"), "\(notString.stderr)")

        let conflict = try await Self.check(["-p", "y"], #"heph.config.project = "x"; heph.list_containers()"#)
        #expect(conflict.status == 1)
        #expect(conflict.stderr.hasPrefix("stdin:1: heph.config.project: this run is project y, chosen by -p/--project or HEPH_PROJECT (or the default, with --lead); a script cannot choose x"), "\(conflict.stderr)")
        let agreeing = try await Self.check([], #"heph.config.project = "y"; heph.list_containers()"#, environment: ["HEPH_PROJECT": "y"])
        #expect(agreeing.status == 0, "\(agreeing.stderr)")

        let late = try await Self.check([], #"heph.list_containers(); heph.config.project = "x"; heph.list_containers()"#)
        #expect(late.status == 1)
        #expect(late.stderr.hasPrefix("stdin:1: heph.config.project: this run is project default already (the first engine call fixed it)"), "\(late.stderr)")
    }

    @Test func checkPrintsTheNamesTheScriptWouldCreateInItsProject() async throws {
        let script = #"heph.up{ services = { web = { image = "heph/busybox:latest", ports = { [8080] = 80 }, volumes = { pages = "/www", ["/srv"] = "/srv" } } } }"#
        for (arguments, environment, project) in [(["-p", "staging"], [:], "staging"), ([], ["HEPH_PROJECT": "review-1"], "review-1")] as [([String], [String: String], String)] {
            let result = try await Self.check(arguments, script, environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains("in project \(project) it would create 1 network: heph_\(project)_network"), "\(result.stdout)")
            let rows = lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(rows.contains(["heph_\(project)_web", "heph/busybox:latest", "8080→80", "/srv→/srv,", "heph_\(project)_pages→/www"]), "\(result.stdout)")
        }
    }

    @Test func namesTheEngineOrASwarmWouldRefuseAreRefusedFirst() async throws {
        let (long, project) = (String(repeating: "w", count: 40), String(repeating: "p", count: 24))
        let tooLong = try await Self.check(["-p", project], #"heph.create_container{ image = "heph/busybox:latest", name = "\#(long)" }"#)
        #expect(tooLong.status == 1)
        // (The message quotes names of 48 characters and more shortened, with "…".)
        #expect(tooLong.stderr.contains(#"config.name: "\#(long)" is "heph_\#(project)_www"#), "\(tooLong.stderr)")
        #expect(tooLong.stderr.contains(#"" in project \#(project), 70 characters; at most 63 are allowed (it is a DNS name): shorten the name or the project's"#), "\(tooLong.stderr)")
        // The same name fits the default project.
        #expect(try await Self.check([], #"heph.create_container{ image = "heph/busybox:latest", name = "\#(long)" }"#).status == 0)

        for (name, why) in [("api.v2", #"has a ".""#), ("api-", #"ends in "-""#), ("api_", #"ends in "_""#)] {
            let swarm = try await Self.check(["--swarm", "-p", "a"], #"heph.create_container{ image = "heph/busybox:latest", name = "\#(name)" }"#)
            #expect(swarm.status == 1)
            #expect(swarm.stderr.contains(#"config.name: "\#(name)" \#(why), which a Swarm service's name cannot"#), "\(swarm.stderr)")
        }
    }
}

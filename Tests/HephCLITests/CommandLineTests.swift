import Foundation
import HephDocker
import HephTestSupport
import Testing

/// `heph` commands that need no engine, or only look at it.
@Suite(.usesEngine) struct CommandLineTests {
    @Test func versionAndHelp() async throws {
        let version = try await HephBinary.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout == "\(hephVersion)\n")
        let help = try await HephBinary.run(["ps", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--json"))
        #expect(help.stdout.contains("--host"))
    }

    @Test func bootstrapNamesTheSwiftToolchainWhenItIsMissing() async throws {
        // The one prerequisite bootstrap cannot install: it says so before anything else.
        // A PATH where nothing is found: bootstrap's first check needs only bash's builtins.
        let result = try await Command.run("/bin/bash", [HephBinary.repositoryRoot + "/scripts/bootstrap"], environment: ["PATH": "/nonexistent"])
        #expect(result.status == 1)
        #expect(result.stderr == "bootstrap: no swift on PATH; heph needs the Swift 6 toolchain (6.3 is what it is tested with): https://www.swift.org/install/linux/ (then put its usr/bin on PATH)\n")
    }

    @Test func aWrongCommandLineExits64() async throws {
        let result = try await HephBinary.run(["frobnicate"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Unexpected argument 'frobnicate'"))
    }

    @Test func engineConcurrencyIsAGlobalOptionTheScriptSeesAndABadOneExits64() async throws {
        let seen = try await HephBinary.run(["run", "--engine-concurrency", "5", "-"], input: "print(heph.config.engine_concurrency)")
        #expect(seen.status == 0, "\(seen.stderr)")
        #expect(seen.stdout == "5\n")
        let checked = try await HephBinary.run(["check", "--engine-concurrency", "7", "-"], input: "print(heph.config.engine_concurrency)")
        #expect(checked.stdout.hasPrefix("7\n"), "\(checked.stdout)\(checked.stderr)")
        let byDefault = try await HephBinary.run(["run", "-"], input: "print(heph.config.engine_concurrency)")
        #expect(byDefault.stdout == "\(EngineSlots.defaultCapacity)\n")
        for (command, value) in [("run", "0"), ("ps", "257"), ("down", "-3"), ("check", "0")] {
            let wrong = try await HephBinary.run(["run", "check"].contains(command) ? [command, "--engine-concurrency=\(value)", "-"] : [command, "--engine-concurrency=\(value)"], input: "")
            #expect(wrong.status == 64, "\(command) \(value): \(wrong.stderr)")
            #expect(wrong.stderr.contains("--engine-concurrency must be a whole number from 1 to 256, got \(value)"), "\(wrong.stderr)")
        }
    }

    @Test func psListsManagedContainersOnly() async throws {
        let name = TestNames.unique("cli-ps")
        let foreign = "heph-\(TestNames.unique("cli-foreign"))"
        let port = Fixtures.freePort()
        defer { Docker.forceRemove(["heph-\(name)", foreign]) }
        try await Docker.output("create", "--name", foreign, Fixtures.image, "sleep", "60")
        try await Fixtures.withOrchestrator { orchestrator in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, ports: ["\(port)": "80"], cmd: Fixtures.idle))
            try await orchestrator.startContainer(name)
        }
        let table = try await HephBinary.run(["ps"])
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("NAME") == true)
        #expect(lines.first?.contains("STATUS") == true)
        let row = lines.first { $0.hasPrefix("heph-\(name) ") }
        #expect(row?.split(separator: " ", omittingEmptySubsequences: true).map(String.init) == ["heph-\(name)", "running", Fixtures.image, "\(port)→80"])
        #expect(!table.stdout.contains(foreign))

        let json = try await HephBinary.run(["ps", "--json"])
        #expect(json.status == 0)
        struct Listed: Decodable {
            var id, name, image, status: String
            var ports: [String: String]
        }
        let listed = try JSONDecoder().decode([Listed].self, from: Data(json.stdout.utf8))
        let mine = try #require(listed.first { $0.name == "heph-\(name)" })
        #expect(mine.status == "running")
        #expect(mine.image == Fixtures.image)
        #expect(mine.ports == ["\(port)": "80"])
        #expect(mine.id.count == 64)
        #expect(!listed.contains { $0.name == foreign })
    }

    /// `heph run FILE …`, `heph ps [--all] [--json]` and `heph --version` skip the argument
    /// parser (FastPath.swift); the same line with a default option added goes through it.
    /// Both readings must do the same.
    @Test func theFastPathDoesWhatTheParserDoes() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let environment = ["HEPH_PROJECT": project]
        let up = try await HephBinary.run(["run", "-"], environment: environment, input: """
            heph.up{ services = { web = { image = "heph/busybox:latest", cmd = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" } } } }
            """)
        #expect(up.status == 0, "\(up.stderr)")
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("heph-\(TestNames.unique("fast")).lua").path
        try "print(select('#', ...), ...)\nif arg[1] == 'fail' then error('failed here') end".write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let pairs: [([String], [String], String?)] = [
            (["run", script, "a", "--help", "-p", "x"], ["run", "--progress", script, "a", "--help", "-p", "x"], nil),
            (["run", script, "fail"], ["run", "--progress", script, "fail"], nil),
            (["run", "-", "b"], ["run", "--progress", "-", "b"], "print(..., heph.config.project)"),
            (["run", "/nonexistent/script.lua"], ["run", "--progress", "/nonexistent/script.lua"], nil),
            // What the parser refuses or answers anywhere on the line.
            (["run", script, "---"], ["run", "--progress", script, "---"], nil),
            (["run", script, "-=x"], ["run", "--progress", script, "-=x"], nil),
            (["run", script, "--generate-completion-script=bash"], ["run", "--progress", script, "--generate-completion-script=bash"], nil),
            (["ps"], ["ps", "--log-level", "warning"], nil),
            (["ps", "--json"], ["ps", "--log-level", "warning", "--json"], nil),
        ]
        for (fast, parsed, input) in pairs {
            let quick = try await HephBinary.run(fast, environment: environment, input: input)
            let full = try await HephBinary.run(parsed, environment: environment, input: input)
            #expect(quick.status == full.status, "\(fast)")
            #expect(quick.stdout == full.stdout, "\(fast)")
            #expect(quick.stderr == full.stderr, "\(fast)")
            if fast.first == "ps" { #expect(quick.stdout.contains("heph_\(project)_web"), "\(quick.stdout)") }
        }
        // Every project's: other tests change the engine meanwhile, so only this one's row is compared.
        let all = try await HephBinary.run(["ps", "--json", "--all"])
        let allParsed = try await HephBinary.run(["ps", "--all", "--log-level", "warning", "--json"])
        #expect(all.status == 0 && allParsed.status == 0)
        let row = { (text: String) in text.split(separator: "\n").filter { $0.contains("heph_\(project)_web") } }
        #expect(!row(all.stdout).isEmpty)
        #expect(row(all.stdout) == row(allParsed.stdout))
        // A wrong HEPH_PROJECT is the parser's error, whichever way the line is read.
        for line in [["run", script], ["ps"]] {
            let wrong = try await HephBinary.run(line, environment: ["HEPH_PROJECT": "Bad"])
            #expect(wrong.status == 64)
            #expect(wrong.stderr.contains("HEPH_PROJECT"), "\(wrong.stderr)")
        }
    }

    @Test func anUnreachableEngineExits69WithOneLine() async throws {
        let result = try await HephBinary.run(["ps"], environment: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"])
        #expect(result.status == 69)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "heph: cannot reach the Docker engine at unix:///nonexistent/docker.sock: no such file or directory\n")
        let overridden = try await HephBinary.run(["ps", "--host", "tcp://127.0.0.1:\(Fixtures.freePort())"])
        #expect(overridden.status == 69)
        #expect(overridden.stderr.contains("connection refused"))
    }

    @Test func aBadHostIsExplained() async throws {
        let result = try await HephBinary.run(["down", "--host", "npipe:////./pipe/docker_engine"])
        #expect(result.status == 1)
        #expect(result.stderr == "heph: DOCKER_HOST=npipe:////./pipe/docker_engine: the scheme \"npipe\" is not supported; use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST\n")
    }
}

/// `heph down` acts on every managed container, so it owns the engine.
@Suite(.ownsEngine) struct DownCommandTests {
    @Test func downRemovesEverythingManagedAndNothingElse() async throws {
        let names = [TestNames.unique("cli-down-b"), TestNames.unique("cli-down-a")]
        let foreign = "heph-\(TestNames.unique("cli-foreign"))"
        let volume = "heph-test-\(TestNames.unique("cli-vol"))"
        defer {
            Docker.forceRemove(names.map { "heph-\($0)" } + [foreign])
            Docker.removeVolumes([volume])
        }
        try await Docker.output("run", "-d", "--name", foreign, Fixtures.image, "sleep", "300")
        try await Fixtures.withOrchestrator { orchestrator in
            try await orchestrator.teardownAll()
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: names[0], volumes: [volume: "/data"], cmd: Fixtures.idle))
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: names[1], cmd: Fixtures.idle))
            try await orchestrator.startContainer(names[0])
        }
        let down = try await HephBinary.run(["down"])
        #expect(down.status == 0)
        let sorted = names.map { "heph-\($0)" }.sorted()
        // The suite's sentinel of another project stays, and heph down says so.
        let leftAlone = "left alone: 1 container of other projects: \(ForeignSentinel.project) (1); heph down -p NAME removes one project's, heph down --all every project's\n"
        #expect(down.stdout == "removed 2 containers (\(sorted.joined(separator: ", "))), network heph-network\n" + leftAlone)
        #expect(try await Docker.managedContainers().isEmpty)
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", foreign) == "running")
        #expect(try await Docker.run("volume", "inspect", volume).status == 0)

        let again = try await HephBinary.run(["down", "--volumes"])
        #expect(again.status == 0)
        #expect(again.stdout.hasPrefix("removed volume") && again.stdout.contains(volume))
        #expect(try await Docker.run("volume", "inspect", volume).status != 0)
        #expect(try await HephBinary.run(["down"]).stdout == "nothing to remove\n" + leftAlone)
    }
}

import Foundation
import HephTestSupport
import Testing

/// The simulated engine of `heph test` is faithful by test: the same scenario files
/// (Tests/Conformance) run with `heph run` on a real engine and with `heph test` on the
/// simulated one, and every container's transitions (names, statuses, previous, expected,
/// exit codes; not times) must come in the same order. A deliberately unfaithful simulated
/// engine (`heph test --mutate`) must fail the same comparison, so it can fail.
@Suite(.usesEngine) struct ConformanceTests {
    static let directory = HephBinary.repositoryRoot + "/Tests/Conformance"
    /// The scenario that restarts its engine: on a private one.
    static let onPrivateEngine = "engine_restart"
    /// Every scenario: each `.lua` file of the directory but the world and the test file
    /// (which lists them for heph test; the first test below checks that it lists all).
    static let scenarios = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        .filter { $0.hasSuffix(".lua") && $0 != "world.lua" && !$0.hasSuffix("_test.lua") }
        .map { String($0.dropLast(".lua".count)) }.sorted()
    /// Scenarios on the shared engine, each in a project of its own.
    static let onSharedEngine = scenarios.filter { $0 != onPrivateEngine }

    /// Each container's lines (`PREVIOUS STATUS expected|unexpected`, `exit CODE oom|-`), in order.
    typealias Record = [String: [String]]

    @Test func theSimulatedEngineGivesTheRealEnginesTransitions() async throws {
        let simulated = try await Self.simulated()
        let real = try await Self.real()
        #expect(Self.scenarios.count >= 12 && Self.scenarios.contains(Self.onPrivateEngine))
        #expect(Set(simulated.keys) == Set(Self.scenarios), "conformance_test.lua runs every scenario")
        for (scenario, record) in real.sorted(by: { $0.key < $1.key }) {
            let transitions = record.values.reduce(0) { $0 + $1.filter { !$0.hasPrefix("exit ") }.count }
            #expect(transitions >= 5, "\(scenario) makes only \(transitions) transitions: \(record)")
            #expect(simulated[scenario] == record, "\(scenario): the simulated engine differs\nreal:      \(record.sorted { $0.key < $1.key })\nsimulated: \(simulated[scenario].map { $0.sorted { $0.key < $1.key } } ?? [])")
        }
    }

    @Test(arguments: ["swap", "drop-previous"])
    func anUnfaithfulSimulatedEngineFailsTheComparison(mutation: String) async throws {
        // The reference: the simulated engine as it is, which the test above holds to the real one.
        let faithful = try await Self.simulated()
        let mutated = try await Self.simulated(mutation: mutation)
        #expect(Set(mutated.keys) == Set(faithful.keys))
        for (scenario, record) in faithful {
            #expect(mutated[scenario] != record, "--mutate \(mutation) went unnoticed in \(scenario)")
        }
    }

    /// Every scenario through `heph test -v`: the T lines under each `ok - NAME`.
    static func simulated(mutation: String? = nil) async throws -> [String: Record] {
        let result = try await HephBinary.run(["test", "-v"] + (mutation.map { ["--mutate", $0] } ?? []) + ["conformance_test.lua"], directory: directory)
        // Unfaithful, a scenario may fail its own waits too; faithful, none does.
        if mutation == nil { #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)") }
        var records: [String: Record] = [:]
        var current: String?
        for line in result.stdout.split(separator: "\n").map(String.init) {
            if line.hasPrefix("ok - ") || line.hasPrefix("not ok - ") {
                current = String(line.drop { $0 != "-" }.dropFirst(2)).components(separatedBy: ":").first
                if let current { records[current] = [:] }
            } else if let current, line.hasPrefix("    T ") {
                add(String(line.dropFirst(4)), to: &records[current, default: [:]])
            }
        }
        return records
    }

    /// Scenario runs at once: enough to be quick, few enough not to starve the rest of
    /// the suite on two cores.
    static let slots = ProcessSlots(3)

    /// Every scenario through `heph run` on a real engine, the shared ones side by side.
    static func real() async throws -> [String: Record] {
        try await withThrowingTaskGroup(of: (String, Record).self) { group in
            for scenario in onSharedEngine {
                group.addTask { (scenario, try await slots.with { try await runOnSharedEngine(scenario) }) }
            }
            group.addTask { (onPrivateEngine, try await runOnPrivateEngine(onPrivateEngine)) }
            var records: [String: Record] = [:]
            for try await (scenario, record) in group { records[scenario] = record }
            return records
        }
    }

    private static func runOnSharedEngine(_ scenario: String) async throws -> Record {
        let project = TestNames.project()
        // --down keeps the project's heph.state (the restart plugin's budgets): it goes too.
        defer { Docker.removeProjects([project]) }
        let result = try await HephBinary.run(["run", "-p", project, "--down", "\(directory)/\(scenario).lua"])
        #expect(result.status == 0, "\(scenario): \(result.stdout)\n\(result.stderr)")
        return record(result.stdout)
    }

    /// On a private engine, which the test kills and starts again when the scenario asks.
    private static func runOnPrivateEngine(_ scenario: String) async throws -> Record {
        try await PrivateEngine.with { engine in
            let run = try HephProcess.run(["--down", "\(directory)/\(scenario).lua"], environment: ["DOCKER_HOST": engine.host])
            #expect(await run.waitFor("world engine-restart 3", timeout: .seconds(120)), "\(run.stdout)\n\(run.stderr)")
            engine.kill()
            // The engine stays away the scenario's 3 s: what heph does meanwhile is part of it.
            try await Task.sleep(for: .seconds(3))
            try await engine.start()
            #expect(await run.status(timeout: .seconds(120)) == 0, "\(run.stdout)\n\(run.stderr)")
            return record(run.stdout)
        }
    }

    /// The T lines of `output`, per container.
    static func record(_ output: String) -> Record {
        var record: Record = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("T ") { add(String(line), to: &record) }
        return record
    }

    /// `T NAME rest…` into `record[NAME]`.
    private static func add(_ line: String, to record: inout Record) {
        let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
        guard fields.count == 3 else { return }
        record[fields[1], default: []].append(fields[2])
    }
}

import Foundation
import HephTestSupport
import Testing

/// Recovery that blames the cause (Tests/Recovery/recovery_matrix.lua): db ← api ← web with
/// `restart` and `cascade` as docs/recipes.md shows them, db killed 1, 3 and 6 times or
/// paused once. Each db failure is exactly one restart of db and one ordered restart of api
/// then web; api's and web's failures meanwhile are symptoms, never restarted on their own
/// budget and never an alert; db's budget spent is one alert naming db and its cause. The
/// same matrix runs on the simulated engine (`heph test`) and once here on the real one.
/// One test at a time: the matrix's four projects load the engine enough to delay its
/// events by seconds, and the other tests tell an operator's stop from a crash by them.
@Suite(.usesEngine, .serialized) struct RecoveryTests {
    static let directory = HephBinary.repositoryRoot + "/Tests/Recovery"

    static let expected = [
        "1": "restarts=db:1,api:0,web:0 order=db api web cascades=1 give_ups=none",
        "3": "restarts=db:3,api:0,web:0 order=db api web db api web db api web cascades=3 give_ups=none",
        "6": "restarts=db:5,api:0,web:0 order=\(Array(repeating: "db api web", count: 5).joined(separator: " ")) cascades=5 give_ups=db:killed",
        "pause": "restarts=db:0,api:0,web:0 order= cascades=0 give_ups=none",
    ]

    @Test func theMatrixAndAFailedRestartCallOnTheSimulatedEngine() async throws {
        let result = try await HephBinary.run(["test", "recovery_test.lua"], directory: Self.directory)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.hasSuffix("5 passed, 0 failed\n"), "\(result.stdout)")
    }

    @Test func theMatrixOnTheRealEngine() async throws {
        let faults = Self.expected.keys.sorted()
        let projects = faults.map { _ in TestNames.project() }
        defer { Docker.removeProjects(projects) }
        // The four at once, each a project of its own: about 40 s in all.
        let results = try await withThrowingTaskGroup(of: (String, Docker.Result).self) { group in
            for (fault, project) in zip(faults, projects) {
                group.addTask { (fault, try await HephBinary.run(["run", "-p", project, "recovery_matrix.lua", fault], directory: Self.directory)) }
            }
            return try await group.reduce(into: [String: Docker.Result]()) { $0[$1.0] = $1.1 }
        }
        for fault in faults {
            let result = try #require(results[fault])
            #expect(result.status == 0, "\(fault): \(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("MATRIX \(Self.expected[fault]!)\n"), "\(fault): \(result.stdout)\n\(result.stderr)")
            // No alert ever names a symptom, and no dependent is restarted on its own budget.
            #expect(!result.stderr.contains("heph restart: heph-m-api is unhealthy (health); restart"), "\(result.stderr)")
            #expect(!result.stderr.contains("giving up") || fault == "6", "\(result.stderr)")
        }
        #expect(results["6"]?.stderr.contains("heph restart: heph-m-db is stopped (killed, exit code 137); giving up after 5 restarts in 600 s") == true,
                "\(results["6"]?.stderr ?? "")")
        #expect(results["pause"]?.stderr.contains("heph restart: heph-m-db is paused (paused); unpausing in 0.20 s") == true, "\(results["pause"]?.stderr ?? "")")
        // A recovery is one line: how long it was down, after how many restarts.
        #expect(results["1"]?.stderr.contains(/heph restart: heph-m-db recovered: healthy after \d+\.\d s down, 1 restart\n/) == true, "\(results["1"]?.stderr ?? "")")
    }

    @Test func anOperatorsDockerStopIsLeftStoppedAndPrintEvIsOneLine() async throws {
        let (project, other) = (TestNames.project(), TestNames.project())
        defer { Docker.removeProjects([project, other]) }
        let watcher = try HephProcess.run(["-p", project, Self.directory + "/outside_stop.lua"])
        #expect(await watcher.waitFor("READY", timeout: .seconds(30)), "\(watcher.stderr)")
        try await Docker.output("stop", "heph_\(project)_guarded")
        #expect(await watcher.waitFor("heph restart: heph-guarded: stopped from outside; left stopped", in: \.stderr), "\(watcher.stderr)")
        // print(ev) goes to stdout, a pipe of its own: it may arrive after restart's stderr line.
        #expect(await watcher.waitFor("heph-guarded: running → stopped (stopped, exit code 0) at "), "\(watcher.stdout)")
        #expect(watcher.stdout.contains(/heph-guarded: running → stopped \(stopped, exit code 0\) at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\n/), "\(watcher.stdout)")
        try await Task.sleep(for: .seconds(2))
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", "heph_\(project)_guarded").trimmingCharacters(in: .whitespacesAndNewlines) == "exited")
        #expect(!watcher.stderr.contains("restart 1 in"), "\(watcher.stderr)")
        // A kill is not a stop: restarted.
        try await Docker.output("start", "heph_\(project)_guarded")
        try await Docker.output("kill", "heph_\(project)_guarded")
        #expect(await watcher.waitFor("heph restart: heph-guarded is stopped (killed, exit code 137); restart 1 in", in: \.stderr), "\(watcher.stderr)")
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130)

        // restart_stopped = true: an operator's stop is undone too.
        let undoing = try HephProcess.run(["-p", other, Self.directory + "/outside_stop.lua", "restart_stopped"])
        #expect(await undoing.waitFor("READY", timeout: .seconds(30)), "\(undoing.stderr)")
        try await Docker.output("stop", "heph_\(other)_guarded")
        #expect(await undoing.waitFor("heph restart: heph-guarded is stopped (stopped, exit code 0); restart 1 in", in: \.stderr), "\(undoing.stderr)")
        undoing.signal(SIGINT)
        #expect(await undoing.status() == 130)
    }

    @Test func hephDownWhileAWatcherRunsNamesItAndTheWatcherStopsGuarding() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let watcher = try HephProcess.run(["-p", project, Self.directory + "/outside_stop.lua"])
        #expect(await watcher.waitFor("READY", timeout: .seconds(30)), "\(watcher.stderr)")
        let down = try await HephBinary.run(["down", "-p", project])
        #expect(down.status == 0, "\(down.stderr)")
        #expect(down.stdout.contains("still running: 1 watcher (\(project): "), "\(down.stdout)")
        #expect(await watcher.waitFor("heph restart: heph-guarded was removed; no longer guarding it", in: \.stderr), "\(watcher.stderr)")
        #expect(!watcher.stderr.contains("restart 1 in"), "\(watcher.stderr)")
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130)
    }

    @Test func aPausedContainerSaysSoBesideError() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let made = try await HephBinary.run(["run", "-p", project, "-"], input: """
            heph.start_container(heph.create_container{ name = "frozen", image = "heph/busybox:latest", cmd = { "sleep", "3600" } })
            """)
        #expect(made.status == 0, "\(made.stderr)")
        try await Docker.output("pause", "heph_\(project)_frozen")
        let ps = try await HephBinary.run(["ps", "-p", project])
        let row = ps.stdout.split(separator: "\n").first { $0.hasPrefix("heph_\(project)_frozen ") }
        #expect(row?.contains("error (paused)") == true, "\(ps.stdout)")
        #expect(try await HephBinary.run(["ps", "-p", project, "--json"]).stdout.contains(#""state" : "paused""#))
        let seen = try await HephBinary.run(["run", "-p", project, "-"], input: """
            print(heph.inspect_container("frozen").state, heph.list_containers()[1].state, heph.health_check("frozen"))
            """)
        #expect(seen.stdout == "paused\tpaused\terror\n", "\(seen.stdout)\(seen.stderr)")
    }
}

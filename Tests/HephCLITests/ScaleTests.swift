import Foundation
import HephTestSupport
import Testing

/// A hundred services on a private engine (an engine of the test's own, so a network the
/// engine refuses to remove, moby/moby#43286, never reaches the shared one): up and down
/// succeed with heph's engine concurrency far below the work (one call at a time up, two down), and hooks keep their pace
/// while the bulk work queues. The 200-service figures are in scripts/bench scale.
@Suite(.usesEngine) struct ScaleTests {
    /// Generous for a loaded 2-core CI machine; hooks take milliseconds, and control traffic
    /// queued behind the bulk work would take tens of seconds.
    static let usualPace = 2.0

    @Test func aHundredServicesComeUpAndGoWhileHooksKeepTheirPace() async throws {
        let count = 100
        try await PrivateEngine.with { engine in
            let environment = ["DOCKER_HOST": engine.host]
            let watcher = try HephProcess.run([HephBinary.repositoryRoot + "/Tests/Fixtures/scale.lua", String(count), "1"], environment: environment)
            defer { watcher.signal(SIGKILL) }
            #expect(await watcher.waitForLine(timeout: .seconds(60)) { $0 == "up" }, "\(watcher.stderr)")
            // Kill the canary once a tenth of the work is done: the rest still queues for the
            // one slot, and the hook must not wait behind it.
            #expect(await Fixtures.eventually(timeout: .seconds(120)) { (try? await engine.containerNames().count) ?? 0 > count / 10 })
            #expect(!watcher.stdout.contains("ready"))
            try await engine.docker("kill", "heph-canary")
            #expect(await watcher.waitFor("exit heph-canary ", timeout: .seconds(30)), "\(watcher.stdout)")
            #expect(!watcher.stdout.contains("ready"), "the bring-up was over before the canary was killed")
            let canaryLag = Self.lags(watcher.stdout)["heph-canary"]
            #expect(canaryLag.map { $0 < Self.usualPace } == true, "\(watcher.stdout)")

            #expect(await watcher.waitForLine(timeout: .seconds(300)) { $0 == "ready \(count)" }, "\(watcher.stdout)\n\(watcher.stderr)")
            #expect(try await engine.containerNames().count == count + 1)

            // heph down from outside, two calls at a time, while the watcher hears of
            // every container it stops.
            let down = try await HephBinary.run(["down", "--engine-concurrency", "2"], environment: environment)
            #expect(down.status == 0, "\(down.stderr)")
            #expect(down.stdout.hasPrefix("removed \(count + 1) containers ("), "\(down.stdout)")
            #expect(try await engine.containerNames().isEmpty)
            let networks = try await engine.docker("network", "ls", "-q", "--filter", "label=io.heph.managed=true").stdout
            // The engine may refuse to remove the emptied network; heph then says why.
            #expect(networks.isEmpty || down.stderr.contains("moby/moby#43286"), "\(down.stderr)")
            #expect(await Fixtures.eventually(timeout: .seconds(30)) { Self.lags(watcher.stdout).count == count + 1 }, "\(watcher.stdout)")
            let lags = Self.lags(watcher.stdout)
            let slowest = lags.max { $0.value < $1.value }
            #expect(slowest.map { $0.value < Self.usualPace } == true, "slowest hook: \(String(describing: slowest))")

            watcher.signal(SIGTERM)
            #expect(await watcher.status(timeout: .seconds(30)) == 143)
        }
    }

    /// Each container's `exit NAME SECONDS` line, the last per name.
    static func lags(_ output: String) -> [String: Double] {
        var lags: [String: Double] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("exit ") {
            let fields = line.split(separator: " ")
            if fields.count == 3, let lag = Double(fields[2]) { lags[String(fields[1])] = lag }
        }
        return lags
    }
}

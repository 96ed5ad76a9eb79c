import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HephTestSupport
import Testing

/// `heph run --metrics`: scraped by a real Prometheus (Debian's `prometheus`, started here
/// on a loopback port), checked by its `promtool`; the scrape config and alert rules
/// docs/operations.md gives (examples/prometheus/) pass `promtool`.
@Suite(.usesEngine) struct MetricsTests {
    static let examples = HephBinary.repositoryRoot + "/examples/prometheus"

    /// GETs `url` (nil when nothing answers).
    static func get(_ url: String) async -> (status: Int, body: Data)? {
        guard let url = URL(string: url), let (body, response) = try? await URLSession.shared.data(from: url) else { return nil }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, body)
    }

    /// The value of an instant query's first series, once Prometheus has one.
    static func query(_ prometheus: String, _ expression: String) async -> Double? {
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
        guard let (_, body) = await get("http://\(prometheus)/api/v1/query?query=\(encoded)"),
              let json = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
              let value = result.first?["value"] as? [Any], let text = value.last as? String else { return nil }
        return Double(text)
    }

    @Test func prometheusScrapesAWatcherAndSeesTheTransitionTheHookAndTheAction() async throws {
        let project = TestNames.project()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("metrics")).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer {
            Docker.removeProjects([project])
            try? FileManager.default.removeItem(atPath: directory)
        }
        let watcher = try HephProcess(["run", "--metrics", "127.0.0.1:0", "-p", project, HephBinary.repositoryRoot + "/Tests/Metrics/guarded.lua"])
        #expect(await watcher.waitFor("READY", timeout: .seconds(30)), "\(watcher.stderr)")
        let line = try #require(watcher.stderr.split(separator: "\n").first { $0.hasPrefix("heph: metrics at http://") })
        let target = String(line.dropFirst("heph: metrics at http://".count).dropLast("/metrics".count))

        // Every family is listed from the first scrape, before it has a series.
        let first = try #require(await Self.get("http://\(target)/metrics"))
        let exposition = String(decoding: first.body, as: UTF8.self)
        #expect(first.status == 200)
        for family in ["heph_transitions_total counter", "heph_hook_runs_total counter", "heph_hook_errors_total counter", "heph_hook_duration_seconds histogram",
                       "heph_actions_total counter", "heph_container_status gauge", "heph_engine_connected gauge"] {
            #expect(exposition.contains("# TYPE \(family)\n"), "\(family) missing: \(exposition)")
        }
        #expect(await Self.get("http://\(target)/")?.status == 404)
        // A container that has not changed since heph began to watch has its status already.
        let seeded = "heph_container_status{project=\"\(project)\",container=\"heph-guarded\",status=\"running\"} 1.0\n"
        #expect(await Fixtures.eventually(timeout: .seconds(10)) {
            await Self.get("http://\(target)/metrics").map { String(decoding: $0.body, as: UTF8.self).contains(seeded) } == true
        }, "no \(seeded)")

        // Prometheus scrapes it every 0.2 s.
        let port = Fixtures.freePort()
        try """
            global:
              scrape_interval: 200ms
            scrape_configs:
              - job_name: heph
                static_configs:
                  - targets: ["\(target)"]

            """.write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        let prometheus = try BackgroundProcess("/usr/bin/prometheus", ["--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                                                             "--web.listen-address=127.0.0.1:\(port)"])
        defer { prometheus.stop() }
        let server = "127.0.0.1:\(port)"
        #expect(await Fixtures.eventually(timeout: .seconds(30)) { await Self.get("http://\(server)/-/ready")?.status == 200 }, "prometheus on \(server) is not ready")

        // A kill from outside: the transition, the hook that ran, the restart it made.
        try await Docker.output("kill", "heph_\(project)_guarded")
        #expect(await watcher.waitFor("heph restart: heph-guarded recovered", in: \.stderr), "\(watcher.stderr)")
        let queries = [
            "heph_transitions_total{project=\"\(project)\",container=\"heph-guarded\",status=\"stopped\"}",
            "heph_hook_runs_total{event=\"exit\"}",
            "heph_actions_total{op=\"restart_container\"}",
            "heph_container_status{project=\"\(project)\",container=\"heph-guarded\",status=\"running\"}",
            "heph_engine_connected",
        ]
        for query in queries {
            let seen = await Fixtures.eventually(timeout: .seconds(20)) { (await Self.query(server, query) ?? 0) >= 1 }
            let value = await Self.query(server, query)
            #expect(seen, "\(query): \(value.map { String($0) } ?? "no series")")
        }
        #expect(await Self.query(server, "heph_container_status{project=\"\(project)\",container=\"heph-guarded\",status=\"stopped\"}") == 0)
        // The target is up, with no error.
        let targets = try #require(await Self.get("http://\(server)/api/v1/targets"))
        let json = try #require(try JSONSerialization.jsonObject(with: targets.body) as? [String: Any])
        let active = try #require(((json["data"] as? [String: Any])?["activeTargets"] as? [[String: Any]])?.first)
        #expect(active["health"] as? String == "up", "\(active)")
        #expect(active["lastError"] as? String == "", "\(active)")

        // promtool accepts the exposition as it is now.
        let now = try #require(await Self.get("http://\(target)/metrics"))
        let checked = try await Command.run("/usr/bin/promtool", ["check", "metrics"], input: String(decoding: now.body, as: UTF8.self))
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130, "\(watcher.stderr)")
    }

    @Test func theDocumentedScrapeConfigAndAlertRulesPassPromtool() async throws {
        let config = try await Command.run("/usr/bin/promtool", ["check", "config", "prometheus.yml"], directory: Self.examples)
        #expect(config.status == 0, "\(config.stdout)\(config.stderr)")
        #expect(config.stdout.contains("SUCCESS: 1 rule files found"), "\(config.stdout)")
        let rules = try await Command.run("/usr/bin/promtool", ["test", "rules", "heph-alerts.test.yml"], directory: Self.examples)
        #expect(rules.status == 0, "\(rules.stdout)\(rules.stderr)")
        // docs/operations.md shows them as they are.
        let page = try String(contentsOfFile: HephBinary.repositoryRoot + "/docs/operations.md", encoding: .utf8)
        for file in ["prometheus.yml", "heph-alerts.yml"] {
            let text = try String(contentsOfFile: Self.examples + "/" + file, encoding: .utf8)
            #expect(page.contains("```yaml\n" + text + "```\n"), "docs/operations.md must show examples/prometheus/\(file) as it is")
        }
    }

    @Test func aBadAddressExits64AndATakenOneExits1() async throws {
        let bad = try await HephBinary.run(["run", "--metrics", "9464", "nothing.lua"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--metrics 9464: give HOST:PORT, for example 127.0.0.1:9464"), "\(bad.stderr)")
        let port = try await HephBinary.run(["run", "--metrics", "127.0.0.1:70000", "nothing.lua"])
        #expect(port.status == 64 && port.stderr.contains("the port must be a number from 0 to 65535"), "\(port.stderr)")
        // One watcher holds the port; a second is refused before it runs anything.
        let first = try HephProcess(["run", "--metrics", "127.0.0.1:0", "-"], input: "heph.every(3600, function() end)\nprint('up')\n")
        #expect(await first.waitFor("up"), "\(first.stderr)")
        let line = try #require(first.stderr.split(separator: "\n").first { $0.hasPrefix("heph: metrics at http://") })
        let address = String(line.dropFirst("heph: metrics at http://".count).dropLast("/metrics".count))
        let taken = try await HephBinary.run(["run", "--metrics", address, "-"], input: "print('ran')\n")
        #expect(taken.status == 1)
        #expect(taken.stderr.hasPrefix("heph: --metrics \(address): cannot listen there: ") && !taken.stdout.contains("ran"), "\(taken.stdout)\(taken.stderr)")
        first.signal(SIGINT)
        #expect(await first.status() == 130)
    }
}

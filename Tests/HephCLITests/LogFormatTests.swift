import Foundation
import HephDocker
import HephTestSupport
import Testing

/// `heph run --log-format json`: stderr is one JSON object per line, with the common fields,
/// for every transition, hook run, action, notice, `heph.up` progress line and print.
@Suite(.usesEngine) struct LogFormatTests {
    @Test func everyLineIsAnObjectAndEveryKindOfEventAppears() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let watcher = try HephProcess(["run", "--log-format", "json", "-p", project, HephBinary.repositoryRoot + "/Tests/Metrics/guarded.lua", "failing"])
        #expect(await watcher.waitFor("\"text\":\"READY\"", in: \.stderr, timeout: .seconds(30)), "\(watcher.stderr)")
        try await Docker.output("kill", "heph_\(project)_guarded")
        #expect(await watcher.waitFor("recovered: running after", in: \.stderr), "\(watcher.stderr)")
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130, "\(watcher.stderr)")
        #expect(watcher.stdout.isEmpty, "print goes to the log: \(watcher.stdout)")

        var objects: [[String: Any]] = []
        for line in watcher.stderr.split(separator: "\n") {
            let object = try #require(try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            #expect(object["ts"] is Double && object["level"] is String && object["project"] as? String == project, "\(line)")
            #expect(["transition", "hook", "action", "notice", "progress", "print"].contains(object["kind"] as? String ?? ""), "\(line)")
            objects.append(object)
        }
        func has(_ kind: String, _ fields: [String: String]) -> Bool {
            objects.contains { object in object["kind"] as? String == kind && fields.allSatisfy { object[$0.key] as? String == $0.value } }
        }
        // (Its cause is `killed`, or `crash` on an engine so loaded that it logs the kill late.)
        #expect(has("transition", ["container": "heph-guarded", "event": "status", "status": "stopped", "previous": "running", "state": "exited"]), "\(watcher.stderr)")
        #expect(objects.contains { $0["kind"] as? String == "transition" && $0["event"] as? String == "exit" && $0["exit_code"] as? Int == 137 }, "\(watcher.stderr)")
        #expect(has("action", ["op": "restart_container"]), "\(watcher.stderr)")
        #expect(has("progress", ["message": "heph.up: guarded started (0.3 s)"]) || objects.contains { ($0["message"] as? String)?.hasPrefix("heph.up: guarded started") == true }, "\(watcher.stderr)")
        #expect(objects.contains { $0["kind"] as? String == "print" && $0["stream"] as? String == "stdout" && ($0["text"] as? String)?.hasPrefix("exit\theph-guarded\t") == true }, "\(watcher.stderr)")
        #expect(objects.contains { $0["kind"] as? String == "print" && $0["stream"] as? String == "stderr" && ($0["text"] as? String)?.hasPrefix("heph restart: heph-guarded is stopped (") == true }, "\(watcher.stderr)")
        // A hook that ran well, and one that failed: its error with the traceback.
        #expect(objects.contains { $0["kind"] as? String == "hook" && $0["event"] as? String == "exit" && $0["error"] is NSNull && $0["duration_s"] is Double }, "\(watcher.stderr)")
        let failed = try #require(objects.first { $0["kind"] as? String == "hook" && $0["error"] is String }, "\(watcher.stderr)")
        #expect(failed["level"] as? String == "error")
        #expect((failed["error"] as? String)?.contains("a hook that fails on purpose\nstack traceback:") == true, "\(failed)")
        #expect(objects.contains { $0["kind"] as? String == "notice" && ($0["message"] as? String)?.hasPrefix("a hook failed on") == true }, "\(watcher.stderr)")
    }

    /// The engine's event stream cut (a relay in front of the engine, stopped) and back:
    /// a notice each way in the log, and heph_engine_connected 0 then 1.
    @Test func aLostAndRestoredEventStreamIsANoticeAndTheConnectedGauge() async throws {
        let project = TestNames.project()
        defer { Docker.removeProjects([project]) }
        let port = Fixtures.freePort()
        let relayArguments = ["tcp-listen:\(port),bind=127.0.0.1,reuseaddr,fork", "unix-connect:\(EngineEndpoint.defaultSocketPath)"]
        var relay = try BackgroundProcess("/usr/bin/socat", relayArguments, ownGroup: true)
        defer { relay.stop() }
        _ = await Fixtures.eventually(timeout: .seconds(5)) { (try? await Command.run("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port)"]).status) == 0 }
        let watcher = try HephProcess(["run", "--log-format", "json", "--metrics", "127.0.0.1:0", "-p", project, HephBinary.repositoryRoot + "/Tests/Metrics/guarded.lua"],
                                      environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(port)"])
        #expect(await watcher.waitFor("\"text\":\"READY\"", in: \.stderr, timeout: .seconds(30)), "\(watcher.stderr)")
        let address = try #require(watcher.stderr.firstMatch(of: /metrics at http:\/\/([0-9.:]+)\/metrics/)?.1)
        func connected() async -> Bool? {
            let scraped = try? await Command.run("/usr/bin/curl", ["-s", "http://\(address)/metrics"])
            return scraped?.stdout.split(separator: "\n").first { $0.hasPrefix("heph_engine_connected ") }.map { $0.hasSuffix(" 1.0") }
        }
        #expect(await Fixtures.eventually(timeout: .seconds(10)) { await connected() == true })
        relay.stop()
        #expect(await watcher.waitFor("\"kind\":\"notice\",\"project\":\"\(project)\",\"message\":\"lost the engine's event stream", in: \.stderr), "\(watcher.stderr)")
        #expect(await Fixtures.eventually(timeout: .seconds(10)) { await connected() == false })
        relay = try BackgroundProcess("/usr/bin/socat", relayArguments, ownGroup: true)
        #expect(await watcher.waitFor("\"message\":\"the engine's event stream is back\"", in: \.stderr, timeout: .seconds(30)), "\(watcher.stderr)")
        #expect(await Fixtures.eventually(timeout: .seconds(10)) { await connected() == true })
        watcher.signal(SIGINT)
        #expect(await watcher.status() == 130, "\(watcher.stderr)")
    }

    @Test func anUnknownFormatExits64() async throws {
        let result = try await HephBinary.run(["run", "--log-format", "xml", "nothing.lua"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--log-format"), "\(result.stderr)")
    }
}

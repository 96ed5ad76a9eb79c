import Foundation
@testable import HephDocker
import HephTestSupport
import Testing

/// The engine backend's periodic poll, on an engine of the test's own (so its event log
/// holds only what the test does): between full looks it asks the engine's event log what
/// changed and lists only that, and looks at everything when the log may have lost events
/// (the anchor, the newest event of the span before, is no longer in it).
@Suite(.usesEngine) struct PeriodicPollTests {
    /// Waits out ``EventWindow/margin`` and the second the engine's `Date` is rounded to
    /// (plus slack), so what just happened falls inside the next span, whole.
    static func pastTheMargin() async throws {
        try await Task.sleep(for: .nanoseconds(EventWindow.margin) + .milliseconds(1500))
    }

    @Test func aPollListsOnlyWhatTheEventLogNamesAndLooksAtEverythingWhenTheLogMayHaveLostSome() async throws {
        try await PrivateEngine.with { engine in
            try await DockerOrchestrator.withOrchestrator(endpoint: EngineEndpoint(environment: ["DOCKER_HOST": engine.host])) { orchestrator in
                for name in ["quiet", "changed"] {
                    _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle))
                    try await orchestrator.startContainer(name)
                }
                // A full look starts the next span a margin back: what happened that late is
                // asked about again (harmlessly). Past it, the next span starts quiet.
                try await Self.pastTheMargin()
                let feed = ContainerFeed(orchestrator: orchestrator, pollInterval: .seconds(5))
                let full = try await feed.observe(full: true) { _ in nil }
                #expect(full.scope == nil)
                #expect(full.observations.map(\.name).sorted() == ["heph-changed", "heph-quiet"])
                #expect(full.calls == 2)  // the list, and the log for the next span's anchor

                // The first poll after a full look looks at its containers once more; then
                // nothing happened: one call, and nothing listed.
                try await Self.pastTheMargin()
                let again = try await feed.observe(full: false) { _ in .running }
                #expect(again.observations.map(\.name).sorted() == ["heph-changed", "heph-quiet"])
                try await Self.pastTheMargin()
                let idle = try await feed.observe(full: false) { _ in .running }
                #expect(idle.scope == [])
                #expect(idle.observations.isEmpty)
                #expect(idle.calls == 1)

                // Stopped from outside: the log names it, and only it is listed (with its
                // exit code, as the watcher thought it running).
                try await engine.docker("stop", "-t", "1", "heph-changed")
                let changedID = try await engine.docker("inspect", "-f", "{{.Id}}", "heph-changed").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                try await Self.pastTheMargin()
                let look = try await feed.observe(full: false) { _ in .running }
                #expect(look.scope == [changedID])
                #expect(look.observations.map(\.name) == ["heph-changed"])
                #expect(look.observations.first?.status == .stopped)
                #expect(look.observations.first?.exit?.code == 0)
                #expect(look.calls == 3)
                // Looked at once more by the next poll, then quiet again.
                try await Self.pastTheMargin()
                #expect(try await feed.observe(full: false) { _ in .stopped }.observations.map(\.name) == ["heph-changed"])

                // Removed from outside: in the scope and absent from the list, so gone.
                try await engine.docker("rm", "-f", "heph-changed")
                try await Self.pastTheMargin()
                let removal = try await feed.observe(full: false) { _ in .stopped }
                #expect(removal.scope == [changedID])
                #expect(removal.observations.isEmpty)
                _ = try await feed.observe(full: false) { _ in nil }  // its recheck

                // Foreign containers made and removed, 280 events: more than the engine's log
                // keeps, so the anchor is gone from it, and the poll looks at everything.
                let churn = #"export D="$0" H="$1" I="$2"; seq 1 140 | xargs -P 4 -I{} sh -c '"$D" -H "$H" create --name f{} "$I" true >/dev/null && "$D" -H "$H" rm f{} >/dev/null'"#
                let made = try await Command.run("/bin/sh", ["-c", churn, Docker.executable(), engine.host, Fixtures.image])
                #expect(made.status == 0, "\(made.stderr)")
                try await Self.pastTheMargin()
                let evicted = try await feed.observe(full: false) { _ in nil }
                #expect(evicted.scope == nil)
                #expect(evicted.observations.map(\.name) == ["heph-quiet"])
                // That full look anchored the next span again: after its recheck, quiet, one call.
                try await Self.pastTheMargin()
                _ = try await feed.observe(full: false) { _ in .running }
                try await Self.pastTheMargin()
                let after = try await feed.observe(full: false) { _ in .running }
                #expect(after.scope == [])
                #expect(after.calls == 1)
            }
        }
    }
}

import Foundation
import HephTestSupport
import Testing

/// The bridge releases what it takes: the long runs are `scripts/soak` (LeakSanitizer, a
/// 50-container watch); this is the quick guard that runs with every test run.
@Suite(.usesEngine) struct ResourceHygieneTests {
    @Test func twentyThousandBridgeCallsLeaveTheLuaHeapAsTheyFoundIt() async throws {
        let name = TestNames.unique("churn")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = try await HephBinary.run(["run", HephBinary.repositoryRoot + "/Tests/Fixtures/bridge-churn.lua", "20000", name])
        #expect(result.status == 0, "\(result.stderr)")
        // `at  10%: calls=… lua_kib=59 rss_kib=…`: the heap after a full collection, per tenth.
        let heap = result.stdout.split(separator: "\n").filter { $0.hasPrefix("at ") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("lua_kib=") }.flatMap { Int($0.dropFirst("lua_kib=".count)) }
        }
        #expect(heap.count == 10, "\(result.stdout)")
        // Hooks, timers, pollers and callbacks each hold a registry reference while they
        // live; one not released per round would grow the heap by kilobytes over every
        // half of the run. (A table of the runtime may grow once early on, under load, when
        // more calls are outstanding at once: a step, not a leak, so the second half is
        // what must stay flat.)
        #expect(heap.count == 10 && heap[9] - heap[4] <= 2, "\(heap)")
        #expect((heap.max() ?? .max) - (heap.min() ?? 0) <= 8, "\(heap)")
        #expect(result.stdout.contains("calls=2000"))
        #expect(try await Docker.run("inspect", "heph-\(name)").status != 0)  // removed at the end
    }
}

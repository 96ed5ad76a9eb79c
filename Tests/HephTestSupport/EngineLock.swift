/// Who may use the engine at once: up to ``maximumShared`` tests that touch only their own
/// containers, or one test that acts on every managed container (teardown, `heph down`).
///
/// A reader-writer lock with FIFO hand-over, so a waiting exclusive test is not starved by
/// a stream of shared ones. Whenever the last holder leaves and nobody waits, it removes the
/// managed network the tests made in passing, so a test run leaves the engine as it found it.
/// Throughout the run a foreign container named `heph-…` (``ForeignSentinel``) stands by,
/// and every exclusive test is checked not to have touched it.
public actor EngineLock {
    /// The lock all test targets share (they run in one process).
    public static let shared = EngineLock()

    private var readers = 0
    /// Tests that share the engine at once, at most: on two cores, every test at once
    /// slowed the engine so much (a start taking 30 s, a stop event 2 s late) that tests
    /// timing what it does failed; a dozen keep it busy without drowning it.
    static let maximumShared = 12
    private var writer = false
    private var waiting: [(exclusive: Bool, continuation: CheckedContinuation<Void, Never>)] = []

    /// Which lock, if any, the current task holds; nested acquisitions pass straight through.
    @TaskLocal static var held: Bool = false

    /// Runs `body` holding the lock, shared or exclusive.
    public static func with<T: Sendable>(exclusive: Bool, _ body: @Sendable () async throws -> T) async throws -> T {
        if held { return try await body() }
        await ForeignSentinel.ensureRunning()
        await shared.acquire(exclusive: exclusive)
        do {
            let result = try await $held.withValue(true) { try await body() }
            // What acts on every managed container must leave the unlabelled heph-* one be.
            if exclusive { await ForeignSentinel.expectUntouched() }
            // The test's own cleanups are done before the engine is let go.
            await Cleanup.drained()
            await shared.release(exclusive: exclusive)
            return result
        } catch {
            await Cleanup.drained()
            await shared.release(exclusive: exclusive)
            throw error
        }
    }

    /// Removes the default project's `heph.state` (docs/ha.md): the restart plugin keeps
    /// budgets there for the containers of the tests that run in the default project, and
    /// a test that ends before its containers' removal reaches the plugin leaves them. The
    /// default project is the suite's own. Runs only while no test holds the engine.
    private static func removeDefaultProjectState() async {
        guard let names = try? await Docker.output("volume", "ls", "-q", "--filter", "label=io.heph.role=state", "--filter", "label=io.heph.project=default"),
              !names.isEmpty else { return }
        _ = try? await Command.run(Docker.executable(), ["volume", "rm", "-f"] + names.split(separator: "\n").map(String.init))
    }

    /// Removes the managed `heph-network` when no container uses it (`docker network rm`
    /// refuses one in use). Runs only while no test holds the engine.
    private static func removeIdleNetwork() async {
        guard let ids = try? await Docker.output("network", "ls", "-q", "--filter", "label=io.heph.managed=true"), !ids.isEmpty else { return }
        for id in ids.split(separator: "\n") {
            _ = try? await Docker.run("network", "rm", String(id))
        }
    }

    private func acquire(exclusive: Bool) async {
        if waiting.isEmpty, canGrant(exclusive: exclusive) {
            grant(exclusive: exclusive)
            return
        }
        await withCheckedContinuation { waiting.append((exclusive, $0)) }
    }

    private func release(exclusive: Bool) async {
        if exclusive { writer = false } else { readers -= 1 }
        if readers == 0, !writer, waiting.isEmpty {
            // Hold the engine exclusively while cleaning, so no test starts halfway through.
            writer = true
            await Self.removeIdleNetwork()
            await Self.removeDefaultProjectState()
            writer = false
        }
        while let next = waiting.first, canGrant(exclusive: next.exclusive) {
            waiting.removeFirst()
            grant(exclusive: next.exclusive)
            next.continuation.resume()
        }
    }

    private func canGrant(exclusive: Bool) -> Bool {
        exclusive ? (!writer && readers == 0) : (!writer && readers < Self.maximumShared)
    }

    private func grant(exclusive: Bool) {
        if exclusive { writer = true } else { readers += 1 }
    }
}

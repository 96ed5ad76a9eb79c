/// Who may use the engine at once: any number of tests that touch only their own
/// containers, or one test that acts on every managed container (teardown, `heph down`).
///
/// A reader-writer lock with FIFO hand-over, so a waiting exclusive test is not starved by
/// a stream of shared ones.
public actor EngineLock {
    /// The lock all test targets share (they run in one process).
    public static let shared = EngineLock()

    private var readers = 0
    private var writer = false
    private var waiting: [(exclusive: Bool, continuation: CheckedContinuation<Void, Never>)] = []

    /// Which lock, if any, the current task holds; nested acquisitions pass straight through.
    @TaskLocal static var held: Bool = false

    /// Runs `body` holding the lock, shared or exclusive.
    public static func with<T: Sendable>(exclusive: Bool, _ body: @Sendable () async throws -> T) async throws -> T {
        if held { return try await body() }
        await shared.acquire(exclusive: exclusive)
        do {
            let result = try await $held.withValue(true) { try await body() }
            await shared.release(exclusive: exclusive)
            return result
        } catch {
            await shared.release(exclusive: exclusive)
            throw error
        }
    }

    private func acquire(exclusive: Bool) async {
        if waiting.isEmpty, canGrant(exclusive: exclusive) {
            grant(exclusive: exclusive)
            return
        }
        await withCheckedContinuation { waiting.append((exclusive, $0)) }
    }

    private func release(exclusive: Bool) {
        if exclusive { writer = false } else { readers -= 1 }
        while let next = waiting.first, canGrant(exclusive: next.exclusive) {
            waiting.removeFirst()
            grant(exclusive: next.exclusive)
            next.continuation.resume()
        }
    }

    private func canGrant(exclusive: Bool) -> Bool {
        exclusive ? (!writer && readers == 0) : !writer
    }

    private func grant(exclusive: Bool) {
        if exclusive { writer = true } else { readers += 1 }
    }
}

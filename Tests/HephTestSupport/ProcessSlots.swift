/// At most `count` holders at once, first come first served: for tests that start many
/// processes each (the hostile matrix), so that they do not starve the rest of the suite
/// (and the timing of what they check) on a two-core machine.
public actor ProcessSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(_ count: Int) {
        free = count
    }

    /// Runs `body` holding a slot.
    public func with<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        if free > 0 {
            free -= 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
        defer {
            if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}

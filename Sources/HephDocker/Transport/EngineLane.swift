/// Which of heph's two ways to the engine a call takes.
///
/// Bulk work (creating, starting, stopping, removing, inspecting for a script) waits for
/// one of the process's ``EngineSlots``; control traffic (the event stream, the watcher's
/// and pollers' looks, pings, and later lease renewals) takes no slot and has connections
/// of its own, so a 200-service `heph.up` never holds back a hook or a poll.
///
/// A task's lane is a task-local value: code that observes on heph's behalf runs its
/// engine calls inside ``asControl(_:)``, and every task it starts inherits the lane.
public enum EngineLane: Sendable, Hashable {
    /// Work a script or command asked for: bounded by the slots.
    case bulk
    /// heph's own observation of the engine: never waits behind bulk work.
    case control

    /// The lane of the current task; bulk unless set.
    @TaskLocal public static var current: EngineLane = .bulk

    /// Runs `body` with its engine calls as control traffic.
    public static func asControl<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async rethrows -> T {
        try await $current.withValue(.control, operation: body, isolation: isolation)
    }
}

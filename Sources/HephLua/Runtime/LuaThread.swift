import CHephLua
import Foundation
import HephDocker

/// The one thread that owns a `lua_State`. Jobs posted from any thread run on it, one at a
/// time, in the order they were posted.
final class LuaThread: @unchecked Sendable {
    // @unchecked: `jobs`, `stopping`, `blocked` and `runningHolds` are only touched with
    // `condition` locked.
    private let condition = NSCondition()
    /// Jobs to run, each with whether it holds the virtual clock.
    private var jobs: [(job: @Sendable () -> Void, holds: Bool)] = []
    private var stopping = false
    /// Whether the job running blocks the thread in a wait (``whileBlocked(_:)``).
    private var blocked = false
    /// Whether the job running holds the virtual clock.
    private var runningHolds = false
    /// The watch thread every job is reported to (a job that runs past `jobLimit` plus a
    /// second, say a finalizer looping while the host pushes a value, ends heph), and the
    /// limit. Set once, before the first job.
    private var guardPointer: OpaquePointer?
    private var jobLimit: Double = 0
    /// Told when a job is posted and when it has run: a virtual clock is held still while
    /// the thread has work (``holdWhileBusy(_:)``). Set once, before the first job.
    private var activity: VirtualClock?
    /// Whether the loop has ended, and what runs when it does.
    private var ended = false
    private var onEnd: (@Sendable () -> Void)?

    /// Lua's C functions recurse on the C stack; give deep (but bounded) recursion room.
    static let stackSize = 16 << 20

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.stackSize = Self.stackSize
        thread.start()
    }

    /// Reports every job from now on to the watch thread `guardPointer`, with `limit`.
    func guardEntries(_ guardPointer: OpaquePointer?, limit: Double) {
        condition.lock()
        self.guardPointer = guardPointer
        jobLimit = limit
        condition.unlock()
    }

    /// Holds `clock` still from the moment a job is posted until it has run, so virtual time
    /// never moves while Lua has work to do (`heph test`).
    func holdWhileBusy(_ clock: VirtualClock) {
        condition.lock()
        activity = clock
        condition.unlock()
    }

    /// Runs `body`, a wait that blocks the thread (a call waited on in place), without
    /// holding the virtual clock, neither for the job that waits nor for the jobs queued
    /// behind it (they cannot run before the wait ends): what it waits for may be the
    /// clock's next deadline. Jobs posted meanwhile hold it only once the wait is over.
    func whileBlocked<T>(_ body: () -> T) -> T {
        condition.lock()
        let activity = activity
        let letGo = jobs.filter(\.holds).count + (runningHolds ? 1 : 0)
        blocked = true
        runningHolds = false
        for index in jobs.indices { jobs[index].holds = false }
        condition.unlock()
        for _ in 0..<letGo { activity?.release() }
        defer {
            condition.lock()
            let takeBack = activity == nil ? 0 : jobs.count + 1
            blocked = false
            runningHolds = activity != nil
            for index in jobs.indices { jobs[index].holds = activity != nil }
            condition.unlock()
            for _ in 0..<takeBack { activity?.hold() }
        }
        return body()
    }

    /// Runs `job` on the thread after the jobs already posted. After ``stop()`` the job is
    /// dropped and the answer is false.
    @discardableResult
    func post(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        let holds = activity != nil && !blocked
        if holds { activity?.hold() }
        jobs.append((job, holds))
        condition.signal()
        return true
    }

    /// Runs `body` on the thread and returns its result; nil once the thread has stopped.
    func perform<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T? {
        await withCheckedContinuation { continuation in
            let posted = post { continuation.resume(returning: body()) }
            if !posted { continuation.resume(returning: nil) }
        }
    }

    /// Ends the thread once the jobs already posted have run.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs already posted have run, then runs `body` (at once if
    /// it has ended already): for what its jobs use to the last, such as the watch thread.
    func whenEnded(_ body: @escaping @Sendable () -> Void) {
        condition.lock()
        guard !ended else {
            condition.unlock()
            body()
            return
        }
        onEnd = body
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty, !stopping { condition.wait() }
            if jobs.isEmpty {
                ended = true
                let body = onEnd
                condition.unlock()
                body?()
                return
            }
            // One at a time: a job that blocks (``whileBlocked(_:)``) must see those behind it.
            let next = jobs.removeFirst()
            runningHolds = next.holds
            let watch = guardPointer, limit = jobLimit, activity = activity
            condition.unlock()
            heph_guard_push(watch, limit, "heph's Lua thread")
            next.job()
            heph_guard_pop(watch)
            condition.lock()
            let held = runningHolds
            runningHolds = false
            condition.unlock()
            if held { activity?.release() }
        }
    }
}

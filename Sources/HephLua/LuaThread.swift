import Foundation

/// The one thread that owns a `lua_State`. Jobs posted from any thread run on it, one at a
/// time, in the order they were posted.
final class LuaThread: @unchecked Sendable {
    // @unchecked: `jobs` and `stopping` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var stopping = false

    /// Lua's C functions recurse on the C stack; give deep (but bounded) recursion room.
    static let stackSize = 16 << 20

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.stackSize = Self.stackSize
        thread.start()
    }

    /// Runs `job` on the thread after the jobs already posted. After ``stop()`` the job is
    /// dropped and the answer is false.
    @discardableResult
    func post(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        jobs.append(job)
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

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty, !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll()
            condition.unlock()
            for job in batch { job() }
        }
    }
}

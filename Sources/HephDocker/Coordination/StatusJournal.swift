import Foundation
import Synchronization

/// Keeps, with the project's state, what the leading watcher last saw of each container,
/// so a new leader reports once what changed in the leaderless gap.
///
/// Writes are coalesced: one in flight at a time, the newest snapshot after it. The
/// journal runs behind the hooks by at most one write (milliseconds): a container that
/// changes in that window and again in the gap is reported by its net change.
public final class StatusJournal: Sendable {
    private let store: any ProjectStateStore
    /// Whether this process may still write (it leads): checked before every write.
    private let mayWrite: @Sendable () -> Bool
    /// The snapshot waiting to be written, whether a write is under way, and the last
    /// snapshot taken (one equal to it is not written again: the watcher hands one over
    /// after every poll).
    private let pending = Mutex<(latest: [String: WatchedStatus]?, writing: Bool, last: [String: WatchedStatus]?)>((nil, false, nil))

    /// A journal in `store`, written only while `mayWrite` says so.
    public init(store: any ProjectStateStore, mayWrite: @escaping @Sendable () -> Bool = { true }) {
        self.store = store
        self.mayWrite = mayWrite
    }

    /// What the previous leader last saw; empty when nothing (or unreadable).
    public static func load(from store: any ProjectStateStore) async -> [String: WatchedStatus] {
        guard let bytes = try? await store.loadStatuses(),
              let statuses = try? JSONDecoder().decode([String: WatchedStatus].self, from: Data(bytes)) else { return [:] }
        return statuses
    }

    /// Records `snapshot`; it is written in the background.
    public func record(_ snapshot: [String: WatchedStatus]) {
        let start = pending.withLock { pending -> Bool in
            guard snapshot != pending.last else { return false }
            pending.latest = snapshot
            guard !pending.writing else { return false }
            pending.writing = true
            return true
        }
        guard start else { return }
        Task {
            await EngineLane.asControl {
                while let next = pending.withLock({ pending -> [String: WatchedStatus]? in
                    defer { pending.latest = nil }
                    if pending.latest == nil { pending.writing = false }
                    return pending.latest
                }) {
                    guard mayWrite(), let bytes = try? JSONEncoder().encode(next) else { continue }
                    // Only a snapshot written counts as the last: after a failed write the
                    // same snapshot is written again at the next look.
                    if (try? await store.saveStatuses(Array(bytes))) != nil { pending.withLock { $0.last = next } }
                }
            }
        }
    }
}

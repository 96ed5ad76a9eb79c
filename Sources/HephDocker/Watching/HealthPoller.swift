/// A running health poll; ``stop()`` ends it. Dropping the handle does not stop it.
public final class HealthPoller: Sendable {
    private let task: Task<Void, Never>

    init(task: Task<Void, Never>) {
        self.task = task
    }

    /// Stops polling; no callback starts after this returns.
    public func stop() {
        task.cancel()
    }

    /// Polls `snapshot` in the background: `callback` gets it at once, then every
    /// `interval` on `clock`, until ``stop()``. When `snapshot` fails, the containers of the
    /// last one are reported as ``ContainerStatus/error`` and `onError` receives the
    /// failure; polling goes on.
    public static func start(
        clock: any HephClock,
        interval: Duration,
        snapshot: @escaping @Sendable () async throws -> [String: ContainerStatus],
        onError: (@Sendable (DockerError) -> Void)?,
        callback: @escaping HealthStatusCallback
    ) -> HealthPoller {
        // A poll is control traffic: it never waits behind bulk work.
        HealthPoller(task: clock.task {
            await EngineLane.asControl {
                await poll(clock: clock, interval: interval, snapshot: snapshot, onError: onError, callback: callback)
            }
        })
    }

    /// ``start(clock:interval:snapshot:onError:callback:)`` in the calling task, until it is cancelled.
    static func poll(
        clock: any HephClock,
        interval: Duration,
        snapshot: () async throws -> [String: ContainerStatus],
        onError: (@Sendable (DockerError) -> Void)?,
        callback: HealthStatusCallback
    ) async {
        var last: [String: ContainerStatus] = [:]
        await clock.repeating(every: max(interval, .milliseconds(1))) {
            do {
                last = try await snapshot()
            } catch is CancellationError {
                return false
            } catch {
                onError?(DockerError(error))
                last = last.mapValues { _ in .error }
            }
            guard !Task.isCancelled else { return false }
            callback(last)
            return true
        }
    }
}

extension Orchestrator {
    /// The status of every managed container, keyed by full name, from one list.
    ///
    /// The list carries health only in its `Status` text (`Up 3 seconds (healthy)`), which
    /// is enough for the six statuses, so no container is inspected: one engine call.
    public func healthSnapshot() async throws -> [String: ContainerStatus] {
        Dictionary(try await listContainers().map { ($0.name, $0.status) }, uniquingKeysWith: { first, _ in first })
    }

    /// Polls in the background: `callback` gets a snapshot of every managed container at
    /// once, then every `interval`, until ``HealthPoller/stop()``.
    ///
    /// When the engine cannot be listed, the containers of the last snapshot are reported as
    /// ``ContainerStatus/error`` and `onError` receives the failure; polling goes on.
    public func startHealthPolling(
        interval: Duration = defaultHealthCheckInterval,
        onError: (@Sendable (DockerError) -> Void)? = nil,
        callback: @escaping HealthStatusCallback
    ) -> HealthPoller {
        HealthPoller.start(clock: clock, interval: interval, snapshot: healthSnapshot, onError: onError, callback: callback)
    }
}

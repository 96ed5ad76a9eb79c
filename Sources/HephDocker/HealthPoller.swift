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
        HealthPoller(task: Task {
            await self.pollHealth(interval: interval, onError: onError, callback: callback)
        })
    }

    /// Polls in the calling task until it is cancelled; see
    /// ``startHealthPolling(interval:onError:callback:)``.
    public func pollHealth(
        interval: Duration = defaultHealthCheckInterval,
        onError: (@Sendable (DockerError) -> Void)? = nil,
        callback: HealthStatusCallback
    ) async {
        let interval = max(interval, .milliseconds(1))
        let clock = ContinuousClock()
        var deadline = clock.now
        var last: [String: ContainerStatus] = [:]
        while !Task.isCancelled {
            do {
                last = try await healthSnapshot()
            } catch is CancellationError {
                return
            } catch {
                onError?(error as? DockerError ?? DockerError(.engine, "\(error)", underlying: error))
                last = last.mapValues { _ in .error }
            }
            guard !Task.isCancelled else { return }
            callback(last)
            // Fixed rate: a slow poll delays the next one, it does not shift every later one.
            deadline += interval
            if deadline < clock.now { deadline = clock.now }
            do { try await clock.sleepInSlices(until: deadline) } catch { return }
        }
    }
}

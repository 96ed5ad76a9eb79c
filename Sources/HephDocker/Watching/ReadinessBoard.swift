/// Shares one container list among everything waiting for readiness: while anyone waits,
/// one `listContainers` per round (every `interval`), whatever the number of waiters.
///
/// A waiter gets a list that began after it asked, so a container it just created or
/// started is in it with at least that state.
actor ReadinessBoard {
    private let orchestrator: any Orchestrator
    private let interval: Duration
    private var waiters: [CheckedContinuation<[String: ContainerInfo], any Error>] = []
    private var polling = false

    init(orchestrator: any Orchestrator, interval: Duration = .milliseconds(100)) {
        self.orchestrator = orchestrator
        self.interval = interval
    }

    /// The next list, keyed by full name.
    func nextSnapshot() async throws -> [String: ContainerInfo] {
        let clock = orchestrator.clock
        if !polling {
            polling = true
            // Its rounds are control traffic: a 200-service heph.up sees each service
            // ready at once, not after the creates queued behind it. (Started, holding a
            // virtual clock, before the caller lets its own hold go; it reads the waiters
            // on this actor, so after the one below is in.)
            clock.task { await EngineLane.asControl { await self.poll() } }
        }
        // In virtual time the wait lets the caller's hold go (the rounds are what moves
        // it on), and the round that answers hands a hold over.
        defer { clock.receiveHandOver() }
        return try await clock.awaitingTime {
            try await withCheckedThrowingContinuation { continuation in
                waiters.append(continuation)
            }
        }
    }

    private func poll() async {
        while !waiters.isEmpty {
            let round = waiters
            waiters = []
            let began = orchestrator.clock.now
            let result: Result<[String: ContainerInfo], any Error>
            do {
                let containers = try await orchestrator.listContainers()
                result = .success(Dictionary(containers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
            } catch {
                result = .failure(error)
            }
            for waiter in round {
                orchestrator.clock.handOverHold()
                waiter.resume(with: result)
            }
            try? await orchestrator.clock.sleep(until: began + interval)
        }
        polling = false
    }
}

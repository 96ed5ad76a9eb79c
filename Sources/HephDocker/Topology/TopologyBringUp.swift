import Foundation

extension Orchestrator {
    /// Brings `topology` up: validates it completely, creates the network, then creates and
    /// starts every service once its dependencies are ready, independent ones in parallel,
    /// and waits until every service is ready (healthy, or running when its config has no
    /// healthcheck).
    ///
    /// Idempotent: a container whose config fingerprint (``configHashLabel``) matches is
    /// left alone (or started when stopped); one whose config changed is replaced; a service
    /// that was replaced or restarted restarts the running services that depend on it.
    ///
    /// Cancelling the calling task stops it within a readiness round: no service is
    /// created or started after that, and what was done stays.
    ///
    /// - Returns: every service's container, keyed by service name.
    /// - Throws: ``DockerError/Code/invalidConfig`` before anything is touched; otherwise
    ///   one error naming every service that is not ready, its status and why
    ///   (`CancellationError` when cancelled).
    public func up(
        _ topology: Topology,
        progress: @escaping @Sendable (ServiceProgress) -> Void = { _ in }
    ) async throws -> [String: ContainerInfo] {
        let order = try topology.validatedOrder()
        guard !order.isEmpty else { return [:] }
        for name in order {
            guard let service = topology.services[name] else { continue }
            do {
                try checkSupported(service.config)
            } catch let error as DockerError {
                throw DockerError(error.code, Topology.relocated(error.message, to: "services.\(name)"), remedy: error.remedy)
            }
        }
        try await createNetwork()
        let bringUp = TopologyBringUp(orchestrator: self, topology: topology, progress: progress)
        defer { MemoryRelease.afterBurst() }
        return try await bringUp.run(order)
    }
}

/// One run of ``Orchestrator/up(_:progress:)``.
struct TopologyBringUp: Sendable {
    let orchestrator: any Orchestrator
    let topology: Topology
    let progress: @Sendable (ServiceProgress) -> Void
    let began: ContinuousClock.Instant
    let board: ReadinessBoard

    init(orchestrator: any Orchestrator, topology: Topology, progress: @escaping @Sendable (ServiceProgress) -> Void) {
        self.orchestrator = orchestrator
        began = orchestrator.clock.now
        self.topology = topology
        self.progress = progress
        self.board = ReadinessBoard(orchestrator: orchestrator)
    }

    var deadline: ContinuousClock.Instant { began + topology.timeout }

    /// How one service ended.
    enum Outcome: Sendable {
        /// Ready; `changed` when it was created, replaced, started or restarted.
        case ready(ContainerInfo, changed: Bool)
        /// Not ready: `status` is its state in words, `error` what went wrong, if anything did.
        case notReady(status: String, error: DockerError?)
        /// Not started, as these dependencies are not ready: `db (failed)`.
        case notStarted(waitingFor: [String])
    }

    /// One task per service, each awaiting its dependencies' tasks: a service starts the
    /// moment the last of its dependencies is ready, and no sooner.
    func run(_ order: [String]) async throws -> [String: ContainerInfo] {
        var tasks: [String: Task<Outcome, Never>] = [:]
        let clock = orchestrator.clock
        // Who waits for each service's task: this function, and each service in the order
        // that depends on it. In virtual time a task ends by handing each of them a hold,
        // taken over once it runs: the clock cannot move between the two.
        var waiters = Dictionary(uniqueKeysWithValues: order.map { ($0, 1) })
        for name in order {
            for dependency in topology.services[name]?.dependsOn ?? [] where waiters[dependency] != nil { waiters[dependency, default: 0] += 1 }
        }
        for name in order {
            // The order puts every dependency first, so each has its task already.
            let dependencies = (topology.services[name]?.dependsOn ?? []).compactMap { dependency in tasks[dependency].map { (dependency, $0) } }
            let handOvers = waiters[name] ?? 1
            // Each its own task on the clock (in virtual time: held while it works), waiting
            // for its dependencies' as for something time moves.
            tasks[name] = clock.task {
                let outcome = await self.service(name, after: dependencies)
                for _ in 0..<handOvers { clock.handOverHold() }
                return outcome
            }
        }
        // The services' tasks are not children of this one: a cancellation (Ctrl-C) is
        // passed on, and each stops before its next step.
        let started = Array(tasks.values)
        return try await withTaskCancellationHandler {
            var ready: [String: ContainerInfo] = [:]
            var problems: [(name: String, text: String, error: DockerError?)] = []
            let seconds = formatted(topology.timeout / .seconds(1))
            for name in order {
                guard let task = tasks[name] else { continue }
                let outcome = await clock.awaitingTime { await task.value }
                clock.receiveHandOver()
                switch outcome {
                case .ready(let info, _): ready[name] = info
                case .notReady(let status, let error): problems.append((name, error?.message ?? "not ready after \(seconds) s: \(status)", error))
                case .notStarted(let waitingFor): problems.append((name, "not started, as it depends on \(waitingFor.joined(separator: ", "))", nil))
                }
            }
            guard problems.isEmpty else {
                if Task.isCancelled { throw CancellationError() }
                throw failure(problems, of: order.count)
            }
            return ready
        } onCancel: {
            for task in started { task.cancel() }
        }
    }

    /// One service, once its dependencies' tasks have ended: brought up, or not started
    /// when one of them is not ready.
    private func service(_ name: String, after dependencies: [(String, Task<Outcome, Never>)]) async -> Outcome {
        var dependencyChanged = false
        var waitingFor: [String] = []
        for (dependency, task) in dependencies {
            let outcome = await orchestrator.clock.awaitingTime { await task.value }
            orchestrator.clock.receiveHandOver()
            // Each with why in a word: a failed pull is not a timeout.
            switch outcome {
            case .ready(_, let changed): dependencyChanged = dependencyChanged || changed
            case .notReady(_, let error):
                let why = error.map { $0.code == .imagePull ? "its image could not be pulled" : "failed" } ?? "not ready after \(formatted(topology.timeout / .seconds(1))) s"
                waitingFor.append("\(dependency) (\(why))")
            case .notStarted: waitingFor.append("\(dependency) (not started)")
            }
        }
        if Task.isCancelled { return .notReady(status: "cancelled", error: nil) }
        if !waitingFor.isEmpty { return .notStarted(waitingFor: waitingFor) }
        return await bringUp(name, dependencyChanged: dependencyChanged)
    }

    /// Creates, replaces, starts or restarts one service as needed, then waits for it.
    private func bringUp(_ name: String, dependencyChanged: Bool) async -> Outcome {
        guard let config = topology.services[name]?.config else {
            return .notReady(status: "not in the topology", error: nil)
        }
        do {
            var changed = true
            let existing: ContainerInfo?
            do {
                existing = try await orchestrator.inspectContainer(name)
            } catch let error as DockerError where error.code == .notFound {
                // Missing, or a container of that name heph does not manage: then the
                // create below fails with a clear conflict, and nothing foreign is touched.
                existing = nil
            }
            if let existing, existing.details?.labels[configHashLabel] == (try orchestrator.fingerprint(of: config)) {
                switch existing.status {
                case .created, .stopped:
                    try await orchestrator.startContainer(existing.id)
                    report(name, .started)
                case .error where existing.details?.engineState == "paused":
                    try await orchestrator.unpauseContainer(existing.id)
                    report(name, .started)
                default:
                    if dependencyChanged {
                        report(name, .restarting, detail: "a service it depends on changed")
                        try await orchestrator.restartContainer(existing.id, timeout: stopTimeout)
                    } else {
                        changed = false
                        report(name, .unchanged)
                    }
                }
            } else if let existing {
                // Said before the wait: removing a running container waits for its graceful stop.
                let runs = existing.status == .running || existing.status == .healthy || existing.status == .unhealthy
                report(name, .replacing, detail: runs ? "its config changed; the old container's graceful stop may take up to \(formatted(stopTimeout))" : "its config changed")
                _ = try await orchestrator.replaceContainer(existing, with: config)
                report(name, .started)
            } else {
                let id = try await orchestrator.createContainer(config)
                report(name, .created)
                do {
                    try await orchestrator.startContainer(id)
                } catch {
                    // A container that cannot start (a host port taken) is not left half-made:
                    // the rerun after the fix creates it afresh. Cancelled, it stays (the
                    // summary lists it as created; a rerun starts it).
                    if !Task.isCancelled {
                        let orchestrator = orchestrator
                        await Task { try? await orchestrator.removeContainer(id) }.value
                    }
                    throw error
                }
                report(name, .started)
            }
            return try await waitUntilReady(name, config: config, changed: changed)
        } catch let error as DockerError {
            report(name, .failed, detail: error.message, remedy: error.remedy)
            return .notReady(status: "failed", error: error)
        } catch {
            return .notReady(status: "failed", error: DockerError(.engine, "\(error)"))
        }
    }

    /// Waits on the shared board until the service is ready, has stopped for good, or the
    /// deadline passes.
    private func waitUntilReady(_ name: String, config: ContainerConfig, changed: Bool) async throws -> Outcome {
        let fullName = ContainerName.full(name)
        let restarts = orchestrator.restartsAfterExit(config)
        if let probe = config.ready {
            if let failed = try await probeUntilReady(name, probe: probe, restarts: restarts) { return failed }
            // Serving says running; only a healthcheck's verdict is still to come.
            if config.healthcheck == nil {
                report(name, .ready)
                return .ready(try await orchestrator.inspectContainer(fullName), changed: changed)
            }
        }
        while true {
            if Task.isCancelled { return .notReady(status: "cancelled", error: nil) }
            let snapshot = try await board.nextSnapshot()
            if let blocked = await blocked(name, snapshot: snapshot, restarts: restarts) { return blocked }
            guard let info = snapshot[fullName] else { continue }
            if info.status == .healthy || (info.status == .running && config.healthcheck == nil) {
                report(name, .ready)
                return .ready(info, changed: changed)
            }
            if orchestrator.clock.now >= deadline {
                return .notReady(status: await statusDescription(fullName, fallback: info.status), error: nil)
            }
        }
    }

    /// Probes the service with `probe` every interval until it serves (nil), looking once a
    /// second on the shared board whether it can still get ready; its outcome when not.
    private func probeUntilReady(_ name: String, probe: ReadinessProbe, restarts: Bool) async throws -> Outcome? {
        let fullName = ContainerName.full(name)
        let session = orchestrator.readinessSession(fullName, probe: probe)
        defer { session.close() }
        var blockedOutcome: Outcome?
        let outcome = try await orchestrator.probeUntilReady(session, probe: probe, deadline: deadline, anchor: began) {
            blockedOutcome = await blocked(name, snapshot: try await board.nextSnapshot(), restarts: restarts)
            return blockedOutcome == nil ? nil : "blocked"
        }
        switch outcome {
        case .ready: return nil
        case .gone: return blockedOutcome
        case .cancelled: return .notReady(status: "cancelled", error: nil)
        case .timedOut(let last):
            let status = (try? await orchestrator.healthCheck(fullName))?.rawValue ?? "unknown"
            return .notReady(status: "\(status); ready probe (\(probe.summary)): \(last)", error: nil)
        }
    }

    /// Why the service cannot get ready any more, as `snapshot` shows it: removed, stopped
    /// for good, paused from outside; nil while it still may.
    private func blocked(_ name: String, snapshot: [String: ContainerInfo], restarts: Bool) async -> Outcome? {
        let fullName = ContainerName.full(name)
        guard let info = snapshot[fullName] else {
            let why = "\(fullName) was removed from outside before it was ready"
            report(name, .failed, detail: why)
            return .notReady(status: "removed", error: DockerError(.notFound, why))
        }
        if info.status == .stopped && !restarts {
            let why = await exitDescription(fullName)
            report(name, .failed, detail: why)
            return .notReady(status: "stopped", error: DockerError(.engine, why))
        }
        // Paused from outside, it will not get ready by itself; heph.up run again unpauses it.
        if info.status == .error, (try? await orchestrator.inspectContainer(fullName))?.details?.engineState == "paused" {
            let why = DockerError(.engine, "\(fullName) was paused from outside before it was ready; `docker unpause \(fullName)`", remedy: .bringUpAgain(container: fullName))
            report(name, .failed, detail: why.message, remedy: why.remedy)
            return .notReady(status: "paused", error: why)
        }
        return nil
    }

    /// `exited with code 1 before it was ready; its last output: …`.
    private func exitDescription(_ fullName: String) async -> String {
        var text = "\(fullName) stopped before it was ready"
        if let info = try? await orchestrator.inspectContainer(fullName), let code = info.details?.exitCode {
            text = "\(fullName) exited with code \(code) before it was ready"
        }
        if let output = try? await orchestrator.logs(fullName, tail: 3) {
            let last = (output.stderrText + output.stdoutText).split(separator: "\n").suffix(3).joined(separator: " | ")
            if !last.isEmpty { text += "; its last output: \(last)" }
        }
        return text
    }

    /// `unhealthy; last healthcheck (exit 1): wget: can't connect…`.
    private func statusDescription(_ fullName: String, fallback: ContainerStatus) async -> String {
        guard let info = try? await orchestrator.inspectContainer(fullName) else { return fallback.rawValue }
        var text = info.status.rawValue
        if let health = info.details?.health {
            if health.status == "starting" { text += " (health: starting)" }
            if let probe = health.log.last {
                let output = probe.output.trimmingCharacters(in: .whitespacesAndNewlines)
                text += "; last healthcheck (exit \(probe.exitCode)): \(output.isEmpty ? "no output" : quoted(output))"
            } else {
                text += "; no healthcheck has run yet"
            }
        }
        return text
    }

    private func report(_ name: String, _ step: ServiceProgress.Step, detail: String? = nil, remedy: DockerError.Remedy? = nil) {
        progress(ServiceProgress(service: name, step: step, elapsed: (orchestrator.clock.now - began) / .seconds(1), detail: detail, remedy: remedy))
    }

    /// One error for every service not ready, in dependency order: each with `text`, what
    /// happened to it.
    private func failure(_ problems: [(name: String, text: String, error: DockerError?)], of total: Int) -> DockerError {
        let lines = problems.map { problem in "  \(problem.name): \(problem.text)" }
        let code = problems.compactMap(\.error).first?.code ?? .notReady
        let headline = "\(problems.count) of \(total) services \(problems.count == 1 ? "is" : "are") not ready:"
        // The first remedy named is worded where its service's line has it.
        return DockerError(code, ([headline] + lines).joined(separator: "\n"), remedy: problems.compactMap { $0.error?.remedy }.first)
    }
}

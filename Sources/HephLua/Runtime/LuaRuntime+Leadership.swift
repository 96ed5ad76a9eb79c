import HephDocker

/// What a process that has just taken the lead of its project starts with.
public struct LeadGrant: Sendable {
    /// The lead itself.
    public var leadership: any Leadership
    /// What the previous leader last saw of each container: the first watcher reports how
    /// they changed in the leaderless gap.
    public var baseline: [String: WatchedStatus]
}

extension LuaRuntime {
    /// Registers this process as a watcher of `backend`'s project and waits until it leads
    /// the project, saying on `diagnostics` that it stands by (and for whom), then that it
    /// leads. Cancelling the task ends the wait.
    public static func campaign(_ backend: BackendSession, diagnostics: @escaping @Sendable (String) -> Void) async throws -> LeadGrant {
        let coordination = try backend.orchestrator().coordination
        coordination.registerWatcher()
        let project = backend.project.name
        let leadership = try await coordination.campaign { line in diagnostics("heph: \(line)\n") }
        let baseline = await StatusJournal.load(from: coordination.state)
        if !(coordination is LocalCoordination) {
            diagnostics("heph: leading project \(project) (instance \(WatcherIdentity.current.instance))\n")
        }
        return LeadGrant(leadership: leadership, baseline: baseline)
    }

    /// Makes the run a leader's: its hooks, timers and pollers run only while the lead holds,
    /// and losing it ends the run (``LuaRunOutcome/lostLead(_:)``). Call before ``run(_:)``.
    public func adopt(_ grant: LeadGrant) {
        thread.post { [weak self] in self?.install(grant) }
    }

    private func install(_ grant: LeadGrant) {
        leadership = grant.leadership
        leaderBaseline = grant.baseline
        let thread = self.thread
        grant.leadership.whenLost { reason in thread.post { [weak self] in self?.loseLead(reason) } }
    }

    /// `heph.lead()`, from its operation's task: returns at once when the process leads
    /// already (`--lead`), else campaigns; refused after the script's first engine call.
    func lead() async throws {
        let (leading, used) = await thread.perform { (self.leadership != nil, self.usedEngine) } ?? (false, false)
        if leading { return }
        if used {
            throw DockerError(.conflict, "call it before the script's first engine call (a standby must not have touched the engine), or run the script with heph run --lead")
        }
        let grant = try await Self.campaign(configuration.backend, diagnostics: configuration.diagnostics)
        await thread.perform { self.install(grant) }
    }

    /// Whether this process led and can no longer prove it does; finding so ends the run
    /// (from the loop: the caller may be running Lua).
    func leadLapsed() -> Bool {
        guard let leadership, !leadership.isValid else { return false }
        thread.post { [weak self] in self?.loseLead("its lease was not renewed in time (the engine unreachable, or this process frozen)") }
        return true
    }

    /// Ends the run at once, without its `on_shutdown` handlers: another process may lead
    /// by now, and nothing this one would do is its to do.
    func loseLead(_ reason: String) {
        guard leadership != nil, lifecycle.current != nil else { return }
        configuration.diagnostics("heph: lost the lead of project \(configuration.backend.project.name): \(reason); no further hook runs, standing by\n")
        completeRun(.lostLead(reason))
    }

    /// A leader's first watcher: starts from what the previous leader saw, and keeps what
    /// this one sees with the state. Others watch from what the engine shows now.
    func startWatching(_ watcher: ContainerWatcher, _ orchestrator: any Orchestrator) {
        guard let leadership else {
            watcher.start()
            return
        }
        let journal = StatusJournal(store: orchestrator.coordination.state)
        let baseline = leaderBaseline
        leaderBaseline = [:]
        watcher.start(baseline: baseline) { snapshot in
            // A lapsed leader must not overwrite what its successor keeps.
            if leadership.isValid { journal.record(snapshot) }
        }
    }

    /// Registers a `heph run` that keeps running as a watcher of its project, once it has
    /// used the engine (a script that only computes needs no engine).
    func registerAsWatcher() {
        guard configuration.registersWatcher, configuration.backend.isInUse, let orchestrator = try? configuration.backend.orchestrator() else { return }
        orchestrator.coordination.registerWatcher()
    }
}

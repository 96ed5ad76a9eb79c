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
        // Latched even when no run is under way yet: the run that begins ends at once.
        grant.leadership.whenLost { reason in thread.post { [weak self] in self?.loseLead(reason) } }
    }

    /// `heph.lead()`, from its operation's task: returns at once when the process leads
    /// already (`--lead`), else campaigns (one campaign at a time: a second call waits for
    /// the first's); refused after the script's first engine call.
    func lead() async throws {
        let (leading, used) = await thread.perform { (self.leadership != nil, self.usedEngine) } ?? (false, false)
        if leading { return }
        if used {
            throw DockerError(.conflict, "call it before the script's first engine call (a standby must not have touched the engine), or run the script with heph run --lead")
        }
        let (backend, diagnostics) = (configuration.backend, configuration.diagnostics)
        let campaign = leadCampaign.withLock { campaign in
            if let campaign { return campaign }
            let started = Task { try await Self.campaign(backend, diagnostics: diagnostics) }
            campaign = started
            return started
        }
        let grant = try await withTaskCancellationHandler { try await campaign.value } onCancel: { campaign.cancel() }
        await thread.perform { if self.leadership == nil { self.install(grant) } }
    }

    /// Whether this process led and can no longer prove it does; finding so ends the run
    /// (from the loop: the caller may be running Lua).
    func leadLapsed() -> Bool {
        guard let leadership, !leadership.isValid else { return false }
        let reason = "its lease was not renewed in time (the engine unreachable, or this process frozen)"
        leadLost = leadLost ?? reason
        thread.post { [weak self] in self?.loseLead(reason) }
        return true
    }

    /// Ends the run at once, without its `on_shutdown` handlers: another process may lead
    /// by now, and nothing this one would do is its to do. The loss is latched: a run that
    /// ends otherwise meanwhile (its main chunk failing on a refused engine call), or one
    /// that has not begun yet, ends as lost too (``lostLeadOutcome(_:)``).
    func loseLead(_ reason: String) {
        guard leadership != nil else { return }
        leadLost = leadLost ?? reason
        guard lifecycle.current != nil else { return }
        completeRun(.lostLead(reason))
    }

    /// Whether the run's project is this process's to tear down (`heph run --down`): it
    /// never stood for the lead, or it leads still. A standby, or a leader that lost the
    /// lead, would tear down what another process leads.
    public func mayTearDown() async -> Bool {
        await thread.perform {
            if let leadership = self.leadership { return leadership.isValid && self.leadLost == nil }
            return self.leadCampaign.withLock { $0 == nil }
        } ?? false
    }

    /// `outcome`, unless this run lost its lead: then ``LuaRunOutcome/lostLead(_:)``, said
    /// on stderr once.
    func lostLeadOutcome(_ outcome: LuaRunOutcome) -> LuaRunOutcome {
        guard let reason = leadLost else { return outcome }
        if !lostLeadReported {
            lostLeadReported = true
            configuration.diagnostics("heph: lost the lead of project \(configuration.backend.project.name): \(reason); no further hook runs, standing by\n")
        }
        return .lostLead(reason)
    }

    /// A leader's first watcher: starts from what the previous leader saw, and keeps what
    /// this one sees with the state. Others watch from what the engine shows now.
    func startWatching(_ watcher: ContainerWatcher, _ orchestrator: any Orchestrator) {
        guard let leadership else {
            watcher.start()
            return
        }
        // A lapsed leader must not overwrite what its successor keeps.
        let journal = StatusJournal(store: orchestrator.coordination.state) { leadership.isValid }
        let baseline = leaderBaseline
        leaderBaseline = [:]
        watcher.start(baseline: baseline) { snapshot in journal.record(snapshot) }
    }

    /// Registers a `heph run` that keeps running as a watcher of its project, once it has
    /// used the engine (a script that only computes needs no engine).
    func registerAsWatcher() {
        guard configuration.registersWatcher, configuration.backend.isInUse, let orchestrator = try? configuration.backend.orchestrator() else { return }
        orchestrator.coordination.registerWatcher()
    }
}

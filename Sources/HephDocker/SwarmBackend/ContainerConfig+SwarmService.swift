/// Labels heph puts on what Swarm runs.
enum SwarmLabel {
    /// On a service: how many tasks it runs when started (its spec says 0 while stopped).
    static let replicas = "io.heph.replicas"
    /// On a service: `stopped` once heph stopped it (scaled it to 0), to tell it from one
    /// never started.
    static let state = "io.heph.state"
    /// On each task's container: the service it belongs to. Not the managed label, so the
    /// engine backend never mistakes a task's container for one of its own.
    static let service = "io.heph.service"
}

extension ContainerConfig {
    /// Checks ``replicas`` and ``swarm`` (what only a swarm reads, checked on every
    /// backend so a script is right before it moves); part of ``validate()``.
    func validateSwarmServiceOptions() throws {
        if let replicas, replicas < 1 {
            throw DockerError(.invalidConfig, "config.replicas: \(replicas) is not a task count; use 1 or more", remedy: .stopInstead)
        }
        if let placement = swarm.placement {
            for (index, constraint) in placement.constraints.enumerated() {
                let ok = (constraint.contains("==") || constraint.contains("!=")) && !constraint.utf8.contains(0)
                if !ok {
                    throw invalid("config.placement.constraints[\(index + 1)]: \(quoted(constraint)) is not a constraint; write ATTRIBUTE == VALUE or ATTRIBUTE != VALUE, such as \"node.role == manager\"")
                }
            }
            for (index, preference) in placement.preferences.enumerated() where preference.isEmpty || preference.contains(where: \.isWhitespace) {
                throw invalid("config.placement.preferences[\(index + 1)]: \(quoted(preference)) is not a spread descriptor; write a node attribute, such as \"node.labels.zone\"")
            }
            if let maximum = placement.maxReplicas, maximum < 1 {
                throw invalid("config.placement.max_replicas: \(maximum) is not a task count; use 1 or more, or leave it out for no limit")
            }
        }
        if let update = swarm.update {
            if let parallelism = update.parallelism, parallelism < 0 {
                throw invalid("config.update.parallelism: \(parallelism) is negative; use how many tasks to update at once (0 = all)")
            }
            _ = try nanoseconds(update.delay, field: "update.delay")
            _ = try nanoseconds(update.monitor, field: "update.monitor")
            if let order = update.order, !["stop-first", "start-first"].contains(order) {
                throw invalid("config.update.order: \(quoted(order)) is not an update order; use \"stop-first\" or \"start-first\"")
            }
            if let action = update.failureAction, !["pause", "continue", "rollback"].contains(action) {
                throw invalid("config.update.failure_action: \(quoted(action)) is not a failure action; use \"pause\", \"continue\" or \"rollback\"")
            }
        }
        if let mode = swarm.endpointMode, !SwarmServiceOptions.endpointModes.contains(mode) {
            throw invalid("config.endpoint_mode: \(quoted(mode)) is not an endpoint mode; use \"vip\" or \"dnsrr\"")
        }
        if let policy = swarm.restartPolicy {
            _ = try nanoseconds(policy.delay, field: "restart_policy.delay")
            _ = try nanoseconds(policy.window, field: "restart_policy.window")
            if let attempts = policy.maxAttempts, attempts < 0 {
                throw invalid("config.restart_policy.max_attempts: \(attempts) is negative; use 0 for no limit")
            }
        }
    }

    /// The Swarm service spec of this config in `project`, validated, with
    /// ``configHashLabel`` set to its fingerprint (taken without the project's label, so in
    /// the default project it is what heph made before projects) and
    /// ``ContainerConfig/replicas`` tasks. `endpointMode` applies when the config names none.
    func serviceSpec(endpointMode defaultMode: String = "vip", project: Project = .default) throws -> EngineServiceSpec {
        try validateSwarmServiceOptions()
        // A project's named volumes are its own on every node (heph_P_NAME): which volumes
        // exist on the node a task lands on cannot be known from the manager.
        let creation = try neutralCreation().placed(in: project, foreignVolumes: [])
        try Self.checkServiceName(creation.fullName, written: name)
        let endpointMode = swarm.endpointMode ?? defaultMode
        let body = creation.body
        var ports: [EngineServiceSpec.PortConfig] = []
        for (host, container) in self.ports.sorted(by: { $0.key < $1.key }) {
            let binding = try PortBinding.parse(host: host, container: container)
            if binding.hostIP != nil {
                throw invalid("config.ports: \(quoted(host)) names a host address; a swarm publishes on every node's address (its routing mesh), so write the port alone, such as [\"\(binding.hostPort)\"]")
            }
            // The routing mesh needs the virtual address; with DNS round robin, each node
            // that runs a task publishes the port itself.
            ports.append(EngineServiceSpec.PortConfig(Protocol: binding.proto, TargetPort: binding.containerPort, PublishedPort: binding.hostPort,
                                                      PublishMode: endpointMode == "vip" ? "ingress" : "host"))
        }
        var containerLabels = labels
        containerLabels[SwarmLabel.service] = creation.fullName
        let limits = EngineServiceSpec.Limits(NanoCPUs: body.HostConfig.NanoCpus, MemoryBytes: body.HostConfig.Memory)
        containerLabels[projectLabel] = project.name
        var serviceLabels = body.Labels
        serviceLabels[configHashLabel] = nil
        serviceLabels[SwarmLabel.replicas] = String(replicas ?? 1)
        var spec = EngineServiceSpec(
            Name: creation.fullName,
            Labels: serviceLabels,
            TaskTemplate: .init(
                ContainerSpec: .init(
                    Image: image, Labels: containerLabels, Command: entrypoint, Args: cmd, Hostname: hostname,
                    Env: body.Env, Dir: workdir, Mounts: body.HostConfig.Mounts, Healthcheck: body.Healthcheck,
                    StopGracePeriod: Int64(stopTimeout.components.seconds) * 1_000_000_000
                ),
                Resources: limits.NanoCPUs == nil && limits.MemoryBytes == nil ? nil : .init(Limits: limits),
                RestartPolicy: try swarmRestartPolicy(),
                Placement: swarm.placement.map { placement in
                    .init(Constraints: placement.constraints.isEmpty ? nil : placement.constraints,
                          Preferences: placement.preferences.isEmpty ? nil : placement.preferences.map { .init(Spread: .init(SpreadDescriptor: $0)) },
                          MaxReplicas: placement.maxReplicas)
                },
                Networks: [.init(Target: creation.network, Aliases: creation.body.NetworkingConfig.EndpointsConfig[creation.network]?.Aliases ?? [])],
                ForceUpdate: nil
            ),
            Mode: .init(Replicated: .init(Replicas: replicas ?? 1)),
            UpdateConfig: try swarm.update.map { update in
                .init(Parallelism: update.parallelism ?? 1, Delay: try nanoseconds(update.delay, field: "update.delay"),
                      FailureAction: update.failureAction, Monitor: try nanoseconds(update.monitor, field: "update.monitor"), Order: update.order)
            },
            EndpointSpec: .init(Mode: endpointMode, Ports: ports)
        )
        spec.Labels[configHashLabel] = configFingerprint(of: spec.withoutProjectLabels)
        return spec
    }

    /// Swarm's rule for a service's name (swarmkit's `isValidDNSName`, and at most 63
    /// characters): letters and digits, with runs of `-` and `_` only between them.
    static func isValidServiceName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= ContainerName.maximumLength,
              ContainerName.isAlphanumeric(first), ContainerName.isAlphanumeric(last) else { return false }
        return bytes.allSatisfy { ContainerName.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// Refuses, before the engine sees it, a service name Swarm would refuse.
    private static func checkServiceName(_ engineName: String, written: String) throws {
        guard !isValidServiceName(engineName) else { return }
        let why = written.contains(".") ? "has a \".\"" : "ends in \(quoted(String(written.suffix(1))))"
        throw invalid("config.name: \(quoted(written)) \(why), which a Swarm service's name cannot (Swarm takes letters and digits, with \"-\" and \"_\" only between them); rename it, such as \(quoted(suggestedServiceName(written)))")
    }

    private static func suggestedServiceName(_ name: String) -> String {
        var suggestion = name.replacingOccurrences(of: ".", with: "-")
        while let last = suggestion.last, last == "-" || last == "_" { suggestion.removeLast() }
        return suggestion.isEmpty ? "web" : suggestion
    }

    /// `restart` as a Swarm condition (Swarm's default, `any`, when nil), with ``swarm``'s
    /// delay, attempts and window.
    private func swarmRestartPolicy() throws -> EngineServiceSpec.RestartPolicy {
        let policy = swarm.restartPolicy
        var attempts = policy?.maxAttempts
        let condition: String
        switch try validatedRestartPolicy()?.Name {
        case nil, "always", "unless-stopped": condition = "any"
        case "no": condition = "none"
        default:
            condition = "on-failure"
            if let count = try validatedRestartPolicy()?.MaximumRetryCount, count > 0 { attempts = attempts ?? count }
        }
        return .init(Condition: condition, Delay: try nanoseconds(policy?.delay, field: "restart_policy.delay"),
                     MaxAttempts: attempts, Window: try nanoseconds(policy?.window, field: "restart_policy.window"))
    }

    private func nanoseconds(_ seconds: Double?, field: String) throws -> Int64? {
        guard let seconds else { return nil }
        guard seconds.isFinite, seconds >= 0, seconds <= Healthcheck.maximumSeconds else {
            throw invalid("config.\(field): \(formatted(seconds)) is out of range; use seconds from 0 to 86400")
        }
        return Int64((seconds * 1e9).rounded())
    }
}

extension EngineServiceSpec {
    /// This spec without ``projectLabel`` on the service, its containers and its volumes
    /// (and without ``readyLabel``): what its fingerprint is taken of.
    var withoutProjectLabels: EngineServiceSpec {
        var spec = self
        spec.Labels[projectLabel] = nil
        // How readiness is probed is heph's: changing it updates no service.
        spec.Labels[readyLabel] = nil
        spec.TaskTemplate.ContainerSpec.Labels[projectLabel] = nil
        spec.TaskTemplate.ContainerSpec.Mounts = spec.TaskTemplate.ContainerSpec.Mounts.map { mount in
            var mount = mount
            mount.VolumeOptions?.Labels[projectLabel] = nil
            return mount
        }
        return spec
    }
}

private func invalid(_ message: String) -> DockerError {
    DockerError(.invalidConfig, message)
}

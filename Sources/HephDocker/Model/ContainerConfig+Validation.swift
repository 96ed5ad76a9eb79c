/// A config that passed validation, in the form the engine takes it.
struct ContainerCreation: Sendable, Hashable {
    /// The engine's name: `heph-web`, `heph_P_web` in project `P`.
    var fullName: String
    /// The engine's name of the network the container joins.
    var network: String
    /// The named volumes the config mounts, as it writes them.
    var namedVolumes: [String]
    /// The image to pull when the engine does not have it.
    var image: ImageReference
    /// The `POST /containers/create` body.
    var body: EngineContainerCreate
}

extension ContainerConfig {
    /// Checks every field and throws a ``DockerError`` with code
    /// ``DockerError/Code/invalidConfig`` naming the first field at fault (fields in
    /// declaration order, map keys in sorted order, so the message is always the same).
    ///
    /// What is *not* checked here because only the engine knows: whether a bind-mount
    /// source exists on the engine's host, whether a host port is free, whether `cpus`
    /// exceeds the engine's CPU count.
    public func validate() throws {
        _ = try engineCreation()
        try validateSwarmServiceOptions()
    }

    /// Validates and translates in one pass, so nothing unchecked can reach the engine: the
    /// body for the default project (from which the config's fingerprint is taken, so it is
    /// the same in every project and as heph made it before projects), then placed in
    /// `project`. Named volumes in `foreignVolumes` exist already and are not heph's: they
    /// are mounted as written rather than as the project's own.
    func engineCreation(in project: Project = .default, foreignVolumes: Set<String> = []) throws -> ContainerCreation {
        try neutralCreation().placed(in: project, foreignVolumes: foreignVolumes)
    }

    /// The creation for the default project, as heph made it before projects existed.
    func neutralCreation() throws -> ContainerCreation {
        let image = try validatedImage()
        let fullName = try validatedFullName()
        let env = try validatedEnv()
        let bindings = try ports.sorted(by: { $0.key < $1.key }).map { try PortBinding.parse(host: $0.key, container: $0.value) }
        let mounts = try validatedMounts()
        try validateHostname()
        let network = networkName ?? HephDocker.networkName
        guard ContainerName.isWellFormed(network) else {
            throw invalid("config.networkName: \(quoted(network)) is not a network name; use letters, digits, \"_\", \".\" and \"-\", starting with a letter or digit")
        }
        try validateCommand(cmd, field: "cmd")
        try validateCommand(entrypoint, field: "entrypoint")
        if let workdir, !workdir.hasPrefix("/") || workdir.utf8.contains(0) {
            throw invalid("config.workdir: \(quoted(workdir)) must be an absolute path, such as \"/srv\"")
        }
        var allLabels = try validatedLabels()
        if let ready {
            try ready.validate()
            allLabels[readyLabel] = ready.labelValue
        }
        let memoryBytes = try validatedMemory()
        let nanoCPUs = try validatedCPUs()
        let restartPolicy = try validatedRestartPolicy()
        let health = try healthcheck?.engineConfig()

        var portBindings: [String: [EnginePortBinding]] = [:]
        for binding in bindings {
            portBindings[binding.containerKey, default: []].append(EnginePortBinding(HostIp: binding.hostIP, HostPort: String(binding.hostPort)))
        }
        let body = EngineContainerCreate(
            Image: self.image,
            Cmd: cmd,
            Entrypoint: entrypoint,
            Env: env,
            Hostname: hostname,
            WorkingDir: workdir,
            Labels: allLabels,
            ExposedPorts: portBindings.mapValues { _ in EngineEmptyObject() },
            Healthcheck: health,
            HostConfig: EngineHostConfig(
                NetworkMode: network,
                PortBindings: portBindings,
                Mounts: mounts,
                Memory: memoryBytes,
                NanoCpus: nanoCPUs,
                RestartPolicy: restartPolicy
            ),
            NetworkingConfig: EngineNetworkingConfig(EndpointsConfig: [network: EngineEndpointSettings(Aliases: [ContainerName.short(fullName)])])
        )
        let namedVolumes = mounts.filter { $0.Type == "volume" }.map(\.Source)
        return ContainerCreation(fullName: fullName, network: network, namedVolumes: namedVolumes, image: image, body: body.fingerprinted())
    }

    private func validatedImage() throws -> ImageReference {
        if image.isEmpty { throw invalid("config.image: missing; name an image, such as \"heph/busybox:latest\"") }
        switch ImageReference.parse(image) {
        case .success(let reference): return reference
        case .failure(let problem): throw invalid("config.image: \(quoted(image)) is not an image reference: it \(problem.reason)")
        }
    }

    private func validatedFullName() throws -> String {
        if name.isEmpty { throw invalid("config.name: missing; give the container a name, such as \"web\"") }
        guard ContainerName.isWellFormed(name) else {
            throw invalid("config.name: \(quoted(name)) is not a container name; use letters, digits, \"_\", \".\" and \"-\", starting with a letter or digit")
        }
        if name.hasPrefix(ContainerName.projectPrefix) {
            throw invalid("config.name: \(quoted(name)) starts with \(quoted(ContainerName.projectPrefix)), which heph keeps for the engine's names of projects' containers (project P's web is heph_P_web); choose another name")
        }
        let fullName = ContainerName.full(name)
        if fullName.hasPrefix(RoleObject.namePrefix) {
            throw invalid("config.name: \(quoted(name)) starts with \(quoted(RoleObject.namePrefix)), which heph keeps for its lease, state and watcher registry (docs/ha.md); choose a name starting with a letter or digit")
        }
        guard fullName.utf8.count <= ContainerName.maximumLength else {
            throw invalid("config.name: the full name \(quoted(fullName)) has \(fullName.utf8.count) characters; at most \(ContainerName.maximumLength) are allowed (it is a DNS name)")
        }
        return fullName
    }

    private func validatedEnv() throws -> [String] {
        try env.sorted(by: { $0.key < $1.key }).map { key, value in
            if key.isEmpty { throw invalid("config.env: a variable name is empty") }
            if key.contains("=") { throw invalid("config.env: variable name \(quoted(key)) contains \"=\"") }
            if key.utf8.contains(0) || value.utf8.contains(0) { throw invalid("config.env: variable \(quoted(key)) contains a NUL byte") }
            return "\(key)=\(value)"
        }
    }

    private func validatedMounts() throws -> [EngineMount] {
        var hostForTarget: [String: String] = [:]
        return try volumes.sorted(by: { $0.key < $1.key }).map { host, container in
            let mount = try VolumeMount.parse(host: host, container: container)
            if let other = hostForTarget[mount.target] {
                throw invalid("config.volumes: container path \(quoted(mount.target)) is mounted twice (from \(quoted(other)) and \(quoted(host)))")
            }
            hostForTarget[mount.target] = host
            switch mount.source {
            case .bind(let path):
                return EngineMount(Type: "bind", Source: path, Target: mount.target, ReadOnly: mount.readOnly, VolumeOptions: nil)
            case .volume(let name):
                return EngineMount(Type: "volume", Source: name, Target: mount.target, ReadOnly: mount.readOnly,
                                   VolumeOptions: EngineVolumeOptions(Labels: [managedLabel: "true"]))
            }
        }
    }

    private func validateHostname() throws {
        guard let hostname else { return }
        let labels = hostname.split(separator: ".", omittingEmptySubsequences: false)
        let valid = !hostname.isEmpty && hostname.utf8.count <= 253 && labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        guard valid else {
            throw invalid("config.hostname: \(quoted(hostname)) is not a hostname; use letters, digits and \"-\" in dot-separated parts of 1 to 63 characters")
        }
    }

    private func validateCommand(_ command: [String]?, field: String) throws {
        guard let command else { return }
        if command.isEmpty { throw invalid("config.\(field): is empty; leave it out to use the image's own") }
        for (index, argument) in command.enumerated() where argument.utf8.contains(0) {
            throw invalid("config.\(field)[\(index + 1)]: contains a NUL byte")
        }
    }

    private func validatedLabels() throws -> [String: String] {
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            if key.isEmpty { throw invalid("config.labels: a label name is empty") }
            if key.hasPrefix(reservedLabelPrefix) {
                throw invalid("config.labels: \(quoted(key)) is reserved for heph (names starting with \(quoted(reservedLabelPrefix)))")
            }
            if key.utf8.contains(0) || value.utf8.contains(0) { throw invalid("config.labels: label \(quoted(key)) contains a NUL byte") }
        }
        return labels.merging([managedLabel: "true"]) { _, heph in heph }
    }

    private func validatedMemory() throws -> Int64? {
        guard let memory else { return nil }
        guard let bytes = MemoryLimit.bytes(memory) else {
            throw invalid("config.memory: \(quoted(memory)) is not a size; use bytes or a number with k, m or g, such as \"256m\"")
        }
        guard bytes >= MemoryLimit.minimumBytes else {
            throw invalid("config.memory: \(quoted(memory)) is below the engine's minimum of 6m")
        }
        return bytes
    }

    private func validatedCPUs() throws -> Int64? {
        guard let cpus else { return nil }
        guard cpus.isFinite, cpus >= 0.01, cpus <= 4096 else {
            throw invalid("config.cpus: \(formatted(cpus)) is not a CPU count; use a number from 0.01 up, such as 0.5")
        }
        return Int64((cpus * 1e9).rounded())
    }

    func validatedRestartPolicy() throws -> EngineRestartPolicy? {
        guard let restart else { return nil }
        switch restart {
        case "no", "always", "unless-stopped", "on-failure":
            return EngineRestartPolicy(Name: restart, MaximumRetryCount: 0)
        default:
            if restart.hasPrefix("on-failure:"), let count = Int(restart.dropFirst("on-failure:".count)), count >= 0 {
                return EngineRestartPolicy(Name: "on-failure", MaximumRetryCount: count)
            }
            throw invalid("config.restart: \(quoted(restart)) is not a restart policy; use no, on-failure, on-failure:N, always or unless-stopped")
        }
    }
}

extension Healthcheck {
    /// Longest duration accepted: a day; anything longer is surely a unit mistake (ms for s).
    static let maximumSeconds: Double = 86_400

    func engineConfig() throws -> EngineHealthConfig {
        let test: [String]
        switch self.test {
        case .shell(let command):
            if command.allSatisfy(\.isWhitespace) { throw invalid("config.healthcheck.test: is empty; give a shell command or an array") }
            if command.utf8.contains(0) { throw invalid("config.healthcheck.test: contains a NUL byte") }
            test = ["CMD-SHELL", command]
        case .exec(let arguments):
            if arguments.isEmpty || arguments[0].isEmpty { throw invalid("config.healthcheck.test: is empty; give a shell command or an array") }
            if arguments.contains(where: { $0.utf8.contains(0) }) { throw invalid("config.healthcheck.test: contains a NUL byte") }
            test = ["CMD"] + arguments
        }
        if let retries, retries < 0 {
            throw invalid("config.healthcheck.retries: \(retries) is negative; use a whole number ≥ 0 (0 = the engine's default of 3)")
        }
        return EngineHealthConfig(
            Test: test,
            Interval: try nanoseconds(interval, field: "interval"),
            Timeout: try nanoseconds(timeout, field: "timeout"),
            Retries: retries ?? 0,
            StartPeriod: try nanoseconds(startPeriod, field: "start_period")
        )
    }

    private func nanoseconds(_ seconds: Double?, field: String) throws -> Int64 {
        guard let seconds else { return 0 }
        guard seconds.isFinite, seconds == 0 || (seconds >= 0.001 && seconds <= Self.maximumSeconds) else {
            throw invalid("config.healthcheck.\(field): \(formatted(seconds)) is out of range; use seconds from 0.001 to 86400 (0 = the engine's default)")
        }
        return Int64((seconds * 1e9).rounded())
    }
}

extension ContainerCreation {
    /// This default-project creation as `project` makes it: the project's label on the
    /// container and its volumes (outside the fingerprint), and elsewhere than the default
    /// project the project's engine names, its network, and the script's name as an alias
    /// beside the short one, so `web` and `heph-web` answer on the network in every project.
    /// On another project's network it takes no alias: it answers there by its engine name
    /// only, and never to a name of that project's own services.
    func placed(in project: Project, foreignVolumes: Set<String>) throws -> ContainerCreation {
        var placed = self
        placed.body.Labels[projectLabel] = project.name
        placed.body.HostConfig.Mounts = body.HostConfig.Mounts.map { mount in
            guard var options = mount.VolumeOptions else { return mount }
            var mount = mount
            options.Labels[projectLabel] = project.name
            mount.VolumeOptions = options
            if !foreignVolumes.contains(mount.Source) { mount.Source = project.engineVolume(mount.Source) }
            return mount
        }
        let scriptName = fullName
        var aliases = [ContainerName.short(scriptName)]
        if !project.isDefault {
            placed.fullName = project.engineName(scriptName)
            guard placed.fullName.utf8.count <= ContainerName.maximumLength else {
                throw invalid("config.name: \(quoted(ContainerName.short(scriptName))) is \(quoted(placed.fullName)) in project \(project.name), \(placed.fullName.utf8.count) characters; at most \(ContainerName.maximumLength) are allowed (it is a DNS name): shorten the name or the project's")
            }
            placed.network = project.engineNetwork(network)
            placed.body.HostConfig.NetworkMode = placed.network
            aliases.append(scriptName)
        }
        if placed.network != project.networkEngineName, Project.isProjectNetwork(placed.network) { aliases = [] }
        placed.body.NetworkingConfig = EngineNetworkingConfig(EndpointsConfig: [placed.network: EngineEndpointSettings(Aliases: aliases)])
        return placed
    }
}

private func invalid(_ message: String) -> DockerError {
    DockerError(.invalidConfig, message)
}

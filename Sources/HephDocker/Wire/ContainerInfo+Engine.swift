extension ContainerInfo {
    /// From a container list entry: status from `State` and the health in the `Status` text.
    init(summary: EngineContainerSummary) {
        var ports: [String: String] = [:]
        for port in summary.Ports ?? [] {
            guard let published = port.PublicPort else { continue }
            ports[Self.hostKey(ip: port.IP, port: String(published))] = Self.containerValue(port: port.PrivatePort, proto: port.Type)
        }
        let engineName = summary.Names.first.map { String($0.drop(while: { $0 == "/" })) } ?? summary.Id
        self.init(
            id: summary.Id,
            name: Project.scriptName(engineName, labels: summary.Labels),
            dockerName: engineName,
            project: Project.named(by: summary.Labels),
            image: summary.Image,
            status: ContainerStatus(engineState: summary.State, statusText: summary.Status),
            state: ContainerState(engine: summary.State),
            ports: ports
        )
    }

    /// From inspect: every field, the inspect-only ones in ``details``.
    init(inspect: EngineContainerInspect) {
        var ports: [String: String] = [:]
        for (key, bindings) in inspect.HostConfig.PortBindings ?? [:] {
            let parts = key.split(separator: "/")
            guard let first = parts.first, let containerPort = Int(first) else { continue }
            let proto = parts.count > 1 ? String(parts[1]) : "tcp"
            for binding in bindings ?? [] {
                guard let hostPort = binding.HostPort, !hostPort.isEmpty else { continue }
                ports[Self.hostKey(ip: binding.HostIp, port: hostPort)] = Self.containerValue(port: containerPort, proto: proto)
            }
        }
        let state = inspect.State
        let health = state.Health.map { health in
            HealthDetails(
                status: health.Status,
                failingStreak: health.FailingStreak,
                log: (health.Log ?? []).map { HealthProbe(exitCode: $0.ExitCode, output: $0.Output, at: EngineTimestamp.unixSeconds($0.Start) ?? 0) }
            )
        }
        self.init(
            id: inspect.Id,
            name: Project.scriptName(inspect.name, labels: inspect.Config.Labels),
            dockerName: inspect.name,
            project: Project.named(by: inspect.Config.Labels),
            image: inspect.Config.Image,
            status: ContainerStatus(engineState: state.Status, health: state.Health?.Status),
            state: ContainerState(engine: state.Status),
            ports: ports,
            details: ContainerDetails(
                exitCode: state.ExitCode,
                oomKilled: state.OOMKilled,
                restartCount: inspect.RestartCount,
                startedAt: state.StartedAt.flatMap(EngineTimestamp.unixSeconds),
                finishedAt: state.FinishedAt.flatMap(EngineTimestamp.unixSeconds),
                labels: inspect.Config.Labels ?? [:],
                hostname: inspect.Config.Hostname,
                health: health,
                engineState: state.Status
            )
        )
    }

    /// `8080` for every address, `127.0.0.1:8080` for one, `[::1]:8080` for an IPv6 one.
    private static func hostKey(ip: String?, port: String) -> String {
        switch ip {
        case nil, "", "0.0.0.0", "::": port
        case let ip? where ip.contains(":"): "[\(ip)]:\(port)"
        case let ip?: "\(ip):\(port)"
        }
    }

    /// `80` for TCP (the default), `53/udp` otherwise.
    private static func containerValue(port: Int, proto: String) -> String {
        proto == "tcp" ? String(port) : "\(port)/\(proto)"
    }
}

extension EngineContainerInspect {
    /// The engine's name without its leading `/`: `heph-web`, `heph_P_web`.
    var name: String { String(Name.drop(while: { $0 == "/" })) }
}

/// Which orchestrator a program drives: `heph run --swarm`, or `heph.config.backend`.
public enum Backend: String, Sendable, CaseIterable {
    /// One Docker engine: a container per config (``DockerOrchestrator``).
    case engine
    /// A Docker Swarm through one of its managers: a service per config (``SwarmOrchestrator``).
    case swarm
}

/// Which orchestrator a program drives: `heph run --swarm`, or `heph.config.backend`.
public enum Backend: String, Sendable, CaseIterable {
    /// One Docker engine: a container per config (``DockerOrchestrator``).
    case engine
    /// A Docker Swarm through one of its managers: a service per config (``SwarmOrchestrator``).
    case swarm
}

/// An orchestrator connected to an engine: what ``LazyDockerOrchestrator`` hands its calls to.
public protocol ConnectedBackend: Orchestrator, DockerAPI, TransitionSource {}

extension DockerOrchestrator: ConnectedBackend {}
extension SwarmOrchestrator: ConnectedBackend {}

/// An orchestrator whose backend a script may still choose (`heph.config.backend`) until
/// its first engine call: the lazy one of `heph run`, and the dry run of `heph check`,
/// which checks configs by the chosen backend's rules.
public protocol BackendChoosing: AnyObject, Sendable {
    /// The backend chosen so far.
    var backend: Backend { get }
    /// Chooses `backend`; throws once it can no longer change.
    func select(_ backend: Backend) throws
}

extension LazyDockerOrchestrator: BackendChoosing {}

import CHephLua
import HephDocker

/// What a waiting call does once its arguments are checked: runs on a task, away from the
/// Lua thread, and returns the values the call returns to the script.
typealias Operation = @Sendable (OperationContext) async throws -> [LuaValue]

/// What an operation may use besides its arguments.
struct OperationContext: Sendable {
    /// The run's orchestrator, made on first use.
    let backend: BackendSession

    /// The orchestrator; throws what making it threw (a malformed `DOCKER_HOST`).
    func orchestrator() throws -> any Orchestrator { try backend.orchestrator() }
    /// The run's clock.
    var clock: any HephClock { backend.clock }
    /// Marks the coming stop or removal of a container (by name) as expected, before the
    /// operation asks for it.
    let expect: @Sendable (String) -> Void
    /// Takes back what the call expected when it finds it will stop nothing after all.
    let withdraw: @Sendable () -> Void
    /// Where progress lines go (standard error), when they are shown at all.
    let progress: (@Sendable (String) -> Void)?
    /// Where the call says what a person should know (the run's diagnostics: stderr, or the
    /// JSON log).
    let diagnostics: @Sendable (String) -> Void
    /// Keeps a topology `heph.up` brings up, for `heph.dependents`.
    let remember: @Sendable (Topology) -> Void
    /// What a sandboxed script may reach (bind mounts, HTTP hosts); nil outside a sandbox.
    let sandbox: SandboxPolicy?
    /// `heph.lead()`: returns once this process leads its project.
    let lead: @Sendable () async throws -> Void
}

import Foundation

/// What heph does differently when the engine is Podman's Docker-compatible service
/// (docs/engines.md lists each difference and why).
extension DockerOrchestrator {
    /// Whether the engine is Podman (learnt from the first answer, no call of its own after).
    func onPodman() async throws -> Bool {
        try await client.kind() == .podman
    }

    /// On Podman: starts running container `id`'s healthcheck, which Podman without systemd
    /// never runs (``PodmanHealthchecks``).
    func trackHealthOnPodman(_ id: String) async throws {
        guard try await onPodman() else { return }
        await podmanHealth.track(id, orchestrator: self)
    }

    /// The create body as Podman takes it: a healthcheck's `CMD` array as one shell command
    /// (Podman joins the array with spaces and splits it again, breaking any argument with a
    /// space in it), and each named volume made first with heph's labels (Podman ignores
    /// `VolumeOptions`, so one made on first use would be invisible to `heph down --volumes`).
    func preparedForPodman(_ body: EngineContainerCreate) async throws -> EngineContainerCreate {
        var body = body
        if var check = body.Healthcheck, check.Test.first == "CMD" {
            check.Test = ["CMD-SHELL", check.Test.dropFirst().map(Self.shellQuoted).joined(separator: " ")]
            body.Healthcheck = check
        }
        for mount in body.HostConfig.Mounts where mount.`Type` == "volume" {
            guard let labels = mount.VolumeOptions?.Labels else { continue }
            let made = try await client.request(.POST, "/volumes/create", json: PodmanVolumeCreate(Name: mount.Source, Labels: labels))
            guard made.succeeded else { throw made.failure("cannot create volume \(mount.Source)") }
        }
        return body
    }

    /// `it's` → `'it'\''s'`: one word for a POSIX shell, whatever it holds.
    static func shellQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Podman's event stream as dockerd's: its `health_status` events are replaced by
    /// heph's own checks' verdicts, a container that `die`s killed for memory is preceded
    /// by the `oom` event Podman never writes (from inspect's `OOMKilled`), and a `start`
    /// begins checking the container's health. See ``streamEvents(onConnected:_:)``.
    func streamPodmanEvents(filter: String, onConnected: () async -> Void, _ onEvent: (ContainerEvent) -> Void) async throws {
        enum Item: Sendable {
            case connected
            case event(ContainerEvent)
            case ended((any Error)?)
        }
        let (items, continuation) = AsyncStream<Item>.makeStream()
        // The checks' verdicts only once the stream is connected: no event comes before.
        var listener: Int?
        defer { if let listener { podmanHealth.stopListening(listener) } }
        let engine = Task {
            do {
                try await streamEngineEvents(filter: filter, onConnected: { continuation.yield(.connected) }) { message in
                    if owns(message.Actor?.Attributes), let event = message.containerEvent { continuation.yield(.event(event)) }
                }
                continuation.yield(.ended(nil))
            } catch {
                continuation.yield(.ended(error))
            }
            continuation.finish()
        }
        defer { engine.cancel() }
        for await item in items {
            switch item {
            case .connected:
                await onConnected()
                if listener == nil { listener = podmanHealth.listen { continuation.yield(.event($0)) } }
            case .event(let event):
                switch event.action {
                case .start:
                    await podmanHealth.track(event.id, orchestrator: self)
                case .die:
                    podmanHealth.forget(event.id)
                    let inspected = try? await PodmanHealthchecks.inspect(event.id, client)
                    if inspected?.State.OOMKilled == true {
                        onEvent(ContainerEvent(action: .oom, id: event.id, name: event.name, dockerName: event.dockerName, timeNano: event.timeNano))
                    }
                default:
                    break
                }
                onEvent(event)
            case .ended(let error):
                if let error { throw error }
                return
            }
        }
        try Task.checkCancellation()
    }
}

/// `POST /volumes/create`.
struct PodmanVolumeCreate: Encodable, Sendable {
    var Name: String
    var Labels: [String: String]
}

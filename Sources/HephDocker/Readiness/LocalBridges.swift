#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Whether a container's address on an engine network can be reached from this process
/// directly: only when the network's bridge is an interface of this process's own network
/// namespace. Docker names the bridge of a user-defined network after it (`br-` and the
/// id's first 12 digits), so a bridge of that name here is that network's, and nothing
/// else answers at its containers' addresses. Anywhere else (a remote engine, an engine in
/// another namespace, heph in a container) the same address may belong to something else
/// entirely, or lead to a proxy that accepts every connection: probing it could say
/// "ready" falsely, so a probe container is used instead. So is it for the default
/// `bridge` network and a bridge named by `com.docker.network.bridge.name`: `docker0` in
/// this namespace may be another engine's.
enum LocalBridges {
    private static let known = Mutex<[String: Bool]>([:])

    /// Whether the network `networkID` is a bridge of this namespace; looked up once.
    static func isLocal(_ networkID: String, client: EngineClient) async -> Bool {
        if let cached = known.withLock({ $0[networkID] }) { return cached }
        var local = false
        if let response = try? await EngineLane.asControl({ try await client.request(.GET, "/networks/\(networkID)") }), response.succeeded,
           let network = try? response.decode(EngineNetwork.self), network.Driver == "bridge",
           network.Name != "bridge", network.Options?["com.docker.network.bridge.name"] == nil {
            local = if_nametoindex("br-\(network.Id.prefix(12))") != 0
        }
        known.withLock { $0[networkID] = local }
        return local
    }
}

// The body of `POST /containers/create`. Property names are the Engine API's JSON names,
// spelled exactly as the engine expects, so the types encode without CodingKeys.

/// `POST /containers/create` body.
struct EngineContainerCreate: Encodable, Sendable, Hashable {
    var Image: String
    var Cmd: [String]?
    var Entrypoint: [String]?
    var Env: [String]
    var Hostname: String?
    var WorkingDir: String?
    var Labels: [String: String]
    var ExposedPorts: [String: EngineEmptyObject]
    var Healthcheck: EngineHealthConfig?
    var HostConfig: EngineHostConfig
    var NetworkingConfig: EngineNetworkingConfig
}

/// `{}` in the engine's JSON (the values of `ExposedPorts`).
struct EngineEmptyObject: Codable, Sendable, Hashable {}

/// `Healthcheck`: durations in nanoseconds.
struct EngineHealthConfig: Encodable, Sendable, Hashable {
    var Test: [String]
    var Interval: Int64
    var Timeout: Int64
    var Retries: Int
    var StartPeriod: Int64
}

/// `HostConfig`, the part of it heph sets.
struct EngineHostConfig: Encodable, Sendable, Hashable {
    var NetworkMode: String
    var PortBindings: [String: [EnginePortBinding]]
    var Mounts: [EngineMount]
    var Memory: Int64?
    var NanoCpus: Int64?
    var RestartPolicy: EngineRestartPolicy?
}

/// One host side of a published port.
struct EnginePortBinding: Codable, Sendable, Hashable {
    var HostIp: String?
    var HostPort: String?
}

/// A bind mount or a named volume.
struct EngineMount: Encodable, Sendable, Hashable {
    var `Type`: String
    var Source: String
    var Target: String
    var ReadOnly: Bool
    var VolumeOptions: EngineVolumeOptions?
}

/// Options for a named volume the engine creates on first use.
struct EngineVolumeOptions: Encodable, Sendable, Hashable {
    var Labels: [String: String]
}

/// `RestartPolicy`.
struct EngineRestartPolicy: Encodable, Sendable, Hashable {
    var Name: String
    var MaximumRetryCount: Int
}

/// `NetworkingConfig`: API 1.41 accepts exactly one endpoint here.
struct EngineNetworkingConfig: Encodable, Sendable, Hashable {
    var EndpointsConfig: [String: EngineEndpointSettings]
}

/// The container's endpoint on its network: the aliases other containers resolve.
struct EngineEndpointSettings: Encodable, Sendable, Hashable {
    var Aliases: [String]
}

/// `POST /networks/create` body. `CheckDuplicate` matters: without it, API 1.41 makes a
/// second network of the same name.
struct EngineNetworkCreate: Encodable, Sendable, Hashable {
    var Name: String
    var Driver: String
    var CheckDuplicate: Bool
    var Labels: [String: String]
    /// For an overlay: whether plain containers may join it too.
    var Attachable: Bool? = nil
}

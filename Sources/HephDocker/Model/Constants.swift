/// Prefix of every container name heph manages: `web` is created as `heph-web`.
public let containerNamePrefix = "heph-"

/// The shared bridge network every managed container joins unless its config names another.
public let networkName = "heph-network"

/// How long a graceful stop waits for the container's process before the engine kills it.
public let stopTimeout: Duration = .seconds(10)

/// The interval of health polling when a caller does not choose one.
public let defaultHealthCheckInterval: Duration = .seconds(5)

/// The label that marks a container, network or volume as heph's own.
///
/// heph lists, stops, removes and tears down only resources carrying `io.heph.managed=true`;
/// a container that merely has a `heph-` name is never touched.
public let managedLabel = "io.heph.managed"

/// Label keys under this prefix belong to heph; a config may not set them.
public let reservedLabelPrefix = "io.heph."

/// The label holding a fingerprint of the config a container was created from, so that
/// `heph.up` can tell an unchanged service from a changed one.
public let configHashLabel = "io.heph.config-hash"

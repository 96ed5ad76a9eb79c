/// The one error type HephDocker throws.
///
/// `message` is written for a person: it names the field or resource at fault and, where
/// there is one, the fix. It never contains a raw JSON body from the engine.
///
/// Not errors (these succeed quietly): starting a running container, stopping a stopped
/// one, removing a network that does not exist, asking the health of a container that is
/// gone (that answers ``ContainerStatus/error``).
public struct DockerError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is, for callers that react differently to each.
    public enum Code: String, Sendable, Hashable {
        /// The container, network or image does not exist, or is not managed by heph.
        case notFound
        /// The resource exists in a state that forbids the request (name in use, port taken, …).
        case conflict
        /// The configuration is wrong; nothing was sent to the engine.
        case invalidConfig
        /// The engine could not be reached at all (socket missing, connection refused, TLS failure).
        case engineUnreachable
        /// The image is not available locally and could not be pulled.
        case imagePull
        /// The engine answered with any other failure.
        case engine
        /// Containers did not become ready in the time given (`heph.up`).
        case notReady
    }

    /// What kind of failure this is.
    public var code: Code
    /// What happened, in words.
    public var message: String
    /// The error underneath, when there was one (a transport error, a decoding error).
    public var underlying: (any Error)?

    /// Makes an error of `code` saying `message`.
    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}

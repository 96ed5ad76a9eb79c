/// The one error type HephDocker throws.
///
/// `message` is written for a person: it names the field or resource at fault and, where
/// the fix lies in the engine's world, the fix. It never contains a raw JSON body from the
/// engine, and never a word of heph's Lua module or command line: where the fix is one of
/// those, `remedy` names it as a fact and the runtime and the CLI word it.
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
        /// The engine took the call but did not answer in time: it is overloaded or stuck.
        case engineTimeout
        /// The call waited in heph's own queue (for an engine slot, or a connection) past its
        /// limit: the engine never saw it.
        case queueTimeout
        /// The image is not available locally and could not be pulled.
        case imagePull
        /// The engine answered with any other failure.
        case engine
        /// Containers did not become ready in the time given (`heph.up`).
        case notReady
    }

    /// A fix that lies in how heph is told what to do (a backend to choose, a call to make),
    /// which the layer above words in its own terms.
    public enum Remedy: Sendable, Hashable {
        /// The config needs the `backend` backend (replicas need a swarm; a non-swarm engine
        /// needs the engine backend).
        case useBackend(Backend)
        /// Another backend is in use already; `wanted` must be chosen before the first engine call.
        case chooseBackendFirst(wanted: Backend)
        /// A task count of 0: stop the service instead.
        case stopInstead
        /// The managed container or service of this full name is in the way: remove it.
        case removeFirst(String)
        /// The managed network was made by the engine backend: tear that down first.
        case tearDownEngineBackendFirst
        /// The engine must be a swarm manager: point at one.
        case pointAtManager
        /// The task is out of reach on another node: a rolling restart reaches it.
        case restartRolling
        /// Bringing the topology up again fixes it: that unpauses `container` (a full name).
        case bringUpAgain(container: String)
        /// The engine is slow to answer: fewer calls at once (`current` now) may help.
        case lowerEngineConcurrency(current: Int)
        /// heph's own queue is the wait: more calls at once (`current` now), if the engine
        /// can take them.
        case raiseEngineConcurrency(current: Int)
    }

    /// What kind of failure this is.
    public var code: Code
    /// The fix, when it lies in how heph is told what to do.
    public var remedy: Remedy?
    /// What happened, in words.
    public var message: String
    /// The error underneath, when there was one (a transport error, a decoding error).
    public var underlying: (any Error)?

    /// Makes an error of `code` saying `message`.
    public init(_ code: Code, _ message: String, remedy: Remedy? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.remedy = remedy
        self.underlying = underlying
    }

    public var description: String { message }

    /// `error` itself when it is one, else an ``Code/engine`` error saying it.
    public init(_ error: any Error) {
        self = error as? DockerError ?? DockerError(.engine, "\(error)", underlying: error)
    }
}

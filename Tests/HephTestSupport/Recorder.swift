import Synchronization

/// Collects values from callbacks on any thread, for tests to read.
public final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    public init() {}

    /// Adds one value.
    public func append(_ value: Value) {
        values.withLock { $0.append(value) }
    }

    /// Everything recorded so far.
    public var all: [Value] { values.withLock { $0 } }
}

import Testing

/// A test trait that takes the ``EngineLock`` around every test function it covers.
///
/// Put `.usesEngine` on suites whose tests touch only containers they created (they run in
/// parallel), `.ownsEngine` on suites whose tests act on every managed container, or time
/// what the engine does closely enough that a busy engine would fail them (they run
/// alone). A suite carries one or the other, never both.
public struct EngineAccess: TestTrait, SuiteTrait, TestScoping {
    /// Whether the test needs the engine to itself.
    public let exclusive: Bool

    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> EngineAccess? {
        // Lock around test functions only: a lock held for a whole suite would block the
        // other suites for its duration.
        test.isSuite ? nil : self
    }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await EngineLock.with(exclusive: exclusive) { try await function() }
    }
}

extension Trait where Self == EngineAccess {
    /// The test creates and touches only its own uniquely named containers.
    public static var usesEngine: EngineAccess { EngineAccess(exclusive: false) }
    /// The test acts on every managed container (teardown, `heph down`): it runs alone.
    public static var ownsEngine: EngineAccess { EngineAccess(exclusive: true) }
}

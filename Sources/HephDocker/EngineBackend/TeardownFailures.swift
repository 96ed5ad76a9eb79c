/// What a teardown could not remove. A failure does not stop the rest: every removal is
/// attempted, and the error thrown at the end names each one that failed.
struct TeardownFailures {
    private var failures: [String] = []

    /// Records that `what` could not be removed, and why.
    mutating func record(_ what: String, _ why: String) {
        failures.append("\(what): \(why)")
    }

    /// Runs `body`, recording a ``DockerError`` it throws under `what`; anything else
    /// (`CancellationError`) ends the teardown.
    mutating func attempt(_ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as DockerError {
            record(what, error.message)
        }
    }

    /// Throws an ``DockerError/Code/engine`` error naming every failure, if there was any.
    func check() throws {
        guard failures.isEmpty else {
            throw DockerError(.engine, "teardown could not remove everything: \(failures.sorted().joined(separator: "; "))")
        }
    }
}

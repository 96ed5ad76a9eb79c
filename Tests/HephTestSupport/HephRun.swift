extension HephProcess {
    /// `heph run arguments…` in the background, as a user runs it: a script that watches
    /// until a signal ends it, say. `environment` is added to this process's own.
    ///
    /// The test reads what it prints (``stdout``, ``stderr``, ``waitFor(_:in:after:timeout:)``),
    /// signals it (``signal(_:)``) and reads its exit status (``status(timeout:)``: 130
    /// after SIGINT, 143 after SIGTERM, as `heph` reports them). A `heph run` still running
    /// when the test lets go of it is killed.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> HephProcess {
        try HephProcess(["run"] + arguments, environment: environment)
    }
}

/// What a watcher does for the sessions on its control socket (the heph executable wires
/// it to the Lua runtime; HephServe knows nothing of Lua).
public protocol ControlHandler: Sendable {
    /// Runs `source` for `session`; what it prints goes to `output`. Returns the reply:
    /// ``ControlFrame/Kind/values``, `noValues`, `incomplete`, `failed` or `ended`.
    func evaluate(_ source: String, session: Int, output: @escaping @Sendable ([UInt8]) -> Void) async -> ControlFrame
    /// Interrupts `session`'s statement, if it has one running (Ctrl-C, or the client gone).
    func interrupt(session: Int)
    /// The text of the global `name` (`_PROMPT`), nil when it is not a string.
    func global(_ name: String) async -> String?
    /// Completions of `word` at the prompt.
    func completions(for word: String) async -> [String]
    /// Runs the script again in a fresh Lua state: ``ControlFrame/Kind/reloaded`` when the
    /// new one took over, ``ControlFrame/Kind/failed`` with the reason when it was refused.
    func reload() async -> ControlFrame
}

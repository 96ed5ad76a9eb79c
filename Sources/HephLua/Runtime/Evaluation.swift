/// What one statement typed at the REPL came to.
public enum Evaluation: Sendable, Equatable {
    /// It ran; its results as the REPL prints them (nil when it returned nothing).
    case values(String?)
    /// It is not a whole statement yet: the REPL asks for more (`lua5.4`'s `>>` prompt).
    case incomplete
    /// It did not compile, or it raised (the message, with a traceback for a runtime error).
    case failed(String)
    /// The session ended while it ran (`heph.exit`, a signal): how.
    case ended(LuaRunOutcome)
}

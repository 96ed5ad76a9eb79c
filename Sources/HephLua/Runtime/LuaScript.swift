import Foundation

/// A script to run, and the arguments it sees as `arg` and `...`.
public struct LuaScript: Sendable {
    /// Where the code comes from.
    public enum Source: Sendable {
        /// A file; messages name it as given (`examples/hello.lua:3:`), and `require` looks
        /// next to it first.
        case file(String)
        /// Standard input (`heph run -`); messages name it `stdin`.
        case standardInput
        /// Code in memory; messages name it `name`.
        case code(String, name: String)
        /// Not a script: the plugin named by the first argument, found as `heph.use` would
        /// find it in a script in the current directory, loaded under the hook time limit,
        /// checked and described to ``LuaRuntime/Configuration/describedPlugin`` (`heph
        /// plugins NAME`). Its setup never runs.
        case pluginDescription
    }

    /// Where the code comes from.
    public var source: Source
    /// `arg[1]`, `arg[2]`, … and the values of `...`.
    public var arguments: [String]

    /// Makes a script.
    public init(_ source: Source, arguments: [String] = []) {
        self.source = source
        self.arguments = arguments
    }

    /// What `heph plugins NAME` runs.
    public static func describing(plugin name: String) -> LuaScript {
        LuaScript(.pluginDescription, arguments: [name])
    }

    /// `arg[0]`: the path, `-` for standard input, or the name.
    var argumentZero: String {
        switch source {
        case .file(let path): path
        case .standardInput: "-"
        case .code(_, let name): name
        case .pluginDescription: "heph plugins"
        }
    }

    /// The directory `require` and `heph.use` look in first: the script's (the current
    /// one for a plugin's description); nil for code and standard input.
    var directory: String? {
        switch source {
        case .file(let path):
            let directory = (path as NSString).deletingLastPathComponent
            return directory.isEmpty ? "." : directory
        case .pluginDescription: return "."
        case .standardInput, .code: return nil
        }
    }
}

/// How a run ended.
public enum LuaRunOutcome: Sendable, Equatable {
    /// The main chunk returned and nothing (no hook, timer or poller) kept the run going.
    case finished
    /// `heph.exit(code)`, or a shutdown asked for from outside (a signal: 130, 143).
    case exited(Int32)
    /// The script could not be opened or compiled, or raised an error.
    case failed(LuaFailure)
    /// The process led its project and could no longer prove it does (docs/ha.md): the run
    /// ended at once, without its `on_shutdown` handlers; `heph run` stands by again.
    case lostLead(String)
    /// A reload's new state took over (``LuaRuntime/retire()``): the run gave way to it.
    case reloaded
}

/// Why a run failed.
public struct LuaFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The file could not be read: the message is one line.
        case cannotOpen
        /// The compiler refused the code: `file:line: message`, no traceback.
        case syntax
        /// The script raised an error: `file:line: message` and a traceback.
        case runtime
    }

    /// What went wrong.
    public var kind: Kind
    /// The message as it should be shown.
    public var message: String

    /// Makes a failure.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

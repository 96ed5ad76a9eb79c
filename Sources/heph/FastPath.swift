import HephDocker

/// The command lines an operator types most, read without the argument parser, whose
/// reflection over every command's options took nearly half the CPU of a `heph run` of an
/// empty script (docs/benchmarks.md, "Installed"):
///
/// - `heph run FILE [ARGS…]` (the script's own arguments are passed untouched, as the
///   parser's `captureForPassthrough` does);
/// - `heph ps`, with `--all` and `--json` in either order;
/// - `heph --version`.
///
/// Anything else (any option of `run`, `-p`, help, a mistake) goes to the parser, so every
/// message and every error is the parser's. `CommandLineTests.theFastPathDoesWhatTheParserDoes`
/// holds the two to the same reading.
enum FastPath {
    case run(script: String, arguments: [String])
    case ps(all: Bool, json: Bool)
    case version

    /// The fast reading of `arguments` (without the program's name); nil to use the parser.
    init?(_ arguments: [String]) {
        // The parser reads the whole line before it lets a script's arguments through: it
        // refuses `---x` and `-=x` anywhere, and `--generate-completion-script` anywhere
        // asks for a completion script.
        guard let command = arguments.first,
              !arguments.contains(where: { $0.hasPrefix("---") || $0.hasPrefix("-=") || $0.hasPrefix("--generate-completion-script") })
        else { return nil }
        let rest = arguments.dropFirst()
        switch command {
        case "run":
            // An option before the script (or `--`) is the parser's to read.
            guard let script = rest.first, script == "-" || !script.hasPrefix("-") else { return nil }
            self = .run(script: script, arguments: Array(rest.dropFirst()))
        case "ps":
            guard rest.count == Set(rest).count, rest.allSatisfy({ $0 == "--all" || $0 == "--json" }) else { return nil }
            self = .ps(all: rest.contains("--all"), json: rest.contains("--json"))
        case "--version" where rest.isEmpty:
            self = .version
        default:
            return nil
        }
    }
}

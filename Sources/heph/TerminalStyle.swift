import Foundation

/// Colour for a terminal: only when the output is one, and never with `NO_COLOR` set
/// (https://no-color.org).
struct TerminalStyle {
    let enabled: Bool

    /// The style for `descriptor` (1: standard output, 2: standard error).
    init(for descriptor: Int32) {
        enabled = isatty(descriptor) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
    }

    /// A container status in its colour: healthy green, unhealthy and error red, stopped dim.
    func status(_ text: String) -> String {
        guard enabled else { return text }
        let code = switch text {
        case "healthy": "32"
        case "unhealthy": "31"
        case let text where text.hasPrefix("error"): "31"
        case "stopped": "2"
        default: ""
        }
        return code.isEmpty ? text : "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }
}

import Foundation
import HephLua

extension LuaRunOutcome {
    /// The process's exit code for how a script (or a REPL session) ended, reporting a
    /// failure on stderr: a file that cannot be read is heph's complaint (`heph: …`); a
    /// script's error is its own message (`file:line:` first, as lua5.4 prints it).
    func exitCodeReportingFailure(_ say: (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) -> Int32 {
        switch self {
        case .finished, .reloaded:
            return 0
        case .exited(let code):
            return code
        case .lostLead:
            // heph run stands by again instead; a REPL session that led ends here.
            return 75
        case .failed(let failure):
            let text = failure.kind == .cannotOpen ? "heph: \(failure.message)\n" : "\(failure.message)\n"
            say(text)
            return 1
        }
    }
}

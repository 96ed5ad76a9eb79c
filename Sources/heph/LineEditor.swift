import CEditLine
import Foundation
import Synchronization

/// Line editing for the REPL on a terminal, through libedit's readline-compatible callback
/// interface: the editor waits on standard input and on a wake-up pipe at once, so text
/// that arrives while the prompt waits (a hook's output) is written above the prompt and
/// the line being typed is drawn again, intact.
///
/// ``readLine(prompt:)`` runs on one thread (the REPL's); ``write(_:to:)`` and
/// ``interrupt()`` may be called from any thread.
final class LineEditor: @unchecked Sendable {
    // @unchecked: libedit's state is only touched on the thread that calls readLine;
    // everything shared with other threads is in `shared`, under its lock.

    /// What the user did at the prompt.
    enum Input: Equatable {
        case line(String)
        /// Ctrl-C: the line was dropped.
        case interrupted
        /// Ctrl-D on an empty line, or standard input closed.
        case end
    }

    private struct Shared {
        /// Whether the prompt is on screen (text must then go above it).
        var prompting = false
        var pending: [([UInt8], Int32)] = []
        var interrupted = false
        var ended = false
    }

    private let shared = Mutex(Shared())
    private let wake: (read: Int32, write: Int32)
    private let historyPath: String?

    /// An editor with history kept in `historyPath` (when given) and Tab completion from
    /// `complete`, which gets the word before the cursor.
    init(historyPath: String?, complete: @escaping @Sendable (String) -> [String]) {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        wake = (fds[0], fds[1])
        self.historyPath = historyPath
        LineEditorCallbacks.complete = complete
        heph_editline_configure(LineEditorCallbacks.attemptCompletion)
        using_history()
        stifle_history(1000)
        if let historyPath { _ = read_history(historyPath) }
    }

    /// Shows `prompt` and returns what the user entered.
    func readLine(prompt: String) -> Input {
        LineEditorCallbacks.line = nil
        LineEditorCallbacks.done = false
        if shared.withLock({ $0.ended }) { return .end }
        shared.withLock { $0.prompting = true; $0.interrupted = false }
        rl_callback_handler_install(prompt, LineEditorCallbacks.lineHandler)
        defer {
            rl_callback_handler_remove()
            shared.withLock { $0.prompting = false }
            flushPending(redraw: false)
        }
        var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
        while true {
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                return .end
            }
            if fds[1].revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 64)
                while Foundation.read(wake.read, &buffer, buffer.count) > 0 {}
                if shared.withLock({ $0.ended }) {
                    FileHandle.standardOutput.write(Data("\n".utf8))
                    return .end
                }
                if shared.withLock({ $0.interrupted }) {
                    FileHandle.standardOutput.write(Data("^C\n".utf8))
                    rl_replace_line("", 0)
                    return .interrupted
                }
                flushPending(redraw: true)
            }
            if fds[0].revents != 0 {
                rl_callback_read_char()
                if LineEditorCallbacks.done {
                    guard let line = LineEditorCallbacks.line else { return .end }
                    if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                        add_history(line)
                        if let historyPath { _ = write_history(historyPath) }
                    }
                    return .line(line)
                }
            }
        }
    }

    /// Writes `text` to `descriptor` (1 or 2): at once while no prompt is shown, else above
    /// the prompt, which is then drawn again with what was typed.
    func write(_ text: String, to descriptor: Int32) {
        write(Array(text.utf8), to: descriptor)
    }

    /// Writes `bytes` as ``write(_:to:)-(String,_)`` writes text: a Lua string is bytes.
    func write(_ bytes: [UInt8], to descriptor: Int32) {
        let queued = shared.withLock { state -> Bool in
            guard state.prompting else { return false }
            state.pending.append((bytes, descriptor))
            return true
        }
        if queued {
            _ = Foundation.write(wake.write, "!", 1)
        } else {
            Self.writeAll(bytes, to: descriptor)
        }
    }

    /// Ctrl-C at the prompt: the line being typed is dropped and `readLine` answers `.interrupted`.
    func interrupt() {
        shared.withLock { $0.interrupted = true }
        _ = Foundation.write(wake.write, "!", 1)
    }

    /// The session ended: `readLine` answers `.end` now and from then on.
    func end() {
        shared.withLock { $0.ended = true }
        _ = Foundation.write(wake.write, "!", 1)
    }

    private func flushPending(redraw: Bool) {
        let pending = shared.withLock { state in
            defer { state.pending = [] }
            return state.pending
        }
        guard !pending.isEmpty else { return }
        // Erase the prompt line, write the text, then draw the prompt and the line again.
        if redraw { Self.writeAll("\r\u{1B}[K", to: STDOUT_FILENO) }
        for (text, descriptor) in pending { Self.writeAll(text, to: descriptor) }
        if redraw { rl_forced_update_display() }
    }

    private static func writeAll(_ text: String, to descriptor: Int32) {
        writeAll(Array(text.utf8), to: descriptor)
    }

    private static func writeAll(_ text: [UInt8], to descriptor: Int32) {
        text.withUnsafeBufferPointer { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { if errno == EINTR { continue }; return }
                offset += written
            }
        }
    }
}

/// The C callbacks libedit calls, and what they share with ``LineEditor`` (one editor per
/// process, used from one thread).
private enum LineEditorCallbacks {
    nonisolated(unsafe) static var line: String?
    nonisolated(unsafe) static var done = false
    nonisolated(unsafe) static var complete: @Sendable (String) -> [String] = { _ in [] }

    static let lineHandler: @convention(c) (UnsafeMutablePointer<CChar>?) -> Void = { text in
        line = text.map { String(cString: $0) }
        done = true
        if let text { free(text) }
    }

    /// libedit's completion hook: a malloc'd, NULL-terminated array whose first entry is
    /// what replaces the word (the matches' common prefix), then the matches.
    static let attemptCompletion: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, _, _ in
        let word = text.map { String(cString: $0) } ?? ""
        let matches = complete(word)
        heph_editline_completion_done(0)
        guard !matches.isEmpty else { return nil }
        var common = matches[0]
        for match in matches.dropFirst() {
            while !match.hasPrefix(common) { common.removeLast() }
        }
        let entries = [common] + (matches.count == 1 ? [] : matches)
        // libedit frees the array and its strings with free(), so they come from malloc.
        let raw = malloc(MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (entries.count + 1))!
        let result = raw.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: entries.count + 1)
        for (index, entry) in entries.enumerated() { result[index] = strdup(entry) }
        result[entries.count] = nil
        return result
    }
}

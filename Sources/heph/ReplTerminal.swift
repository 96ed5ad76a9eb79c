import Foundation
import Synchronization

/// Where the REPL reads and writes: a ``LineEditor`` on a terminal, or plain lines from a
/// pipe (no prompts, no colour). Reads happen on one queue of their own, so a wait for
/// input holds no thread of the concurrency pool.
final class ReplTerminal: Sendable {
    private let interactive: Bool
    private let editor = Mutex<LineEditor?>(nil)
    private let inputEnded = Mutex(false)
    /// The read in progress; guarded by `inputEnded`'s lock.
    nonisolated(unsafe) private var waiting: CheckedContinuation<LineEditor.Input, Never>?
    private let queue = DispatchQueue(label: "heph.repl.input")
    /// Errors in red, on a terminal, unless NO_COLOR is set.
    private let colour: Bool

    init(interactive: Bool) {
        self.interactive = interactive
        colour = interactive && TerminalStyle(for: STDERR_FILENO).enabled
    }

    /// Starts line editing (history in `~/.heph_history`, Tab through `complete`).
    func attachEditor(complete: @escaping @Sendable (String) -> [String]) {
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 }
        editor.withLock { $0 = LineEditor(historyPath: home.map { $0 + "/.heph_history" }, complete: complete) }
    }

    /// The next line, Ctrl-C, or the end of input (also once ``endInput()`` is called, even
    /// while a read from a pipe still blocks).
    func read(prompt: String) async -> LineEditor.Input {
        let editor = self.editor.withLock { $0 }
        return await withCheckedContinuation { continuation in
            let ended = inputEnded.withLock { ended in
                if !ended { waiting = continuation }
                return ended
            }
            guard !ended else { return continuation.resume(returning: .end) }
            queue.async {
                let input: LineEditor.Input = if let editor {
                    editor.readLine(prompt: prompt)
                } else {
                    Swift.readLine(strippingNewline: true).map { .line($0) } ?? .end
                }
                self.answer(input)
            }
        }
    }

    /// Hands `input` to the read waiting for it, if it still waits.
    private func answer(_ input: LineEditor.Input) {
        let continuation = inputEnded.withLock { _ in
            defer { waiting = nil }
            return waiting
        }
        continuation?.resume(returning: input)
    }

    /// Writes `text` to standard output (1) or error (2); above the prompt while one waits.
    func write(_ text: String, to descriptor: Int32) {
        write(Array(text.utf8), to: descriptor)
    }

    /// Writes bytes (what a script prints need not be UTF-8).
    func write(_ bytes: [UInt8], to descriptor: Int32) {
        if let editor = editor.withLock({ $0 }) {
            editor.write(bytes, to: descriptor)
        } else {
            FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).write(Data(bytes))
        }
    }

    /// An error message, red on a terminal.
    func writeError(_ message: String) {
        write(colour ? "\u{1B}[31m\(message)\u{1B}[0m\n" : message + "\n", to: STDERR_FILENO)
    }

    /// Ctrl-C at the prompt.
    func interrupt() {
        editor.withLock { $0 }?.interrupt()
    }

    /// No more input is wanted (the session ended): a waiting prompt gives way.
    func endInput() {
        inputEnded.withLock { $0 = true }
        if let editor = editor.withLock({ $0 }) {
            // The editor returns by itself, and must: it puts the terminal back as it found it.
            editor.end()
        } else {
            // A read from a pipe cannot be woken; answer for it (its line, if any, is dropped).
            answer(.end)
        }
    }
}

import Foundation

/// One message on a control socket (`heph attach`): a type byte, the
/// payload's length (4 bytes, big-endian) and the payload. Binary rather than JSON lines:
/// what a script prints is bytes, not necessarily UTF-8, and passes through untouched.
public struct ControlFrame: Sendable, Equatable {
    /// What a frame is. Requests go from the client to the watcher; the rest come back.
    public enum Kind: UInt8, Sendable {
        // Requests.
        /// Run the payload as a statement in the watcher's Lua state.
        case evaluate = 0x45            // E
        /// Interrupt this session's statement (Ctrl-C).
        case interrupt = 0x49           // I
        /// The value of the global named by the payload, as text (the prompts).
        case global = 0x47              // G
        /// Completions of the payload (Tab).
        case complete = 0x43            // C
        /// Run the script again in a fresh Lua state (`heph reload`).
        case reload = 0x52              // R
        // Replies.
        /// The watcher accepts the session (sent first; a refusal is ``failed`` instead).
        case hello = 0x48               // H
        /// Bytes the statement printed.
        case output = 0x4F              // O
        /// The statement ran; the payload is its results as the REPL prints them.
        case values = 0x56              // V
        /// The statement ran and returned nothing.
        case noValues = 0x76            // v
        /// The statement is not finished yet (the REPL's second prompt).
        case incomplete = 0x4D          // M
        /// The statement failed; the payload is the message.
        case failed = 0x46              // F
        /// The watcher is ending; the payload says how.
        case ended = 0x58               // X
        /// The global's text (``global``); ``absent`` when it has none.
        case text = 0x54                // T
        /// The global is not a string.
        case absent = 0x74              // t
        /// Completions, NUL-separated.
        case completions = 0x63         // c
        /// The new script was taken (``reload``); the payload says what runs now. A
        /// refusal is ``failed``, with the reason.
        case reloaded = 0x4B            // K
    }

    /// The largest payload either side accepts: a statement or its printed result larger
    /// than this is refused rather than buffered.
    public static let maximumPayload = 16 * 1024 * 1024

    public var kind: Kind
    public var payload: [UInt8]

    public init(_ kind: Kind, _ payload: [UInt8] = []) {
        self.kind = kind
        self.payload = payload
    }

    public init(_ kind: Kind, text: String) {
        self.init(kind, Array(text.utf8))
    }

    /// The payload as text (bytes that are not UTF-8 replaced).
    public var text: String { String(decoding: payload, as: UTF8.self) }

    /// The frame as it goes on the wire.
    public var encoded: [UInt8] {
        let count = UInt32(payload.count)
        return [kind.rawValue, UInt8(count >> 24), UInt8((count >> 16) & 0xFF), UInt8((count >> 8) & 0xFF), UInt8(count & 0xFF)] + payload
    }
}

/// Reads frames from a blocking socket.
struct ControlFrameReader {
    let descriptor: Int32

    /// The next frame; nil at the end of the stream, on an error, or on a frame that is not
    /// one (an unknown kind, a payload over the limit): the connection is then closed.
    func next() -> ControlFrame? {
        guard let header = read(count: 5), let kind = ControlFrame.Kind(rawValue: header[0]) else { return nil }
        let count = Int(header[1]) << 24 | Int(header[2]) << 16 | Int(header[3]) << 8 | Int(header[4])
        guard count <= ControlFrame.maximumPayload, let payload = count == 0 ? [] : read(count: count) else { return nil }
        return ControlFrame(kind, payload)
    }

    /// Reads `count` bytes, a piece at a time: memory grows with what arrives, not with
    /// what a header claims.
    private func read(count: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        var piece = [UInt8](repeating: 0, count: min(count, 64 * 1024))
        while bytes.count < count {
            let want = min(piece.count, count - bytes.count)
            let got = piece.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress!, want) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { return nil }
            bytes += piece.prefix(got)
        }
        return bytes
    }
}

/// Writes all of `bytes` to a blocking socket; false once the peer is gone. Never raises
/// SIGPIPE (a client that went away must not end the watcher).
func sendAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
    var done = 0
    while done < bytes.count {
        let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
        if sent < 0, errno == EINTR { continue }
        guard sent > 0 else { return false }
        done += sent
    }
    return true
}

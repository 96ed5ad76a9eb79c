import NIOCore

/// Cuts a byte stream into newline-terminated lines, as the engine streams JSON (pull
/// progress, events): one value a line, chunks split anywhere.
struct LineSplitter {
    private var pending = ByteBuffer()

    /// Adds `chunk` and returns the lines it completed, without their newlines.
    mutating func append(_ chunk: ByteBuffer) -> [ByteBuffer] {
        var chunk = chunk
        pending.writeBuffer(&chunk)
        var lines: [ByteBuffer] = []
        while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - pending.readerIndex
            if let line = pending.readSlice(length: length) { lines.append(line) }
            pending.moveReaderIndex(forwardBy: 1)
        }
        pending.discardReadBytes()
        return lines
    }

    /// What is left after the stream ended (a last line without a newline), if anything.
    mutating func finish() -> ByteBuffer? {
        defer { pending.clear() }
        return pending.readableBytes > 0 ? pending : nil
    }
}

import NIOCore

/// What a container or an exec wrote, its two streams kept apart. Bytes as written (the
/// output need not be UTF-8).
public struct ContainerOutput: Sendable, Hashable {
    /// Standard output.
    public var stdout: [UInt8]
    /// Standard error.
    public var stderr: [UInt8]

    /// Makes an output.
    public init(stdout: [UInt8] = [], stderr: [UInt8] = []) {
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Standard output as text (invalid UTF-8 replaced).
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Standard error as text (invalid UTF-8 replaced).
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// What `exec` answers: the command's exit code and its output.
public struct ExecResult: Sendable, Hashable {
    /// The command's exit code (126/127 when it could not be run, as in a shell).
    public var exitCode: Int
    /// What it wrote.
    public var output: ContainerOutput

    /// Makes a result.
    public init(exitCode: Int, output: ContainerOutput) {
        self.exitCode = exitCode
        self.output = output
    }
}

/// Splits the engine's multiplexed stream (logs and exec of a container without a TTY):
/// frames of an 8-byte header `[stream, 0, 0, 0, size (UInt32 big-endian)]` and a payload,
/// stream 1 standard output and 2 standard error. Chunks may split a frame anywhere.
struct StreamDemultiplexer {
    private var pending = ByteBuffer()
    /// What has been read so far.
    private(set) var output = ContainerOutput()

    /// Adds a chunk of the stream.
    mutating func append(_ chunk: ByteBuffer) {
        var chunk = chunk
        pending.writeBuffer(&chunk)
        while pending.readableBytes >= 8,
              let header = pending.getBytes(at: pending.readerIndex, length: 8) {
            let size = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
            guard pending.readableBytes >= 8 + size else { break }
            pending.moveReaderIndex(forwardBy: 8)
            let payload = pending.readBytes(length: size) ?? []
            // Stream 0 is standard input echoed back (only with a TTY-less attach): count it as output.
            if header[0] == 2 { output.stderr += payload } else { output.stdout += payload }
        }
        pending.discardReadBytes()
    }

    /// What has been read since the last take (whole frames only), for a followed stream.
    mutating func take() -> ContainerOutput {
        defer { output = ContainerOutput() }
        return output
    }

    /// The output once the stream has ended; a cut-off last frame is kept as far as it came.
    mutating func finish() -> ContainerOutput {
        if pending.readableBytes > 8, let header = pending.readBytes(length: 8) {
            let rest = pending.readBytes(length: pending.readableBytes) ?? []
            if header[0] == 2 { output.stderr += rest } else { output.stdout += rest }
        }
        pending.clear()
        return output
    }
}

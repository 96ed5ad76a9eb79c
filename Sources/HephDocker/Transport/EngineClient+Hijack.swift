import NIOCore
import NIOPosix
import NIOSSL

/// A connection the engine has taken over (`attach` with `Upgrade: tcp`): raw bytes both
/// ways, for as long as both ends keep it open.
public struct HijackedStream: Sendable {
    /// What the engine sends (for an attach without a TTY: frames of the container's output).
    public var inbound: InboundReader
    /// What heph sends (the container's standard input).
    public var outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// Reads a hijacked connection: the bytes after the answer's head first, then the rest.
    /// One reader at a time (a channel's inbound stream has a single iterator).
    public final class InboundReader: @unchecked Sendable {
        // @unchecked: read by one task at a time, as its users promise.
        private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        private var leftover: ByteBuffer?

        init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, leftover: ByteBuffer) {
            self.iterator = iterator
            self.leftover = leftover.readableBytes > 0 ? leftover : nil
        }

        /// The next bytes; nil once the engine closed the connection.
        public func next() async throws -> ByteBuffer? {
            if let leftover {
                self.leftover = nil
                return leftover
            }
            return try await iterator.next()
        }
    }
}

extension EngineClient {
    /// Sends `method path` with `Upgrade: tcp` on a connection of its own (AsyncHTTPClient
    /// does not do upgrades), and runs `body` with the raw stream once the engine has
    /// answered `101` (or `200`, older engines). The connection closes when `body` returns
    /// or throws: for an attach with `StdinOnce`, that closes the container's standard input.
    ///
    /// Control traffic: it takes no slot.
    public func withHijackedConnection<T: Sendable>(_ method: String, _ path: String, query: [(String, String)] = [],
                                                     _ body: (HijackedStream) async throws -> T) async throws -> T {
        let version = try await apiVersion()
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await connectRaw()
        } catch {
            throw transportFailure(error, timeout: .seconds(5))
        }
        let queryString = query.isEmpty ? "" : "?" + query.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        var head = "\(method) /v\(version)\(path)\(queryString) HTTP/1.1\r\n"
        head += "Host: \(endpoint.transport.isTCP ? hostHeader : "docker")\r\n"
        head += "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
        // An engine that never answers must not hold the caller: the connection is closed
        // if the answer's head has not come within the limit.
        let headLimit = channel.channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.channel.close(promise: nil) }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: head))
            var iterator = inbound.makeAsyncIterator()
            var received = ByteBuffer()
            // The answer's head ends at the first blank line; what follows it in the same
            // read is the stream's (``HijackedStream/InboundReader``).
            while received.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
                guard var chunk = try await iterator.next() else {
                    throw DockerError(.engineUnreachable, "the engine at \(endpoint) closed the connection before answering \(method) \(path)")
                }
                received.writeBuffer(&chunk)
                if received.readableBytes > 64 * 1024 {
                    throw DockerError(.engine, "the engine's answer to \(method) \(path) has no end of its head")
                }
            }
            headLimit.cancel()
            let headEnd = received.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8))!.upperBound - received.readerIndex
            let text = String(buffer: received.getSlice(at: received.readerIndex, length: headEnd) ?? received)
            received.moveReaderIndex(forwardBy: headEnd)
            let statusLine = text.prefix { $0 != "\r" }
            let code = statusLine.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            guard code == 101 || code == 200 else {
                let message = String(buffer: received)
                throw DockerError(code == 404 ? .notFound : code == 409 ? .conflict : .engine,
                                  "\(method) \(path): the engine answered \(statusLine): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return try await body(HijackedStream(inbound: HijackedStream.InboundReader(iterator, leftover: received), outbound: outbound))
        }
    }

    /// The `Host` header for a TCP engine.
    private var hostHeader: String {
        if case .tcp(let host, let port, _) = endpoint.transport { return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
        return "docker"
    }

    /// A plain NIO channel to the engine: its unix socket, the ssh relay's, or TCP (with
    /// TLS when the endpoint asks for it).
    private func connectRaw() async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(5))
        let wrap: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        switch endpoint.transport {
        case .unix(let path):
            return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: wrap)
        case .ssh:
            return try await bootstrap.connect(unixDomainSocketPath: sshDialer?.socketPath ?? "", channelInitializer: wrap)
        case .tcp(let host, let port, let tls):
            let context = try tls.map { try NIOSSLContext(configuration: try Self.tlsConfiguration($0)) }
            return try await bootstrap.connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: host.first?.isLetter == true ? host : nil))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        }
    }
}

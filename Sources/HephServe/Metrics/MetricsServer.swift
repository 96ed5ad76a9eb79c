import NIOCore
import NIOHTTP1
import NIOPosix

/// `heph run --metrics HOST:PORT`: serves ``WatcherMetrics`` at `GET /metrics` in
/// Prometheus's text format, and nothing else (404; 405 for a method other than GET or
/// HEAD). One small event loop of its own: a scrape never waits behind the script.
public final class MetricsServer: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel

    /// Where it listens (the port the system chose, for port 0).
    public let address: String

    /// Listens on `host`:`port`; throws when it cannot (the port taken, the address not
    /// this host's).
    public init(host: String, port: Int, metrics: WatcherMetrics) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(MetricsHandler(metrics: metrics))
                    }
                }
                .bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
        self.group = group
        let bound = channel.localAddress
        address = "\(host):\(bound?.port ?? port)"
    }

    /// Stops listening.
    public func close() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Answers one HTTP request at a time on a connection.
private final class MetricsHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let metrics: WatcherMetrics

    init(metrics: WatcherMetrics) {
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let request) = unwrapInboundIn(data) else { return }
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        let (status, type, body): (HTTPResponseStatus, String, [UInt8]) = switch (request.method, path) {
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.exposition())
        case (.GET, _), (.HEAD, _):
            (.notFound, "text/plain; charset=utf-8", Array("heph serves its metrics at /metrics\n".utf8))
        default:
            (.methodNotAllowed, "text/plain; charset=utf-8", Array("GET /metrics\n".utf8))
        }
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.count))])
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let (keepAlive, channel) = (request.isKeepAlive, context.channel)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}

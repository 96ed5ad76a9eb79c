import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Reaches an engine over ssh the way the Docker CLI does: every connection the HTTP client
/// opens goes to a private unix socket, and each is relayed to a new
/// `ssh [-l user] [-p port] host -- docker system dial-stdio`, which joins its stdin and
/// stdout to the remote engine's socket. ssh runs with the user's own configuration (keys,
/// agent, `~/.ssh/config`, known hosts), in batch mode: it never asks for a password.
final class SSHDialer: Sendable {
    /// The local socket the HTTP client connects to.
    let socketPath: String
    private let directory: String
    private let server: any Channel
    /// What ssh last wrote on stderr, to explain a connection that ended with no answer.
    private let lastComplaint = LastComplaint()

    init(_ destination: EngineEndpoint.SSHDestination, logger: Logger) throws {
        var template = Array(URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("heph-ssh-XXXXXX").path.utf8CString)
        guard let made = mkdtemp(&template) else {
            throw DockerError(.engineUnreachable, "cannot make a private directory for the ssh relay: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        socketPath = directory + "/docker.sock"
        let complaint = lastComplaint
        let arguments = destination.sshArguments + ["--", "docker", "system", "dial-stdio"]
        do {
            server = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { connection in
                    Self.relay(connection, to: arguments, logger: logger, complaint: complaint)
                }
                .bind(unixDomainSocketPath: socketPath)
                .wait()
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw DockerError(.engineUnreachable, "cannot open the local socket for the ssh relay at \(socketPath): \(error)", underlying: error)
        }
    }

    /// ssh's last words on stderr, if it said anything (`Permission denied (publickey).`).
    var complaint: String? { lastComplaint.recent }

    /// Stops listening and removes the socket; relayed connections end with their ssh.
    func close() {
        try? server.close().wait()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts ssh for one connection and joins the two: bytes either way, and either side
    /// closing closes the other (and ends ssh).
    private static func relay(_ connection: any Channel, to arguments: [String], logger: Logger, complaint: LastComplaint) -> EventLoopFuture<Void> {
        let ssh: SSHProcess
        // The connection closes once ssh's stdout has closed and its stderr has been read
        // to the end, so that the HTTP layer's error finds ssh's last words in place.
        let closer = CloseAfterBoth { connection.close(promise: nil) }
        do {
            ssh = try SSHProcess(arguments, onStderrClosed: closer.signal, onComplaint: { text in
                complaint.add(text)
                logger.debug("ssh: \(text)")
            })
        } catch {
            complaint.add("cannot run ssh: \(error)")
            return connection.eventLoop.makeFailedFuture(error)
        }
        return NIOPipeBootstrap(group: connection.eventLoop)
            .channelInitializer { pipe in
                pipe.eventLoop.makeCompletedFuture {
                    try pipe.pipeline.syncOperations.addHandler(RelayHandler(partner: connection, closesPartner: false))
                }
            }
            .takingOwnershipOfDescriptors(input: ssh.output, output: ssh.input)
            .flatMapThrowing { pipe in
                try connection.pipeline.syncOperations.addHandler(RelayHandler(partner: pipe, closesPartner: true))
                pipe.closeFuture.whenComplete { _ in
                    ssh.terminate()
                    closer.signal()
                    // Should ssh keep its stderr open, the connection closes all the same.
                    connection.eventLoop.scheduleTask(in: .seconds(2)) { connection.close(promise: nil) }
                }
            }
            .flatMapErrorThrowing { error in
                ssh.terminate()
                throw error
            }
    }
}

/// ssh's last words on stderr, shared by every relayed connection. Connections overlap
/// (the event stream, requests), so the words are not tied to one; they count while recent,
/// so a failure long past does not explain a new one.
private final class LastComplaint: Sendable {
    // Real time, not the run's clock: how fresh ssh's words are is a matter of the real
    // process and the real network.
    private let last = Mutex<(lines: [String], at: ContinuousClock.Instant)?>(nil)
    private static let freshness: Duration = .seconds(10)

    /// Keeps the last three lines: ssh's own error, or the remote docker's.
    func add(_ text: String) {
        last.withLock { last in
            let recent = last.map { ContinuousClock.now - $0.at < Self.freshness ? $0.lines : [] } ?? []
            last = (Array((recent + text.components(separatedBy: " | ")).suffix(3)), .now)
        }
    }

    /// The lines, joined, if they are recent.
    var recent: String? {
        last.withLock { last in
            guard let last, ContinuousClock.now - last.at < Self.freshness else { return nil }
            return last.lines.joined(separator: " | ")
        }
    }
}

/// One `ssh … docker system dial-stdio`: its stdin and stdout as descriptors for NIO to
/// own, its stderr read for messages.
private struct SSHProcess: Sendable {
    /// Write end of ssh's stdin.
    let input: CInt
    /// Read end of ssh's stdout.
    let output: CInt
    private let process: ChildProcess

    init(_ arguments: [String], onStderrClosed: @escaping @Sendable () -> Void, onComplaint: @escaping @Sendable (String) -> Void) throws {
        // BatchMode: a password prompt would hang the relay; ConnectTimeout as the CLI sets it.
        process = try ChildProcess(["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=30", "-T"] + arguments, pipingInput: true)
        input = process.input ?? -1
        output = process.output
        ChildProcess.drain(process.error, onChunk: { bytes in
            let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if !lines.isEmpty { onComplaint(lines.joined(separator: " | ")) }
        }, onEnd: onStderrClosed)
    }

    func terminate() {
        process.terminate()
    }
}

/// Calls `action` at the second ``signal()``.
private final class CloseAfterBoth: Sendable {
    private let remaining = Mutex(2)
    private let action: @Sendable () -> Void

    init(_ action: @escaping @Sendable () -> Void) {
        self.action = action
    }

    @Sendable func signal() {
        if remaining.withLock({ remaining in
            remaining -= 1
            return remaining == 0
        }) { action() }
    }
}

/// Passes every byte read on its channel to `partner`, and (with `closesPartner`) closes
/// `partner` when its own channel closes.
private final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let partner: any Channel
    private let closesPartner: Bool

    init(partner: any Channel, closesPartner: Bool) {
        self.partner = partner
        self.closesPartner = closesPartner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.writeAndFlush(Self.unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if closesPartner { partner.close(promise: nil) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

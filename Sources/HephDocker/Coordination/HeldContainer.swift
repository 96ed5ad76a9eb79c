import Foundation
import NIOCore
import Synchronization

/// A container that lives exactly as long as this process holds it: the lease, and each
/// watcher's registry entry.
///
/// It runs `sh -c 'while read -t EXPIRY line; do echo "$line"; done'` with its standard
/// input attached to a connection of this process (`StdinOnce`), and `AutoRemove`:
///
/// - the process ends in any way (SIGKILL included): the kernel closes the connection, the
///   engine closes the container's standard input, `read` sees the end, the container exits
///   at once and is removed;
/// - the process freezes, or its host or network goes: no heartbeat reaches `read` for
///   EXPIRY seconds, and the container exits by the **engine host's** clock;
/// - while the process runs, it sends a heartbeat line every ``Timing/heartbeat`` and the
///   container echoes it. The holder counts itself valid until the send time of the last
///   echoed heartbeat plus EXPIRY less ``Timing/margin``: before the container can expire,
///   by the holder's own monotonic clock (only clock *rates* need agree, never times).
public final class HeldContainer: Sendable {
    /// How often the holder proves it is alive, and how long the container waits.
    public struct Timing: Sendable {
        /// Between two heartbeats.
        public var heartbeat: Duration
        /// `read -t`: the container exits this many seconds after the last heartbeat it got.
        public var expiry: Int
        /// How much sooner than the container the holder stops counting itself valid.
        public var margin: Duration

        /// The lease: a frozen or cut-off leader's lease ends 3 s after its last heartbeat,
        /// and the leader stops acting 1 s before that.
        public static let lease = Timing(heartbeat: .milliseconds(500), expiry: 3, margin: .seconds(1))
        /// A registry entry: it only has to go away, eventually, when its watcher is frozen.
        public static let registry = Timing(heartbeat: .seconds(2), expiry: 20, margin: .seconds(5))

        /// How long the holder counts itself valid after a heartbeat it sent.
        var validity: Duration { .seconds(expiry) - margin }
    }

    /// The container's id.
    public let id: String
    /// The container's engine name.
    public let name: String
    private let client: EngineClient
    private let timing: Timing
    /// Whether any heartbeat has come back yet.
    private let echoed = Mutex(false)
    private let validUntil: Mutex<ContinuousClock.Instant>
    /// Why the hold ended, once it has; and who wants to know.
    private let ending = Mutex<(reason: String?, released: Bool, listeners: [@Sendable (String) -> Void])>((nil, false, []))
    private let holding = Mutex<Task<Void, Never>?>(nil)
    /// Send times of heartbeats not yet echoed, by number.
    private let pending = Mutex<[Int: ContinuousClock.Instant]>([:])
    /// Whether the container has started: heartbeats begin then (the engine drops what is
    /// written to a container's input before it runs).
    private let started = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    private func markStarted() {
        let waiters = started.withLock { started in
            started.done = true
            defer { started.waiters = [] }
            return started.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitUntilStarted() async {
        await withCheckedContinuation { continuation in
            let done = started.withLock { started in
                if !started.done { started.waiters.append(continuation) }
                return started.done
            }
            if done { continuation.resume() }
        }
    }

    private init(id: String, name: String, client: EngineClient, timing: Timing, validUntil: ContinuousClock.Instant) {
        self.id = id
        self.name = name
        self.client = client
        self.timing = timing
        self.validUntil = Mutex(validUntil)
    }

    /// Whether the holder may still count on the container: within the validity of the last
    /// echoed heartbeat, and not ended. A lapse is final: the hold ends the moment anyone
    /// sees it, so a late echo cannot revive a lead its holder has already given up.
    public var isValid: Bool {
        guard ending.withLock({ $0.reason == nil }) else { return false }
        let current = ContinuousClock.now < validUntil.withLock({ $0 })
        // Before the first echo there is no proof to lapse (``proven()`` bounds that wait).
        if !current, echoed.withLock({ $0 }) { lapse() }
        return current
    }

    /// Ends the hold because its validity ran out.
    private func lapse() {
        end("no answer from the engine about \(name) for \(validityText): its lease lapsed (the engine unreachable, or this process frozen)")
        holding.withLock { $0 }?.cancel()  // cancelled outside the lock
    }

    private var validityText: String { "\(timing.validity)" }

    /// Calls `listener` (from any task) once the hold ends other than by ``release()``:
    /// at once when it has ended already.
    public func whenLost(_ listener: @escaping @Sendable (String) -> Void) {
        let ended: String? = ending.withLock { ending in
            if ending.reason == nil { ending.listeners.append(listener) }
            return ending.released ? nil : ending.reason
        }
        if let ended { listener(ended) }
    }

    /// Waits for the first echoed heartbeat: true once one came back, false when the hold
    /// ended first, or no echo came within a few seconds (a system image whose `sh` cannot
    /// `read -t` exits at once), or the task was cancelled.
    public func proven() async -> Bool {
        let deadline = ContinuousClock.now + timing.validity + .seconds(3)
        while ending.withLock({ $0.reason == nil }), !Task.isCancelled, ContinuousClock.now < deadline {
            if echoed.withLock({ $0 }) { return isValid }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Returns once the hold has ended, however it ended.
    public func ended() async {
        await holding.withLock { $0 }?.value
    }

    /// Whether it is still held: no end has come (released, the connection closed, expired).
    public var isHeld: Bool { ending.withLock { $0.reason == nil } }

    /// Lets the container go at once: the connection closes and the container is removed.
    public func release() async {
        ending.withLock { ending in
            if ending.reason == nil { ending.reason = "released" }
            ending.released = true
            ending.listeners = []
        }
        holding.withLock { $0 }?.cancel()  // cancelled outside the lock
        let (client, id) = (self.client, self.id)
        // Detached: a release is never cancelled half way. Briefly: the closed connection
        // ends the container anyway.
        await Task.detached {
            _ = try? await EngineLane.asControl { try await client.request(.DELETE, "/containers/\(id)", query: [("force", "1")], timeout: .seconds(2)) }
        }.value
    }

    private func end(_ reason: String) {
        client.logger.debug("\(name) (\(id.prefix(12))) ended: \(reason)")
        let listeners = ending.withLock { ending -> [@Sendable (String) -> Void] in
            guard ending.reason == nil else { return [] }
            ending.reason = reason
            defer { ending.listeners = [] }
            return ending.listeners
        }
        for listener in listeners { listener(reason) }
    }

    /// Creates the container `name` and holds it; nil when a container of that name exists
    /// (the engine's names are unique: this is the atomic step of taking a lease).
    ///
    /// - Throws: when the engine cannot be reached, or refuses for another reason (the
    ///   system image missing and not pullable).
    /// `network`: the network it joins (none by default: a lease talks to nobody).
    public static func hold(_ client: EngineClient, name: String, labels: [String: String], timing: Timing, network: String = "none") async throws -> HeldContainer? {
        try await EngineLane.asControl {
            guard let id = try await create(client, name: name, labels: labels, timing: timing, network: network) else { return nil }
            do {
                return try await attachAndStart(client, id: id, name: name, timing: timing)
            } catch {
                // Not cancelled with the caller: a container left `created` would hold the
                // name until a standby found it abandoned.
                await Task.detached {
                    _ = try? await EngineLane.asControl { try await client.request(.DELETE, "/containers/\(id)", query: [("force", "1")]) }
                }.value
                throw error
            }
        }
    }

    private static func create(_ client: EngineClient, name: String, labels: [String: String], timing: Timing, network: String) async throws -> String? {
        let body = HeldContainerCreate(
            Image: SystemImage.name,
            Cmd: ["sh", "-c", "while read -t \(timing.expiry) line; do echo \"$line\"; done"],
            Labels: labels,
            HostConfig: .init(NetworkMode: network))
        var pulled = false
        while true {
            let response = try await client.request(.POST, "/containers/create", query: [("name", name)], json: body)
            if response.status == .conflict { return nil }
            if response.status == .notFound, !pulled {
                // The system image is missing: pull it once (where a registry is reachable).
                pulled = true
                try await SystemImage.pull(client)
                continue
            }
            guard response.succeeded else { throw response.failure("cannot create \(name)") }
            let id = try response.decode(EngineCreated.self).Id
            client.logger.debug("created \(name): \(id.prefix(12))")
            return id
        }
    }

    private static func attachAndStart(_ client: EngineClient, id: String, name: String, timing: Timing) async throws -> HeldContainer {
        let (attached, attachedSignal) = AsyncStream<Result<Void, any Error>>.makeStream()
        // Counted from before the start: the container's `read` begins after it.
        let beforeStart = ContinuousClock.now
        let held = HeldContainer(id: id, name: name, client: client, timing: timing, validUntil: beforeStart + timing.validity)
        let task = Task {
            await EngineLane.asControl {
                do {
                    try await client.withHijackedConnection("POST", "/containers/\(id)/attach", query: [("stream", "1"), ("stdin", "1"), ("stdout", "1")]) { stream in
                        attachedSignal.yield(.success(()))
                        try await held.beat(stream, timing: timing)
                    }
                    held.end("the engine closed \(name)'s connection")
                } catch is CancellationError {
                    held.end("released")
                } catch {
                    attachedSignal.yield(.failure(DockerError(error)))
                    held.end(DockerError(error).message)
                }
                attachedSignal.finish()
            }
        }
        held.holding.withLock { $0 = task }
        do {
            var iterator = attached.makeAsyncIterator()
            guard let outcome = await iterator.next() else {
                try Task.checkCancellation()
                throw DockerError(.engine, "cannot attach to \(name)")
            }
            try outcome.get()
            let start = try await client.request(.POST, "/containers/\(id)/start")
            guard start.succeeded else { throw start.failure("cannot start \(name)") }
        } catch {
            // The heartbeat task's wait ends, and with the cancel, the task and its connection.
            task.cancel()
            held.markStarted()
            throw error
        }
        held.markStarted()
        return held
    }

    /// Sends heartbeats and reads their echoes until the connection ends or the validity
    /// runs out.
    private func beat(_ stream: HijackedStream, timing: Timing) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var frames = EchoReader()
                while let chunk = try await stream.inbound.next() {
                    // Each echo names its heartbeat: one lost (or written too early) cannot
                    // pass a later echo off as its own.
                    for number in frames.lines(in: chunk).compactMap({ Int($0) }) {
                        guard let sent = self.pending.withLock({ $0.removeValue(forKey: number) }) else { continue }
                        // Too late: the lead is over, whatever this echo says.
                        guard self.isValid || !self.echoed.withLock({ $0 }) else { throw CancellationError() }
                        self.validUntil.withLock { $0 = max($0, sent + timing.validity) }
                        self.echoed.withLock { $0 = true }
                    }
                }
                throw DockerError(.engineUnreachable, "the engine ended \(self.name)")
            }
            group.addTask {
                await self.waitUntilStarted()
                // A start that took long leaves no validity from before it; the first
                // heartbeats get their time to come back.
                let firstSent = ContinuousClock.now
                var number = 0
                while true {
                    let now = ContinuousClock.now
                    guard now < self.validUntil.withLock({ $0 }) || now - firstSent < timing.validity else {
                        self.lapse()
                        throw CancellationError()
                    }
                    number += 1
                    self.pending.withLock { pending in
                        pending[number] = now
                        // Heartbeats never echoed are forgotten once they cannot matter.
                        pending = pending.filter { now - $0.value < timing.validity }
                    }
                    try await stream.outbound.write(ByteBuffer(string: "\(number)\n"))
                    try await Task.sleep(for: timing.heartbeat)
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

/// Reads the lines of an attach's output: frames of an 8-byte header (stream, three
/// zeros, payload size as a big-endian UInt32) and a payload.
struct EchoReader {
    private var header: [UInt8] = []
    private var remaining = 0
    private var line: [UInt8] = []

    /// The lines `chunk` completes.
    mutating func lines(in chunk: ByteBuffer) -> [String] {
        var lines: [String] = []
        for byte in chunk.readableBytesView {
            if remaining > 0 {
                remaining -= 1
                if byte == UInt8(ascii: "\n") {
                    lines.append(String(decoding: line, as: UTF8.self))
                    line = []
                } else if line.count < 64 {
                    line.append(byte)
                }
                continue
            }
            header.append(byte)
            if header.count == 8 {
                remaining = header[4...7].reduce(0) { $0 << 8 | Int($1) }
                header = []
            }
        }
        return lines
    }
}

/// `POST /containers/create` for a held container.
struct HeldContainerCreate: Encodable, Sendable {
    var Image: String
    var Cmd: [String]
    var Labels: [String: String]
    var AttachStdin = true
    var AttachStdout = true
    var OpenStdin = true
    var StdinOnce = true
    var Tty = false
    /// A held container's shell ignores SIGTERM (it is PID 1): dockerd's forced removal
    /// kills at once, Podman's stops with this signal first and waits 10 s otherwise.
    var StopSignal = "SIGKILL"
    var HostConfig = Host()

    struct Host: Encodable, Sendable {
        var AutoRemove = true
        var NetworkMode = "none"
    }
}

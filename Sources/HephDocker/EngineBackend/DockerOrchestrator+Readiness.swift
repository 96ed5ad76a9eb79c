import Foundation
import Synchronization

extension DockerOrchestrator {
    public func readinessSession(_ containerID: String, probe: ReadinessProbe) -> any ReadinessSession {
        EngineReadinessSession(orchestrator: self, containerID: containerID, probe: probe)
    }
}

/// Probes of one container on the engine backend (operations.md §5): tcp and http by heph
/// itself at the container's own address when its network's bridge is here
/// (``LocalBridges``), else from a probe container on that network; `log` by following
/// the container's output; `exec` by the engine, one at a time.
final class EngineReadinessSession: ReadinessSession {
    /// Probes through a probe container are engine calls: at most one per container per
    /// this interval, whatever the probe's own.
    static let probeContainerInterval: Duration = .milliseconds(250)

    private let orchestrator: DockerOrchestrator
    private let containerID: String
    private let probe: ReadinessProbe
    /// A swarm task's container on the manager's node: not heph's by its labels (Swarm
    /// makes it), found by the swarm backend through its service.
    private let isTask: Bool

    /// How the container's address is reached.
    private enum Route {
        /// `pid`: the container's process (`id`) here, when this process sees it (same pid namespace).
        case direct(host: String, pid: Int?, id: String)
        case probeContainer(host: String, network: String)
    }

    private struct State {
        var route: Route?
        /// When the last probe through a probe container began.
        var lastContainerProbe: ContinuousClock.Instant?
        /// The log follower, and whether a line matched.
        var follower: Task<Void, Never>?
        var matched = false
        var followerError: String?
        /// An exec probe still running after its timeout: no second one starts meanwhile.
        var exec: Task<ExecResult, any Error>?
    }

    private let state = Mutex(State())

    init(orchestrator: DockerOrchestrator, containerID: String, probe: ReadinessProbe, isTask: Bool = false) {
        self.orchestrator = orchestrator
        self.containerID = containerID
        self.probe = probe
        self.isTask = isTask
    }

    /// The container as the engine describes it.
    private func container() async throws -> EngineContainerInspect {
        guard isTask else { return try await orchestrator.managedContainer(containerID) }
        let response = try await orchestrator.client.request(.GET, "/containers/\(containerID)/json")
        guard response.succeeded else { throw response.failure("cannot look at the task container \(containerID.prefix(12))") }
        return try response.decode(EngineContainerInspect.self)
    }

    func probe() async -> ProbeAnswer {
        switch probe.check {
        case .tcp(let port): await probeSocket(port: port, http: nil, every: .zero, until: .now)
        case .http(let path, let port, let status): await probeSocket(port: port, http: (path, status), every: .zero, until: .now)
        case .log(let pattern): probeLog(pattern)
        case .exec(let test): await probeExec(test)
        }
    }

    /// tcp and http at a reachable address: the prober repeats them on its thread.
    func probe(every interval: Duration, until: ContinuousClock.Instant, clock: any HephClock) async -> ProbeAnswer {
        switch probe.check {
        case .tcp(let port): return await probeSocket(port: port, http: nil, every: interval, until: until)
        case .http(let path, let port, let status): return await probeSocket(port: port, http: (path, status), every: interval, until: until)
        default: return await probeRepeatedly(every: interval, until: until, clock: clock)
        }
    }

    func close() {
        let (follower, exec) = state.withLock { ($0.follower, $0.exec) }
        follower?.cancel()
        exec?.cancel()
    }

    // tcp and http.

    /// Probes until one passes or the next would begin after `until` (once when `until` is now).
    private func probeSocket(port: Int, http: (path: String, status: Int)?, every interval: Duration, until: ContinuousClock.Instant) async -> ProbeAnswer {
        let route: Route
        if let known = state.withLock({ $0.route }) {
            route = known
        } else {
            do {
                guard let found = try await findRoute() else { return .notReady("it has no address yet") }
                route = found
                state.withLock { $0.route = found }
            } catch {
                return .notReady(DockerError(error).message)
            }
        }
        switch route {
        case .direct(let host, let pid, let id):
            // Checked again each time: a restart gives the container another process (and
            // may move it), which the next look finds.
            let process = Self.processHere(pid, of: id)
            let outcome = await SocketProber.shared.probe(host: host, port: port, http: http, timeout: probe.effectiveTimeout, every: interval, until: until, pid: process)
            if case .unreachable = outcome { state.withLock { $0.route = nil } }
            if pid != nil, process == nil { state.withLock { $0.route = nil } }
            return Self.answer(outcome, expecting: http?.status)
        case .probeContainer(let host, let network):
            // Engine calls, one at a time at a bounded rate.
            while true {
                let began = ContinuousClock.now
                let answer = await probeFromContainer(host: host, network: network, port: port, http: http)
                let next = began + max(interval, Self.probeContainerInterval)
                if answer == .ready || next > until || Task.isCancelled { return answer }
                try? await Task.sleep(until: next)
            }
        }
    }

    /// The container's address on its first network with one, and whether heph reaches it.
    /// One look, as control traffic: the first probe need not queue behind the rest of a
    /// bring-up's creates and starts.
    private func findRoute() async throws -> Route? {
        let container = try await EngineLane.asControl { try await self.container() }
        let networks = (container.NetworkSettings?.Networks ?? [:]).sorted { $0.key < $1.key }
        for (name, endpoint) in networks {
            guard let address = [endpoint.IPAddress, endpoint.GlobalIPv6Address].compactMap({ $0 }).first(where: { !$0.isEmpty }) else { continue }
            if let id = endpoint.NetworkID, await LocalBridges.isLocal(id, client: orchestrator.client) {
                return .direct(host: address, pid: container.State.Pid, id: container.Id)
            }
            return .probeContainer(host: address, network: name)
        }
        return nil
    }

    /// `pid` when it is the container's process as this process sees it: its cgroup names
    /// the container (another pid namespace, or a cgroup namespace, and it does not).
    private static func processHere(_ pid: Int?, of id: String) -> Int? {
        guard let pid, pid > 0, let cgroup = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8), cgroup.contains(id) else { return nil }
        return pid
    }

    private static func answer(_ outcome: SocketProber.Outcome, expecting status: Int?) -> ProbeAnswer {
        switch outcome {
        case .open: return .ready
        case .status(let code): return code == status ? .ready : .notReady("answered \(code), not \(status ?? 200)")
        case .refused: return .notReady("connection refused")
        case .unreachable(let why), .failed(let why): return .notReady(why)
        }
    }

    /// One tcp or http probe run by busybox's `nc` in the network's probe container.
    private func probeFromContainer(host: String, network: String, port: Int, http: (path: String, status: Int)?) async -> ProbeAnswer {
        let now = ContinuousClock.now
        if let last = state.withLock({ $0.lastContainerProbe }), now - last < Self.probeContainerInterval {
            try? await Task.sleep(until: last + Self.probeContainerInterval)
        }
        state.withLock { $0.lastContainerProbe = ContinuousClock.now }
        let seconds = String(max(1, Int((probe.effectiveTimeout / .seconds(1)).rounded(.up))))
        let command: [String]
        if let http {
            let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            command = ["sh", "-c", #"printf 'GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: heph-ready\r\n\r\n' "$1" "$2" | timeout -s KILL "$5" nc -w "$5" "$3" "$4" | head -n 1"#,
                       "heph-ready", http.path, authority, host, String(port), seconds]
        } else {
            command = ["timeout", "-s", "KILL", seconds, "nc", "-w", seconds, host, String(port), "-e", "true"]
        }
        do {
            let client = orchestrator.client
            let container = try await orchestrator.probeContainers.container(on: network, client: client, project: orchestrator.project)
            let result = try await EngineLane.asControl { try await self.orchestrator.exec(inContainer: container.id, named: container.name, command: command) }
            if let http {
                let line = result.output.stdoutText.split(separator: "\n").first.map(String.init) ?? ""
                let parts = line.split(separator: " ")
                guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else {
                    return .notReady(line.isEmpty ? "no HTTP answer" : "the answer does not start with an HTTP status line")
                }
                return Self.answer(.status(code), expecting: http.status)
            }
            if result.exitCode == 0 { return .ready }
            let said = result.output.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            return .notReady(said.lowercased().contains("refused") ? "connection refused" : said.isEmpty ? "no connection" : said)
        } catch {
            return .notReady("the probe container: \(DockerError(error).message)")
        }
    }

    // log.

    private func probeLog(_ pattern: LogPattern) -> ProbeAnswer {
        let (matched, follower, error) = state.withLock { ($0.matched, $0.follower, $0.followerError) }
        if matched { return .ready }
        if follower == nil {
            let task = Task { [self] in await follow(pattern) }
            state.withLock { $0.follower = task }
        }
        return .notReady(error ?? "no line of its output matches \(quoted(pattern.source)) yet")
    }

    /// Follows the container's whole output until a line matches; again after the stream
    /// ends (a restart) until the session closes.
    private func follow(_ pattern: LogPattern) async {
        while !Task.isCancelled {
            var pending: [UInt8] = [], pendingError: [UInt8] = []
            var found = false
            func scan(_ bytes: [UInt8], into buffer: inout [UInt8]) {
                buffer += bytes
                while let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    var line = String(decoding: buffer[..<end], as: UTF8.self)
                    if line.hasSuffix("\r") { line.removeLast() }
                    buffer.removeSubrange(...end)
                    if !found, pattern.matches(line) { found = true }
                }
            }
            do {
                try await orchestrator.followLogs(of: try await container(), tail: nil) { output in
                    scan(output.stdout, into: &pending)
                    scan(output.stderr, into: &pendingError)
                    if found { state.withLock { $0.matched = true } }
                }
                // The last line may lack its line break.
                for rest in [pending, pendingError] where !rest.isEmpty && pattern.matches(String(decoding: rest, as: UTF8.self)) { found = true }
                if found { state.withLock { $0.matched = true } }
            } catch {
                state.withLock { $0.followerError = DockerError(error).message }
            }
            if found || state.withLock({ $0.matched }) { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    // exec.

    private func probeExec(_ test: Healthcheck.Test) async -> ProbeAnswer {
        let command: [String] = switch test {
        case .shell(let line): ["sh", "-c", line]
        case .exec(let arguments): arguments
        }
        let task: Task<ExecResult, any Error>
        if let running = state.withLock({ $0.exec }) {
            task = running
        } else {
            task = Task { [self] in
                let container = try await container()
                guard container.State.Status == "running" else {
                    throw DockerError(.conflict, "it is \(container.State.Status), not running")
                }
                return try await orchestrator.exec(inContainer: container.Id, named: container.Name, command: command)
            }
            state.withLock { $0.exec = task }
        }
        // Waits up to the timeout; an exec still running then is waited for by the next probe.
        let timeout = probe.effectiveTimeout
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = await task.result; return true }
            group.addTask { try? await Task.sleep(for: timeout); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        guard finished else { return .notReady("the exec has run longer than \(formatted(timeout / .seconds(1))) s") }
        state.withLock { $0.exec = nil }
        switch await task.result {
        case .success(let result) where result.exitCode == 0: return .ready
        case .success(let result):
            let said = (result.output.stderrText + result.output.stdoutText).trimmingCharacters(in: .whitespacesAndNewlines)
            return .notReady("exit \(result.exitCode)" + (said.isEmpty ? "" : ": \(said.split(separator: "\n").last.map(String.init) ?? said)"))
        case .failure(let error):
            return .notReady(DockerError(error).message)
        }
    }
}

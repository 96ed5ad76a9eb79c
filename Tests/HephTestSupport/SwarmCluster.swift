import Foundation
import Synchronization

/// A Docker Swarm that belongs to one test: one or two ``PrivateEngine``s, each in its own
/// network namespace with its own hostname (the node's name). One node advertises
/// 127.0.0.1; two are joined by a veth pair (10.99.N.1 and 10.99.N.2), the first the
/// manager, the second a worker. The shared engine never enters swarm mode.
public final class SwarmCluster: Sendable {
    /// The nodes, the manager first.
    public let nodes: [PrivateEngine]
    /// The manager's `DOCKER_HOST`.
    public var host: String { nodes[0].host }
    /// Node hostnames, the manager's first.
    public var nodeNames: [String] { nodes.map { $0.hostname ?? "" } }

    private static let subnets = Mutex(UInt8(truncatingIfNeeded: getpid() &* 7))

    private init(nodes: [PrivateEngine]) {
        self.nodes = nodes
    }

    /// Runs `body` with a new swarm of `count` nodes (1 or 2), and removes it when `body`
    /// ends.
    public static func with<T: Sendable>(nodes count: Int = 1, _ body: (SwarmCluster) async throws -> T) async throws -> T {
        let token = UUID().uuidString.prefix(4).lowercased()
        var engines: [PrivateEngine] = []
        do {
            for index in 0..<count {
                engines.append(try await PrivateEngine(hostname: "heph-node-\(token)-\(index == 0 ? "a" : "b")"))
            }
            let cluster = SwarmCluster(nodes: engines)
            try await cluster.form(token: String(token))
            let result = try await body(cluster)
            await cluster.remove()
            return result
        } catch {
            for engine in engines { await engine.remove() }
            throw error
        }
    }

    /// `swarm init` on the first node; the second, linked by veth, joins as a worker.
    private func form(token: String) async throws {
        guard nodes.count == 2 else {
            try await check(nodes[0].docker("swarm", "init", "--advertise-addr", "127.0.0.1"), "swarm init")
            return
        }
        let subnet = Self.subnets.withLock { subnet in
            subnet &+= 1
            return subnet
        }
        let (a, b) = ("hsw\(token)a", "hsw\(token)b")
        guard let pidA = nodes[0].pid, let pidB = nodes[1].pid else { throw CommandError(description: "a node's dockerd is not running") }
        let ip = PrivateEngine.ip
        try await run(ip, ["link", "add", a, "type", "veth", "peer", "name", b])
        try await run(ip, ["link", "set", a, "netns", String(pidA)])
        try await run(ip, ["link", "set", b, "netns", String(pidB)])
        for (pid, link, address) in [(pidA, a, "10.99.\(subnet).1/24"), (pidB, b, "10.99.\(subnet).2/24")] {
            try await run("/usr/bin/nsenter", ["-t", String(pid), "-n", ip, "addr", "add", address, "dev", link])
            try await run("/usr/bin/nsenter", ["-t", String(pid), "-n", ip, "link", "set", link, "up"])
        }
        let manager = "10.99.\(subnet).1"
        try await check(nodes[0].docker("swarm", "init", "--advertise-addr", manager), "swarm init")
        let joinToken = try await nodes[0].docker("swarm", "join-token", "-q", "worker").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try await check(nodes[1].docker("swarm", "join", "--token", joinToken, "--advertise-addr", "10.99.\(subnet).2", "\(manager):2377"), "swarm join")
        let joined = await Fixtures.eventually(timeout: .seconds(30)) {
            let ready = try? await self.nodes[0].docker("node", "ls", "--format", "{{.Status}}").stdout
            return ready?.split(separator: "\n").filter { $0 == "Ready" }.count == 2
        }
        guard joined else { throw CommandError(description: "the second node did not become Ready in the swarm") }
    }

    /// Sets a label on the node `name` (`docker node update --label-add`).
    public func label(node name: String, _ label: String) async throws {
        try await check(nodes[0].docker("node", "update", "--label-add", label, name), "node update")
    }

    /// Every node leaves the swarm and its engine is removed.
    public func remove() async {
        for node in nodes.reversed() { await node.remove() }
    }

    private func run(_ executable: String, _ arguments: [String]) async throws {
        let result = try await Command.run(executable, arguments)
        guard result.status == 0 else { throw CommandError(description: "\(executable) \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
    }

    private func check(_ result: Docker.Result, _ what: String) throws {
        guard result.status == 0 else { throw CommandError(description: "docker \(what) failed: \(result.stderr)") }
    }
}

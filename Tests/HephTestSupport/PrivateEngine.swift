import Foundation
import Synchronization

/// A second Docker engine that belongs to one test: its own dockerd (and containerd),
/// data root, socket and network namespace, so the test can kill it, restart it or give
/// it a TLS listener without disturbing the engine every other test shares.
///
/// It must not touch what the shared engine owns in the host's network namespace, and
/// dockerd does: with `--bridge=none` it deletes `docker0`, and one restarted after a
/// SIGKILL was seen to delete it too. So it runs in a network namespace of its own
/// (`unshare --net`; its unix socket is a file, reachable from the host), with its own
/// `docker0`. Only an engine with a TLS listener must be reachable over the host's
/// loopback: that one stays in the host's namespace with a default bridge made here, no
/// iptables rules, and an address pool of its own, and is never restarted.
public final class PrivateEngine: @unchecked Sendable {
    // @unchecked: `daemon` is replaced only by start() and kill(), which the one test that
    // owns the engine calls in sequence.

    /// A TCP listener with TLS that demands a client certificate signed by `caFile`.
    public struct TLSListener: Sendable {
        public var port: Int
        public var caFile: String
        public var certificateFile: String
        public var keyFile: String

        public init(port: Int, caFile: String, certificateFile: String, keyFile: String) {
            self.port = port
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    /// The directory holding everything of this engine; short, because containerd's
    /// socket lives under it and socket paths have a 108-byte limit.
    public let directory: String
    /// The default bridge of an engine with a TLS listener, made by ``start()`` and deleted
    /// by ``remove()`` (an interface name: 15 characters at most).
    private let bridge: String
    public let tls: TLSListener?
    /// The hostname inside the engine's namespace (a swarm node's name), when given.
    public let hostname: String?
    private var daemon: Daemon?
    private static let addressPools = Mutex(UInt8(truncatingIfNeeded: getpid()))

    /// `DOCKER_HOST` for this engine's unix socket.
    public var host: String { "unix://\(directory)/docker.sock" }

    /// Starts the engine and waits until it answers; `loadingImage` copies that image over
    /// from the shared engine (no registry is reachable).
    public init(tls: TLSListener? = nil, hostname: String? = nil, loadingImage image: String? = Fixtures.image) async throws {
        let token = UUID().uuidString.prefix(8).lowercased()
        directory = "/tmp/heph-e-\(token)"
        bridge = "heph-e-\(token)"
        self.tls = tls
        self.hostname = hostname
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        do {
            try await start()
            if let image { try await load(image) }
        } catch {
            await remove()
            throw error
        }
    }

    /// Runs `body` with a new private engine, and removes the engine when `body` ends
    /// (a `defer` cannot await).
    public static func with<T: Sendable>(
        tls: TLSListener? = nil, _ body: (PrivateEngine) async throws -> T
    ) async throws -> T {
        let engine = try await PrivateEngine(tls: tls)
        do {
            let result = try await body(engine)
            await engine.remove()
            return result
        } catch {
            await engine.remove()
            throw error
        }
    }

    /// Starts dockerd (again, after ``kill()``) and waits up to 60 s for it to answer.
    /// A restart may take a while: the engine stops the containers it finds still running.
    public func start() async throws {
        let pool = Self.addressPools.withLock { pool in
            pool &+= 1
            return pool
        }
        var arguments = [
            "--data-root", "\(directory)/data", "--exec-root", "\(directory)/exec",
            "--pidfile", "\(directory)/docker.pid", "-H", host,
            "--iptables=false", "--ip-masq=false",
        ]
        let executable: String
        if let tls {
            try await makeBridge(address: "10.213.\(pool).1/24")
            arguments += ["--bridge", bridge, "--default-address-pool", "base=10.214.\(pool).0/24,size=24",
                          "-H", "tcp://127.0.0.1:\(tls.port)", "--tlsverify",
                          "--tlscacert", tls.caFile, "--tlscert", tls.certificateFile, "--tlskey", tls.keyFile]
            executable = Self.dockerd
        } else {
            // unshare and sh exec dockerd in the same process: the pid is dockerd's. A
            // restart gets a new namespace; the engine stops the containers of the old one
            // anyway. Loopback is brought up (a one-node swarm advertises 127.0.0.1), and a
            // hostname given goes into a UTS namespace of its own.
            let setUp = "\(Self.ip) link set lo up && " + (hostname.map { "hostname \($0) && " } ?? "") + "exec \"$0\" \"$@\""
            arguments = ["--net"] + (hostname == nil ? [] : ["--uts"]) + ["/bin/sh", "-c", setUp, Self.dockerd] + arguments
            executable = "/usr/bin/unshare"
        }
        let log = "\(directory)/dockerd.log"
        // Twice: on a loaded machine (several private engines starting at once) dockerd
        // gives up on its containerd after a few seconds and exits; a second try starts.
        for attempt in 1...2 {
            let daemon = try Daemon(executable, arguments, log: log)
            self.daemon = daemon
            let answered = await Fixtures.eventually(timeout: .seconds(60)) {
                guard daemon.isRunning else { return true }
                return (try? await docker("version", "--format", "{{.Server.Version}}").status) == 0
            }
            if answered, daemon.isRunning { return }
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if attempt == 1, !daemon.isRunning, text.contains("timeout waiting for containerd to start") {
                // Its containerd may still be coming up: gone before the next try. The
                // daemon alone: the shims (whose command lines name its socket) keep the
                // containers of a restart running, as a restarted engine expects to find them.
                _ = try? await Command.run("/usr/bin/pkill", ["-f", "^containerd --config \(directory)/"])
                try await Task.sleep(for: .seconds(1))
                continue
            }
            let tail = text.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw CommandError(description: "the private dockerd in \(directory) did not start:\n\(tail)")
        }
    }

    /// Creates the default bridge of an engine in the host's namespace.
    private func makeBridge(address: String) async throws {
        guard !FileManager.default.fileExists(atPath: "/sys/class/net/\(bridge)") else { return }
        for arguments in [["link", "add", "name", bridge, "type", "bridge"], ["addr", "add", address, "dev", bridge], ["link", "set", bridge, "up"]] {
            let result = try await Command.run(Self.ip, arguments)
            guard result.status == 0 else { throw CommandError(description: "ip \(arguments.joined(separator: " ")) failed: \(result.stderr)") }
        }
    }

    /// iproute2's `ip`.
    static var ip: String {
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first(where: FileManager.default.isExecutableFile(atPath:)) ?? "/usr/sbin/ip"
    }

    /// dockerd's process id (in the host's pid namespace), for `nsenter`.
    public var pid: pid_t? { daemon?.pid }

    /// Kills dockerd with SIGKILL, as a crash would, and waits for it to be gone. Its
    /// containerd goes with it; the containers' shims stay, as after a real crash.
    public func kill() {
        guard let daemon, daemon.isRunning else { return }
        daemon.signal(SIGKILL)
        daemon.waitUntilExit()
        // A killed daemon leaves its pid file, and a new one refuses to start beside it.
        try? FileManager.default.removeItem(atPath: "\(directory)/docker.pid")
    }

    /// Where Debian's docker.io puts dockerd (/usr/sbin), or another usual place.
    static var dockerd: String {
        ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"].map { "\($0)/dockerd" }
            .first(where: FileManager.default.isExecutableFile(atPath:)) ?? "/usr/sbin/dockerd"
    }

    /// `docker -H <this engine> arguments…`.
    @discardableResult
    public func docker(_ arguments: String...) async throws -> Docker.Result {
        try await docker(arguments)
    }

    /// `docker -H <this engine> arguments…`.
    public func docker(_ arguments: [String]) async throws -> Docker.Result {
        try await Command.run(Docker.executable(), ["-H", host] + arguments)
    }

    /// The names of this engine's containers (all of them, running or not).
    public func containerNames() async throws -> [String] {
        try await docker("ps", "-a", "--format", "{{.Names}}").stdout.split(separator: "\n").map(String.init).sorted()
    }

    /// Copies `image` from the shared engine into this one.
    public func load(_ image: String) async throws {
        let result = try await Command.run("/bin/sh", ["-c", "\"$0\" save \"$1\" | \"$0\" -H \"$2\" load", Docker.executable(), image, host])
        guard result.status == 0 else { throw CommandError(description: "loading \(image) into \(host) failed: \(result.stderr)") }
    }

    /// Removes every container and network (and Swarm services, leaving any swarm), stops dockerd, deletes its bridge and its
    /// directory.
    public func remove() async {
        if let daemon, daemon.isRunning {
            _ = try? await docker("swarm", "leave", "--force")
            let ids = (try? await docker("ps", "-aq").stdout.split(separator: "\n").map(String.init)) ?? []
            if !ids.isEmpty { _ = try? await docker(["rm", "-f"] + ids) }
            // With TLS, each network is a bridge interface in the host's namespace.
            _ = try? await docker("network", "prune", "-f")
            daemon.signal(SIGTERM)
            if !(await Fixtures.eventually(timeout: .seconds(20)) { !daemon.isRunning }) {
                daemon.signal(SIGKILL)
            }
            daemon.waitUntilExit()
        }
        // The data root holds overlay mounts only while containers run; none do now.
        _ = try? await Command.run("/bin/sh", ["-c", "grep -o \" $0/[^ ]*\" /proc/mounts | sort -r | xargs -r -n1 umount -l", directory])
        try? FileManager.default.removeItem(atPath: directory)
        if tls != nil { _ = try? await Command.run(Self.ip, ["link", "del", bridge]) }
    }
}

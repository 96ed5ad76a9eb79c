import Foundation

/// The `docker` command line: how tests look at the engine from outside heph's code.
public enum Docker {
    /// What a command printed and how it ended.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `docker args…` without blocking a thread of the concurrency pool.
    @discardableResult
    public static func run(_ arguments: String...) async throws -> Result {
        try await Command.run(executable(), arguments)
    }

    /// Runs `docker args…` and returns its trimmed stdout; fails on a non-zero exit.
    @discardableResult
    public static func output(_ arguments: String...) async throws -> String {
        let result = try await Command.run(executable(), arguments)
        guard result.status == 0 else {
            throw CommandError(description: "docker \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `docker rm -f names…`, queued (``Cleanup``): for `defer`, where nothing can be
    /// awaited. Containers that do not exist are fine.
    public static func forceRemove(_ names: [String]) {
        guard !names.isEmpty else { return }
        Cleanup.enqueue { _ = try? Command.runBlocking(executable(), ["rm", "-f"] + names) }
    }

    /// `docker network rm names…`, queued, for `defer`.
    public static func removeNetworks(_ names: [String]) {
        Cleanup.enqueue { _ = try? Command.runBlocking(executable(), ["network", "rm"] + names) }
    }

    /// `docker volume rm -f names…`, queued (after what was queued before), for `defer`.
    public static func removeVolumes(_ names: [String]) {
        Cleanup.enqueue { _ = try? Command.runBlocking(executable(), ["volume", "rm", "-f"] + names) }
    }

    /// Removes every container, network and volume labelled with one of `projects`
    /// (coordination objects and `heph.state` included), queued (``Cleanup``), for `defer`.
    public static func removeProjects(_ projects: [String]) {
        let docker = executable()
        Cleanup.enqueue {
            for project in projects {
                let filter = "label=io.heph.project=\(project)"
                let ids = { (list: [String]) in
                    ((try? Command.runBlocking(docker, list + ["-q", "--filter", filter]))?.stdout ?? "").split(separator: "\n").map(String.init)
                }
                let containers = ids(["ps", "-a"])
                if !containers.isEmpty { _ = try? Command.runBlocking(docker, ["rm", "-f"] + containers) }
                let networks = ids(["network", "ls"])
                if !networks.isEmpty { _ = try? Command.runBlocking(docker, ["network", "rm"] + networks) }
                let volumes = ids(["volume", "ls"])
                if !volumes.isEmpty { _ = try? Command.runBlocking(docker, ["volume", "rm", "-f"] + volumes) }
            }
        }
    }

    /// The ids of the managed containers of `project` (`docker ps -a`): those labelled with
    /// it, and for `default` also those with no project label (made before projects).
    public static func managedContainers(project: String = "default") async throws -> [String] {
        try await managed(["ps", "-a"], project: project)
    }

    /// The ids of the managed networks of `project`, as ``managedContainers(project:)``.
    public static func managedNetworks(project: String = "default") async throws -> [String] {
        try await managed(["network", "ls"], project: project)
    }

    private static func managed(_ list: [String], project: String) async throws -> [String] {
        let result = try await Command.run(executable(), list + ["--filter", "label=io.heph.managed=true", "--format", #"{{.ID}} {{.Label "io.heph.project"}}"#])
        guard result.status == 0 else { throw CommandError(description: "docker \(list.joined(separator: " ")) exited \(result.status): \(result.stderr)") }
        return result.stdout.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", maxSplits: 1).map(String.init)
            let owner = fields.count > 1 && !fields[1].isEmpty ? fields[1] : "default"
            return owner == project ? fields[0] : nil
        }
    }

    /// The docker CLI's path.
    public static func executable() -> String {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/docker") {
            return "\(directory)/docker"
        }
        return "/usr/bin/docker"
    }
}

/// A command that failed.
public struct CommandError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

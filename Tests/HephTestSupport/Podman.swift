import Foundation

/// Podman's Docker-compatible API service that `scripts/bootstrap --podman` starts, and its
/// command line: how the Podman tests look at that engine from outside heph's code.
public enum Podman {
    /// Where the service listens: heph reaches it with `DOCKER_HOST` set to this.
    public static let host = "unix:///run/podman/podman.sock"

    /// Runs `podman args…`; fails on a non-zero exit.
    @discardableResult
    public static func run(_ arguments: String...) async throws -> Docker.Result {
        let result = try await Command.run("/usr/bin/podman", arguments)
        guard result.status == 0 else {
            throw CommandError(description: "podman \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result
    }

    /// Removes every container, network and volume of `projects` from Podman, queued
    /// (``Cleanup``), for `defer`.
    public static func removeProjects(_ projects: [String]) {
        Cleanup.enqueue {
            for project in projects {
                let filter = "label=io.heph.project=\(project)"
                for list in [["ps", "-a"], ["network", "ls"], ["volume", "ls"]] {
                    let ids = ((try? Command.runBlocking("/usr/bin/podman", list + ["-q", "--filter", filter]))?.stdout ?? "").split(separator: "\n").map(String.init)
                    guard !ids.isEmpty else { continue }
                    let remove = list[0] == "ps" ? ["rm", "-f", "-t", "0"] : [list[0], "rm", "-f"]
                    _ = try? Command.runBlocking("/usr/bin/podman", remove + ids)
                }
            }
        }
    }
}

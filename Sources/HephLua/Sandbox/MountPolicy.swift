import Foundation
import HephDocker

/// Which host directories a config may bind-mount: `heph run --sandbox --allow-mount DIR`.
/// Named volumes are always allowed; a bind mount must lie inside one of the directories,
/// symbolic links resolved on both sides (so `..` and a link cannot lead out).
public struct MountPolicy: Sendable, Hashable {
    /// The directories bind mounts may come from, resolved.
    public let allowed: [String]

    /// A policy allowing `directories` (and nothing else, when empty).
    public init(allowing directories: [String]) {
        allowed = directories.map(Self.resolved)
    }

    /// Throws ``DockerError/Code/invalidConfig`` naming the first bind mount of `config`
    /// outside the allowed directories. `path` names the config in the message (`config`,
    /// `services.web`).
    public func check(_ config: ContainerConfig, path: String = "config") throws {
        for host in config.volumes.keys.sorted() where host.hasPrefix("/") {
            let source = Self.resolved(host)
            guard !allowed.contains(where: { source == $0 || source.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else { continue }
            let hint = allowed.isEmpty ? "no --allow-mount was given" : "allowed: \(allowed.joined(separator: ", "))"
            throw DockerError(.invalidConfig, "\(path).volumes: bind mount \(quoted(host)) is outside the directories --allow-mount allows (\(hint)); a sandboxed script may only mount those, or named volumes")
        }
    }

    /// `path` absolute, standardized, with the symbolic links of its existing part resolved.
    static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }
}

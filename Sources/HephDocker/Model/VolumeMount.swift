/// One mount: a ContainerConfig `volumes` entry, parsed.
///
/// Host side: an absolute path (a bind mount, which must exist: the engine refuses a
/// missing source for `Mounts`, unlike the older `Binds`, which silently created it) or a
/// named volume (created by the engine on first use, labelled as heph's). Container side:
/// an absolute path with an optional `:ro` or `:rw`.
struct VolumeMount: Sendable, Hashable {
    enum Source: Sendable, Hashable {
        case bind(path: String)
        case volume(name: String)
    }

    var source: Source
    var target: String
    var readOnly: Bool

    /// Parses one entry; the error names `config.volumes` and what is wrong.
    static func parse(host: String, container: String) throws -> VolumeMount {
        let source: Source
        if host.isEmpty {
            throw DockerError(.invalidConfig, "config.volumes: a host path is empty; use an absolute path or a volume name")
        } else if host.hasPrefix("/") {
            source = .bind(path: host)
        } else if isVolumeName(host) {
            if host.hasPrefix(ContainerName.projectPrefix) {
                throw DockerError(.invalidConfig, "config.volumes: volume name \(quoted(host)) starts with \(quoted(ContainerName.projectPrefix)), which heph keeps for projects' volumes (a project's volume \"data\" is heph_PROJECT_data); choose another name")
            }
            if host.hasPrefix(RoleObject.namePrefix) {
                throw DockerError(.invalidConfig, "config.volumes: volume name \(quoted(host)) starts with \(quoted(RoleObject.namePrefix)), which heph keeps for its state (docs/ha.md); choose another name")
            }
            source = .volume(name: host)
        } else {
            throw DockerError(.invalidConfig, "config.volumes: host path \(quoted(host)) is relative; use an absolute path (\"/srv/data\") or a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)")
        }
        if host.utf8.contains(0) || container.utf8.contains(0) {
            throw DockerError(.invalidConfig, "config.volumes: the entry for \(quoted(host)) contains a NUL byte")
        }
        var target = Substring(container)
        var readOnly = false
        if let colon = container.lastIndex(of: ":") {
            let mode = container[container.index(after: colon)...]
            switch mode {
            case "ro": readOnly = true
            case "rw": readOnly = false
            default:
                throw DockerError(.invalidConfig, "config.volumes: container path \(quoted(container)) (for \(quoted(host))) has mode \(quoted(mode)); use ro or rw")
            }
            target = container[..<colon]
        }
        guard target.hasPrefix("/") else {
            throw DockerError(.invalidConfig, "config.volumes: container path \(quoted(container)) (for \(quoted(host))) must be absolute, such as \"/data\"")
        }
        guard target != "/" else {
            throw DockerError(.invalidConfig, "config.volumes: container path \"/\" (for \(quoted(host))) would hide the whole image; mount below it")
        }
        return VolumeMount(source: source, target: String(target), readOnly: readOnly)
    }

    /// Docker's rule for volume names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
    private static func isVolumeName(_ name: String) -> Bool {
        name.utf8.count >= 2 && ContainerName.isWellFormed(name)
    }
}

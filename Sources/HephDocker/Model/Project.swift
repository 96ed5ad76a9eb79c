/// The label naming the project an object belongs to (`io.heph.project=staging`); an object
/// heph manages without it belongs to ``Project/default`` (heph made it before projects).
public let projectLabel = "io.heph.project"

/// A project: one topology's share of an engine, kept apart from every other.
///
/// A script never sees which project it runs in: its names are the same in every project
/// (the service `web` is `heph-web`, its network `heph-network`). The engine sees names that
/// cannot collide: the project's own in ``default`` (`heph-web`, as heph always named
/// them), `heph_P_web` in project `P`. No name of ``default`` starts with `heph_` and a
/// project's name has no `_`, so no two (project, name) pairs give one engine name.
public struct Project: Sendable, Hashable, CustomStringConvertible {
    /// The project's name: `[a-z0-9][a-z0-9-]*`, at most ``maximumLength`` characters.
    public let name: String

    /// The project of every script that names none, and of objects without a project label.
    public static let `default` = Project(unchecked: "default")
    /// Longest project name.
    public static let maximumLength = 24
    /// The rule a project name follows, as errors quote it.
    public static let rule = "a project name is lowercase letters, digits and \"-\", starting with a letter or digit, at most \(maximumLength) characters (such as \"staging\" or \"review-42\")"

    /// The project `name`.
    ///
    /// - Throws: ``DockerError/Code/invalidConfig`` quoting ``rule`` when `name` breaks it.
    public init(_ name: String) throws(DockerError) {
        if let problem = Self.problem(with: name) {
            throw DockerError(.invalidConfig, "\(problem); \(Self.rule)")
        }
        self.name = name
    }

    init(unchecked name: String) {
        self.name = name
    }

    /// What is wrong with `name` as a project name, or nil when it follows ``rule``.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "the project name is empty" }
        if name.utf8.count > maximumLength { return "project name \(quoted(name)) has \(name.utf8.count) characters" }
        guard let first = name.utf8.first, isLowercaseAlphanumeric(first) else {
            return "project name \(quoted(name)) does not start with a lowercase letter or digit"
        }
        if !name.utf8.allSatisfy({ isLowercaseAlphanumeric($0) || $0 == UInt8(ascii: "-") }) {
            return "project name \(quoted(name)) has a character other than a-z, 0-9 and \"-\""
        }
        return nil
    }

    public var description: String { name }

    /// Whether this is ``default``, whose engine names are the script's own.
    public var isDefault: Bool { name == Self.default.name }

    /// What every engine name of this project starts with: `heph-` in ``default``,
    /// `heph_P_` in project `P`.
    public var enginePrefix: String { isDefault ? containerNamePrefix : "\(ContainerName.projectPrefix)\(name)_" }

    /// The engine's name of the container (or service) a script calls `name` (`web` or
    /// `heph-web`): `heph-web` in ``default``, `heph_P_web` in project `P`.
    public func engineName(_ name: String) -> String {
        enginePrefix + ContainerName.short(name)
    }

    /// The script's name (`heph-web`) of the engine's `engineName`; the engine name itself
    /// when it is not one of this project's.
    public func scriptName(_ engineName: String) -> String {
        guard !isDefault, engineName.hasPrefix(enginePrefix) else { return engineName }
        return containerNamePrefix + engineName.dropFirst(enginePrefix.count)
    }

    /// The script's name of the engine's `engineName`, in the project `labels` name.
    public static func scriptName(_ engineName: String, labels: [String: String]?) -> String {
        Project(unchecked: named(by: labels)).scriptName(engineName)
    }

    /// The engine's name of the project's network: ``networkName`` in ``default``,
    /// `heph_P_network` in project `P`.
    public var networkEngineName: String { isDefault ? networkName : enginePrefix + "network" }

    /// Whether `engineName` is a project's network (any project's): `heph-network`, or
    /// `heph_P_network` for a project name `P`.
    public static func isProjectNetwork(_ engineName: String) -> Bool {
        if engineName == networkName { return true }
        guard engineName.hasPrefix(ContainerName.projectPrefix), engineName.hasSuffix("_network") else { return false }
        return problem(with: String(engineName.dropFirst(ContainerName.projectPrefix.count).dropLast("_network".count))) == nil
    }

    /// The network a config's `networkName` puts a container on: ``networkName`` means the
    /// project's own; any other is a network that exists already, named as the engine names it.
    public func engineNetwork(_ configured: String) -> String {
        configured == networkName ? networkEngineName : configured
    }

    /// The engine's name of a named volume heph creates for a config that writes `name`:
    /// `name` in ``default``, `heph_P_name` in project `P`.
    public func engineVolume(_ name: String) -> String {
        isDefault ? name : enginePrefix + name
    }

    /// The labels that mark an object heph creates as this project's.
    public var labels: [String: String] { [managedLabel: "true", projectLabel: name] }

    /// The project named by an object's labels: ``default`` when they name none. A label
    /// that is not a project name (someone else's hand) still names a project of its own,
    /// so it is never mistaken for another.
    public static func named(by labels: [String: String]?) -> String {
        labels?[projectLabel] ?? Self.default.name
    }

    private static func isLowercaseAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}

/// Which projects a command acts on: one (every script, `heph ps`, `heph down`), or all of
/// them (`heph ps --all`, `heph down --all`).
public enum ProjectScope: Sendable, Hashable, CustomStringConvertible {
    case project(Project)
    case all

    /// The project whose names new objects take: the one in scope (``Project/default`` for
    /// ``all``, which only lists and removes).
    public var project: Project {
        switch self {
        case .project(let project): project
        case .all: .default
        }
    }

    /// Whether an object with these labels (a managed one) is in scope.
    public func includes(_ labels: [String: String]?) -> Bool {
        switch self {
        case .project(let project): Project.named(by: labels) == project.name
        case .all: true
        }
    }

    /// The engine's label filter selecting this scope's managed objects: the engine can
    /// select a project's label, but not the absence of one (``Project/default``'s older
    /// objects), so the default project and ``all`` are selected by ``includes(_:)``.
    var labelFilters: [String] {
        switch self {
        case .project(let project) where !project.isDefault: ["\(managedLabel)=true", "\(projectLabel)=\(project.name)"]
        default: ["\(managedLabel)=true"]
        }
    }

    public var description: String {
        switch self {
        case .project(let project): "project \(project.name)"
        case .all: "every project"
        }
    }
}

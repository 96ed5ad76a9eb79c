import ArgumentParser
import Foundation
import HephDocker

/// `-p/--project NAME`, else `HEPH_PROJECT`: the project a command acts on, which a script
/// reads as `heph.config.project`. Every command that runs a script or talks to the engine
/// takes it.
struct ProjectOption: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp("The project to act on: its containers, network and volumes are kept apart from every other project's on the engine. Default: HEPH_PROJECT, else heph.config.project in the script, else default. \(Project.rule.prefix(1).uppercased() + Project.rule.dropFirst()).", valueName: "name"))
    var project: String?

    func validate() throws {
        _ = try choice.chosen()
    }

    /// What `-p` says, as a plain value.
    var choice: ProjectChoice { ProjectChoice(option: project) }

    /// The project `-p` or `HEPH_PROJECT` names; nil when neither does.
    func chosen() throws(ValidationError) -> Project? { try choice.chosen() }

    /// Whether `-p` or `HEPH_PROJECT` chose the project (a script may then only agree).
    var isChosen: Bool { choice.isChosen }

    /// The scope of a command that acts on one project: the one chosen, else `default`.
    var scope: ProjectScope { choice.scope }
}

/// The project a command acts on: `-p NAME` (`option`), else `HEPH_PROJECT`, else none
/// chosen (a script may then choose, else it is `default`).
struct ProjectChoice: Sendable {
    /// `-p`'s value; nil when not given.
    var option: String?

    /// The environment variable read when `-p` is not given.
    static let environmentVariable = "HEPH_PROJECT"

    /// The project `-p` or `HEPH_PROJECT` names; nil when neither does. A name that is no
    /// project's is an error naming where it came from.
    func chosen() throws(ValidationError) -> Project? {
        let (text, source): (String?, String) = if let option { (option, "--project") } else {
            (ProcessInfo.processInfo.environment[Self.environmentVariable], Self.environmentVariable)
        }
        guard let text else { return nil }
        do {
            return try Project(text)
        } catch {
            throw ValidationError("\(source): \(error.message)")
        }
    }

    /// Whether `-p` or `HEPH_PROJECT` chose the project.
    var isChosen: Bool { (try? chosen()) != nil }

    /// The scope of a command that acts on one project: the one chosen, else `default`.
    var scope: ProjectScope { .project((try? chosen()) ?? .default) }
}

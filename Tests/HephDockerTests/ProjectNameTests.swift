import Foundation
@testable import HephDocker
import Testing

/// Projects' names, without an engine: the rule for a project's name, and the engine names
/// of what a project creates, checked over random (project, name) pairs against the
/// engine's and Swarm's own rules, written out here as those projects' regular expressions.
@Suite struct ProjectNameTests {
    /// Docker's rule for container names (moby's `validContainerNamePattern`), and for
    /// networks and volumes heph names.
    static let dockerName = try! NSRegularExpression(pattern: "^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
    /// Swarm's rule for service names (swarmkit's `isValidDNSName`; at most 63 characters),
    /// with possessive quantifiers: Go's engine never backtracks, ICU's would for ages on a
    /// long name ending in `-`. (The two classes are disjoint, so the language is the same.)
    static let swarmName = try! NSRegularExpression(pattern: "^[a-zA-Z0-9](?:[-_]*+[A-Za-z0-9]++)*+$")

    static func matches(_ expression: NSRegularExpression, _ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// A reproducible generator (SplitMix64), so a failure names a seed to replay.
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func word(_ first: String, _ rest: String, length: ClosedRange<Int>, using generator: inout Seeded) -> String {
        let count = Int.random(in: length, using: &generator)
        return String(first.randomElement(using: &generator)!) + String((1..<max(count, 1)).map { _ in rest.randomElement(using: &generator)! })
    }

    /// `default` one time in four; otherwise a valid project name, short or up to the limit.
    static func project(using generator: inout Seeded) -> Project {
        if Int.random(in: 0..<4, using: &generator) == 0 { return .default }
        let name = word("abcz09", "abz09-", length: 1...Project.maximumLength, using: &generator)
        return try! Project(name)
    }

    /// A container name as a script may write it: Docker's characters (`-`, `_`, `.`
    /// included), sometimes already with the `heph-` prefix, sometimes long.
    static func serviceName(using generator: inout Seeded) -> String {
        let name = word("abwXY19", "abwXY19-_.", length: 1...Int.random(in: 1...2, using: &generator) * 24, using: &generator)
        return Bool.random(using: &generator) ? name : "heph-" + name
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func noTwoProjectNamePairsShareAnEngineNameAndEveryEngineNameIsValid(seed: UInt64) throws {
        var generator = Seeded(state: seed)
        var containers: [String: String] = [:]
        var volumes: [String: String] = [:]
        var networks: [String: String] = [:]
        var services: [String: String] = [:]
        var (accepted, refused, swarmRefused) = (0, 0, 0)
        for _ in 0..<4000 {
            let project = Self.project(using: &generator)
            let name = Self.serviceName(using: &generator)
            let volume = Self.word("dv7", "dv7-_.", length: 2...12, using: &generator)
            // The pair as the script means it: `web` and `heph-web` are one service.
            let pair = "\(project.name) \(ContainerName.short(name))"
            let config = ContainerConfig(image: "heph/busybox:latest", name: name, volumes: [volume: "/data"])
            let creation: ContainerCreation
            do {
                creation = try config.engineCreation(in: project)
            } catch let error as DockerError {
                // Refused only when the engine's name would be too long, and said so.
                refused += 1
                #expect(error.code == .invalidConfig)
                #expect(project.engineName(name).utf8.count > ContainerName.maximumLength, "\(pair): \(error.message)")
                #expect(error.message.hasPrefix("config.name:"), "\(error.message)")
                continue
            }
            accepted += 1
            #expect(creation.fullName.utf8.count <= ContainerName.maximumLength)
            #expect(Self.matches(Self.dockerName, creation.fullName), "\(creation.fullName)")
            #expect(containers.updateValue(pair, forKey: creation.fullName).map { $0 == pair } ?? true, "\(creation.fullName) is two services'")
            #expect(Project.scriptName(creation.fullName, labels: creation.body.Labels) == ContainerName.full(name))
            #expect(creation.body.Labels[projectLabel] == project.name)

            #expect(Self.matches(Self.dockerName, creation.network))
            #expect(networks.updateValue(project.name, forKey: creation.network).map { $0 == project.name } ?? true, "\(creation.network) is two projects'")

            let mounted = try #require(creation.body.HostConfig.Mounts.first?.Source)
            #expect(Self.matches(Self.dockerName, mounted), "\(mounted)")
            let volumePair = "\(project.name) \(volume)"
            #expect(volumes.updateValue(volumePair, forKey: mounted).map { $0 == volumePair } ?? true, "volume \(mounted) is two projects'")

            // A Swarm service: accepted only with a name Swarm takes, refused (before any
            // engine call: this is a pure function) only with one it would not.
            do {
                let spec = try config.serviceSpec(project: project)
                #expect(spec.Name == creation.fullName)
                #expect(Self.matches(Self.swarmName, spec.Name) && spec.Name.utf8.count <= 63, "\(spec.Name)")
                #expect(services.updateValue(pair, forKey: spec.Name).map { $0 == pair } ?? true)
            } catch let error as DockerError {
                swarmRefused += 1
                #expect(error.code == .invalidConfig)
                #expect(!Self.matches(Self.swarmName, creation.fullName), "\(creation.fullName) was refused: \(error.message)")
                #expect(name.contains(".") || name.hasSuffix("-") || name.hasSuffix("_"), "\(name)")
            }
        }
        // The generator reaches every case.
        #expect(accepted > 1000 && refused > 50 && swarmRefused > 200, "\(accepted) \(refused) \(swarmRefused)")
    }

    @Test func theDefaultProjectKeepsTodaysNamesAndFingerprints() throws {
        let config = ContainerConfig(image: "heph/busybox:latest", name: "web", volumes: ["pages": "/www"], networkName: nil)
        let creation = try config.engineCreation(in: .default)
        #expect(creation.fullName == "heph-web")
        #expect(creation.network == "heph-network")
        #expect(creation.body.NetworkingConfig.EndpointsConfig == ["heph-network": EngineEndpointSettings(Aliases: ["web"])])
        #expect(creation.body.HostConfig.Mounts.first?.Source == "pages")
        // The project's label is outside the fingerprint: a container made before projects
        // (the same body without the label) carries the fingerprint heph.up computes now,
        // and is kept as unchanged.
        var legacy = creation.body
        legacy.Labels[projectLabel] = nil
        legacy.HostConfig.Mounts[0].VolumeOptions?.Labels[projectLabel] = nil
        #expect(legacy.fingerprinted().Labels[configHashLabel] == creation.body.Labels[configHashLabel])
        for project in [Project.default, try Project("a"), try Project("review-42")] {
            #expect(try config.engineCreation(in: project).body.Labels[configHashLabel] == config.fingerprint())
        }
        // The fingerprints of objects made before projects must not change, or heph.up would
        // replace every one of them: a container's, as a heph built before projects labelled
        // it (commit fb53480, on the engine); a Swarm service's, as computed from the spec
        // without the project's label, which is byte for byte the spec heph made before.
        let (containerHash, serviceHash) = (try config.fingerprint(), try config.serviceSpec().Labels[configHashLabel])
        #expect(containerHash == Self.legacyContainerFingerprint)
        #expect(serviceHash == Self.legacyServiceFingerprint)
    }

    static let legacyContainerFingerprint = "a2f75b712edfbf77"
    static let legacyServiceFingerprint = "ee71ef6157df51a1"

    @Test func aProjectsNamesAndAliases() throws {
        let project = try Project("staging")
        let config = ContainerConfig(image: "heph/busybox:latest", name: "heph-web", volumes: ["pages": "/www"], networkName: "heph-network")
        let creation = try config.engineCreation(in: project)
        #expect(creation.fullName == "heph_staging_web")
        #expect(creation.network == "heph_staging_network")
        #expect(creation.body.HostConfig.NetworkMode == "heph_staging_network")
        #expect(creation.body.NetworkingConfig.EndpointsConfig == ["heph_staging_network": EngineEndpointSettings(Aliases: ["web", "heph-web"])])
        #expect(creation.body.HostConfig.Mounts.first?.Source == "heph_staging_pages")
        #expect(creation.body.HostConfig.Mounts.first?.VolumeOptions?.Labels == ["io.heph.managed": "true", "io.heph.project": "staging"])
        // A volume that exists and is not heph's is mounted as written.
        #expect(try config.engineCreation(in: project, foreignVolumes: ["pages"]).body.HostConfig.Mounts.first?.Source == "pages")
        // Another network is the engine's, as written.
        var elsewhere = config
        elsewhere.networkName = "heph_review_network"
        #expect(try elsewhere.engineCreation(in: project).network == "heph_review_network")
        #expect(project.scriptName("heph_staging_web") == "heph-web")
        #expect(project.scriptName("heph_review_web") == "heph_review_web")
        // On another project's network: no alias, so none of that project's names is taken.
        var visiting = config
        visiting.networkName = "heph_review_network"
        #expect(try visiting.engineCreation(in: project).body.NetworkingConfig.EndpointsConfig == ["heph_review_network": EngineEndpointSettings(Aliases: [])])
        #expect(try visiting.engineCreation(in: .default).body.NetworkingConfig.EndpointsConfig == ["heph_review_network": EngineEndpointSettings(Aliases: [])])
        var elsewhereDefault = config
        elsewhereDefault.networkName = "mynet"
        #expect(try elsewhereDefault.engineCreation(in: .default).body.NetworkingConfig.EndpointsConfig == ["mynet": EngineEndpointSettings(Aliases: ["web"])])
        #expect(Project.isProjectNetwork("heph-network") && Project.isProjectNetwork("heph_a-1_network"))
        #expect(!Project.isProjectNetwork("heph_A_network") && !Project.isProjectNetwork("mynet") && !Project.isProjectNetwork("heph__network"))
        let spec = try config.serviceSpec(project: project)
        #expect(spec.Labels[projectLabel] == "staging")
        #expect(spec.TaskTemplate.ContainerSpec.Labels["io.heph.service"] == "heph_staging_web")
        #expect(spec.TaskTemplate.Networks.first?.Aliases == ["web", "heph-web"])
    }

    @Test(arguments: [
        ("default", nil), ("a", nil), ("0", nil), ("review-42", nil), ("a-", nil), (String(repeating: "x", count: 24), nil),
        ("", "the project name is empty"),
        ("Staging", #"project name "Staging" does not start with a lowercase letter or digit"#),
        ("-a", #"project name "-a" does not start with a lowercase letter or digit"#),
        ("a_b", #"project name "a_b" has a character other than a-z, 0-9 and "-""#),
        ("a.b", #"project name "a.b" has a character other than a-z, 0-9 and "-""#),
        ("stagé", #"project name "stagé" has a character other than a-z, 0-9 and "-""#),
        (String(repeating: "x", count: 25), #"project name "xxxxxxxxxxxxxxxxxxxxxxxxx" has 25 characters"#),
    ] as [(String, String?)])
    func projectNamesFollowTheRule(name: String, problem: String?) {
        #expect(Project.problem(with: name) == problem)
        do {
            _ = try Project(name)
            #expect(problem == nil)
        } catch {
            #expect(error.message == "\(problem ?? ""); \(Project.rule)")
        }
    }

    @Test func namesStartingLikeAProjectsEngineNamesAreRefused() {
        let volume = ContainerConfig(image: "heph/busybox:latest", name: "web", volumes: ["heph_a_data": "/data"])
        let error = #expect(throws: DockerError.self) { try volume.validate() }
        #expect(error?.message == #"config.volumes: volume name "heph_a_data" starts with "heph_", which heph keeps for projects' volumes (a project's volume "data" is heph_PROJECT_data); choose another name"#)
        // A service named heph_a_web in project a would be taken for the engine's name of
        // its service web.
        let container = ContainerConfig(image: "heph/busybox:latest", name: "heph_a_web")
        let refused = #expect(throws: DockerError.self) { try container.validate() }
        #expect(refused?.message == #"config.name: "heph_a_web" starts with "heph_", which heph keeps for the engine's names of projects' containers (project P's web is heph_P_web); choose another name"#)
    }
}

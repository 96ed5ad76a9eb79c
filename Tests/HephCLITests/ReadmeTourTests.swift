import Foundation
import HephTestSupport
import Testing

/// The README's short tour, as a new operator types it: Tests/Fixtures/readme_tour.py
/// reads the tour's commands from README.md, runs them in order against the heph under
/// test (each "in another shell" command once its step is ready, Ctrl-C where the README
/// says so, the REPL at a pseudo-terminal), and checks each step for the line it promises.
///
/// The tour is the default project's, with fixed names, ports 8080 to 8092, the projects
/// staging and review, and a `heph down`: it owns the engine. The fixture removes what the
/// tour made however the tour ends; the test removes it again in case the fixture itself
/// was killed. About a minute, half of it the chaos step's 30 s.
@Suite(.ownsEngine) struct ReadmeTourTests {
    @Test func everyStepOfTheTourPrintsWhatItPromises() async throws {
        defer {
            Docker.forceRemove(["heph-webapp-web", "heph-webapp-api", "heph-stack-db", "heph-stack-api", "heph-stack-web",
                                "heph-chaos-web", "heph-chaos-worker"])
            Docker.removeProjects(["staging", "review"])
            Docker.removeVolumes(["heph-webapp-pages"])
        }
        let fixture = HephBinary.repositoryRoot + "/Tests/Fixtures/readme_tour.py"
        let readme = HephBinary.repositoryRoot + "/README.md"
        let python = ReplTests.python
        let arguments = (python == "python3" ? ["python3"] : []) + [fixture, readme, HephBinary.path, "-v"]
        let result = try await Command.run(python == "python3" ? "/usr/bin/env" : python, arguments)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.hasSuffix("tour: ok\n"), "\(result.stdout)\(result.stderr)")
    }
}

/// The offline image scripts/bootstrap builds, which the tour and the docs use: every applet
/// of Debian's static busybox is a command of its own (`docker exec heph-webapp-web rm …`,
/// not only `busybox rm`), and its import comment carries the version bootstrap expects (bootstrap
/// builds the image again, and moves busybox:latest along, when it differs).
@Suite(.usesEngine) struct OfflineImageTests {
    @Test func theOfflineImageHasEveryBusyboxAppletAndTheVersionBootstrapBuilds() async throws {
        let bootstrap = try String(contentsOfFile: HephBinary.repositoryRoot + "/scripts/bootstrap", encoding: .utf8)
        let versionLine = try #require(bootstrap.split(separator: "\n").first { $0.hasPrefix("readonly image_version=") })
        let version = String(versionLine.dropFirst("readonly image_version=".count))
        #expect(try await Docker.output("image", "inspect", "-f", "{{.Comment}}", Fixtures.image).trimmingCharacters(in: .whitespacesAndNewlines) == "io.heph.image-version=\(version)")

        let applets = try await Command.run("/bin/busybox", ["--list"])
        #expect(applets.status == 0)
        let commands = try await Docker.output("run", "--rm", Fixtures.image, "ls", "/bin")
        #expect(Set(commands.split(separator: "\n")) == Set(applets.stdout.split(separator: "\n")))
        // Run as the engine runs a command: found on PATH, not through a shell.
        let touched = try await Docker.run("run", "--rm", Fixtures.image, "touch", "/tmp/touched")
        #expect(touched.status == 0, "\(touched.stderr)")
    }
}

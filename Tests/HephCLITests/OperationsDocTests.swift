import Foundation
import HephTestSupport
import Testing

/// docs/operations.md's unit file, examples/heph-watch.service, as systemd reads it:
/// `systemd-analyze verify` accepts it with the heph under test installed where its
/// `ExecStart` looks. The install goes into a root of the test's own (`--root`): the
/// machine's units copied there, the unit, and heph; nothing is installed on the machine.
@Suite struct OperationsDocTests {
    static let unit = HephBinary.repositoryRoot + "/examples/heph-watch.service"
    static let systemdAnalyze = "/usr/bin/systemd-analyze"
    /// Where Debian keeps the units a package installs (sysinit.target, docker.service, …).
    static let systemUnits = "/usr/lib/systemd/system"

    /// The unit's settings, `Key` → values in order (systemd's own reading is the verify below).
    static func settings(_ text: String) -> [String: [String]] {
        var settings: [String: [String]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("[") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            settings[String(line[..<equals]), default: []].append(String(line[line.index(after: equals)...]))
        }
        return settings
    }

    @Test func systemdAnalyzeVerifyAcceptsTheUnitWithHephInstalledWhereItsExecStartLooks() async throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let execStart = try #require(Self.settings(text)["ExecStart"]?.first)
        let executable = try #require(execStart.split(separator: " ").first.map(String.init))
        #expect(executable.hasPrefix("/"), "ExecStart names \(executable): systemd wants an absolute path")

        let root = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("systemd-root")).path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/usr/lib/systemd", withIntermediateDirectories: true)
        let copied = try await Command.run("/bin/cp", ["-a", Self.systemUnits, root + Self.systemUnits])
        #expect(copied.status == 0, "\(copied.stderr)")
        try FileManager.default.createDirectory(atPath: root + "/etc/systemd/system", withIntermediateDirectories: true)
        let installed = root + "/etc/systemd/system/heph-watch.service"
        try FileManager.default.copyItem(atPath: Self.unit, toPath: installed)

        // Without heph where ExecStart looks, verify refuses the unit: the check is real, and
        // it looks inside the root.
        let without = try await Command.run(Self.systemdAnalyze, ["verify", "--root=\(root)", installed])
        #expect(without.status != 0)
        #expect((without.stdout + without.stderr).contains("Command \(executable) is not executable"), "\(without.stdout)\(without.stderr)")

        // The heph under test, installed there: a hard link (the same file), else a copy.
        try FileManager.default.createDirectory(atPath: root + (executable as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            try FileManager.default.linkItem(atPath: HephBinary.path, toPath: root + executable)
        } catch {
            try FileManager.default.copyItem(atPath: HephBinary.path, toPath: root + executable)
        }
        let verified = try await Command.run(Self.systemdAnalyze, ["verify", "--root=\(root)", installed])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        // verify exits 0 over a setting it ignores (a misspelt value, an unknown key), with a
        // line naming the unit: none may name this one.
        let aboutTheUnit = (verified.stdout + verified.stderr).split(separator: "\n").filter { $0.contains("heph-watch.service") }
        let complaints = aboutTheUnit.joined(separator: "\n")
        #expect(aboutTheUnit.isEmpty, "\(complaints)")
    }

    /// What docs/operations.md says of the unit, held to the file.
    @Test func theUnitStopsHephGracefullyWithinItsShutdownGraceAndRestartsIt() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let settings = Self.settings(text)
        #expect(settings["ExecStart"]?.first?.contains(" run --lead ") == true)
        #expect(settings["Restart"] == ["always"])
        #expect(settings["KillSignal"] == ["SIGTERM"])
        // heph's shutdown (the on_shutdown handlers and the plugins' stops) takes 60 s at
        // most; systemd must not SIGKILL it before.
        let timeout = try #require(settings["TimeoutStopSec"]?.first)
        #expect((Int(timeout) ?? 0) > 60, "TimeoutStopSec=\(timeout)")
        // heph exits 143 after SIGTERM: a `systemctl stop` is no failure.
        let successes = (settings["SuccessExitStatus"] ?? []).flatMap { $0.split(separator: " ").map(String.init) }
        #expect(successes.contains("143"))
        #expect((settings["Environment"] ?? []).contains(where: { $0.hasPrefix("HEPH_PROJECT=") }))
    }

    @Test func operationsMdShowsTheUnitFileAsItIs() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let body = try #require(text.range(of: "[Unit]").map { String(text[$0.lowerBound...]) })
        let page = try String(contentsOfFile: HephBinary.repositoryRoot + "/docs/operations.md", encoding: .utf8)
        #expect(page.contains("```ini\n" + body + "```\n"), "docs/operations.md must show examples/heph-watch.service from [Unit] on, as it is")
    }
}

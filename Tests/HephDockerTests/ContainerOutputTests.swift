import Foundation
import HephDocker
import HephTestSupport
import Testing

/// Logs, exec, restart, kill and pause against the real engine.
@Suite(.usesEngine) struct ContainerOutputTests {
    @Test func logsKeepStdoutAndStderrApartAndTailCounts() async throws {
        let name = TestNames.unique("logs")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator async throws in
            let script = "for i in 1 2 3; do echo out$i; echo err$i >&2; done; trap 'exit 0' TERM; sleep 3600 & wait"
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: ["sh", "-c", script]))
            try await orchestrator.startContainer(name)
            var output = ContainerOutput()
            _ = try await Fixtures.eventually(timeout: .seconds(10)) {
                output = try await orchestrator.logs(name, tail: nil)
                return output.stderrText.hasSuffix("err3\n")
            }
            #expect(output.stdoutText == "out1\nout2\nout3\n")
            #expect(output.stderrText == "err1\nerr2\nerr3\n")
            let tail = try await orchestrator.logs(name, tail: 2)
            // The engine keeps one log, both streams in the order they reached it: the last two lines.
            let lastTwo = (tail.stdoutText + tail.stderrText).split(separator: "\n").map(String.init)
            #expect(lastTwo.count == 2)
            #expect(lastTwo.allSatisfy { ["out3", "err2", "err3", "out2"].contains($0) })
            #expect(try await orchestrator.logs(name, tail: 0) == ContainerOutput())
        }
    }

    @Test func execReturnsTheExitCodeAndBothStreams() async throws {
        let name = TestNames.unique("exec")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator async throws in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle))
            try await orchestrator.startContainer(name)
            let result = try await orchestrator.exec(name, command: ["sh", "-c", "echo to-out; echo to-err >&2; exit 3"])
            #expect(result.exitCode == 3)
            #expect(result.output.stdoutText == "to-out\n")
            #expect(result.output.stderrText == "to-err\n")
            // A big output arrives whole (many frames, many chunks).
            let big = try await orchestrator.exec(name, command: ["sh", "-c", "i=0; while [ $i -lt 20000 ]; do echo line-$i; i=$((i+1)); done"])
            #expect(big.exitCode == 0)
            #expect(big.output.stdoutText.split(separator: "\n").count == 20000)
            // The engine's own word for a program that is not there: 126, the reason in the output.
            let missing = try await orchestrator.exec(name, command: ["no-such-program"])
            #expect(missing.exitCode == 126)
            #expect(missing.output.stdoutText.contains("executable file not found"))

            try await orchestrator.stopContainer(name, timeout: .seconds(1))
            let error = await #expect(throws: DockerError.self) { try await orchestrator.exec(name, command: ["true"]) }
            #expect(error?.message == "cannot exec in heph-\(name): it is exited, not running")
        }
    }

    @Test func restartKeepsTheIdAndStartsAgain() async throws {
        let name = TestNames.unique("restart")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator async throws in
            let id = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: Fixtures.idle))
            try await orchestrator.startContainer(name)
            let before = try await Docker.output("inspect", "-f", "{{.State.StartedAt}}", "heph-\(name)")
            try await orchestrator.restartContainer(name)
            #expect(try await Docker.output("inspect", "-f", "{{.Id}} {{.State.Status}}", "heph-\(name)") == "\(id) running")
            #expect(try await Docker.output("inspect", "-f", "{{.State.StartedAt}}", "heph-\(name)") != before)
            // A stopped container is just started.
            try await orchestrator.stopContainer(name, timeout: .seconds(1))
            try await orchestrator.restartContainer(name)
            #expect(try await orchestrator.healthCheck(name) == .running)
        }
    }

    @Test func killPauseAndUnpause() async throws {
        let name = TestNames.unique("signal")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        try await Fixtures.withOrchestrator { orchestrator async throws in
            _ = try await orchestrator.createContainer(ContainerConfig(image: Fixtures.image, name: name, cmd: ["sleep", "3600"]))
            try await orchestrator.startContainer(name)
            try await orchestrator.pauseContainer(name)
            #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", "heph-\(name)") == "paused")
            #expect(try await orchestrator.healthCheck(name) == .error)
            try await orchestrator.unpauseContainer(name)
            #expect(try await orchestrator.healthCheck(name) == .running)
            try await orchestrator.killContainer(name, signal: "SIGKILL")
            #expect(try await Docker.output("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "heph-\(name)") == "exited 137")
            await #expect(throws: DockerError.self) { try await orchestrator.killContainer(name, signal: "SIGKILL") }
        }
    }
}

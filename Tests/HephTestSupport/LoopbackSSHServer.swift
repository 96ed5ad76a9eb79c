import Foundation

/// An sshd of the test's own on a loopback port, accepting one key the test makes, for the
/// `ssh://` transport. heph runs `ssh` from `PATH`; ``environment`` puts a wrapper first
/// that gives ssh this test's key and config (so the user's own `~/.ssh` is never used or
/// changed).
public final class LoopbackSSHServer: Sendable {
    public let directory: String
    public let port: Int
    private let server: Daemon

    /// Makes the host and client keys, starts sshd and waits until it accepts a login.
    public init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("sshd")).path
        port = Fixtures.freePort()
        try FileManager.default.createDirectory(atPath: directory + "/bin", withIntermediateDirectories: true)
        // sshd's privilege separation directory.
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        for key in ["host_key", "client_key", "stranger_key"] {
            let result = try await Command.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", "\(directory)/\(key)"])
            guard result.status == 0 else { throw CommandError(description: "ssh-keygen failed: \(result.stderr)") }
        }
        try FileManager.default.copyItem(atPath: "\(directory)/client_key.pub", toPath: "\(directory)/authorized_keys")
        try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(directory)/host_key
            AuthorizedKeysFile \(directory)/authorized_keys
            PidFile \(directory)/sshd.pid
            StrictModes no
            UsePAM no
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password

            """.write(toFile: "\(directory)/sshd_config", atomically: true, encoding: .utf8)
        for (name, key) in [("ssh_config", "client_key"), ("stranger_config", "stranger_key")] {
            try """
                Host *
                  IdentityFile \(directory)/\(key)
                  IdentitiesOnly yes
                  StrictHostKeyChecking no
                  UserKnownHostsFile /dev/null
                  LogLevel ERROR

                """.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
        }
        server = try Daemon("/usr/sbin/sshd", ["-D", "-e", "-f", "\(directory)/sshd_config"], log: "\(directory)/sshd.log")
        let directory = self.directory
        let port = self.port
        let accepting = await Fixtures.eventually(timeout: .seconds(10)) {
            (try? await Command.run("/usr/bin/ssh", ["-F", "\(directory)/ssh_config", "-p", String(port), "root@127.0.0.1", "true"]).status) == 0
        }
        guard accepting else {
            server.signal(SIGKILL)
            server.waitUntilExit()
            throw CommandError(description: "the test's sshd on 127.0.0.1:\(port) did not accept the test's key")
        }
    }

    /// `PATH` with an `ssh` that uses `config` (`ssh_config`: the accepted key;
    /// `stranger_config`: a key sshd does not know), and `DOCKER_HOST` for this server.
    public func environment(config: String = "ssh_config") throws -> [String: String] {
        let wrapper = "\(directory)/bin-\(config)"
        try FileManager.default.createDirectory(atPath: wrapper, withIntermediateDirectories: true)
        try "#!/bin/sh\nexec /usr/bin/ssh -F \(directory)/\(config) \"$@\"\n".write(toFile: "\(wrapper)/ssh", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(wrapper)/ssh")
        return [
            "PATH": "\(wrapper):\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")",
            "DOCKER_HOST": "ssh://root@127.0.0.1:\(port)",
        ]
    }

    /// How many logins sshd has accepted so far (one is the check that it is up).
    public var acceptedLogins: Int {
        let log = (try? String(contentsOfFile: "\(directory)/sshd.log", encoding: .utf8)) ?? ""
        return log.components(separatedBy: "Accepted publickey").count - 1
    }

    /// Stops sshd and removes the keys.
    public func stop() {
        server.signal(SIGKILL)
        server.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

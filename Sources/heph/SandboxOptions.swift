import ArgumentParser
import HephLua

/// `--sandbox` and `--allow-mount`, for running (or checking) scripts one did not write.
struct SandboxOptions: ParsableArguments {
    /// Run the script sandboxed.
    @Flag(name: .long, help: "For a script you did not write: no os.execute, io.popen, io.open, os.getenv, debug or C modules, no heph.shell, and bind mounts only from --allow-mount directories.")
    var sandbox = false

    /// Directories a sandboxed script may bind-mount.
    @Option(name: .customLong("allow-mount"), help: ArgumentHelp("With --sandbox: a host directory containers may bind-mount from (repeatable).", valueName: "dir"))
    var allowMount: [String] = []

    func validate() throws {
        if !allowMount.isEmpty && !sandbox { throw ValidationError("--allow-mount only means something with --sandbox") }
        for directory in allowMount where !directory.hasPrefix("/") {
            throw ValidationError("--allow-mount \(directory): give an absolute path, such as /srv/data")
        }
    }

    /// The runtime's sandbox: nil without `--sandbox`.
    var policy: MountPolicy? { sandbox ? MountPolicy(allowing: allowMount) : nil }
}

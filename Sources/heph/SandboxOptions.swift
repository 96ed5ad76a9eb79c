import ArgumentParser
import HephLua
import HephServe

/// `--sandbox` and `--allow-mount`, for running (or checking) scripts one did not write.
struct SandboxOptions: ParsableArguments {
    /// Run the script sandboxed.
    @Flag(name: .long, help: "For a script you did not write: no os.execute, io.popen, io.open, os.getenv, debug or C modules, no heph.shell, bind mounts only from --allow-mount directories, and heph.http.request only to --allow-http hosts.")
    var sandbox = false

    /// Directories a sandboxed script may bind-mount.
    @Option(name: .customLong("allow-mount"), help: ArgumentHelp("With --sandbox: a host directory containers may bind-mount from (repeatable).", valueName: "dir"))
    var allowMount: [String] = []

    /// Hosts a sandboxed script may reach with heph.http.request.
    @Option(name: .customLong("allow-http"), help: ArgumentHelp("With --sandbox: a host heph.http.request may reach, as HOST or HOST:PORT (repeatable; without a port, any port).", valueName: "host[:port]"))
    var allowHTTP: [String] = []

    func validate() throws {
        if !allowMount.isEmpty && !sandbox { throw ValidationError("--allow-mount only means something with --sandbox") }
        if !allowHTTP.isEmpty && !sandbox { throw ValidationError("--allow-http only means something with --sandbox (without it, heph.http.request reaches every host)") }
        for host in allowHTTP {
            do { _ = try HTTPAllowList.Entry(host) } catch { throw ValidationError(error.message) }
        }
        for directory in allowMount where !directory.hasPrefix("/") {
            throw ValidationError("--allow-mount \(directory): give an absolute path, such as /srv/data")
        }
    }

    /// The runtime's sandbox: nil without `--sandbox`.
    var policy: SandboxPolicy? {
        guard sandbox else { return nil }
        return SandboxPolicy(mounts: MountPolicy(allowing: allowMount), http: HTTPAllowList(allowHTTP.compactMap { try? HTTPAllowList.Entry($0) }))
    }
}

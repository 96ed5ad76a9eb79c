import ArgumentParser
import Foundation
import HephDocker
import HephLua

/// `heph run script.lua [args…]`: runs a Lua script with the `heph` module.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua script with the heph module.",
        discussion: """
            The script sees its arguments as arg[1], arg[2], … and as `...`; arg[0] is the \
            script. `heph` is a global, and require("heph") returns it. require looks next \
            to the script first, then in HEPH_PATH (';'-separated ?.lua templates), then in \
            Lua's own paths (so Debian's lua-cjson loads).

            heph run keeps running after the main chunk returns while a health poller is \
            running. A script that never calls the engine does not need one.

            Exit codes: 0 the script ended normally; 1 it could not be read or compiled \
            (one line on stderr), or it raised an error (the message with file:line and a \
            traceback on stderr); 64 the command line is wrong.
            """
    )

    @OptionGroup var global: GlobalOptions

    /// The script's path, or `-` for standard input.
    @Argument(help: ArgumentHelp("The script to run, or - to read it from standard input.", valueName: "script.lua"))
    var script: String

    /// Everything after the script, passed to it untouched.
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("Arguments for the script (arg[1], arg[2], …).", valueName: "args"))
    var arguments: [String] = []

    func run() async throws {
        global.setUpLogging()
        let engine = LazyDockerOrchestrator(environment: global.engineEnvironment)
        let searchPath = (ProcessInfo.processInfo.environment["HEPH_PATH"] ?? "").split(separator: ";").map(String.init)
        let runtime = LuaRuntime(configuration: LuaRuntime.Configuration(
            engine: engine, searchPath: searchPath, executablePath: CommandLine.arguments.first ?? "heph"))
        let outcome = await runtime.run(LuaScript(script == "-" ? .standardInput : .file(script), arguments: arguments))
        await runtime.close()
        try? await engine.close()
        guard case .failed(let failure) = outcome else { return }
        // A file that cannot be read is heph's complaint; a script's error is the script's
        // own message (file:line: first, as lua5.4 prints it).
        let text = failure.kind == .cannotOpen ? "heph: \(failure.message)\n" : "\(failure.message)\n"
        FileHandle.standardError.write(Data(text.utf8))
        throw ExitCode.failure
    }
}

import ArgumentParser
import Foundation
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

            heph run keeps running after the main chunk returns while anything is \
            registered: a hook (heph.on), a timer (heph.every, heph.after) or a health \
            poller. SIGINT or SIGTERM runs the script's heph.on_shutdown handlers and ends \
            the run; a second SIGINT ends it at once. SIGHUP does not end it: it reloads \
            the script file in a fresh Lua state (as heph reload does; see heph reload \
            --help). A script that never calls the engine does not need one.

            Exit codes: 0 the script ended normally; the code given to heph.exit(code); \
            1 the script could not be read or compiled (one line on stderr), or raised an \
            error (the message with file:line and a traceback on stderr), or --down failed; \
            130 after SIGINT; 143 after SIGTERM; 124 Lua could not be stopped (a finalizer \
            that loops, or a C call such as string.find that runs past the time limit: \
            heph ends rather than hang, and says what ran); 75 a script read from standard \
            input lost the lead it took with heph.lead() (it cannot be run again to stand \
            by); 64 the command line is wrong.

            --lead: the process is a leader candidate for its project (-p, HEPH_PROJECT \
            or default; the script cannot choose another). While another process leads, it \
            stands by and runs none of the script; when the leader ends, one standby takes \
            over within seconds and runs the script from the start. A leader that can no \
            longer prove it leads runs no further hook, says so, and stands by again \
            (docs/ha.md). heph.lead() in the script does the same from that line.

            Script code is not trusted: a callback that computes for more than \
            heph.config.hook_timeout (5 s) is stopped, pcall or not; Ctrl-C stops the main \
            chunk the same way. --memory-limit caps the Lua heap (1024 MiB by default).
            """
    )

    @OptionGroup var global: GlobalOptions

    /// Tear down every managed container (and the network) when the run ends.
    @Flag(name: .long, help: "When the run ends, however it ends, stop and remove every container heph manages in the run's project, and its network (as heph down).")
    var down = false

    /// Lead the project: run the script only while no other process does.
    @Flag(name: .long, help: "Run the script only while this process leads its project; until then stand by (another process leads), and take over when the leader ends. The project is -p's, HEPH_PROJECT's or default (docs/ha.md).")
    var lead = false

    @OptionGroup var sandboxing: SandboxOptions

    @OptionGroup var memory: MemoryLimitOption

    @OptionGroup var metrics: MetricsOption

    /// How heph's own output on stderr is written.
    @Option(name: .long, help: ArgumentHelp("text (default): lines for people; json: one JSON object per line on stderr for every transition, hook run, action, notice, heph.up progress line and script print (print goes there too). Fields: docs/operations.md.", valueName: "format"))
    var logFormat: LogFormat = .text

    /// Progress lines of long calls: on by default, on a terminal or not (a log keeps them).
    @Flag(inversion: .prefixedNo, help: "Show a line on stderr per service as heph.up creates, replaces, starts and readies it, with the seconds since it began, whether or not stderr is a terminal (default: on; --no-progress silences them).")
    var progress = true

    /// The script's path, or `-` for standard input.
    @Argument(help: ArgumentHelp("The script to run, or - to read it from standard input.", valueName: "script.lua"))
    var script: String

    /// Everything after the script, passed to it untouched.
    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("Arguments for the script (arg[1], arg[2], …).", valueName: "args"))
    var arguments: [String] = []

    func validate() throws {
        if lead, script == "-" {
            throw ValidationError("--lead needs a script file, not standard input: a process that loses the lead and leads again runs the script from the start")
        }
    }

    /// The run these options ask for, as plain values.
    var invocation: RunInvocation {
        RunInvocation(global: global.settings, down: down, lead: lead, sandbox: sandboxing.policy, memoryLimit: memory.bytes,
                      metrics: metrics.metrics, logFormat: logFormat, progress: progress, script: script, arguments: arguments)
    }

    func run() async throws {
        try await invocation.run()
    }
}

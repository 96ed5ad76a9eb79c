import ArgumentParser
import Foundation
import HephDocker
import HephLua
import Synchronization

/// `heph plugins [script.lua | NAME]`: the plugins `heph.use` can load, and where from; or
/// one plugin described.
struct PluginsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the plugins heph.use finds, or describe one plugin and its options.",
        discussion: """
            heph.use(name) loads the first plugin of that name found: next to the script \
            (files there count when they define setup), in HEPH_PATH (';'-separated ?.lua \
            templates or directories), in the user's plugin directory (~/.config/heph/plugins, or \
            $XDG_CONFIG_HOME/heph/plugins), as the Lua module heph.plugins.NAME on Lua's \
            package.path (where LuaRocks installs the rock heph-plugin-NAME; LUA_PATH_5_4 \
            or LUA_PATH set it), then the plugins built into heph (restart, cascade, notify, \
            chaos). A plugin listed again further down is shadowed by the first.

            With no argument, lists what a script in the current directory would find. With \
            a script (an existing file, or a name ending in .lua), lists what that script \
            would find. With a plugin NAME, finds it as heph.use would in a script in the \
            current directory and prints where it was found, its version, its description \
            and its options (name, type, default, required, doc). The plugin's module is \
            loaded as heph check runs a script: no engine, sandboxed (no os.getenv, io.open, \
            os.execute or C modules while it loads), computing at most 5 s and finishing \
            within 10 s; its setup never runs. See docs/plugins.md.

            Exit codes: 0 listed or described; 1 no such plugin, or it does not load or \
            declares its options wrongly (the message names its file and the fix), or it \
            ended the run or did not finish loading; 64 the command line is wrong.
            """
    )

    @OptionGroup var memory: MemoryLimitOption

    /// A script whose directory is searched first, or the name of a plugin to describe.
    @Argument(help: ArgumentHelp("A script (its directory is searched first, as heph run does), or a plugin's name to describe it.", valueName: "script.lua | name"))
    var subject: String?

    func run() async throws {
        if let subject, !Self.isScript(subject) {
            try await describe(subject)
        } else {
            list(script: subject)
        }
    }

    /// How long a plugin's module may take to load for its description, waits included.
    static let loadingLimit: Duration = .seconds(10)

    /// Whether `subject` names a script rather than a plugin: a name ending in `.lua`, or
    /// an existing file (a directory is a plugin's: `NAME/init.lua`).
    static func isScript(_ subject: String) -> Bool {
        var directory: ObjCBool = false
        return subject.hasSuffix(".lua") || (FileManager.default.fileExists(atPath: subject, isDirectory: &directory) && !directory.boolValue)
    }

    /// What a script at `script` would find; without one, a script in the current
    /// directory (where `heph plugins NAME` looks).
    private func list(script: String?) {
        let catalog = PluginCatalog.forScript(script ?? "./" + PluginCatalog.placeholderScript, searchPath: PluginCatalog.hephPath,
                                              userDirectory: PluginCatalog.defaultUserDirectory)
        var seen: Set<String> = []
        let rows = catalog.all().map { entry in
            let shadowed = !seen.insert(entry.name).inserted
            return [entry.name, entry.place.rawValue, entry.path ?? "(inside heph)", shadowed ? "shadowed" : ""]
        }
        print(TextTable(header: ["NAME", "FROM", "PATH", ""], rows: rows).rendered, terminator: "")
    }

    /// What `describe_plugin` reports (docs/plugins.md).
    private struct Description: Decodable {
        struct Option: Decodable {
            var name: String
            var type: String
            var `default`: String
            var required: Bool
            var doc: String
        }
        var name: String
        var version: String
        var description: String
        var file: String
        var place: String
        var options: [Option]?
        var declared: Bool
        var stops: Bool
    }

    private func describe(_ name: String) async throws {
        let described = Mutex<String?>(nil)
        let context = RunContext(clock: SystemClock(), environment: [:], dryRun: DryRunRecord())
        var configuration = LuaRuntime.Configuration(
            backend: BackendSession(backend: .engine, context: context, projectChosen: false), commandName: "plugins",
            searchPath: PluginCatalog.hephPath, executablePath: CommandLine.arguments.first ?? "heph", sandbox: SandboxPolicy(),
            memoryLimit: memory.bytes)
        configuration.describedPlugin = { json in described.withLock { $0 = json } }
        // The module's own on_shutdown handlers may not hold the description back long.
        configuration.shutdownGrace = .seconds(5)
        let runtime = LuaRuntime(configuration: configuration)
        let signalled = Mutex(false)
        let signals = SignalHandling.shuttingDown { code in
            signalled.withLock { $0 = true }
            runtime.requestShutdown(exitCode: code)
        }
        // Waits count too: a module that sleeps is not left to sleep for ever.
        let overdue = Mutex(false)
        let limit = Task {
            try await Task.sleep(for: Self.loadingLimit)
            overdue.withLock { $0 = true }
            runtime.requestShutdown(exitCode: 1)
        }
        let outcome = await runtime.run(.describing(plugin: name))
        limit.cancel()
        signals.stop()
        await runtime.close()
        if overdue.withLock({ $0 }) {
            FileHandle.standardError.write(Data("heph plugins \(name): the plugin's module did not finish loading within \(Self.loadingLimit.components.seconds) s\n".utf8))
            throw ExitCode(1)
        }
        // A module that ends the run (heph.exit, os.exit) leaves nothing to describe; its
        // exit code is not the command's (only a signal's is).
        if case .exited(let code) = outcome, !signalled.withLock({ $0 }) || code == 0 {
            FileHandle.standardError.write(Data("heph plugins \(name): the plugin's module ended the run (heph.exit or os.exit, code \(code)) while it loaded; nothing to describe\n".utf8))
            throw ExitCode(1)
        }
        let code = outcome.exitCodeReportingFailure()
        guard code == 0 else { throw ExitCode(code) }
        guard let json = described.withLock({ $0 }) else {
            FileHandle.standardError.write(Data("heph internal error: heph plugins \(name): no description came back\n".utf8))
            throw ExitCode(1)
        }
        guard let description = try? JSONDecoder().decode(Description.self, from: Data(json.utf8)) else {
            FileHandle.standardError.write(Data("heph internal error: heph plugins \(name): a description heph cannot read: \(json)\n".utf8))
            throw ExitCode(1)
        }
        print(Self.rendered(description), terminator: "")
    }

    private static func rendered(_ plugin: Description) -> String {
        var text = plugin.name + (plugin.version.isEmpty ? "" : " " + plugin.version) + "\n"
        if !plugin.description.isEmpty { text += plugin.description + "\n" }
        text += plugin.place == PluginCatalog.Place.builtIn.rawValue ? "found: built into heph\n" : "found: \(plugin.file) (\(plugin.place))\n"
        if plugin.stops { text += "stops: its stop function runs at shutdown\n" }
        guard plugin.declared else {
            return text + "\nit declares no options: heph.use passes it the options it is given, unchecked\n"
        }
        guard let options = plugin.options else { return text + "\nit takes no options\n" }
        let rows = options.map { [$0.name, $0.type, $0.default, $0.required ? "yes" : "", $0.doc] }
        return text + "\n" + TextTable(header: ["OPTION", "TYPE", "DEFAULT", "REQUIRED", "DOC"], rows: rows).rendered
    }
}

import ArgumentParser
import Foundation
import HephLua

/// `heph plugins [script.lua]`: the plugins `heph.use` can load, and where from.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the plugins heph.use finds, in the order it searches.",
        discussion: """
            heph.use(name) loads the first plugin of that name found: next to the script \
            (give the script to include its directory; files there count when they define \
            setup), in HEPH_PATH (';'-separated ?.lua templates), in the user's plugin \
            directory (~/.config/heph/plugins, or $XDG_CONFIG_HOME/heph/plugins), then the \
            plugins built into heph (restart, cascade, notify, chaos). A plugin listed \
            again further down is shadowed by the first. See docs/lua-api.md and \
            docs/recipes.md.
            """
    )

    /// A script whose directory is searched first.
    @Argument(help: ArgumentHelp("A script: its directory is searched first, as heph run does.", valueName: "script.lua"))
    var script: String?

    func run() throws {
        let searchPath = PluginCatalog.hephPath
        let catalog = PluginCatalog(scriptPath: script, searchPath: searchPath, userDirectory: PluginCatalog.defaultUserDirectory)
        var seen: Set<String> = []
        let rows = catalog.all().map { entry in
            let shadowed = !seen.insert(entry.name).inserted
            return [entry.name, entry.place.rawValue, entry.path ?? "(inside heph)", shadowed ? "shadowed" : ""]
        }
        print(TextTable(header: ["NAME", "FROM", "PATH", ""], rows: rows).rendered, terminator: "")
    }
}

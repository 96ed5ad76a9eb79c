import CLua
import Foundation

/// Where `heph.use` finds plugins, in order: next to the script, `$HEPH_PATH`, the user's
/// plugin directory (`~/.config/heph/plugins`), the Lua module `heph.plugins.NAME` on
/// Lua's `package.path` (where LuaRocks installs the rock `heph-plugin-NAME`), and the
/// plugins built into heph.
public struct PluginCatalog: Sendable {
    /// One place a plugin was found.
    public struct Entry: Sendable, Hashable {
        /// The name `heph.use` takes: `restart`.
        public var name: String
        /// Which search place it is in.
        public var place: Place
        /// The file; nil for a built-in plugin.
        public var path: String?
    }

    /// The search places, in the order they are searched.
    public enum Place: String, Sendable, Hashable, CaseIterable {
        case script = "next to the script"
        case hephPath = "HEPH_PATH"
        case user = "user plugins"
        case luaPath = "package.path"
        case builtIn = "built in"
    }

    /// The plugins heph ships, by name: their Lua source.
    public static let builtIn: [String: String] = [
        "restart": String(decoding: PackageResources.restart_lua, as: UTF8.self),
        "cascade": String(decoding: PackageResources.cascade_lua, as: UTF8.self),
        "notify": String(decoding: PackageResources.notify_lua, as: UTF8.self),
        "chaos": String(decoding: PackageResources.chaos_lua, as: UTF8.self),
    ]

    /// `~/.config/heph/plugins` (honouring `XDG_CONFIG_HOME`); nil without a home.
    public static var defaultUserDirectory: String? {
        let environment = ProcessInfo.processInfo.environment
        if let config = environment["XDG_CONFIG_HOME"], config.hasPrefix("/") { return config + "/heph/plugins" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.config/heph/plugins"
    }

    /// The `?.lua` templates of `$HEPH_PATH` (`;`-separated, like `LUA_PATH`), searched by
    /// `require` and `heph.use` after the script's directory. An entry without `?` is a
    /// directory: `DIR/?.lua` and `DIR/?/init.lua`.
    public static var hephPath: [String] {
        (ProcessInfo.processInfo.environment["HEPH_PATH"] ?? "").split(separator: ";").flatMap { entry -> [String] in
            if entry.contains("?") { return [String(entry)] }
            let directory = entry.hasSuffix("/") ? String(entry.dropLast()) : String(entry)
            return ["\(directory)/?.lua", "\(directory)/?/init.lua"]
        }
    }

    /// The file name a script has where there is none (`heph plugins NAME` looks as a
    /// script in the current directory would): no plugin can be named so.
    public static let placeholderScript = ".heph plugins"

    /// The catalog of a script at `scriptPath` run by heph: `package.path` as heph gives
    /// it to that script (its directory, `searchPath`, then Lua's default).
    public static func forScript(_ scriptPath: String, searchPath: [String], userDirectory: String?) -> PluginCatalog {
        let directory = (scriptPath as NSString).deletingLastPathComponent
        let prefix = directory.isEmpty ? "./" : directory.hasSuffix("/") ? directory : directory + "/"
        let luaPath = (["\(prefix)?.lua", "\(prefix)?/init.lua"] + searchPath + [defaultLuaPath]).joined(separator: ";")
        return PluginCatalog(scriptPath: scriptPath, searchPath: searchPath, userDirectory: userDirectory, luaPath: luaPath)
    }

    /// Lua's `package.path` as a fresh `lua5.4` has it (from `LUA_PATH_5_4`, `LUA_PATH` or
    /// Lua's default), for listing plugins without a script.
    public static var defaultLuaPath: String {
        guard let state = luaL_newstate() else { return "" }
        defer { lua_close(state) }
        luaL_openlibs(state)
        lua_getglobal(state, "package")
        lua_getfield(state, -1, "path")
        return lua_tolstring(state, -1, nil).map { String(cString: $0) } ?? ""
    }

    /// The directory inside a `package.path` template where plugin modules live: the
    /// module `heph.plugins.NAME` is `heph/plugins/NAME.lua`.
    static let luaModulePrefix = "heph/plugins/"

    /// `?.lua` templates by place, in search order; the `package.path` ones are searched
    /// for `heph/plugins/NAME`.
    let templates: [(Place, String)]
    /// The script being run, never its own plugin (`examples/chaos.lua` using `chaos`).
    let scriptPath: String?

    /// A catalog searching next to the script at `scriptPath` (when there is one), the
    /// `searchPath` templates (`$HEPH_PATH`), `userDirectory`, then `heph.plugins.NAME` on
    /// `luaPath` (a `package.path`, `;`-separated).
    public init(scriptPath: String?, searchPath: [String], userDirectory: String?, luaPath: String = "") {
        self.scriptPath = scriptPath.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        var templates: [(Place, String)] = []
        let scriptDirectory = scriptPath.map { path in
            let directory = (path as NSString).deletingLastPathComponent
            return directory.isEmpty ? "." : directory
        }
        if let scriptDirectory {
            let prefix = scriptDirectory.hasSuffix("/") ? scriptDirectory : scriptDirectory + "/"
            templates += [(.script, prefix + "?.lua"), (.script, prefix + "?/init.lua")]
        }
        templates += searchPath.filter { $0.contains("?") }.map { (.hephPath, $0) }
        if let userDirectory {
            templates += [(.user, userDirectory + "/?.lua"), (.user, userDirectory + "/?/init.lua")]
        }
        templates += luaPath.split(separator: ";").map(String.init).filter { $0.contains("?") }
            .map { (.luaPath, $0.replacingOccurrences(of: "?", with: Self.luaModulePrefix + "?")) }
        self.templates = templates
    }

    /// Whether `name` can name a plugin: letters, digits, `_` and `-`, dot-separated
    /// (`team.restart` is `team/restart.lua`, as `require` reads it).
    public static func isValidName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return !name.isEmpty && parts.allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { byte in
                (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 95 || byte == 45
            }
        }
    }

    /// The first place `name` is found, with the files tried before it.
    public func find(_ name: String) -> (entry: Entry?, tried: [String]) {
        var tried: [String] = []
        let relative = name.replacingOccurrences(of: ".", with: "/")
        for (place, template) in templates {
            let path = template.replacingOccurrences(of: "?", with: relative)
            if FileManager.default.isReadableFile(atPath: path), !isScript(path) { return (Entry(name: name, place: place, path: path), tried) }
            tried.append(path)
        }
        if Self.builtIn[name] != nil { return (Entry(name: name, place: .builtIn, path: nil), tried) }
        return (nil, tried)
    }

    private func isScript(_ path: String) -> Bool {
        scriptPath == URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Every plugin in every place, in search order: the first entry of a name is the one
    /// `heph.use` loads; later ones are shadowed. Files next to a script count when they
    /// define a `setup` function (the script's other modules are not plugins).
    public func all() -> [Entry] {
        var entries: [Entry] = []
        for (place, template) in templates {
            guard let marker = template.range(of: "?") else { continue }
            let directory = String(template[..<marker.lowerBound])
            let suffix = String(template[marker.upperBound...])
            let base = directory.isEmpty ? "." : directory
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { continue }
            for file in names.sorted() {
                let path = directory + file + (suffix.hasPrefix("/") ? suffix : "")
                let name: String
                if suffix.hasPrefix("/") {
                    guard FileManager.default.isReadableFile(atPath: path) else { continue }
                    name = file
                } else {
                    guard file.hasSuffix(suffix), file.count > suffix.count else { continue }
                    name = String(file.dropLast(suffix.count))
                }
                guard Self.isValidName(name), !isScript(path), !entries.contains(where: { $0.path == path }) else { continue }
                if place == .script {
                    guard let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains("setup") else { continue }
                }
                entries.append(Entry(name: name, place: place, path: path))
            }
        }
        entries += Self.builtIn.keys.sorted().map { Entry(name: $0, place: .builtIn, path: nil) }
        return entries
    }
}

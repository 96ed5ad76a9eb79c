import CHephLua
import CLua
import Foundation
import HephDocker

extension LuaRuntime {
    /// `require` looks next to the script first, then in `$HEPH_PATH`, then in Lua's own
    /// `package.path` (and `package.cpath`, untouched, so Debian's C modules load).
    func configureSearchPath(_ stack: LuaStack, for script: LuaScript) {
        var templates: [String] = []
        if let directory = script.directory {
            let prefix = directory.hasSuffix("/") ? directory : directory + "/"
            templates += ["\(prefix)?.lua", "\(prefix)?/init.lua"]
            // A plugin's description has no script: a file name no plugin can have.
            scriptPath = if case .file(let path) = script.source { path } else { prefix + PluginCatalog.placeholderScript }
        }
        templates += configuration.searchPath.filter { !$0.isEmpty }
        guard !templates.isEmpty else { return }
        withPackageTable(stack) { package in
            stack.rawField(package, "path")
            let current = stack.string(at: -1) ?? ""
            stack.pop()
            let existing = Set(current.split(separator: ";").map(String.init))
            let added = templates.filter { !existing.contains($0) }
            stack.push((added + [current]).joined(separator: ";"))
            stack.setRawField(package, "path")
        }
    }

    /// The global `arg`, as `lua5.4` sets it: `arg[0]` the script, `arg[1…]` its arguments,
    /// `arg[-1]` the program.
    func setArguments(_ stack: LuaStack, for script: LuaScript) {
        lua_createtable(stack.state, Int32(script.arguments.count), 2)
        let table = stack.absolute(-1)
        stack.push(configuration.executablePath)
        lua_rawseti(stack.state, table, -1)
        stack.push(script.argumentZero)
        lua_rawseti(stack.state, table, 0)
        for (offset, argument) in script.arguments.enumerated() {
            stack.push(argument)
            lua_rawseti(stack.state, table, lua_Integer(offset + 1))
        }
        setGlobal(stack, "arg")
    }
}

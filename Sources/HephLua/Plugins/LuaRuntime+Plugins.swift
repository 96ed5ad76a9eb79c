import CLua
import Foundation
import HephDocker

extension LuaRuntime {
    /// The catalog `heph.use` searches for the script being run.
    var pluginCatalog: PluginCatalog {
        PluginCatalog(scriptPath: scriptPath, searchPath: configuration.searchPath, userDirectory: configuration.userPluginDirectory)
    }

    /// `find_plugin(name)`, for the prelude's `heph.use`: pushes the chunk name and source of
    /// the plugin, or nil and a message naming every place tried.
    func findPlugin(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        let name = try stack.checkString(1)
        guard PluginCatalog.isValidName(name) else {
            stack.pushNil()
            stack.push("heph.use: \(quoted(name)) is not a plugin name; use letters, digits, \"_\" and \"-\", with \".\" between parts")
            return 2
        }
        let (entry, tried) = pluginCatalog.find(name)
        switch (entry?.path, entry.flatMap { _ in PluginCatalog.builtIn[name] }) {
        case (let path?, _):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .raise("heph.use: cannot read plugin \(quoted(name)) at \(path)")
            }
            stack.push("@" + path)
            stack.push(.bytes([UInt8](data)))
        case (nil, let source?):
            stack.push("=[heph plugin \(name)]")
            stack.push(source)
        case (nil, nil):
            let builtIns = PluginCatalog.builtIn.keys.sorted().joined(separator: ", ")
            let places = tried.map { "\n\tno file '\($0)'" }.joined()
            stack.pushNil()
            stack.push("heph.use: no plugin \(quoted(name)) (built in: \(builtIns))\(places)")
        }
        return 2
    }

    /// Keeps the services of a topology `heph.up` is bringing up.
    func remember(_ topology: Topology) {
        services.merge(topology.services) { _, new in new }
    }

    /// `heph.dependents(c)`: the full names of the services that depend on `c` (its script
    /// name, short name or engine name), directly or not, in the order `heph.up` starts them;
    /// empty for a container no `heph.up` of this run brought up.
    func pushDependents(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        let reference = try stack.checkContainer(1)
        let fullName = ContainerName.full(configuration.backend.project.scriptName(reference))
        let dependents = services.keys.first { ContainerName.full($0) == fullName }.map { Topology(services: services).dependents(of: $0) } ?? []
        stack.push(.array(dependents.map { .string(ContainerName.full($0)) }))
        return 1
    }
}

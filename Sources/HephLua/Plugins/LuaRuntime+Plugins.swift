import CLua
import Foundation
import HephDocker

extension LuaRuntime {
    /// The catalog `heph.use` searches for the script being run, with Lua's `package.path`
    /// as the script has it now (`luaPath`).
    func pluginCatalog(luaPath: String?) -> PluginCatalog {
        PluginCatalog(scriptPath: scriptPath, searchPath: configuration.searchPath, userDirectory: configuration.userPluginDirectory,
                      luaPath: luaPath ?? "")
    }

    /// `find_plugin(name, package.path)`, for the prelude's `heph.use`: pushes the chunk
    /// name, the source, how messages name the file and the place it was found in; or nil
    /// and why not (naming every place tried).
    func findPlugin(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        let name = try stack.checkString(1)
        guard PluginCatalog.isValidName(name) else {
            stack.pushNil()
            stack.push("\(quoted(name)) is not a plugin name; use letters, digits, \"_\" and \"-\", with \".\" between parts")
            return 2
        }
        let (entry, tried) = pluginCatalog(luaPath: stack.string(at: 2)).find(name)
        switch (entry, entry.flatMap { _ in PluginCatalog.builtIn[name] }) {
        case (let entry?, _) where entry.path != nil:
            let path = entry.path ?? ""
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .raise("heph.use('\(name)'): cannot read plugin \(quoted(name)) at \(path)")
            }
            stack.push("@" + path)
            stack.push(.bytes([UInt8](data)))
            stack.push(path)
            stack.push(entry.place.rawValue)
            return 4
        case (let entry?, let source?):
            stack.push("=[heph plugin \(name)]")
            stack.push(source)
            stack.push("the built-in plugin \(name)")
            stack.push(entry.place.rawValue)
            return 4
        default:
            let builtIns = PluginCatalog.builtIn.keys.sorted().joined(separator: ", ")
            let places = tried.map { "\n\tno file '\($0)'" }.joined()
            stack.pushNil()
            stack.push("no plugin \(quoted(name)) (built in: \(builtIns))\(places)")
            return 2
        }
    }

    /// `plugin_scope_open()`: what the calling coroutine registers from now on belongs to
    /// the plugin it is loading.
    func openPluginScope(_ stack: LuaStack) -> Int32 {
        pluginScopes.begin(on: stack.state)
        return 0
    }

    /// `plugin_scope_close(release)`: the plugin loaded (false) or failed to (true: what
    /// it registered is released).
    func closePluginScope(_ stack: LuaStack) -> Int32 {
        let release = lua_toboolean(stack.state, 1) != 0
        self.release(pluginScopes.end(on: stack.state, keep: !release))
        return 0
    }

    /// Releases what a coroutine that ended while loading a plugin had registered for it.
    func abandonPluginScopes(of coroutine: OpaquePointer) {
        release(pluginScopes.abandon(coroutine))
    }

    /// Removes each hook, stops each timer and poller, forgets each handler and stop.
    private func release(_ registrations: [PluginScopes.Registration]) {
        guard !registrations.isEmpty, let state else { return }
        let stack = LuaStack(state)
        for registration in registrations {
            switch registration {
            case .handle(.hook, let id):
                if let hook = hooks.remove(id) { stack.releaseReference(hook.function) }
                if hooks.isEmpty { stopWatcher() }
            case .handle(.timer, let id): stopTimer(id: id)
            case .handle(.poller, let id): stopPoller(id)
            case .shutdownHandler(let reference):
                guard let index = lifecycle.shutdownHandlers.firstIndex(of: reference) else { continue }
                lifecycle.shutdownHandlers.remove(at: index)
                stack.releaseReference(reference)
            case .pluginStop(let reference):
                guard let index = lifecycle.pluginStops.firstIndex(where: { $0.function == reference }) else { continue }
                lifecycle.pluginStops.remove(at: index)
                lifecycle.shutdown?.stops.removeAll { $0.function == reference }
                stack.releaseReference(reference)
            }
        }
    }

    /// `plugin_stop(fn, name)`: keeps a set-up plugin's `stop`, which runs at shutdown.
    func keepPluginStop(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        try stack.checkFunction(1)
        let name = stack.string(at: 2) ?? "?"
        lua_pushvalue(stack.state, 1)
        let reference = stack.makeReference()
        lifecycle.pluginStops.append((name, reference))
        // Used by a plugin that is itself loading: gone too if that one fails.
        pluginScopes.record(.pluginStop(reference), on: stack.state)
        queuePluginStopDuringShutdown((name, reference))
        return 0
    }

    /// `plugin_described(json)`: what `heph plugins NAME` prints.
    func pluginDescribed(_ stack: LuaStack) throws(BridgeError) -> Int32 {
        configuration.describedPlugin(try stack.checkString(1))
        return 0
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

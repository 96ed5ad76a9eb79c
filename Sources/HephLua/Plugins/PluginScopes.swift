/// What plugins being loaded have registered, so that a plugin that fails to load (its
/// module or `setup` raised, or was stopped) leaves nothing behind: `heph.use` opens a
/// scope on the coroutine it runs in (one of heph's own), every hook, timer, poller and
/// `on_shutdown` handler registered from that coroutine meanwhile is recorded, and so is
/// the `stop` of each plugin it uses; the scope closes kept (the plugin loaded) or
/// released. Scopes nest: a plugin whose `setup` uses another one keeps the inner one's
/// registrations in its own scope, so they go too if the outer one fails.
///
/// What a plugin registers from a coroutine of its own making is not recorded.
struct PluginScopes {
    /// What a loading plugin can leave registered.
    enum Registration {
        /// A hook, timer or poller: its kind and id.
        case handle(HandleKind, Int)
        /// An `on_shutdown` handler (its registry reference).
        case shutdownHandler(Int32)
        /// The `stop` of a plugin it used (its registry reference).
        case pluginStop(Int32)
    }

    private var open: [OpaquePointer: [[Registration]]] = [:]

    /// Opens a scope on `coroutine`.
    mutating func begin(on coroutine: OpaquePointer) {
        open[coroutine, default: []].append([])
    }

    /// Records a registration made from `coroutine`, when it has a scope open.
    mutating func record(_ registration: Registration, on coroutine: OpaquePointer) {
        guard var scopes = open[coroutine], !scopes.isEmpty else { return }
        scopes[scopes.count - 1].append(registration)
        open[coroutine] = scopes
    }

    /// Closes the innermost scope of `coroutine`: kept, its registrations join the scope
    /// around it; else they are returned, to be released.
    mutating func end(on coroutine: OpaquePointer, keep: Bool) -> [Registration] {
        guard var scopes = open[coroutine], let last = scopes.popLast() else { return [] }
        if keep, !scopes.isEmpty { scopes[scopes.count - 1] += last }
        open[coroutine] = scopes.isEmpty ? nil : scopes
        return keep ? [] : last
    }

    /// Closes every scope of a coroutine that ended with them open (stopped, or failed
    /// where `heph.use` could not close them): all of their registrations, to be released.
    mutating func abandon(_ coroutine: OpaquePointer) -> [Registration] {
        open.removeValue(forKey: coroutine)?.flatMap { $0 } ?? []
    }

    /// Forgets every scope (the run ended: everything is released anyway).
    mutating func removeAll() { open.removeAll() }
}

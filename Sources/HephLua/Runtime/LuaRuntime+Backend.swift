import CLua
import HephDocker

extension LuaRuntime {
    /// Applies `heph.config.backend` before anything that reaches the engine: the script
    /// may choose the backend until its first engine call (``BackendSession/select(_:)``);
    /// the dry run of `heph check` then checks configs by that backend's rules.
    func applyBackendChoice() throws(BridgeError) {
        // Unset: the backend stays as chosen (--swarm, or the default).
        let value: (text: String?, type: String)?? = configField("backend") { stack in
            stack.type(at: -1) == LUA_TNIL ? nil : (stack.type(at: -1) == LUA_TSTRING ? stack.string(at: -1) : nil, stack.typeName(at: -1))
        }
        guard let value = value ?? nil else { return }
        guard let text = value.text, let backend = Backend(rawValue: text) else {
            let shown = value.text.map { quoted($0) } ?? "a \(value.type)"
            throw .raise("heph.config.backend: \(shown) is not a backend; use \"engine\" (one Docker engine) or \"swarm\" (a Docker Swarm, through a manager)")
        }
        do {
            try configuration.backend.select(backend)
        } catch {
            throw .raise("heph.config.backend: \((error as? DockerError)?.explained(command: configuration.commandName) ?? Self.describe(error))")
        }
    }
}

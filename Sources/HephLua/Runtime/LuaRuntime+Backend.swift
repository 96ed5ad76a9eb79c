import CLua
import HephDocker

extension LuaRuntime {
    /// Applies `heph.config` before anything that reaches the engine: the backend, the
    /// project, and the engine concurrency.
    func applyEngineSettings() throws(BridgeError) {
        try applyBackendChoice()
        try applyProjectChoice()
        try applyEngineConcurrency()
    }

    /// `heph.config.project`: the script may choose its project until its first engine
    /// call, unless `-p` or `HEPH_PROJECT` chose it (``BackendSession/select(project:)``).
    private func applyProjectChoice() throws(BridgeError) {
        let value: (text: String?, type: String)?? = configField("project") { stack in
            stack.type(at: -1) == LUA_TNIL ? nil : (stack.type(at: -1) == LUA_TSTRING ? stack.string(at: -1) : nil, stack.typeName(at: -1))
        }
        guard let value = value ?? nil else { return }
        guard let text = value.text else {
            throw .raise("heph.config.project: a \(value.type) is not a project name; \(Project.rule)")
        }
        do {
            try configuration.backend.select(project: try Project(text))
        } catch {
            throw .raise("heph.config.project: \((error as? DockerError)?.message ?? Self.describe(error))")
        }
    }

    /// `heph.config.backend`: the script may choose the backend until its first engine call
    /// (``BackendSession/select(_:)``); the dry run of `heph check` then checks configs by
    /// that backend's rules.
    private func applyBackendChoice() throws(BridgeError) {
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

    /// `heph.config.engine_concurrency`: how many bulk engine calls may be in flight. It
    /// may change at any time; calls in flight finish, and the next ones see the new bound.
    private func applyEngineConcurrency() throws(BridgeError) {
        // Unset: the bound stays as --engine-concurrency (or the default) set it.
        let value: (number: Int?, text: String)?? = configField("engine_concurrency") { stack in
            guard stack.type(at: -1) != LUA_TNIL else { return nil }
            let text = stack.numberText(at: -1) ?? (stack.type(at: -1) == LUA_TSTRING ? quoted(stack.string(at: -1) ?? "") : "a \(stack.typeName(at: -1))")
            return (stack.integer(at: -1), text)
        }
        guard let value = value ?? nil else { return }
        guard let number = value.number, EngineSlots.accepts(number) else {
            throw .raise("heph.config.engine_concurrency: \(value.text) is not a number of engine calls at once; use a whole number from 1 to \(EngineSlots.maximumCapacity) (default \(EngineSlots.defaultCapacity))")
        }
        let slots = configuration.backend.engineSlots
        if slots.capacity != number { slots.capacity = number }
    }
}

import CLua
import HephDocker

extension Topology {
    /// Reads `{ services = { name = { <ContainerConfig fields>, depends_on = { … } }, … },
    /// timeout = s }`. Types only; ``Topology/validatedOrder()`` checks the meaning.
    init(lua reader: LuaTableReader) throws(FieldError) {
        try reader.rejectUnknownFields(known: ["services", "timeout"])
        var timeout = Topology.defaultTimeout
        if let seconds = try reader.number("timeout") {
            guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                throw FieldError(message: "\(reader.field("timeout")): seconds must be above 0, at most 86400, got \(formatted(seconds))")
            }
            timeout = .seconds(seconds)
        }
        let services = try reader.withTable("services") { table throws(FieldError) in try Self.services(table) }
        guard let services else {
            throw FieldError(message: #"\#(reader.field("services")): missing; write services = { web = { image = "…" }, … }"#)
        }
        self.init(services: services, timeout: timeout)
    }

    /// Each service's table, read through a reader named `services.NAME`.
    private static func services(_ table: LuaTableReader) throws(FieldError) -> [String: Service] {
        let stack = table.stack
        var names: [String] = []
        var problem: FieldError?
        stack.forEachPair(table.table) {
            guard problem == nil else { return }
            guard let name = stack.string(at: -2), stack.type(at: -2) == LUA_TSTRING else {
                problem = FieldError(message: "services: service names must be strings, got \(stack.typeName(at: -2)) \(stack.numberText(at: -2) ?? "")")
                return
            }
            guard stack.type(at: -1) == LUA_TTABLE else {
                problem = FieldError(message: "services.\(name): expected a table (a container config with depends_on), got \(stack.typeName(at: -1))")
                return
            }
            names.append(name)
        }
        if let problem { throw problem }
        var services: [String: Service] = [:]
        for name in names.sorted() {
            stack.rawField(table.table, name)
            defer { stack.pop() }
            let reader = LuaTableReader(stack: stack, table: stack.absolute(-1), path: "services.\(name)")
            var config = try ContainerConfig(lua: reader, alsoKnown: ["depends_on"])
            if config.name.isEmpty { config.name = name }
            services[name] = Service(config: config, dependsOn: try Self.dependsOn(reader))
        }
        return services
    }

    /// `depends_on = { "db" }`; a string there is one name, or several, written where a
    /// list belongs, and the error shows the list meant.
    private static func dependsOn(_ reader: LuaTableReader) throws(FieldError) -> [String] {
        let stack = reader.stack
        let written = stack.rawField(reader.table, "depends_on") == LUA_TSTRING ? stack.lossyString(at: -1) : nil
        stack.pop()
        if let written {
            let names = written.split(whereSeparator: { $0 == "," || $0.isWhitespace }).prefix(8).map { quoted($0) }
            let list = names.isEmpty ? #"{ "db" }"# : "{ \(names.joined(separator: ", ")) }"
            throw FieldError(message: "\(reader.field("depends_on")): expected a list of service names, got a string; write depends_on = \(list)")
        }
        return try reader.stringArray("depends_on") ?? []
    }
}

extension BringUpRecord {
    /// What `heph.up` left in `project` and how to go on, in one line: `heph.up interrupted:
    /// created heph-db, heph-api; running: heph-db; not reached: heph-web. Run heph.up again
    /// to converge (…), or heph down to remove every container of the project.` Nil when
    /// it failed having created, started and replaced nothing (its error says all there is).
    func leftBehind(in project: Project, interrupted: Bool) -> String? {
        let created = self.created.map(project.engineName)
        let running = self.running.map(project.engineName)
        let replacing = self.replacing.map(project.engineName)
        let down = project.isDefault ? "heph down" : "heph down -p \(project.name)"
        guard !created.isEmpty || !running.isEmpty || !replacing.isEmpty else {
            return interrupted ? "heph.up interrupted before it created or started anything." : nil
        }
        var facts = [created.isEmpty ? "created nothing" : "created \(created.joined(separator: ", "))",
                     running.isEmpty ? "nothing running" : "running: \(running.joined(separator: ", "))"]
        if !replacing.isEmpty { facts.append("being replaced (the old container may be stopped or gone): \(replacing.joined(separator: ", "))") }
        let untouched = self.untouched.map(project.engineName)
        if interrupted, !untouched.isEmpty { facts.append("not reached: \(untouched.joined(separator: ", "))") }
        let head = interrupted ? "heph.up interrupted" : "heph.up left"
        let again = interrupted ? "Run heph.up again" : "Once that is fixed, run heph.up again"
        return "\(head): \(facts.joined(separator: "; ")). \(again) to converge (what matches its config is kept), or \(down) to remove every container of the project."
    }
}

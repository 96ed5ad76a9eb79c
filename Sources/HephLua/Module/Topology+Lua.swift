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
            let dependsOn = try reader.stringArray("depends_on") ?? []
            services[name] = Service(config: config, dependsOn: dependsOn)
        }
        return services
    }
}

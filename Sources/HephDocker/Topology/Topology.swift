/// A whole set of services to bring up together: what `heph.up` takes.
public struct Topology: Sendable, Hashable {
    /// One service: a container config plus the services it waits for.
    public struct Service: Sendable, Hashable {
        /// The container to run. Its `name` is the service's name.
        public var config: ContainerConfig
        /// Names of the services that must be ready before this one starts.
        public var dependsOn: [String]

        /// Makes a service.
        public init(config: ContainerConfig, dependsOn: [String] = []) {
            self.config = config
            self.dependsOn = dependsOn
        }
    }

    /// The services by name, as the topology writes them (`web`, not `heph-web`).
    public var services: [String: Service]
    /// How long every service may take to become ready.
    public var timeout: Duration

    /// Seconds `heph.up` waits for readiness when not told.
    public static let defaultTimeout: Duration = .seconds(120)

    /// Makes a topology.
    public init(services: [String: Service], timeout: Duration = Topology.defaultTimeout) {
        self.services = services
        self.timeout = timeout
    }

    /// Checks everything that can be checked without the engine (every config, every
    /// dependency, cycles) and returns the service names in dependency order (a service
    /// after everything it depends on; ties by name).
    ///
    /// - Throws: ``DockerError/Code/invalidConfig`` naming the service and field at fault:
    ///   `services.web.depends_on: unknown service "dbb"`, `dependency cycle: a -> b -> a`.
    public func validatedOrder() throws -> [String] {
        var owners: [String: String] = [:]
        for (name, service) in services.sorted(by: { $0.key < $1.key }) {
            let path = "services.\(name)"
            if service.config.name != name {
                throw DockerError(.invalidConfig, "\(path).name: \(quoted(service.config.name)) differs from the service's key; leave name out (the key is the name)")
            }
            do {
                try service.config.validate()
            } catch let error as DockerError {
                throw DockerError(error.code, Self.relocated(error.message, to: path), remedy: error.remedy)
            }
            let fullName = ContainerName.full(name)
            if let other = owners[fullName] {
                throw DockerError(.invalidConfig, "services: \(quoted(other)) and \(quoted(name)) would both be the container \(fullName); rename one")
            }
            owners[fullName] = name
            for dependency in service.dependsOn where services[dependency] == nil {
                let known = services.keys.sorted().map(quoted).joined(separator: ", ")
                throw DockerError(.invalidConfig, "\(path).depends_on: unknown service \(quoted(dependency)); the services are \(known)")
            }
            if service.dependsOn.contains(name) {
                throw DockerError(.invalidConfig, "dependency cycle: \(name) -> \(name)")
            }
        }
        return try dependencyOrder()
    }

    /// Names in dependency order by depth-first search; a back edge is a cycle, named in
    /// the order its services depend on each other.
    private func dependencyOrder() throws -> [String] {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var order: [String] = []
        var path: [String] = []
        func visit(_ name: String) throws {
            switch marks[name] {
            case .done: return
            case .visiting:
                let cycle = path[path.firstIndex(of: name)!...] + [name]
                throw DockerError(.invalidConfig, "dependency cycle: \(cycle.joined(separator: " -> "))")
            case nil: break
            }
            marks[name] = .visiting
            path.append(name)
            for dependency in Set(services[name]?.dependsOn ?? []).sorted() { try visit(dependency) }
            path.removeLast()
            marks[name] = .done
            order.append(name)
        }
        for name in services.keys.sorted() { try visit(name) }
        return order
    }

    /// The services that depend on `name`, directly or not, in dependency order.
    public func dependents(of name: String) -> [String] {
        guard let order = try? dependencyOrder() else { return [] }
        var affected: Set<String> = [name]
        var result: [String] = []
        for candidate in order where candidate != name {
            if services[candidate]?.dependsOn.contains(where: affected.contains) == true {
                affected.insert(candidate)
                result.append(candidate)
            }
        }
        return result
    }

    /// `config.ports: …` → `services.web.ports: …`.
    static func relocated(_ message: String, to path: String) -> String {
        message.hasPrefix("config.") ? path + "." + message.dropFirst("config.".count) : "\(path): \(message)"
    }
}

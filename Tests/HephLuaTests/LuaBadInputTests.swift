import HephTestSupport
import Testing

/// Wrong arguments and unknown containers: each raises a Lua error with the exact text
/// below, caught by `pcall` in the script, and the host goes on running (the script's next
/// line runs and answers). The calls are statements, as in scripts: a tail call (`return
/// heph.f(x)`) leaves no caller frame, so there Lua itself names `heph.f` without a position.
@Suite(.usesEngine) struct LuaBadInputTests {
    static let image = #""heph/busybox:latest""#
    static let unknown = TestNames.unique("nope")

    /// `create_container` with `fields` added to a valid image and name.
    static func config(_ fields: String) -> String {
        "heph.create_container({ image = \(image), name = \"w\", \(fields) })"
    }

    static func argument(_ function: String, _ message: String, number: Int = 1) -> String {
        "test.lua:1: bad argument #\(number) to '\(function)' (\(message))"
    }

    static let cases: [(String, String)] = [
        ("heph.create_container()", argument("create_container", "table expected, got no value")),
        ("heph.create_container(nil)", argument("create_container", "table expected, got nil")),
        (#"heph.create_container("web")"#, argument("create_container", "table expected, got string")),
        ("heph.create_container({})", argument("create_container", #"config.image: missing; name an image, such as "heph/busybox:latest""#)),
        (#"heph.create_container({ image = {}, name = "x" })"#, argument("create_container", "config.image: expected a string, got table")),
        ("heph.create_container({ image = \(image) })", argument("create_container", #"config.name: missing; give the container a name, such as "web""#)),
        ("heph.create_container({ image = \(image), name = \"\" })", argument("create_container", #"config.name: missing; give the container a name, such as "web""#)),
        ("heph.create_container({ image = \(image), name = \"a/b\" })", argument("create_container", #"config.name: "a/b" is not a container name; use letters, digits, "_", "." and "-", starting with a letter or digit"#)),
        ("heph.create_container({ image = \(image), name = string.rep(\"x\", 100) })", argument("create_container", #"config.name: the full name "heph-"# + String(repeating: "x", count: 43) + #"…" has 105 characters; at most 63 are allowed (it is a DNS name)"#)),
        ("heph.create_container({ image = \(image), name = true })", argument("create_container", "config.name: expected a string, got boolean")),
        ("heph.create_container({ image = \(image), name = \"\\xff\" })", argument("create_container", "config.name: is not valid UTF-8")),
        ("heph.create_container({ image = string.rep(\"a\", 100000), name = \"w\" })", argument("create_container", #"config.image: ""# + String(repeating: "a", count: 48) + #"…" is not an image reference: it has a repository name of 100000 characters; at most 255 are allowed"#)),
        ("heph.create_container({ image = \"Heph/Busybox\", name = \"w\" })", argument("create_container", #"config.image: "Heph/Busybox" is not an image reference: it has "Heph" in its repository name; repository names are lowercase"#)),
        (config("imagee = 1"), argument("create_container", "config.imagee: unknown field; did you mean image?")),
        (config("network_name = \"x\""), argument("create_container", "config.network_name: unknown field; did you mean networkName?")),
        ("heph.create_container({ \"x\", image = \(image), name = \"w\" })", argument("create_container", "config: field names must be strings, got the number key 1")),
        (config(#"env = "A=1""#), argument("create_container", "config.env: expected a table of NAME = value, got string")),
        (config(#"env = { "A=1" }"#), argument("create_container", "config.env: expected a table of NAME = value, but it has the number key 1")),
        (config("env = { A = {} }"), argument("create_container", "config.env.A: expected a string, got table")),
        (config(#"env = { ["A=B"] = "1" }"#), argument("create_container", #"config.env: variable name "A=B" contains "=""#)),
        (config(#"ports = { abc = "80" }"#), argument("create_container", #"config.ports: host port "abc" is not a number in 1…65535"#)),
        (config("ports = { [0] = 80 }"), argument("create_container", #"config.ports: host port "0" is not a number in 1…65535"#)),
        (config("ports = { [70000] = 80 }"), argument("create_container", #"config.ports: host port "70000" is not a number in 1…65535"#)),
        (config(#"ports = { [8080] = "80/sctp" }"#), argument("create_container", #"config.ports: container port "80/sctp" (published on "8080") has protocol "sctp"; use tcp or udp"#)),
        (config("ports = { [8080] = true }"), argument("create_container", #"config.ports["8080"]: expected a string, got boolean"#)),
        (config(#"ports = { "8080:80" }"#), argument("create_container", #"config.ports: "8080:80" (at [1]) looks like compose's "HOST:CONTAINER"; write { ["8080"] = "80" }"#)),
        (config(#"ports = { ["8080:80"] = 80 }"#), argument("create_container", #"config.ports: the key "8080:80" is compose's HOST:CONTAINER; here the key is the host port and the value the container port: write [8080] = 80"#)),
        (config(#"volumes = { ["./data"] = "/data" }"#), argument("create_container", #"config.volumes: host path "./data" is relative; use an absolute path ("/srv/data") or a volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+)"#)),
        (config(#"volumes = { ["/srv"] = "data" }"#), argument("create_container", #"config.volumes: container path "data" (for "/srv") must be absolute, such as "/data""#)),
        (config(#"volumes = { "/srv:/data" }"#), argument("create_container", #"config.volumes: expected a table of HOST = CONTAINER, such as { ["/srv/data"] = "/data" }, but it has the number key 1"#)),
        (config(#"hostname = "-x-""#), argument("create_container", #"config.hostname: "-x-" is not a hostname; use letters, digits and "-" in dot-separated parts of 1 to 63 characters"#)),
        (config(#"networkName = "a b""#), argument("create_container", #"config.networkName: "a b" is not a network name; use letters, digits, "_", "." and "-", starting with a letter or digit"#)),
        (config(#"cmd = "httpd -f""#), argument("create_container", #"config.cmd: expected an array of strings, got string (for a shell command write { "sh", "-c", "…" })"#)),
        (config(#"cmd = { "a", x = "b" }"#), argument("create_container", #"config.cmd: expected an array of strings, but it has the key "x""#)),
        (config("cmd = {}"), argument("create_container", "config.cmd: is empty; leave it out to use the image's own")),
        (config("entrypoint = { {} }"), argument("create_container", "config.entrypoint[1]: expected a string, got table")),
        (config(#"workdir = "srv""#), argument("create_container", #"config.workdir: "srv" must be an absolute path, such as "/srv""#)),
        (config(#"labels = { ["io.heph.managed"] = "no" }"#), argument("create_container", #"config.labels: "io.heph.managed" is reserved for heph (names starting with "io.heph.")"#)),
        (config(#"memory = "lots""#), argument("create_container", #"config.memory: "lots" is not a size; use bytes or a number with k, m or g, such as "256m""#)),
        (config("memory = 1024"), argument("create_container", #"config.memory: "1024" is below the engine's minimum of 6m"#)),
        (config(#"cpus = "half""#), argument("create_container", "config.cpus: expected a number, got string")),
        (config("cpus = -1"), argument("create_container", "config.cpus: -1 is not a CPU count; use a number from 0.01 up, such as 0.5")),
        (config(#"restart = "sometimes""#), argument("create_container", #"config.restart: "sometimes" is not a restart policy; use no, on-failure, on-failure:N, always or unless-stopped"#)),
        (config(#"healthcheck = "true""#), argument("create_container", "config.healthcheck: expected a table, got string")),
        (config("healthcheck = { interval = 1 }"), argument("create_container", "config.healthcheck.test: missing; give a shell command string or an array")),
        (config("healthcheck = { test = true }"), argument("create_container", "config.healthcheck.test: expected a string or an array, got boolean")),
        (config(#"healthcheck = { test = "true", interval = -1 }"#), argument("create_container", "config.healthcheck.interval: -1 is out of range; use seconds from 0.001 to 86400 (0 = the engine's default)")),
        (config(#"healthcheck = { test = "true", retries = 1.5 }"#), argument("create_container", "config.healthcheck.retries: expected a whole number, got 1.5")),
        (config(#"healthcheck = { test = "true", intervall = 1 }"#), argument("create_container", "config.healthcheck.intervall: unknown field; did you mean interval?")),
        // What only a swarm reads is checked on every backend, so a script is right before it moves.
        (config("replicas = 0"), argument("create_container", "config.replicas: 0 is not a task count; use 1 or more (stop a service with heph.stop_container)")),
        (config("replicas = 1.5"), argument("create_container", "config.replicas: expected a whole number, got 1.5")),
        (config(#"placement = { constraints = { "zone" } }"#), argument("create_container", #"config.placement.constraints[1]: "zone" is not a constraint; write ATTRIBUTE == VALUE or ATTRIBUTE != VALUE, such as "node.role == manager""#)),
        (config("placement = { maxreplicas = 1 }"), argument("create_container", "config.placement.maxreplicas: unknown field; did you mean max_replicas?")),
        (config(#"update = { order = "first" }"#), argument("create_container", #"config.update.order: "first" is not an update order; use "stop-first" or "start-first""#)),
        (config("restart_policy = { max_attempts = -1 }"), argument("create_container", "config.restart_policy.max_attempts: -1 is negative; use 0 for no limit")),
        (config(#"endpoint_mode = "rr""#), argument("create_container", #"config.endpoint_mode: "rr" is not an endpoint mode; use "vip" or "dnsrr""#)),
        (config("replicas = 2"), "heph.create_container: config.replicas: 2 tasks need the swarm backend (heph run --swarm, or heph.config.backend = \"swarm\"); this engine runs one container per service"),
        // A string where the list of services belongs: the list meant, not the hint about shell commands.
        ("heph.up({ services = { web = { image = \(image), depends_on = \"db\" } } })", argument("up", #"services.web.depends_on: expected a list of service names, got a string; write depends_on = { "db" }"#)),
        ("heph.up({ services = { web = { image = \(image), depends_on = \"db, cache\" } } })", argument("up", #"services.web.depends_on: expected a list of service names, got a string; write depends_on = { "db", "cache" }"#)),
        ("heph.start_container()", argument("start_container", "string expected, got no value")),
        ("heph.start_container({})", argument("start_container", "string expected, got table")),
        (#"heph.start_container("")"#, argument("start_container", "container name is empty")),
        (#"heph:start_container("x")"#, "test.lua:1: calling 'start_container' on bad self (string expected, got table)"),
        ("heph.start_container(\"\(unknown)\")", "heph.start_container: no such container: heph-\(unknown)"),
        (#"heph.start_container("a/b")"#, #"heph.start_container: no such container: "a/b""#),
        ("heph.stop_container(\"\(unknown)\")", "heph.stop_container: no such container: heph-\(unknown)"),
        (#"heph.stop_container("x", -1)"#, argument("stop_container", "seconds must be a number from 0 to 86400, got -1", number: 2)),
        (#"heph.stop_container("x", "soon")"#, argument("stop_container", "number expected, got string", number: 2)),
        (#"heph.stop_container("x", 1/0)"#, argument("stop_container", "seconds must be a number from 0 to 86400, got inf", number: 2)),
        ("heph.remove_container(true)", argument("remove_container", "string expected, got boolean")),
        ("heph.remove_container(\"\(unknown)\")", "heph.remove_container: no such container: heph-\(unknown)"),
        ("heph.inspect_container(\"\(unknown)\")", "heph.inspect_container: no such container: heph-\(unknown)"),
        ("heph.inspect_container(string.rep(\"x\", 100000))", "heph.inspect_container: no such container: heph-" + String(repeating: "x", count: 100000)),
        ("heph.health_check({})", argument("health_check", "string expected, got table")),
        ("heph.start_health_polling(0, print)", argument("start_health_polling", "seconds must be a number above 0, at most 86400, got 0")),
        (#"heph.start_health_polling(1, "f")"#, argument("start_health_polling", "function expected, got string", number: 2)),
        ("heph.start_health_polling(0.001, print)", argument("start_health_polling", "an interval must be at least 0.01 s, got 0.001")),
        ("heph.every(1e-9, print)", argument("every", "an interval must be at least 0.001 s, got 1e-09")),
        // heph.sleep's argument checks are what is under test: these calls raise, nothing sleeps.
        ("heph.sleep(-1)", argument("sleep", "seconds must be a number from 0 to 86400, got -1")),
        ("heph.sleep()", argument("sleep", "number expected, got no value")),
    ]

    @Test(arguments: cases)
    func raisesACatchableErrorAndTheHostGoesOn(call: String, message: String) async {
        let result = await LuaHarness.run("""
            local ok, err = pcall(function() local result = \(call); return result end)
            print(ok, err)
            print("still running", heph.now() > 0, #heph.VERSION > 0)
            """)
        #expect(result.failure == nil)
        #expect(result.lines == ["false\t\(message)", "still running\ttrue\ttrue"])
    }

    @Test func aTailCallIsNamedLikeLuaNamesIt() async {
        let result = await LuaHarness.run("print(pcall(function() return heph.start_container() end))")
        #expect(result.lines == ["false\tbad argument #1 to 'heph.start_container' (string expected, got no value)"])
    }

    @Test func healthCheckAnswersErrorForAContainerThatDoesNotExist() async {
        let result = await LuaHarness.run("print(heph.health_check(\"\(Self.unknown)\"), heph.health_check(\"a/b\"))")
        #expect(result.lines == ["error\terror"])
    }

    @Test func aPollerHandleChecksItsSelf() async {
        let result = await LuaHarness.run("""
            local p = heph.start_health_polling(60, function() end)
            print(pcall(p.stop))
            print(pcall(p.stop, {}))
            p:stop()
            """)
        #expect(result.lines == [
            "false\tbad argument #1 to 'heph.poller:stop' (heph.poller expected, got no value)",
            "false\tbad argument #1 to 'heph.poller:stop' (heph.poller expected, got table)",
        ])
    }
}

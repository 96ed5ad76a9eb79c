import Foundation
import HephDocker
import HephTestSupport
import Testing

/// Every orchestrator function and every ContainerConfig field through Lua, against the
/// real engine, verified from outside with the docker CLI and from the host.
@Suite(.usesEngine) struct LuaOrchestratorTests {
    static let idle = #"{ "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }"#

    @Test func everyConfigFieldReachesTheEngine() async throws {
        let name = TestNames.unique("lua-all")
        let full = "heph-\(name)"
        let volume = "heph-test-\(name)"
        let port = Fixtures.freePort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("served to lua\n".utf8).write(to: directory.appendingPathComponent("index.html"))
        defer {
            Docker.forceRemove([full])
            Docker.removeVolumes([volume])
            try? FileManager.default.removeItem(at: directory)
        }
        let result = await LuaHarness.run("""
            local name, port, dir, volume = ...
            local id = heph.create_container{
              image = "heph/busybox:latest", name = name,
              env = { GREETING = "hello from lua", NUMBER = 42 },
              ports = { [tonumber(port)] = 80 },
              volumes = { [dir] = "/www:ro", [volume] = "/data" },
              hostname = "lua-host", networkName = heph.NETWORK_NAME,
              entrypoint = { "sh", "-c" },
              cmd = { "trap 'exit 0' TERM; httpd -f -p 80 -h /www & wait" },
              workdir = "/www",
              labels = { team = "ops" },
              memory = "128m", cpus = 0.5, restart = "on-failure:2",
              healthcheck = { test = { "wget", "-q", "-O-", "http://127.0.0.1/" }, interval = 0.5, timeout = 1, retries = 2, start_period = 0.25 },
            }
            heph.start_container(name)
            print(#id)
            """, arguments: [name, String(port), directory.path, volume])
        #expect(result.failure == nil)
        #expect(result.lines == ["64"])

        #expect(try await Docker.output("exec", full, "sh", "-c", #"echo "$GREETING/$NUMBER" $(pwd) $(cat /etc/hostname)"#) == "hello from lua/42 /www lua-host")
        #expect(try await Docker.output("inspect", "-f", "{{json .Config.Entrypoint}} {{json .Config.Cmd}}", full)
            == #"["sh","-c"] ["trap 'exit 0' TERM; httpd -f -p 80 -h /www & wait"]"#)
        #expect(try await Docker.output("inspect", "-f", "{{.HostConfig.NetworkMode}} {{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", full)
            == "heph-network 134217728 500000000 on-failure:2")
        #expect(try await Docker.output("inspect", "-f", "{{index .Config.Labels \"team\"}} {{index .Config.Labels \"io.heph.managed\"}}", full) == "ops true")
        #expect(try await Docker.output("inspect", "-f", "{{json .Config.Healthcheck}}", full)
            == #"{"Test":["CMD","wget","-q","-O-","http://127.0.0.1/"],"Interval":500000000,"Timeout":1000000000,"StartPeriod":250000000,"Retries":2}"#)
        #expect(try await Docker.output("inspect", "-f", "{{range .Mounts}}{{.Type}}:{{.Destination}}:{{.RW}} {{end}}", full)
            .split(separator: " ").sorted() == ["bind:/www:false", "volume:/data:true"])
        #expect(try await Docker.output("volume", "inspect", "-f", "{{index .Labels \"io.heph.managed\"}}", volume) == "true")
        #expect(await Fixtures.httpBody(port: port) == "served to lua\n")
        #expect(await Fixtures.eventually(timeout: .seconds(15)) {
            (try? await Docker.output("inspect", "-f", "{{.State.Health.Status}}", full)) == "healthy"
        })
    }

    @Test func lifecycleListInspectAndHealthThroughLua() async throws {
        let name = TestNames.unique("lua-life")
        let port = Fixtures.freePort()
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = await LuaHarness.run("""
            local name, port = ...
            assert(heph.ping() == true)
            local id = heph.create_container{
              image = "heph/busybox:latest", name = name, cmd = \(Self.idle),
              ports = { [port] = "80" }, labels = { team = "lua" },
              healthcheck = { test = "true", interval = 0.5, retries = 1 },
            }
            print("created", heph.health_check(name))
            heph.start_container(name)
            heph.start_container("heph-" .. name)   -- running already: fine
            for _ = 1, 60 do
              if heph.health_check(name) == "healthy" then break end
              heph.sleep(0.25)  -- the poll's interval: waits for the condition, to a deadline (60 looks)
            end
            print("health", heph.health_check(id))
            local info = heph.inspect_container(name)
            print(info.id == id, info.name, info.image, info.status, info.ports[port])
            print(info.exit_code, info.oom_killed, info.restart_count, type(info.started_at), info.finished_at)
            print(info.labels.team, info.labels["io.heph.managed"], #info.hostname > 0)
            print(info.health.status, info.health.failing_streak, info.health.log[1].exit_code, type(info.health.log[1].at))
            local listed
            local list = heph.list_containers()
            for i, c in ipairs(list) do
              if c.name == "heph-" .. name then listed = c end
              if i > 1 then assert(list[i - 1].name < c.name, "sorted by name") end
            end
            print(listed.id == id, listed.status, listed.ports[port], listed.exit_code)
            heph.stop_container(name, 1)
            print("stopped", heph.health_check(name), heph.inspect_container(id).exit_code)
            heph.stop_container(name)   -- stopped already: fine
            heph.remove_container(id:sub(1, 12))
            print("removed", heph.health_check(name))
            """, arguments: [name, String(port)])
        #expect(result.failure == nil)
        #expect(result.lines == [
            "created\tcreated",
            "health\thealthy",
            "true\theph-\(name)\theph/busybox:latest\thealthy\t80",
            "0\tfalse\t0\tnumber\tnil",
            "lua\ttrue\ttrue",
            "healthy\t0\t0\tnumber",
            "true\thealthy\t80\tnil",
            "stopped\tstopped\t0",
            "removed\terror",
        ])
        #expect(try await Docker.run("inspect", "heph-\(name)").status != 0)
        #expect(result.mainStackDepth == 0)
    }

    @Test func createNetworkReturnsTheEnginesID() async throws {
        let result = await LuaHarness.run("print(heph.create_network()); print(heph.create_network())")
        #expect(result.lines.count == 2)
        #expect(result.lines.first == result.lines.last)
        // Parallel tests may be creating it this very moment; duplicates settle on this one.
        #expect(await Fixtures.eventually(timeout: .seconds(5)) {
            (try? await Docker.output("network", "ls", "-q", "--no-trunc", "--filter", "name=^heph-network$")) == result.lines.first
        })
    }

    @Test func engineFailuresStartWithTheFunctionsName() async throws {
        let name = TestNames.unique("lua-twice")
        let missing = "/nonexistent/\(name)"
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = await LuaHarness.run("""
            local name, missing = ...
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = \(Self.idle) }
            print(pcall(heph.create_container, { image = "heph/busybox:latest", name = name }))
            print(pcall(heph.create_container, { image = "heph/busybox:latest", name = name .. "-2", volumes = { [missing] = "/data" } }))
            print(pcall(heph.create_container, { image = "heph/not-here:" .. name, name = name .. "-3" }))
            """, arguments: [name, missing])
        #expect(result.lines.count == 3)
        #expect(result.lines[0] == "false\theph.create_container: a container named heph-\(name) already exists; remove it first or choose another name")
        #expect(result.lines[1] == "false\t" + #"heph.create_container: config.volumes: host path "\#(missing)" does not exist on the engine's host; create it first (bind mounts are never created for you)"#)
        #expect(result.lines[2].hasPrefix("false\t" + #"heph.create_container: image "heph/not-here:\#(name)" is not available locally and could not be pulled: "#))
    }

    @Test func healthPollingHandsSnapshotsToTheScript() async throws {
        let name = TestNames.unique("lua-poll")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        let result = await LuaHarness.run("""
            local name = ...
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = \(Self.idle) }
            local seen, started = {}, heph.now()
            local poller
            poller = heph.start_health_polling(0.2, function(statuses)
              seen[#seen + 1] = statuses["heph-" .. name]
              if #seen == 1 then heph.start_container(name) end
              if statuses["heph-" .. name] == "running" then
                print("first", seen[1], "then", statuses["heph-" .. name], #seen >= 2)
                poller:stop()
              end
            end)
            """, arguments: [name])
        #expect(result.failure == nil)
        #expect(result.lines == ["first\tcreated\tthen\trunning\ttrue"])
        #expect(result.diagnostics.isEmpty)
    }

    @Test func everyBridgeCallIsStackChecked() async throws {
        let name = TestNames.unique("lua-stack")
        defer { Docker.forceRemove(["heph-\(name)"]) }
        // Each function, succeeding and failing, in a loop: an unbalanced stack would raise.
        let result = await LuaHarness.run("""
            local name = ...
            for i = 1, 20 do
              heph.now()
              pcall(heph.create_container, { image = 1, name = {} })
              pcall(heph.start_container, {})
              pcall(heph.stop_container, "x", -1)
              print(heph.health_check("missing-" .. i))
            end
            heph.create_container{ image = "heph/busybox:latest", name = name, cmd = \(Self.idle) }
            heph.start_container(name)
            heph.inspect_container(name)
            heph.list_containers()
            heph.stop_container(name, 0)
            heph.remove_container(name)
            heph.sleep(0)  -- sleeping is the behaviour under test: a waiting call that suspends and resumes, counted
            local p = heph.start_health_polling(60, function() end)
            p:stop()
            """, arguments: [name])
        #expect(result.failure == nil)
        // 20 × (now, 3 failing starts, health_check's start and its write) + 8 calls + the
        // waits in between: the trampoline checked at least this many returns.
        #expect(result.bridgeCalls >= 20 * 3 + 8)
        #expect(result.mainStackDepth == 0)
        #expect(result.lines.count == 20)
    }
}

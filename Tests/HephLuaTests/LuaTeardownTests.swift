import HephTestSupport
import Testing

/// `teardown_all` and `remove_network` act on every managed resource: this suite owns the engine.
@Suite(.ownsEngine) struct LuaTeardownTests {
    @Test func teardownAllAndRemoveNetworkThroughLua() async throws {
        let names = [TestNames.unique("lua-td-a"), TestNames.unique("lua-td-b")]
        let foreign = "heph-\(TestNames.unique("lua-foreign"))"
        defer { Docker.forceRemove(names.map { "heph-\($0)" } + [foreign]) }
        try await Docker.output("run", "-d", "--name", foreign, Fixtures.image, "sleep", "300")
        let result = await LuaHarness.run("""
            local a, b = ...
            local idle = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }
            heph.create_container{ image = "heph/busybox:latest", name = a, cmd = idle }
            heph.create_container{ image = "heph/busybox:latest", name = b, cmd = idle }
            heph.start_container(a)
            print(pcall(heph.remove_network))
            print(heph.teardown_all())
            print(#heph.list_containers(), heph.health_check(a), heph.health_check(b))
            heph.create_network()
            heph.remove_network()
            heph.remove_network()
            print("network removed twice")
            """, arguments: names)
        #expect(result.failure == nil)
        #expect(result.lines == [
            "false\theph.remove_network: network heph-network still has containers attached (heph-\(names[0])); remove them first",
            "",
            "0\terror\terror",
            "network removed twice",
        ])
        #expect(try await Docker.managedContainers().isEmpty)
        #expect(try await Docker.output("network", "ls", "-q", "--filter", "name=^heph-network$").isEmpty)
        #expect(try await Docker.output("inspect", "-f", "{{.State.Status}}", foreign) == "running")
    }

    @Test func downTearsDownWhatUpBroughtUpAndItsStopsAreExpected() async throws {
        let (db, web) = (TestNames.unique("down-db"), TestNames.unique("down-web"))
        defer { Docker.forceRemove(["heph-\(db)", "heph-\(web)"]) }
        let result = await LuaHarness.run("""
            local db, web = ...
            local idle = { "sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait" }
            local removed = {}
            heph.on("removed", function(ev) removed[#removed + 1] = tostring(ev.by) end)
            heph.up{ services = { [db] = { image = "heph/busybox:latest", cmd = idle },
                                  [web] = { image = "heph/busybox:latest", cmd = idle, depends_on = { db } } } }
            print(#heph.list_containers())
            heph.down()
            local done = heph.now() + 5
            while #removed < 2 and heph.now() < done do heph.sleep(0.05) end  -- the poll's interval: waits for the condition, to a deadline
            print(#heph.list_containers(), table.concat(removed, ","))
            heph.exit(0)
            """, arguments: [db, web])
        #expect(result.lines == ["2", "0\tdown,down"])
        #expect(try await Docker.output("network", "ls", "-q", "--filter", "name=^heph-network$").isEmpty)
    }
}

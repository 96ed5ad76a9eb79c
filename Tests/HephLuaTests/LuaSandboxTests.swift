import Foundation
import HephDocker
import HephLua
import HephTestSupport
import Testing

/// `heph run --sandbox`: what a script you did not write cannot do.
@Suite(.usesEngine) struct LuaSandboxTests {
    @Test func noProcessesFilesEnvironmentDebugOrCModules() async {
        let result = await LuaHarness.run("""
            print(os.execute, io.popen, io.open, io.lines, os.getenv, os.remove, debug, package.loaded.debug, dofile, loadfile, package.loadlib)
            print(pcall(require, "cjson"))
            print(select(2, load(string.dump(function() end))))
            print(load("return 40 + 2")(), type(io.write), type(os.time), type(require), type(os.exit))
            print(pcall(heph.shell, "echo escaped"))
            """, sandbox: SandboxPolicy())
        #expect(result.failure == nil)
        let lines = result.lines
        #expect(lines.first == Array(repeating: "nil", count: 11).joined(separator: "\t"))
        #expect(lines.dropFirst().first?.hasPrefix("false\tmodule 'cjson' not found:") == true)
        #expect(lines.contains("attempt to load a binary chunk (mode is 't')"))
        #expect(lines.contains("42\tfunction\tfunction\tfunction\tfunction"))  // os.exit stays, as heph.exit
        #expect(lines.last == "false\theph.shell: not available in a sandbox (heph run --sandbox)")
    }

    @Test func bindMountsOnlyFromAllowedDirectories() async throws {
        let allowed = FileManager.default.temporaryDirectory.appendingPathComponent(TestNames.unique("allowed")).path
        try FileManager.default.createDirectory(atPath: allowed + "/data", withIntermediateDirectories: true)
        let (inside, outside, sneaky, upped) = (TestNames.unique("sb-in"), TestNames.unique("sb-out"), TestNames.unique("sb-dots"), TestNames.unique("sb-up"))
        let volume = "heph-\(TestNames.unique("sb-vol"))"
        defer {
            Docker.forceRemove([inside, outside, sneaky, upped].map { "heph-\($0)" })
            Docker.removeVolumes([volume])
            try? FileManager.default.removeItem(atPath: allowed)
        }
        let result = await LuaHarness.run("""
            local allowed, inside, outside, sneaky, upped, volume = ...
            local function create(name, host)
              return pcall(heph.create_container, { image = "heph/busybox:latest", name = name, volumes = { [host] = "/mnt" } })
            end
            print((create(inside, allowed .. "/data")))
            print(select(2, create(outside, "/etc")))
            print((create(sneaky, allowed .. "/../../etc")))
            print(select(2, pcall(heph.up, { services = { [upped] = { image = "heph/busybox:latest", volumes = { ["/"] = "/host" } } } })))
            print((pcall(heph.create_container, { image = "heph/busybox:latest", name = outside, volumes = { [volume] = "/data" } })))
            """, arguments: [allowed, inside, outside, sneaky, upped, volume], sandbox: SandboxPolicy(mounts: MountPolicy(allowing: [allowed])))
        #expect(result.failure == nil)
        #expect(result.lines.count == 5)
        #expect(result.lines.first == "true")
        #expect(result.lines.dropFirst().first == "heph.create_container: config.volumes: bind mount \"/etc\" is outside the directories --allow-mount allows (allowed: \(MountPolicy(allowing: [allowed]).allowed[0])); a sandboxed script may only mount those, or named volumes")
        #expect(result.lines.dropFirst(2).first == "false")
        #expect(result.lines.dropFirst(3).first?.hasPrefix("heph.up: services.\(upped).volumes: bind mount \"/\" is outside") == true)
        #expect(result.lines.last == "true")  // named volumes are fine
        #expect(try await Docker.output("inspect", "-f", "{{.Name}}", "heph-\(inside)") == "/heph-\(inside)")
        for name in [sneaky, upped] { #expect(try await Docker.run("inspect", "heph-\(name)").status != 0) }
    }
}

import Foundation
import HephTestSupport
import Testing

/// Scripts that misbehave on purpose, run as a user runs them: each ends in a clear error
/// or keeps the loop going, and never takes the host down.
@Suite struct HostileScriptTests {
    typealias Run = EventLoopCommandTests.Run

    static func script(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(TestNames.unique("hostile")).lua").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: [
        ("error({ code = 7 })", ":1: (error object is a table value)"),
        ("error()", ":1: (error object is a nil value)"),
        ("error(setmetatable({}, { __tostring = function() return 'custom' end }))", ":1: custom"),
        ("local function f() return 1 + f() end\nf()", ":1: stack overflow"),
        ("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1e6) end", ":1: not enough memory"),
    ])
    func aHostileMainChunkEndsWithAClearError(code: String, message: String) async throws {
        let path = try Self.script(code)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await HephBinary.run(["run", "--memory-limit", "256", path])
        #expect(result.status == 1, "\(result.stderr.prefix(500))")
        #expect(result.stderr.hasPrefix(path + message), "\(result.stderr.prefix(500))")
    }

    @Test func hostileCallbacksAreReportedAndTheLoopGoesOn() async throws {
        let path = try Self.script("""
            heph.after(0, function() error({}) end)
            heph.after(0.05, function() error() end)
            heph.after(0.1, function() local function f() return 1 + f() end f() end)
            heph.after(0.15, function() local t = {} for i = 1, 1e9 do t[i] = string.rep("y", 1e6) end end)
            heph.after(0.6, function() print("the loop survived"); heph.exit(0) end)
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try await HephBinary.run(["run", "--memory-limit", "256", path])
        #expect(result.status == 0, "\(result.stderr.prefix(800))")
        #expect(result.stdout == "the loop survived\n")
        for message in ["(error object is a table value)", "(error object is a nil value)", "stack overflow", "not enough memory"] {
            #expect(result.stderr.contains(message), "\(message) is not reported")
        }
    }

    @Test func sigintInterruptsAnEndlessLoopAtTheTopLevel() async throws {
        let path = try Self.script("""
            heph.on_shutdown(function() print("handler ran") end)
            print("spinning")
            while true do end
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try Run([path])
        #expect(await run.waitFor("spinning"))
        run.signal(SIGINT)
        #expect(await run.status(timeout: .seconds(5)) == 130)
        #expect(run.stdout == "spinning\nhandler ran\n")
    }
}

import Foundation
import HephTestSupport
import Testing

/// Every `heph.*` function called 10,000 times with random Lua values, hostile tables among
/// them (Tests/Fixtures/fuzz.lua), each call in a callback under a 0.05 s time limit,
/// against `heph check --sandbox`'s dry run: the host never crashes, every call ends (it
/// returns, raises a Lua error string that `pcall` caught, or is stopped by the limit).
@Suite struct FuzzTests {
    @Test(arguments: 1...5)
    func tenThousandRandomCallsNeverCrashTheHost(seed: Int) async throws {
        let fixture = HephBinary.repositoryRoot + "/Tests/Fixtures/fuzz.lua"
        let result = try await HephBinary.run(["check", "--sandbox", fixture, "10000", String(seed)])
        #expect(result.status == 0, "\(result.stdout.suffix(2000))\(result.stderr.suffix(2000))")
        let summary = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("calls=") })
        let fields = Dictionary(uniqueKeysWithValues: summary.split(separator: " ").map { field in
            let parts = field.split(separator: "=")
            return (String(parts[0]), Int(parts[1]) ?? -1)
        })
        #expect(fields["calls"] == 10000)
        #expect(fields["pending"] == 0)  // every call ended: returned, raised, or stopped and closed
        #expect((fields["ok"] ?? 0) + (fields["failed"] ?? 0) + (fields["stopped"] ?? 0) == 10000)
        #expect(fields["bad"] == 0, "\(result.stdout.prefix(2000))")
        #expect((fields["ok"] ?? 0) > 0 && (fields["failed"] ?? 0) > 0)  // both paths exercised
        #expect((fields["functions"] ?? 0) >= 30)
    }
}

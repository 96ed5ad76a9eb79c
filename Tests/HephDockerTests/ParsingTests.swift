import Foundation
@testable import HephDocker
import Testing

/// The small parsers under the config validation and the engine's answers.
@Suite struct ParsingTests {
    @Test(arguments: [
        ("heph/busybox", "heph/busybox", nil, nil, "latest"),
        ("heph/busybox:1.36", "heph/busybox", "1.36", nil, "1.36"),
        ("localhost:5000/app", "localhost:5000/app", nil, nil, "latest"),
        ("Registry.Example:5000/team/app:v2", "Registry.Example:5000/team/app", "v2", nil, "v2"),
        ("app@sha256:abc123", "app", nil, "sha256:abc123", "sha256:abc123"),
    ] as [(String, String, String?, String?, String)])
    func imageReferences(text: String, repository: String, tag: String?, digest: String?, pullTag: String) throws {
        let reference = try ImageReference.parse(text).get()
        #expect(reference.repository == repository)
        #expect(reference.tag == tag)
        #expect(reference.digest == digest)
        #expect(reference.pullTag == pullTag)
    }

    @Test(arguments: [
        ("268435456", Int64(268_435_456)), ("256m", 268_435_456), ("256MB", 268_435_456), ("256MiB", 268_435_456),
        ("1.5g", 1_610_612_736), ("512k", 524_288), ("1t", 1_099_511_627_776),
    ] as [(String, Int64)])
    func memorySizes(text: String, bytes: Int64) {
        #expect(MemoryLimit.bytes(text) == bytes)
    }

    @Test(arguments: ["", "m", "lots", "-5m", "1e3", "99999999999999999999t", "1..2m"])
    func notMemorySizes(text: String) {
        #expect(MemoryLimit.bytes(text) == nil)
    }

    @Test func timestamps() {
        #expect(EngineTimestamp.unixSeconds("2026-11-29T04:01:02.5Z") == 1_795_924_862.5)
        #expect(EngineTimestamp.unixSeconds("2026-11-29T05:01:02.5+01:00") == 1_795_924_862.5)
        #expect(EngineTimestamp.unixSeconds("2026-11-29T04:01:02.123456789Z").map { abs($0 - 1_795_924_862.123456789) < 1e-6 } == true)
        #expect(EngineTimestamp.unixSeconds("0001-01-01T00:00:00Z") == nil)
        #expect(EngineTimestamp.unixSeconds("yesterday") == nil)
    }

    @Test func statusesFollowTheSpecTable() {
        #expect(ContainerStatus(engineState: "created", health: nil) == .created)
        #expect(ContainerStatus(engineState: "running", health: "healthy") == .healthy)
        #expect(ContainerStatus(engineState: "running", health: "unhealthy") == .unhealthy)
        #expect(ContainerStatus(engineState: "running", health: "starting") == .running)
        #expect(ContainerStatus(engineState: "running", health: nil) == .running)
        #expect(ContainerStatus(engineState: "exited", health: nil) == .stopped)
        #expect(ContainerStatus(engineState: "dead", health: nil) == .stopped)
        for state in ["paused", "restarting", "removing", ""] {
            #expect(ContainerStatus(engineState: state, health: "healthy") == .error)
        }
        #expect(ContainerStatus(engineState: "running", statusText: "Up 3 seconds (healthy)") == .healthy)
        #expect(ContainerStatus(engineState: "running", statusText: "Up 1 second (unhealthy)") == .unhealthy)
        #expect(ContainerStatus(engineState: "running", statusText: "Up 2 seconds (health: starting)") == .running)
        #expect(ContainerStatus.allCases.count == 6)
    }

    @Test func names() {
        #expect(ContainerName.full("web") == "heph-web")
        #expect(ContainerName.full("heph-web") == "heph-web")
        #expect(ContainerName.short("heph-web") == "web")
        #expect(ContainerName.isIDPrefix("0123456789ab"))
        #expect(!ContainerName.isIDPrefix("0123456789a"))
        #expect(!ContainerName.isIDPrefix("web-0123456789"))
    }

    @Test func quotedValuesAreEscapedAndCut() {
        #expect(quoted("a\"b\\c\nd\u{1}") == #""a\"b\\c\nd\1""#)
        #expect(quoted(String(repeating: "x", count: 100)) == "\"" + String(repeating: "x", count: 48) + "…\"")
        #expect(formatted(0) == "0")
        #expect(formatted(0.25) == "0.25")
    }

    @Test func theCreateBodyGroupsPortsAndLabelsVolumes() throws {
        let creation = try ContainerConfig(
            image: "heph/busybox:latest", name: "web", env: ["B": "2", "A": "1"],
            ports: ["8080": "80", "127.0.0.1:8081": "80"], volumes: ["/srv": "/data:ro", "cache": "/cache"]
        ).engineCreation()
        #expect(creation.fullName == "heph-web")
        #expect(creation.network == "heph-network")
        #expect(creation.body.Env == ["A=1", "B=2"])
        #expect(Set(creation.body.HostConfig.PortBindings["80/tcp"] ?? []) == [
            EnginePortBinding(HostIp: nil, HostPort: "8080"), EnginePortBinding(HostIp: "127.0.0.1", HostPort: "8081"),
        ])
        #expect(creation.body.ExposedPorts.keys.sorted() == ["80/tcp"])
        #expect(creation.body.Labels.keys.sorted() == ["io.heph.config-hash", "io.heph.managed", "io.heph.project"])
        #expect(creation.body.Labels["io.heph.project"] == "default")
        #expect(creation.body.Labels["io.heph.managed"] == "true")
        #expect(creation.body.NetworkingConfig.EndpointsConfig["heph-network"]?.Aliases == ["web"])
        let mounts = creation.body.HostConfig.Mounts
        #expect(mounts.map(\.Type) == ["bind", "volume"])
        #expect(mounts[0].ReadOnly && mounts[0].Source == "/srv" && mounts[0].Target == "/data")
        #expect(mounts[1].VolumeOptions?.Labels == ["io.heph.managed": "true", "io.heph.project": "default"])
    }

    @Test func aWatchersStartIsWrittenInUTCWithoutTheTimeZoneFiles() {
        // Checked against Python's datetime.fromtimestamp(t, UTC), around leap days and 1970.
        #expect(WatcherIdentity.iso8601(unixSeconds: 0) == "1970-01-01T00:00:00Z")
        #expect(WatcherIdentity.iso8601(unixSeconds: 951_782_400) == "2000-02-29T00:00:00Z")
        #expect(WatcherIdentity.iso8601(unixSeconds: 1_796_143_572) == "2026-12-01T16:46:12Z")
        #expect(WatcherIdentity.iso8601(unixSeconds: 4_107_542_399) == "2100-02-28T23:59:59Z")
        #expect(WatcherIdentity.iso8601(unixSeconds: -1) == "1969-12-31T23:59:59Z")
        // And Foundation's formatter agrees, over two centuries.
        let formatter = ISO8601DateFormatter()
        for seconds in stride(from: -2_000_000_000, to: 5_000_000_000, by: 97_654_321) {
            #expect(WatcherIdentity.iso8601(unixSeconds: seconds) == formatter.string(from: Date(timeIntervalSince1970: Double(seconds))))
        }
    }

    @Test func theEnginesDateHeaderIsReadAsUnixSeconds() {
        // Checked against Python's calendar.timegm, around a leap day and today.
        #expect(EngineResponse.unixSeconds(httpDate: "Mon, 30 Nov 2026 09:24:27 GMT") == 1_796_030_667)
        #expect(EngineResponse.unixSeconds(httpDate: "Sat, 29 Feb 2020 23:59:59 GMT") == 1_583_020_799)
        #expect(EngineResponse.unixSeconds(httpDate: "Sun, 01 Mar 2020 00:00:00 GMT") == 1_583_020_800)
        #expect(EngineResponse.unixSeconds(httpDate: "Thu, 01 Jan 1970 00:00:00 GMT") == 0)
        for wrong in ["", "Mon, 30 Nov 2026 09:24:27 CET", "Mon, 30 Foo 2026 09:24:27 GMT", "Mon, 30 Nov 2026 09:24 GMT"] {
            #expect(EngineResponse.unixSeconds(httpDate: wrong) == nil, "\(wrong)")
        }
    }
}

import HephTestSupport
import Testing

/// `heph.http.request` against a real HTTP server on loopback (``HTTPRecorder``): what is
/// sent arrives as sent, answers come back whole, failures are answers and never block
/// the loop. (TLS and the sandbox's allow list: `PluginCommandTests`, through the binary.)
@Suite struct LuaHTTPTests {
    @Test func aPostArrivesAsSentAndItsAnswerComesBack() async throws {
        let server = try await HTTPRecorder()
        defer { server.stop() }
        let result = await LuaHarness.run("""
            local url = ...
            local status, body, headers = heph.http.request{ method = "post", url = url .. "/hooks/one", body = heph.json.encode({ name = "web", code = 137 }),
              headers = { ["Content-Type"] = "application/json", ["X-Token"] = "abc" }, timeout = 5 }
            print(status, body, headers["x-recorder"], headers["content-type"], math.type(status))
            local code, text, fields = heph.http.request{ url = url .. "/status/503" }
            print(code, text, type(fields))
            print((heph.http.request{ url = url .. "/bytes", body = "caf\\xe9" }))
            """, arguments: [server.url()])
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(Array(result.lines.prefix(2)) == ["200\tok\tyes\ttext/plain\tinteger", "503\tstatus 503\ttable"])
        #expect(result.lines.last == "200")
        let requests = server.requests
        try #require(requests.count == 3, "\(requests)")
        #expect(requests[0].method == "POST" && requests[0].path == "/hooks/one")
        #expect(requests[0].body == #"{"code":137,"name":"web"}"#)
        #expect(requests[0].headers["content-type"] == "application/json" && requests[0].headers["x-token"] == "abc")
        #expect(requests[1].method == "GET" && requests[1].body.isEmpty)
        #expect(requests[2].headers["content-length"] == "4")
    }

    @Test func noAnswerInTimeAndNoServerAreAnswersAndTheLoopGoesOnMeanwhile() async throws {
        let server = try await HTTPRecorder()
        defer { server.stop() }
        let closed = Fixtures.freePort()
        let result = await LuaHarness.run("""
            local url, closed = ...
            local ticks = 0
            local ticker = heph.every(0.05, function() ticks = ticks + 1 end)
            local started = heph.now()
            print(heph.http.request{ method = "POST", url = url .. "/slow/3", timeout = 0.5 })
            local waited = heph.now() - started
            -- The timer ran while the request waited (a loaded machine runs it less often).
            print(waited >= 0.5 and waited < 10, ticks >= 1)
            print(heph.http.request{ url = "http://127.0.0.1:" .. closed .. "/" })
            ticker:stop()
            """, arguments: [server.url(), String(closed)])
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(result.lines == [
            "nil\theph.http.request: POST \(server.url("/slow/3")): no answer within 0.5 s",
            "true\ttrue",
            "nil\theph.http.request: GET http://127.0.0.1:\(closed)/: connection refused",
        ])
    }

    @Test func aRequestThatIsWrongNamesTheFieldBeforeAnythingIsSent() async throws {
        let cases: [(String, String)] = [
            ("{}", #"request.url: required, such as "https://hooks.example/ops""#),
            (#"{ url = "ftp://x/" }"#, #"request.url must be an http:// or https:// URL, such as "https://hooks.example/ops"; got "ftp://x/""#),
            (#"{ url = "http://user:pw@x/" }"#, #"request.url "http://user:pw@x/" holds a user or password; send credentials in a header (such as Authorization) instead"#),
            (#"{ url = "http://x/", method = "GET X" }"#, #"request.method: "GET X" is not an HTTP method; use one such as "GET" or "POST""#),
            (#"{ url = "http://x/", headers = { ["X-A"] = "a\nb" } }"#, #"request.headers["X-A"]: a header value cannot hold a line break or a NUL byte"#),
            (#"{ url = "http://x/", headers = { ["bad name"] = "a" } }"#, #"request.headers: "bad name" is not a header name"#),
            (#"{ url = "http://x/", timeout = 0 }"#, "request.timeout: seconds above 0 and at most 3600, got 0"),
            (#"{ url = "http://x/", body = { a = 1 } }"#, "request.body: expected a string (heph.json.encode makes one of a table), got table"),
            (#"{ url = "http://x/", bdy = "x" }"#, "request.bdy: unknown field; did you mean body?"),
        ]
        let code = cases.map { "print(select(2, pcall(heph.http.request, \($0.0))))" }.joined(separator: "\n")
        let result = await LuaHarness.run(code + "\nprint(select(2, pcall(heph.http.request, 'http://x/')))")
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(Array(result.lines.dropLast()) == cases.map { "bad argument #1 to 'heph.http.request' (\($0.1))" })
        #expect(result.lines.last == "bad argument #1 to 'heph.http.request' (table expected, got string)")
    }
}

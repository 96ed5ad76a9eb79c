import CLua
import HephDocker
import HephServe

extension HephFunction {
    /// `heph.http.request` (the prelude moves it into `heph.http`): a network failure is
    /// an answer (nil, message); a host the sandbox does not allow is an error.
    static let httpRequestCall: HephFunction = .waiting("http_request", qualifiedName: "heph.http.request", usesEngine: false) { stack throws(BridgeError) -> Operation in
        let request = try httpRequest(stack, arg: 1)
        return { (context: OperationContext) async throws -> [LuaValue] in
            if let allowed = context.sandbox?.http, !allowed.permits(request.target) { throw OutboundHTTPError(allowed.refusal(request.target)) }
            do throws(OutboundHTTPError) {
                return luaValues(of: try await OutboundHTTP.send(request))
            } catch {
                return [.nil, .string("heph.http.request: \(error.message)")]
            }
        }
    }

    /// How long `heph.http.request` waits when the request names no `timeout`.
    static let defaultHTTPTimeout: Double = 30

    /// The request table of `heph.http.request{ method, url, headers, body, timeout }`,
    /// checked: every field's error names it.
    static func httpRequest(_ stack: LuaStack, arg: Int32) throws(BridgeError) -> OutboundRequest {
        try stack.checkTable(arg)
        let reader = LuaTableReader(stack: stack, table: stack.absolute(arg), path: "request")
        do throws(FieldError) {
            try reader.rejectUnknownFields(known: ["method", "url", "headers", "body", "timeout"])
            guard let url = try reader.string("url") else {
                throw FieldError(message: "request.url: required, such as \"https://hooks.example/ops\"")
            }
            let target: OutboundTarget
            do { target = try OutboundTarget(url: url) } catch { throw FieldError(message: "request.\(error.message)") }
            let method = (try reader.string("method") ?? "GET").uppercased()
            guard !method.isEmpty, method.utf8.allSatisfy({ (65...90).contains($0) || $0 == 45 }) else {
                throw FieldError(message: "request.method: \(quoted(method)) is not an HTTP method; use one such as \"GET\" or \"POST\"")
            }
            let headers = try reader.stringMap("headers", hint: "of header name = value").sorted { $0.key < $1.key }
            for (name, value) in headers {
                guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 58 }) else {
                    throw FieldError(message: "request.headers: \(quoted(name)) is not a header name")
                }
                guard !value.utf8.contains(where: { $0 == 10 || $0 == 13 || $0 == 0 }) else {
                    throw FieldError(message: "request.headers[\(quoted(name))]: a header value cannot hold a line break or a NUL byte")
                }
            }
            let timeout = try reader.number("timeout") ?? defaultHTTPTimeout
            guard timeout > 0, timeout <= 3600 else {
                throw FieldError(message: "request.timeout: seconds above 0 and at most 3600, got \(formatted(timeout))")
            }
            let body = try httpBody(reader)
            return OutboundRequest(method: method, target: target, headers: headers.map { ($0.key, $0.value) }, body: body, timeout: .milliseconds(Int64((timeout * 1000).rounded())))
        } catch {
            throw .argument(arg, error.message)
        }
    }

    /// `request.body`: a string of any bytes, or nil.
    private static func httpBody(_ reader: LuaTableReader) throws(FieldError) -> [UInt8]? {
        let stack = reader.stack
        defer { stack.pop() }
        switch stack.rawField(reader.table, "body") {
        case LUA_TNIL:
            return nil
        case LUA_TSTRING:
            return stack.bytes(at: -1).map { Array($0) }
        default:
            throw FieldError(message: "request.body: expected a string (heph.json.encode makes one of a table), got \(stack.typeName(at: -1))")
        }
    }

    /// What `heph.http.request` returns for `response`: `status, body, headers` (header
    /// names in lower case; a field received more than once, its values joined by ", ").
    static func luaValues(of response: OutboundResponse) -> [LuaValue] {
        var headers: [String: String] = [:]
        for (name, value) in response.headers {
            let key = name.lowercased()
            headers[key] = headers[key].map { "\($0), \(value)" } ?? value
        }
        return [.integer(response.status), .bytes(response.body), .record(headers.mapValues { .string($0) })]
    }
}

import Foundation

/// One HTTP request a script sends (`heph.http.request`), checked before it is sent.
public struct OutboundRequest: Sendable {
    /// `GET`, `POST`, … (upper case).
    public var method: String
    /// Where it goes.
    public var target: OutboundTarget
    /// Header fields in the order given.
    public var headers: [(name: String, value: String)]
    /// The body; nil sends none.
    public var body: [UInt8]?
    /// How long the whole exchange may take: connecting, sending, and the whole answer.
    public var timeout: Duration

    /// A request, as given.
    public init(method: String, target: OutboundTarget, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil, timeout: Duration) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// An `http://` or `https://` URL, taken apart.
public struct OutboundTarget: Sendable, Hashable {
    /// The URL as given.
    public let url: String
    /// `http` or `https`.
    public let scheme: String
    /// The host, lower case, without the brackets of an IPv6 address.
    public let host: String
    /// The port, explicit or the scheme's.
    public let port: Int

    /// Parses `url`; throws a message saying what is wrong with it (for an error that names
    /// the field).
    public init(url: String) throws(OutboundHTTPError) {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw OutboundHTTPError("url must be an http:// or https:// URL, such as \"https://hooks.example/ops\"; got \(quotedURL(url))")
        }
        guard let host = parts.host, !host.isEmpty else {
            throw OutboundHTTPError("url \(quotedURL(url)) names no host")
        }
        if parts.user != nil || parts.password != nil {
            throw OutboundHTTPError("url \(quotedURL(url)) holds a user or password; send credentials in a header (such as Authorization) instead")
        }
        let port = parts.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw OutboundHTTPError("url \(quotedURL(url)): port \(port) is not from 1 to 65535") }
        self.url = url
        self.scheme = scheme
        self.host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        self.port = port
    }
}

/// What came back.
public struct OutboundResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Header fields as received, in order.
    public var headers: [(name: String, value: String)]
    /// The whole body.
    public var body: [UInt8]
}

/// A request that could not be sent or answered, or a request that is malformed.
public struct OutboundHTTPError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for a person.
    public let message: String

    /// An error saying `message`.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// A URL in a message: quoted, and shortened when long.
func quotedURL(_ url: String) -> String {
    let shown = url.count > 120 ? String(url.prefix(120)) + "…" : url
    return "\"" + shown.replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

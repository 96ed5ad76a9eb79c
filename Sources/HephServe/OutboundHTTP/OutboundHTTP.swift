import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Sends the HTTP requests scripts make (`heph.http.request`): one client for the process,
/// HTTP/1.1 and TLS, redirects not followed (a 3xx comes back as it is, so a sandboxed
/// script cannot be led to a host it may not reach), every request bounded by its timeout
/// from connecting to the last byte of the answer. A connection that cannot be made fails
/// the request at once: the caller decides whether to try again.
///
/// TLS verifies the server against the system's trust store, or against the certificates
/// in `$SSL_CERT_FILE` when that is set (as curl and OpenSSL read it).
public enum OutboundHTTP {
    /// The largest answer kept: a larger one is a failure, not a truncated body.
    public static let maximumBodyBytes = 16 * 1024 * 1024

    private static let client: HTTPClient = {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = ProcessInfo.processInfo.environment["SSL_CERT_FILE"], !file.isEmpty, FileManager.default.isReadableFile(atPath: file) {
            tls.trustRoots = .file(file)
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.decompression = .disabled
        // A refused connection is an answer at once: the plugin decides whether to try
        // again (AsyncHTTPClient would keep trying until the connect timeout, 10 s).
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Sends `request` and returns the whole answer; throws ``OutboundHTTPError`` saying why
    /// there is none (refused, timed out, a TLS failure, too large). Cancelling the task
    /// abandons the request.
    public static func send(_ request: OutboundRequest) async throws(OutboundHTTPError) -> OutboundResponse {
        var outbound = HTTPClientRequest(url: request.target.url)
        outbound.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outbound.headers.add(name: name, value: value) }
        if let body = request.body { outbound.body = .bytes(ByteBuffer(bytes: body)) }
        let deadline = NIODeadline.now() + .nanoseconds(Int64(request.timeout / .nanoseconds(1)))
        do {
            let response = try await client.execute(outbound, deadline: deadline)
            // The deadline covers the answer's head; the body gets what is left of it.
            let body = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await response.body.collect(upTo: maximumBodyBytes) }
                group.addTask {
                    let left = deadline - NIODeadline.now()
                    if left > .zero { try await Task.sleep(nanoseconds: UInt64(left.nanoseconds)) }
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
            guard let body else { throw OutboundHTTPError(failure(request, "no whole answer within \(seconds(request.timeout)) s")) }
            return OutboundResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(buffer: body))
        } catch let error as OutboundHTTPError {
            throw error
        } catch {
            throw OutboundHTTPError(failure(request, reason(error, timeout: request.timeout)))
        }
    }

    private static func failure(_ request: OutboundRequest, _ reason: String) -> String {
        "\(request.method) \(request.target.url): \(reason)"
    }

    /// What a person should read for `error`.
    private static func reason(_ error: any Error, timeout: Duration) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout:
                return "no answer within \(seconds(timeout)) s"
            case .remoteConnectionClosed:
                return "the server closed the connection without an answer"
            default:
                return "\(error)"
            }
        }
        if error is NIOTooManyBytesError { return "the answer's body is larger than \(maximumBodyBytes / 1024 / 1024) MiB" }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return reason(first.error, timeout: timeout) }
            if error.dnsAAAAError != nil || error.dnsAError != nil { return "cannot resolve the host \(error.host)" }
            return "cannot connect"
        }
        if error is SocketAddressError { return "cannot resolve the host" }
        if let error = error as? IOError {
            return error.errnoCode == ECONNREFUSED ? "connection refused" : String(cString: strerror(error.errnoCode)).lowercased()
        }
        if error is NIOSSLError || error is BoringSSLError {
            let text = "\(error)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                return "TLS failed: the server's certificate is not one this host trusts (SSL_CERT_FILE names the certificates to trust instead of the system's)"
            }
            if text.contains("WRONG_VERSION_NUMBER") { return "TLS failed: the server does not speak TLS there (http:// rather than https://?)" }
            return "TLS failed: \(text)"
        }
        if error is CancellationError { return "cancelled" }
        return "\(error)"
    }

    private static func seconds(_ duration: Duration) -> String {
        let value = duration / .seconds(1)
        return value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
    }
}

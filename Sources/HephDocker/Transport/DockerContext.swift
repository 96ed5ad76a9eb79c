import Crypto
import Foundation

/// The Docker CLI's contexts (`docker context create NAME --docker host=…`), read from its
/// store, so `heph --context NAME` reaches the engine `docker --context NAME` reaches.
///
/// The store is in the CLI's config directory (`$DOCKER_CONFIG`, else `~/.docker`):
/// `contexts/meta/<sha256 of the name>/meta.json` holds the endpoint, and
/// `contexts/tls/<sha256 of the name>/docker/{ca,cert,key}.pem` its TLS material.
public enum DockerContext {
    /// The engine environment for a run, chosen as the Docker CLI chooses:
    ///
    /// 1. `context` (`--context`);
    /// 2. else `host` (`--host`), or `DOCKER_HOST` if set: no context;
    /// 3. else `DOCKER_CONTEXT`;
    /// 4. else `currentContext` in the CLI's `config.json`;
    /// 5. else the default: `DOCKER_HOST` and the TLS variables as they are.
    ///
    /// A context replaces `DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_TLS` and
    /// `DOCKER_CERT_PATH` with its own.
    ///
    /// `host` wins over `context` when both are given (the command line refuses both).
    ///
    /// - Throws: ``DockerError/Code/invalidConfig`` for a context that does not exist, or a
    ///   store that cannot be read.
    public static func engineEnvironment(context: String?, host: String?, environment: [String: String]) throws -> [String: String] {
        var environment = environment
        if let host {
            environment["DOCKER_HOST"] = host
            return environment
        }
        let configDirectory = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? "") + "/.docker")
        let name: String?
        if let context {
            name = context
        } else if !(environment["DOCKER_HOST"] ?? "").isEmpty {
            name = nil
        } else if let named = environment["DOCKER_CONTEXT"], !named.isEmpty {
            name = named
        } else {
            name = try currentContext(configDirectory)
        }
        guard let name, name != "default" else { return environment }
        let endpoint = try self.endpoint(named: name, in: configDirectory)
        for key in ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_TLS", "DOCKER_CERT_PATH"] { environment[key] = nil }
        environment["DOCKER_HOST"] = endpoint.host
        if let tlsDirectory = endpoint.tlsDirectory {
            environment["DOCKER_CERT_PATH"] = tlsDirectory
            environment[endpoint.skipTLSVerify ? "DOCKER_TLS" : "DOCKER_TLS_VERIFY"] = "1"
        }
        return environment
    }

    /// What a context says of its docker endpoint.
    struct Endpoint {
        var host: String
        var skipTLSVerify: Bool
        /// The directory with `ca.pem`, `cert.pem`, `key.pem`, when the context has TLS files.
        var tlsDirectory: String?
    }

    /// The directory name the store gives a context: the SHA-256 of its name, in hex.
    static func storeKey(_ name: String) -> String {
        SHA256.hash(data: Data(name.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func endpoint(named name: String, in configDirectory: String) throws -> Endpoint {
        let key = storeKey(name)
        let metaPath = "\(configDirectory)/contexts/meta/\(key)/meta.json"
        guard let data = FileManager.default.contents(atPath: metaPath) else {
            throw DockerError(.invalidConfig, "context \"\(name)\" does not exist in \(configDirectory)/contexts (`docker context ls` lists the contexts; `docker context create` makes one)")
        }
        let meta: ContextMeta
        do {
            meta = try JSONDecoder().decode(ContextMeta.self, from: data)
        } catch {
            throw DockerError(.invalidConfig, "context \"\(name)\": \(metaPath) cannot be read: \(error)", underlying: error)
        }
        guard let docker = meta.Endpoints["docker"], let host = docker.Host, !host.isEmpty else {
            throw DockerError(.invalidConfig, "context \"\(name)\" has no docker endpoint (\(metaPath))")
        }
        let tlsDirectory = "\(configDirectory)/contexts/tls/\(key)/docker"
        let hasTLS = FileManager.default.fileExists(atPath: tlsDirectory + "/ca.pem")
        return Endpoint(host: host, skipTLSVerify: docker.SkipTLSVerify ?? false, tlsDirectory: hasTLS ? tlsDirectory : nil)
    }

    /// `currentContext` from `config.json`, if the file says one.
    static func currentContext(_ configDirectory: String) throws -> String? {
        guard let data = FileManager.default.contents(atPath: configDirectory + "/config.json") else { return nil }
        guard let config = try? JSONDecoder().decode(CLIConfig.self, from: data) else {
            throw DockerError(.invalidConfig, "\(configDirectory)/config.json is not valid JSON; fix it or set DOCKER_CONFIG to another directory")
        }
        return config.currentContext.flatMap { $0.isEmpty ? nil : $0 }
    }

    // Wire types of the CLI's files: their field names are the CLI's.
    private struct ContextMeta: Decodable {
        struct DockerEndpoint: Decodable {
            var Host: String?
            var SkipTLSVerify: Bool?
        }
        var Endpoints: [String: DockerEndpoint]
    }

    private struct CLIConfig: Decodable {
        var currentContext: String?
    }
}

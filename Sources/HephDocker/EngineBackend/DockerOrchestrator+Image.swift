import Foundation
import NIOCore

extension EngineClient {
    /// One line of pull progress; only a failure matters here.
    private struct PullProgress: Decodable {
        var error: String?
    }

    /// Pulls `reference`. A pull fails in two ways: an error answer, or an `{"error": …}`
    /// line inside a 200 stream; both become ``DockerError/Code/imagePull`` in words: the
    /// engine's reason, then the fixes (the image made or loaded on this engine, or the
    /// name or the registry put right).
    func pullImage(_ reference: ImageReference, as written: String) async throws {
        logger.info("pulling \(written)")
        let response = try await streamingRequest(.POST, "/images/create", query: [("fromImage", reference.repository), ("tag", reference.pullTag)])
        func failure(_ reason: String) -> DockerError {
            DockerError(.imagePull, "image \(quoted(written)) is not available locally and could not be pulled: \(reason); "
                + "build it on this engine (docker build -t \(written) DIR) or load it (docker load -i FILE), or check the name and that its registry can be reached")
        }
        guard response.status == .ok else {
            throw failure(try await response.collectedFailure().engineMessage)
        }
        var lines = LineSplitter()
        do {
            for try await chunk in response.body {
                for line in lines.append(chunk) { try Self.checkPullLine(line, failure) }
            }
        } catch let error as DockerError {
            throw error
        } catch {
            throw transportFailure(error, timeout: .seconds(60))
        }
        if let last = lines.finish() { try Self.checkPullLine(last, failure) }
    }

    /// Throws when a line of pull progress reports a failure.
    private static func checkPullLine(_ line: ByteBuffer, _ failure: (String) -> DockerError) throws {
        if let progress = try? JSONDecoder().decode(PullProgress.self, from: Data(buffer: line)), let error = progress.error {
            throw failure(error)
        }
    }
}

extension DockerOrchestrator {
    /// Pulls `reference` (``EngineClient/pullImage(_:as:)``).
    func pullImage(_ reference: ImageReference, as written: String) async throws {
        try await client.pullImage(reference, as: written)
    }
}

extension SystemImage {
    /// Pulls the system image (when a registry is reachable); the error says how else to
    /// have it.
    static func pull(_ client: EngineClient) async throws {
        let written = name
        guard case .success(let reference) = ImageReference.parse(written) else {
            throw DockerError(.invalidConfig, "HEPH_SYSTEM_IMAGE: \(quoted(written)) is not an image reference")
        }
        do {
            try await client.pullImage(reference, as: written)
        } catch let error as DockerError where error.code == .imagePull {
            throw DockerError(.imagePull, "heph keeps its lease, state and watcher registry in small containers of the image \(written), which is not on the engine and could not be pulled; load it there (docker pull busybox, or docker load), or name an image with sh in HEPH_SYSTEM_IMAGE")
        }
    }
}

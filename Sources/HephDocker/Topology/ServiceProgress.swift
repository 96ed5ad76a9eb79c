/// One step of `heph.up` for one service, for progress lines.
public struct ServiceProgress: Sendable, Hashable {
    /// What happened.
    public enum Step: String, Sendable, Hashable {
        /// A container was created (first time, or again because its config changed).
        case created
        /// An existing container's config changed: it is being replaced (on an engine removed
        /// and created again; on a swarm its service is updated, a rolling update).
        case replacing
        /// The container was started.
        case started
        /// A running container is being restarted because a dependency changed.
        case restarting
        /// The container already ran with this config.
        case unchanged
        /// The container is ready (healthy, or running when it has no healthcheck).
        case ready
        /// The service failed; `detail` says why.
        case failed
    }

    /// The service's name as the topology writes it.
    public var service: String
    /// What happened.
    public var step: Step
    /// Seconds since the bring-up began.
    public var elapsed: Double
    /// Why a service failed.
    public var detail: String?
    /// The fix of the failure, when it lies in how heph is told what to do (see
    /// ``DockerError/Remedy``): the layer that shows ``line`` words it.
    public var remedy: DockerError.Remedy?

    /// Makes a progress step.
    public init(service: String, step: Step, elapsed: Double, detail: String? = nil, remedy: DockerError.Remedy? = nil) {
        self.service = service
        self.step = step
        self.elapsed = elapsed
        self.detail = detail
        self.remedy = remedy
    }

    /// `db ready (1.4 s)`.
    public var line: String {
        var text = "\(service) \(step.rawValue) (\(formatted(elapsed.rounded(toPlaces: 1))) s)"
        if let detail { text += ": \(detail)" }
        return text
    }
}

extension Double {
    func rounded(toPlaces places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (self * scale).rounded() / scale
    }
}

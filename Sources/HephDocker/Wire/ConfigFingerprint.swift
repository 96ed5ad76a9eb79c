import Foundation

extension EngineContainerCreate {
    /// This body with ``configHashLabel`` set to a fingerprint of everything else in it.
    ///
    /// The fingerprint is FNV-1a (64 bits) over the body's JSON with sorted keys: stable
    /// across processes and runs (unlike `Hashable`), and enough to tell configs apart; it
    /// is not a security boundary.
    func fingerprinted() -> EngineContainerCreate {
        var body = self
        body.Labels[configHashLabel] = nil
        // How readiness is probed is heph's, not the container's: no reason to replace it.
        let ready = body.Labels.removeValue(forKey: readyLabel)
        body.Labels[configHashLabel] = body.fingerprint
        body.Labels[readyLabel] = ready
        return body
    }

    /// The fingerprint of this body as it stands, as 16 hex digits.
    var fingerprint: String { configFingerprint(of: self) }
}

/// FNV-1a (64 bits) over `value`'s JSON with sorted keys, as 16 hex digits.
func configFingerprint(of value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = (try? encoder.encode(value)) ?? Data()
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in data {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

extension ContainerConfig {
    /// The fingerprint a container created from this config carries in ``configHashLabel``.
    /// Validates the config first.
    public func fingerprint() throws -> String {
        try engineCreation().body.Labels[configHashLabel] ?? ""
    }
}

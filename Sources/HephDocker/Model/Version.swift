/// heph's version, reported by `heph --version` and to scripts as `heph.VERSION`.
public let hephVersion = "0.1.0"

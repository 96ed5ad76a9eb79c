import Foundation

/// Names no other test (or earlier run) uses, so tests can share the engine.
public enum TestNames {
    /// `t-<base>-<8 hex>`: a short container name; heph makes it `heph-t-<base>-<8 hex>`.
    public static func unique(_ base: String) -> String {
        "t-\(base)-\(UUID().uuidString.prefix(8).lowercased())"
    }
}

import Foundation

/// Names no other test (or earlier run) uses, so tests can share the engine.
public enum TestNames {
    /// `t-<base>-<8 hex>`: a short container name; heph makes it `heph-t-<base>-<8 hex>`.
    public static func unique(_ base: String) -> String {
        "t-\(base)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// `t<8 hex>`: a project no other test (or earlier run) uses, so a test may act on
    /// everything in it (`heph down -p`, `teardown_all`) while others share the engine.
    public static func project() -> String {
        "t" + UUID().uuidString.prefix(8).lowercased()
    }
}

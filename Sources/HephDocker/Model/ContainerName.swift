/// The naming rules of managed containers.
public enum ContainerName {
    /// Longest full name: the name is also a DNS label on the network.
    public static let maximumLength = 63

    /// What the engine's names of projects' objects start with (`heph_P_web`): no name a
    /// script gives starts with it, so such a reference can only be an engine name.
    public static let projectPrefix = "heph_"

    /// The Docker name of a container called `name`: the prefix is added once.
    public static func full(_ name: String) -> String {
        name.hasPrefix(containerNamePrefix) ? name : containerNamePrefix + name
    }

    /// The name without the prefix, which is also the container's alias on the network.
    public static func short(_ name: String) -> String {
        name.hasPrefix(containerNamePrefix) ? String(name.dropFirst(containerNamePrefix.count)) : name
    }

    /// True when `name` matches `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, Docker's own rule.
    public static func isWellFormed(_ name: String) -> Bool {
        guard let first = name.utf8.first, isAlphanumeric(first) else { return false }
        return name.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// True when `reference` can only be a container id or id prefix: at least 12 hex digits.
    public static func isIDPrefix(_ reference: String) -> Bool {
        reference.utf8.count >= 12 && reference.utf8.count <= 64 && reference.utf8.allSatisfy(isLowercaseHex)
    }

    /// True for an ASCII letter or digit.
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}

/// Parses a memory limit as the Docker CLI does: bytes, or a number with a binary unit.
///
/// `"268435456"`, `"256m"`, `"256MB"`, `"1.5g"`, `"512k"`. Units are powers of 1024.
enum MemoryLimit {
    /// The engine refuses less than this.
    static let minimumBytes: Int64 = 6 * 1024 * 1024

    /// Bytes for `text`, or nil when it is not a size.
    static func bytes(_ text: String) -> Int64? {
        var digits = Substring(text.lowercased())
        for suffix in ["ib", "b"] where digits.hasSuffix(suffix) {
            digits = digits.dropLast(suffix.count)
            break
        }
        var multiplier = 1.0
        if let unit = digits.last, let power = "kmgt".firstIndex(of: unit) {
            multiplier = pow1024("kmgt".distance(from: "kmgt".startIndex, to: power) + 1)
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let number = Double(digits), number.isFinite else { return nil }
        let bytes = number * multiplier
        guard bytes < Double(Int64.max) else { return nil }
        return Int64(bytes)
    }

    private static func pow1024(_ exponent: Int) -> Double {
        (0..<exponent).reduce(1.0) { value, _ in value * 1024 }
    }
}

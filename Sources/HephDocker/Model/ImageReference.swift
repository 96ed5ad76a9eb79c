/// An image reference split the way the engine's pull endpoint wants it.
///
/// `registry.example:5000/team/app:1.2@sha256:…` → repository `registry.example:5000/team/app`,
/// tag `1.2`, digest `sha256:…`. Without a tag or digest the tag is `latest` (pulling with
/// no tag at all would pull every tag).
struct ImageReference: Sendable, Hashable {
    var repository: String
    var tag: String?
    var digest: String?

    /// What `fromImage`/`tag` of `POST /images/create` get: the digest wins over the tag.
    var pullTag: String { digest ?? tag ?? "latest" }

    /// Parses `text`, or names what is wrong with it as the reason (a phrase, no field name).
    static func parse(_ text: String) -> Result<ImageReference, ImageReferenceProblem> {
        if text.isEmpty { return .failure(.init("is empty")) }
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f }) {
            return .failure(.init("contains white space or a control character"))
        }
        var rest = Substring(text)
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            let value = rest[rest.index(after: at)...]
            guard let colon = value.firstIndex(of: ":"), colon != value.startIndex, value.index(after: colon) != value.endIndex else {
                return .failure(.init("has a digest \(quoted(value)) that is not of the form sha256:<hex>"))
            }
            digest = String(value)
            rest = rest[..<at]
        }
        var tag: String?
        let lastSlash = rest.lastIndex(of: "/")
        let nameStart = lastSlash.map { rest.index(after: $0) } ?? rest.startIndex
        if let colon = rest[nameStart...].lastIndex(of: ":") {
            let value = rest[rest.index(after: colon)...]
            guard isValidTag(value) else {
                return .failure(.init("has a tag \(quoted(value)) that is not [A-Za-z0-9_][A-Za-z0-9_.-]* (at most 128 characters)"))
            }
            tag = String(value)
            rest = rest[..<colon]
        }
        if rest.isEmpty { return .failure(.init("has no repository name")) }
        if rest.utf8.count > 255 { return .failure(.init("has a repository name of \(rest.utf8.count) characters; at most 255 are allowed")) }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, isDomain(components[0]) { components.removeFirst() }
        for component in components where !isValidPathComponent(component) {
            if component.contains(where: \.isUppercase) {
                return .failure(.init("has \(quoted(component)) in its repository name; repository names are lowercase"))
            }
            return .failure(.init("has \(quoted(component)) in its repository name; use lowercase letters, digits and . _ - between them"))
        }
        return .success(ImageReference(repository: String(rest), tag: tag, digest: digest))
    }

    private static func isDomain(_ component: Substring) -> Bool {
        component.contains(".") || component.contains(":") || component == "localhost"
    }

    private static func isValidTag(_ tag: Substring) -> Bool {
        guard let first = tag.utf8.first, tag.utf8.count <= 128, first != UInt8(ascii: "."), first != UInt8(ascii: "-") else { return false }
        return tag.utf8.allSatisfy { isLowerAlnum($0) || isUpper($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isValidPathComponent(_ component: Substring) -> Bool {
        guard let first = component.utf8.first, let last = component.utf8.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        return component.utf8.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isUpper(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
    }
}

/// Why a string is not an image reference, as a phrase that follows the reference.
struct ImageReferenceProblem: Error, Sendable {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

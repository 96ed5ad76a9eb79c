/// How user values appear inside error messages: quoted, control characters escaped, and
/// cut at 48 characters, so a huge or binary string cannot flood a terminal. Public so
/// that every layer quotes values alike.
public func quoted(_ value: some StringProtocol) -> String {
    let limit = 48
    var result = "\""
    for (index, character) in value.enumerated() {
        if index == limit {
            result += "…"
            break
        }
        switch character {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        default:
            if let scalar = character.unicodeScalars.first, character.unicodeScalars.count == 1, scalar.value < 0x20 || scalar.value == 0x7f {
                result += "\\\(scalar.value)"
            } else {
                result.append(character)
            }
        }
    }
    return result + "\""
}

/// A number as a person writes it: `0`, `0.5`, `1e+300`, `nan`. Public so that every
/// layer writes numbers in messages alike.
public func formatted(_ number: Double) -> String {
    if number.isFinite, number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
    return "\(number)"
}

/// A duration as messages write it: `60 s`, `0.5 s`.
public func formatted(_ duration: Duration) -> String {
    formatted(duration / .seconds(1)) + " s"
}

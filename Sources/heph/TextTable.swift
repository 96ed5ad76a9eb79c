import Foundation

/// A table of left-aligned columns separated by three spaces, as `docker ps` prints; no
/// line ends in spaces (an empty last column leaves none).
struct TextTable {
    var header: [String]
    var rows: [[String]]

    /// The table with a trailing newline; the header alone when there are no rows.
    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                column == row.count - 1 ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "   ").trimmingTrailingSpaces
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        String(reversed().drop(while: { $0 == " " }).reversed())
    }
}

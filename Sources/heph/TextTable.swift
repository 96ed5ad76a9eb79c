import Foundation

/// A table of left-aligned columns separated by three spaces, as `docker ps` prints; no
/// line ends in spaces (an empty last column leaves none).
struct TextTable {
    var header: [String]
    var rows: [[String]]
    /// Colours for the cells of some columns (by index), applied after alignment so the
    /// escape codes do not count as width.
    var style: [Int: (String) -> String] = [:]

    /// The table with a trailing newline; the header alone when there are no rows.
    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.enumerated().map { index, row in
            row.indices.map { column in
                let cell = column == row.count - 1 ? row[column] : row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
                guard index > 0, let paint = style[column] else { return cell }
                let text = row[column]
                return paint(text) + cell.dropFirst(text.count)
            }.joined(separator: "   ").trimmingTrailingSpaces
        }.joined(separator: "\n") + "\n"
    }
}

extension String {
    fileprivate var trimmingTrailingSpaces: String {
        String(reversed().drop(while: { $0 == " " }).reversed())
    }
}

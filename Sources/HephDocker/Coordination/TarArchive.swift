/// Just enough of the tar format for the engine's archive API (`PUT`/`GET
/// /containers/{id}/archive`): ustar entries of regular files and directories.
enum TarArchive {
    /// One entry.
    struct Entry: Equatable {
        var name: String
        var contents: [UInt8]
        var isDirectory = false
    }

    /// The archive of `entries` (names of at most 100 bytes).
    static func make(_ entries: [Entry]) -> [UInt8] {
        var archive: [UInt8] = []
        for entry in entries {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at offset: Int) {
                for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
            }
            func octal(_ value: Int, width: Int) -> String {
                let digits = String(value, radix: 8)
                return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
            }
            put(entry.name, at: 0)
            put(octal(entry.isDirectory ? 0o755 : 0o644, width: 8), at: 100)
            put(octal(0, width: 8), at: 108)
            put(octal(0, width: 8), at: 116)
            put(octal(entry.contents.count, width: 12), at: 124)
            put(octal(0, width: 12), at: 136)
            header[156] = entry.isDirectory ? UInt8(ascii: "5") : UInt8(ascii: "0")
            put("ustar", at: 257)
            put("00", at: 263)
            // The checksum is computed with its own field as spaces.
            for index in 148..<156 { header[index] = UInt8(ascii: " ") }
            let sum = header.reduce(0) { $0 + Int($1) }
            put(octal(sum, width: 7), at: 148)
            header[155] = UInt8(ascii: " ")
            archive += header
            archive += entry.contents
            archive += [UInt8](repeating: 0, count: (512 - entry.contents.count % 512) % 512)
        }
        return archive + [UInt8](repeating: 0, count: 1024)
    }

    /// The regular files and directories of `archive` (PAX and GNU extension headers are
    /// skipped); nil when it is not a tar archive.
    static func entries(_ archive: [UInt8]) -> [Entry]? {
        var entries: [Entry] = []
        var offset = 0
        while offset + 512 <= archive.count {
            let header = archive[offset..<offset + 512]
            if header.allSatisfy({ $0 == 0 }) { break }
            func text(_ range: Range<Int>) -> String {
                let bytes = archive[(offset + range.lowerBound)..<(offset + range.upperBound)]
                return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            let sizeText = text(124..<136).trimmingCharacters(in: " ")
            guard let size = Int(sizeText, radix: 8) else { return nil }
            let type = archive[offset + 156]
            var name = text(0..<100)
            let prefix = text(345..<500)
            if text(257..<262) == "ustar", !prefix.isEmpty { name = prefix + "/" + name }
            let start = offset + 512
            guard start + size <= archive.count else { return nil }
            if type == UInt8(ascii: "0") || type == 0 || type == UInt8(ascii: "5") {
                entries.append(Entry(name: name, contents: Array(archive[start..<start + size]), isDirectory: type == UInt8(ascii: "5")))
            }
            offset = start + (size + 511) / 512 * 512
        }
        return entries
    }
}

extension String {
    /// The text without leading and trailing `character`s.
    fileprivate func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}

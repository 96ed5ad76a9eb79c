// heph-prelude-compiler OUTPUT.swift: compiles heph's Lua prelude (HephPrelude's
// `preludeSource`) with the Lua heph links and writes it as bytecode into a Swift file.
// Run by the PreludeBytecode build plugin, never by hand: a state then loads the prelude in
// about a twentieth of the time it takes to compile it (docs/benchmarks.md, "Installed").
import CLua
import Foundation
import HephPrelude

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: heph-prelude-compiler OUTPUT.swift\n".utf8))
    exit(64)
}
guard let state = luaL_newstate() else {
    FileHandle.standardError.write(Data("heph-prelude-compiler: cannot create a Lua state\n".utf8))
    exit(1)
}
var source = preludeSource
// The chunk name is kept in the bytecode (with the line numbers): tracebacks read as they
// do from the source.
let loaded = source.withUTF8 { bytes in
    bytes.withMemoryRebound(to: CChar.self) { luaL_loadbufferx(state, $0.baseAddress, $0.count, "=[heph]", "t") }
}
guard loaded == LUA_OK else {
    FileHandle.standardError.write(Data("heph-prelude-compiler: the prelude does not compile: \(String(cString: lua_tolstring(state, -1, nil)))\n".utf8))
    exit(1)
}
var bytecode = [UInt8]()
let dumped = withUnsafeMutablePointer(to: &bytecode) { collected in
    lua_dump(state, { _, chunk, size, collected in
        guard let chunk, let collected else { return 1 }
        collected.assumingMemoryBound(to: [UInt8].self).pointee.append(contentsOf: UnsafeRawBufferPointer(start: chunk, count: size))
        return 0
    }, collected, 0)
}
guard dumped == 0 else {
    FileHandle.standardError.write(Data("heph-prelude-compiler: lua_dump failed\n".utf8))
    exit(1)
}
lua_close(state)
let generated = """
    // Generated at build time by heph-prelude-compiler (the PreludeBytecode build plugin)
    // from HephPrelude's preludeSource. Not in git; do not edit.

    /// The prelude compiled to Lua bytecode, in Base64 (a string literal compiles at once,
    /// an array literal of its bytes would not).
    let preludeBytecodeBase64 = "\(Data(bytecode).base64EncodedString())"

    /// The Lua that compiled it (its `lua_ident`): another Lua compiles the source instead.
    let preludeBytecodeLua = #"\(String(cString: heph_lua_ident()))"#

    """
do {
    try Data(generated.utf8).write(to: URL(fileURLWithPath: CommandLine.arguments[1]), options: .atomic)
} catch {
    FileHandle.standardError.write(Data("heph-prelude-compiler: cannot write \(CommandLine.arguments[1]): \(error)\n".utf8))
    exit(1)
}

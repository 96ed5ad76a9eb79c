import Foundation
import PackagePlugin

/// Compiles heph's Lua prelude to bytecode as HephLua builds (heph-prelude-compiler), so
/// that no process compiles it at start.
@main
struct PreludeBytecode: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let compiler = try context.tool(named: "heph-prelude-compiler")
        let output = context.pluginWorkDirectoryURL.appending(path: "PreludeBytecode.swift")
        // The compiler is built from the prelude's source: a new prelude is a new compiler,
        // and the command runs again. So does a new Lua (Debian's header, where it is): the
        // bytecode names the Lua that made it, and another Lua would compile the source.
        let luaHeader = URL(fileURLWithPath: "/usr/include/lua5.4/lua.h")
        let inputs = [compiler.url] + (FileManager.default.fileExists(atPath: luaHeader.path) ? [luaHeader] : [])
        return [.buildCommand(displayName: "Compiling heph's Lua prelude to bytecode", executable: compiler.url,
                              arguments: [output.path], inputFiles: inputs, outputFiles: [output])]
    }
}

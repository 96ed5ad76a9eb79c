import CHephLua
import CLua

/// What `heph run --sandbox` takes away from Lua's standard library, run once after the
/// prelude: running programs (`os.execute`, `io.popen`), files (`io.open` and the rest,
/// `dofile`, `loadfile`, `os.remove`…), the environment (`os.getenv`: secrets live there),
/// ending the host (`os.exit`), `debug`, C modules (`package.loadlib`, the C searchers),
/// and binary chunks (`load` accepts text only: a crafted binary chunk can corrupt Lua).
/// `require` of Lua modules, `print`, `io.write` and `io.read` stay.
let sandboxSource = #"""
local package, select, rawload = package, select, load
for _, name in ipairs({ "execute", "exit", "remove", "rename", "tmpname", "getenv" }) do os[name] = nil end
for _, name in ipairs({ "open", "popen", "lines", "input", "output" }) do io[name] = nil end
debug, package.loaded.debug = nil, nil
dofile, loadfile = nil, nil
package.loadlib, package.cpath = nil, ""
for index = #package.searchers, 3, -1 do table.remove(package.searchers, index) end
function load(chunk, name, mode, ...)
  if select("#", ...) > 0 then return rawload(chunk, name, "t", ...) end
  return rawload(chunk, name, "t")
end
"""#

extension LuaRuntime {
    /// Applies ``sandboxSource`` when the configuration asks for a sandbox.
    func applySandbox(_ stack: LuaStack) {
        guard configuration.sandbox != nil else { return }
        var source = sandboxSource
        let status = source.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { luaL_loadbufferx(stack.state, $0.baseAddress, $0.count, "=[heph sandbox]", "t") }
        }
        guard status == LUA_OK, heph_pcall(stack.state, 0, 0, 0) == LUA_OK else {
            // Never run a script unsandboxed when it asked for a sandbox: no state at all.
            setupFailure = "heph internal error: the sandbox failed: \(stack.lossyString(at: -1) ?? "?")"
            lua_close(stack.state)
            state = nil
            return
        }
    }
}

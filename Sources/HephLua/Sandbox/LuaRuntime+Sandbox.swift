import CHephLua
import CLua

/// What `heph run --sandbox` takes away from Lua's standard library, run once after the
/// prelude: running programs (`os.execute`, `io.popen`), files (`io.open` and the rest,
/// `dofile`, `loadfile`, `os.remove`…), the environment (`os.getenv`: secrets live there),
/// `debug`, C modules (`package.loadlib`, the C searchers), and binary chunks everywhere:
/// `load` accepts text only, and so does `require` (its Lua searcher is replaced by one
/// that loads text only), as does the script itself. Lua does not verify bytecode: a
/// crafted binary chunk can corrupt memory. `require` of Lua modules, `print`,
/// `io.write`, `io.read` and `os.exit` (as `heph.exit`) stay.
let sandboxSource = #"""
local package, select, rawload, open, searchpath = package, select, load, io.open, package.searchpath
for _, name in ipairs({ "execute", "remove", "rename", "tmpname", "getenv" }) do os[name] = nil end
for _, name in ipairs({ "open", "popen", "lines", "input", "output" }) do io[name] = nil end
debug, package.loaded.debug = nil, nil
dofile, loadfile = nil, nil
package.loadlib, package.cpath = nil, ""
for index = #package.searchers, 3, -1 do table.remove(package.searchers, index) end
function load(chunk, name, mode, ...)
  if select("#", ...) > 0 then return rawload(chunk, name, "t", ...) end
  return rawload(chunk, name, "t")
end
-- Lua's own file searcher loads binary chunks too; this one, text only.
package.searchers[2] = function(name)
  local path, problem = searchpath(name, package.path)
  if not path then return problem end
  local file, cannot = open(path, "rb")
  if not file then error(("error loading module '%s' from file '%s':\n\t%s"):format(name, path, cannot), 0) end
  local source = file:read("a")
  file:close()
  local chunk, message = rawload(source, "@" .. path, "t")
  if not chunk then error(("error loading module '%s' from file '%s':\n\t%s"):format(name, path, message), 0) end
  return chunk, path
end
"""#

extension LuaRuntime {
    /// Applies ``sandboxSource`` when the configuration asks for a sandbox.
    func applySandbox(_ stack: LuaStack) {
        guard configuration.sandbox != nil else { return }
        guard stack.load(sandboxSource, chunkName: "=[heph sandbox]") == LUA_OK, heph_pcall(stack.state, 0, 0, 0) == LUA_OK else {
            // Never run a script unsandboxed when it asked for a sandbox: no state at all.
            setupFailure = "heph internal error: the sandbox failed: \(stack.lossyString(at: -1) ?? "?")"
            lua_close(stack.state)
            state = nil
            return
        }
    }
}

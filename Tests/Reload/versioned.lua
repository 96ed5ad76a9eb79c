-- versioned.lua: a watcher whose file ReloadTests rewrites with another VERSION (the first
-- line), to reload it. One container guarded by `restart`; every exit printed with the
-- version of the state whose hook saw it.
local version = "VERSION"
local heph = require("heph")
heph.use("marker", { version = version })
heph.use("restart", { target = "guarded", initial = 0.1 })
heph.on("exit", "guarded", function(ev)
  print(("%s exit %s expected=%s by=%s"):format(version, ev.name, tostring(ev.expected), tostring(ev.by)))
end)
heph.on_shutdown(function() print("shutdown " .. version) end)
heph.up{ services = { guarded = {
  image = "heph/busybox:latest",
  -- A stop takes a second (TERM is trapped): long enough to end during a reload.
  cmd = { "sh", "-c", "trap 'sleep 1; exit 0' TERM; sleep 3600 & wait" },
} } }
heph.state.set("version", version)
print("main " .. version)
-- The new state's main chunk takes a while: transitions meanwhile are kept for it.
if version ~= "v1" then heph.sleep(tonumber(os.getenv("HEPH_TEST_RELOAD_PAUSE") or "0")) end
print("ready " .. version)

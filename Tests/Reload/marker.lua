-- marker: a plugin that says when it is set up and when its stop runs (ReloadTests). Each
-- Lua state loads it afresh, so `version` is that state's.
local version = "?"
return {
  options = { version = { type = "string", required = true } },
  setup = function(heph, opts)
    version = opts.version
    print("setup " .. version)
  end,
  stop = function()
    print("stop " .. version)
    -- A stop that takes a while: a signal during a reload's hand-over (ReloadTests).
    heph.sleep(tonumber(os.getenv("HEPH_TEST_STOP_PAUSE") or "0"))
  end,
}

-- transition_log.lua: for the fault fixtures (engine-restart.lua, outside-changes.lua).
-- Prints a line per hook call for the containers matching `pattern`, so a test can read
-- what heph saw, in order:
--   hook NAME PREVIOUS STATUS expected|unexpected
--   exit NAME EXIT_CODE
return function(pattern)
  heph.on("change", { pattern = pattern }, function(ev)
    print(table.concat({ "hook", ev.name, ev.previous or "new", ev.status, ev.expected and "expected" or "unexpected" }, " "))
  end)
  heph.on("exit", { pattern = pattern }, function(ev)
    print(table.concat({ "exit", ev.name, ev.exit_code }, " "))
  end)
end

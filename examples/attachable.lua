-- attachable.lua: a watcher made to be attached to. It keeps what it sees in globals, so a
-- session opened with `heph attach` can ask it questions and change what it does, while it
-- keeps running.
--
--   scripts/heph run -p demo examples/attachable.lua
--   scripts/heph attach -p demo          (in another shell)
--
-- At the attach prompt, try:
--   summary()                       transitions seen, per status, and since when
--   latest["heph-web"]              the last transition of one container (print(ev) form)
--   quiet = true                    stop printing transitions here (quiet = false: again)
--   heph.on("exit", function(ev) print("exit " .. ev.name) end)   a hook that stays
-- Ctrl-D leaves the session; the watcher goes on.
local heph = require("heph")

started = heph.now()
counts = {}   -- transitions seen, per status
latest = {}   -- the last transition, per container
quiet = false

heph.on("change", function(ev)
  counts[ev.status] = (counts[ev.status] or 0) + 1
  latest[ev.name] = ev
  if not quiet then print(ev) end
end)

--- What the watcher saw: transitions per status, and for how long it has watched.
function summary()
  local total = 0
  for _, n in pairs(counts) do total = total + n end
  return { transitions = total, per_status = counts, watching_for_s = math.floor(heph.now() - started) }
end

-- An engine call made after heph.on waits until heph follows the event stream (and registers
-- this process as a watcher of the project, which heph attach and heph status find).
print(("attachable: watching project %s (%d containers now); attach with: heph attach -p %s")
  :format(heph.config.project, #heph.list_containers(), heph.config.project))

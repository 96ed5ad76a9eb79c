-- heph test: heph.state in memory, per test; heph.lead() leads at once; the restart
-- plugin's budget kept in heph.state by container id.
local function eq(a, b) if a ~= b then error(("%s ~= %s"):format(tostring(a), tostring(b)), 2) end end

test("leads at once and keeps state exactly", function()
  heph.lead()
  heph.lead()  -- leading already: at once again
  heph.state.set("v", { n = 1, f = 1.0, s = "\0\255", t = { [true] = "yes", [2.5] = { 1, 2 } } })
  local v = heph.state.get("v")
  eq(math.type(v.n), "integer"); eq(math.type(v.f), "float"); eq(v.s, "\0\255")
  eq(v.t[true], "yes"); eq(v.t[2.5][2], 2)
  v.n = 99
  eq(heph.state.get("v").n, 1)  -- get returns a copy
  eq(table.concat(heph.state.keys(), ","), "v")
  print("first test done")
end)

test("starts with an empty state", function()
  eq(#heph.state.keys(), 0)
  eq(heph.state.get("v"), nil)
  print("second test done")
end)

test("bad values are errors that say where", function()
  local ok, problem = pcall(heph.state.set, "k", { list = { 1, print } })
  eq(ok, false)
  eq(problem, 'heph.state.set("k"): value.list[2] is a function; heph.state keeps nil, booleans, numbers, strings and tables of those')
  ok, problem = pcall(heph.state.set, "k", math.huge)
  eq(problem, 'heph.state.set("k"): the value is inf; heph.state keeps finite numbers only')
  print("third test done")
end)

test("the restart plugin keeps its budget by container id", function()
  heph.up{ services = { web = { image = "heph/busybox:latest" } } }
  heph.use("restart", { initial = 1, jitter = 0, log = false })
  local id = heph.inspect_container("web").id
  sim.crash("web")
  heph.sleep(5)
  local saved = heph.state.get("restart/" .. id)
  eq(saved.attempt, 1)
  eq(#saved.restarts, 1)
  eq(saved.given_up, false)
  print("fourth test done")
end)

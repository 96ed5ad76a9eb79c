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
  ok, problem = pcall(heph.state.set, "k", { ["a-b"] = { [2] = print } })
  eq(problem, 'heph.state.set("k"): value["a-b"][2] is a function; heph.state keeps nil, booleans, numbers, strings and tables of those')
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

test("hostile values are refused early or read raw", function()
  local ok, problem = pcall(heph.state.set, "big", string.rep("x", 2 * 1024 * 1024))
  eq(problem, 'heph.state.set("big"): the value takes more than 1048576 bytes encoded (keep large data elsewhere)')
  local deep = {}
  for _ = 1, 100 do deep = { deep } end
  ok, problem = pcall(heph.state.set, "deep", deep)
  eq(ok, false)
  assert(problem:find("nests more than 64 tables deep", 1, true), problem)
  ok, problem = pcall(heph.state.set, "inf", { [math.huge] = 1 })
  eq(problem, 'heph.state.set("inf"): the value has inf as a key; heph.state keeps finite numbers only')
  -- Metamethods are not called: the table's own fields are kept.
  local sneaky = setmetatable({ real = 1 }, { __pairs = function() error("called") end, __index = function() error("called") end })
  heph.state.set("sneaky", sneaky)
  eq(heph.state.get("sneaky").real, 1)
  -- A script that breaks the string library does not break heph.state.
  string.sub, string.match = nil, nil
  heph.state.set("after", { ok = true })
  eq(heph.state.get("after").ok, true)
  print("fifth test done")
end)

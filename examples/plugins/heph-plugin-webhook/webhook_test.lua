-- The webhook plugin's own tests: `heph test .` here (scripts/test: `heph test
-- examples/plugins` from the repository's root) runs them on the simulated
-- engine, in virtual time, with sim.http answering its requests (docs/plugins.md). No
-- engine and no network: a retry 2 s later takes no time at all.
--
-- heph.use("webhook") finds heph/plugins/webhook.lua here: the test file's directory is on
-- package.path, as the module heph.plugins.webhook is once the rock is installed.

local function api()
  heph.create_container{ image = "heph/busybox:latest", name = "api", cmd = { "sleep", "3600" } }
  heph.start_container("api")
end

-- Records each request (and when it came) and answers with the next of `answers`.
local function answering(answers)
  local sent = {}
  sim.http(function(request)
    sent[#sent + 1] = { request = request, at = heph.now() }
    local answer = table.remove(answers, 1) or answers.default
    if type(answer) == "number" then return answer, "" end
    return nil, answer
  end)
  return sent
end

test("each transition is posted as JSON, with the token and a timeout", function()
  local sent = answering({ default = 204 })
  heph.use("webhook", { url = "https://hooks.example/heph", events = { "running", "exit" }, token = "s3cret" })
  api()
  sim.kill("api")
  heph.sleep(1)
  assert(#sent == 2, "posts: " .. #sent)
  local request = sent[1].request
  assert(request.method == "POST" and request.url == "https://hooks.example/heph", request.url)
  assert(request.headers.Authorization == "Bearer s3cret")
  assert(request.headers["Content-Type"] == "application/json")
  assert(request.timeout == 5)
  local running, exit = heph.json.decode(request.body), heph.json.decode(sent[2].request.body)
  assert(running.event == "running" and running.name == "heph-api" and running.status == "running", request.body)
  assert(running.project == heph.config.project and running.previous == "created", request.body)
  assert(exit.event == "exit" and exit.exit_code == 137 and exit.expected == false, sent[2].request.body)
end)

test("a failed post is sent again after retry_delay", function()
  local sent = answering({ 503, 204 })
  heph.use("webhook", { url = "http://hooks.example/x", events = { "running" }, retry_delay = 2 })
  api()
  heph.sleep(10)
  assert(#sent == 2, "posts: " .. #sent)
  assert(sent[2].at - sent[1].at == 2, "retried after " .. (sent[2].at - sent[1].at) .. " s")
  assert(sent[2].request.body == sent[1].request.body)
end)

test("past its retries it gives up on that transition, and goes on with the next", function()
  local sent = answering({ "connection refused", "connection refused", "connection refused", default = 200 })
  heph.use("webhook", { url = "http://hooks.example/x", events = { "running", "exit" }, retries = 2, retry_delay = 0.5, log = false })
  api()
  heph.sleep(5)
  assert(#sent == 3, "tries: " .. #sent)
  sim.crash("api")
  heph.sleep(5)
  assert(#sent == 4 and heph.json.decode(sent[4].request.body).event == "exit")
end)

test("a url that is not one is refused before anything is posted", function()
  local sent = answering({ default = 200 })
  local ok, problem = pcall(heph.use, "webhook", { url = "hooks.example/heph" })
  assert(not ok and problem:find("option url must be an http:// or https:// URL, got \"hooks.example/heph\"", 1, true), problem)
  ok, problem = pcall(heph.use, "webhook", { url = "https://x", retries = 1.5 })
  assert(not ok and problem:find("option retries must be a whole number from 0 to 10, got 1.5", 1, true), problem)
  api()
  heph.sleep(1)
  assert(#sent == 0)
end)

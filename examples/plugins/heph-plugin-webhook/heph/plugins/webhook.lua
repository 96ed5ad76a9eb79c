-- heph-plugin-webhook: POSTs each transition as JSON to a URL, with a timeout and a retry.
--
--   heph.use("webhook", { url = "https://hooks.example/heph", events = { "unhealthy", "exit" } })
--
-- The body of each POST is one JSON object: event, name, id, status, previous, at,
-- expected, by, project, and exit_code / oom_killed on "exit". A request that fails (no
-- answer within `timeout`, or a status of 300 or more) is sent again after `retry_delay`
-- seconds, up to `retries` more times; then the plugin says on stderr that it gave up.
-- Requests never hold the loop back: each hook waits on its own.

local hooks = {}

local plugin = {
  name = "webhook",
  version = "1.0.0",
  description = "POSTs each transition as JSON to a URL, with a timeout and a retry.",
  options = {
    url = { type = "string", required = true, doc = "where to POST: an http:// or https:// URL",
            check = function(url) return url:find("^https?://[^/]") ~= nil, "must be an http:// or https:// URL" end },
    events = { type = "array", of = "string", min = 1, default = { "change" },
               one_of = { "created", "running", "stopped", "error", "healthy", "unhealthy", "change", "exit", "removed" },
               doc = "the hook events to post (any of heph.on's: change, exit, unhealthy, ...)" },
    target = { type = "target", doc = "the containers: a name or { pattern = \"...\" } (default: all)" },
    timeout = { type = "number", above = 0, max = 60, default = 5, doc = "seconds each request may take" },
    retries = { type = "number", integer = true, min = 0, max = 10, default = 1, doc = "how many times a failed request is sent again" },
    retry_delay = { type = "number", min = 0, default = 1, doc = "seconds between tries" },
    token = { type = "string", secret = true, doc = "sent as Authorization: Bearer TOKEN" },
    log = { type = "boolean", default = true, doc = "a line on stderr when a post fails for good" },
  },
}

-- The JSON object posted for `event` (a transition `ev`).
function plugin.payload(heph, event, ev)
  return {
    event = event, name = ev.name, id = ev.id, status = ev.status, previous = ev.previous,
    at = ev.at, expected = ev.expected, by = ev.by, exit_code = ev.exit_code, oom_killed = ev.oom_killed,
    project = heph.config.project,
  }
end

function plugin.setup(heph, o)
  local headers = { ["Content-Type"] = "application/json", ["User-Agent"] = "heph-plugin-webhook/" .. plugin.version }
  if o.token then headers.Authorization = "Bearer " .. o.token end

  local function post(event, ev)
    local body = heph.json.encode(plugin.payload(heph, event, ev))
    local problem
    for try = 1, o.retries + 1 do
      if try > 1 then heph.sleep(o.retry_delay) end
      local status, answer = heph.http.request{ method = "POST", url = o.url, headers = headers, body = body, timeout = o.timeout }
      if status and status < 300 then return true end
      problem = status and ("status " .. status) or answer
    end
    if o.log then
      io.stderr:write(("heph webhook: gave up posting %s of %s after %d tries: %s\n"):format(event, ev.name, o.retries + 1, problem))
    end
    return false
  end

  for _, event in ipairs(o.events) do
    local fn = function(ev) post(event, ev) end
    hooks[#hooks + 1] = o.target and heph.on(event, o.target, fn) or heph.on(event, fn)
  end
end

-- At shutdown: the hooks are removed.
function plugin.stop()
  for _, hook in ipairs(hooks) do hook:off() end
end

return plugin

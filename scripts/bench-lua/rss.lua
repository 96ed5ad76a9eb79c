-- This process's resident set size in KiB, read from /proc/self/status (Linux): what the
-- memory benchmarks print. Loaded with require("rss") from the scripts next to it.
return function()
  for line in io.lines("/proc/self/status") do
    local kib = line:match("^VmRSS:%s+(%d+)")
    if kib then return tonumber(kib) end
  end
end

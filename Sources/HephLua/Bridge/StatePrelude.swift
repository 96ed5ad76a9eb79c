/// The part of the prelude that makes `heph.state` (spliced into ``preludeSource``): the
/// waiting calls `state_get`, `state_set` and `state_keys` move into `heph.state`, and
/// values are encoded here, under the script's own time and memory limits.
///
/// The encoding (version byte 1, then one value): `T`/`F` booleans, `i` an integer and `d`
/// a float (`string.pack`'s `j` and `n`: integers stay integers, floats keep every bit),
/// `s` a string of any bytes (`s4`), `t` a table (`I4` pair count, then key and value of
/// each). Tables are read raw (no `__pairs`, no `__index`).
let statePreludeSource = #"""
do
  local get, set, list = heph.state_get, heph.state_set, heph.state_keys
  heph.state_get, heph.state_set, heph.state_keys = nil, nil, nil
  local spack, sunpack, mtype, huge, concat, sort, next, rawget, fmt = string.pack, string.unpack, math.type, math.huge, table.concat, table.sort, next, rawget, string.format
  local max_depth, max_key, max_bytes = 64, 1024, 1024 * 1024

  local function keytext(k)
    if type(k) == "string" and k:match("^[%a_][%w_]*$") then return "." .. k end
    return "[" .. (type(k) == "string" and fmt("%q", k) or tostring(k)) .. "]"
  end

  local function encode(v, out, path, depth, seen)
    local t = type(v)
    local where = path == "" and "the value" or "value" .. path
    if t == "boolean" then
      out[#out + 1] = v and "T" or "F"
    elseif t == "number" then
      if mtype(v) == "integer" then
        out[#out + 1] = spack("<c1j", "i", v)
      elseif v ~= v or v == huge or v == -huge then
        error(where .. " is " .. (v ~= v and "NaN" or tostring(v)) .. "; heph.state keeps finite numbers only", 0)
      else
        out[#out + 1] = spack("<c1n", "d", v)
      end
    elseif t == "string" then
      out[#out + 1] = spack("<c1s4", "s", v)
    elseif t == "table" then
      if seen[v] then error(where .. " contains itself (a cycle); heph.state keeps trees of values", 0) end
      if depth >= max_depth then error(where .. " nests more than " .. max_depth .. " tables deep", 0) end
      seen[v] = true
      local keys = {}
      for k in next, v do keys[#keys + 1] = k end
      out[#out + 1] = spack("<c1I4", "t", #keys)
      for _, k in ipairs(keys) do
        local kt = type(k)
        if kt ~= "string" and kt ~= "number" and kt ~= "boolean" then
          error(where .. " has a " .. kt .. " as a key; heph.state keys tables by strings, numbers and booleans", 0)
        end
        encode(k, out, path, depth + 1, seen)
        encode(rawget(v, k), out, path .. keytext(k), depth + 1, seen)
      end
      seen[v] = nil
    else
      error(where .. " is a " .. t .. "; heph.state keeps nil, booleans, numbers, strings and tables of those", 0)
    end
  end

  local function damaged() error("heph.state.get: the stored value is damaged (not written by heph.state.set)", 0) end

  local function decode(s, pos)
    local tag = s:sub(pos, pos)
    if tag == "T" then return true, pos + 1 end
    if tag == "F" then return false, pos + 1 end
    if tag == "i" then return sunpack("<j", s, pos + 1) end
    if tag == "d" then return sunpack("<n", s, pos + 1) end
    if tag == "s" then return sunpack("<s4", s, pos + 1) end
    if tag ~= "t" then damaged() end
    local count
    count, pos = sunpack("<I4", s, pos + 1)
    local t = {}
    for _ = 1, count do
      local k, v
      k, pos = decode(s, pos)
      v, pos = decode(s, pos)
      t[k] = v
    end
    return t, pos
  end

  local function check_key(key, name)
    if type(key) ~= "string" then
      error(("bad argument #1 to 'heph.state.%s' (string key expected, got %s)"):format(name, type(key)), 3)
    end
    if #key == 0 or #key > max_key then
      error(("bad argument #1 to 'heph.state.%s' (a key is 1 to %d bytes, got %d)"):format(name, max_key, #key), 3)
    end
  end

  heph.state = {
    get = function(key)
      check_key(key, "get")
      local bytes = get(key)
      if bytes == nil then return nil end
      if bytes:sub(1, 1) ~= "\1" then damaged() end
      local ok, value, stop = pcall(decode, bytes, 2)
      if not ok or stop ~= #bytes + 1 then damaged() end
      return value
    end,
    set = function(key, value)
      check_key(key, "set")
      local bytes
      if value ~= nil then
        local out = { "\1" }
        local ok, problem = pcall(encode, value, out, "", 0, {})
        if not ok then error(("heph.state.set(%q): %s"):format(key, tostring(problem)), 2) end
        bytes = concat(out)
        if #bytes > max_bytes then
          error(("heph.state.set(%q): the value takes %d bytes encoded; at most %d fit (keep large data elsewhere)"):format(key, #bytes, max_bytes), 2)
        end
      end
      set(key, bytes)
    end,
    keys = function()
      local keys = list()
      sort(keys)
      return keys
    end,
  }
end
"""#

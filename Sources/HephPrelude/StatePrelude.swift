/// The part of the prelude that makes `heph.state` (spliced into ``preludeSource``): the
/// waiting calls `state_get`, `state_set` and `state_keys` move into `heph.state`, and
/// values are encoded here, under the script's own time and memory limits.
///
/// The encoding (version byte 1, then one value): `T`/`F` booleans, `i` an integer and `d`
/// a float (`string.pack`'s `j` and `n`: integers stay integers, floats keep every bit),
/// `s` a string of any bytes (`s4`), `t` a table (`I4` pair count, then key and value of
/// each). Tables are read raw (no `__pairs`, no `__index`).
public let statePreludeSource = #"""
do
  local get, set, list = heph.state_get, heph.state_set, heph.state_keys
  heph.state_get, heph.state_set, heph.state_keys = nil, nil, nil
  -- Captured now: a script may change the string metatable or these tables later.
  local spack, sunpack, mtype, huge, concat, sort, next, rawget, fmt = string.pack, string.unpack, math.type, math.huge, table.concat, table.sort, next, rawget, string.format
  local ssub, tostring, type, ipairs, pcall, error = string.sub, tostring, type, ipairs, pcall, error
  local max_depth, max_key, max_bytes = 64, 1024, 1024 * 1024

  local quoted, where = quoted_key, value_path

  -- out.size: bytes so far; the encoder stops as soon as the value is too large.
  local function put(out, piece)
    out[#out + 1] = piece
    out.size = out.size + #piece
    if out.size > max_bytes then
      error(fmt("the value takes more than %d bytes encoded (keep large data elsewhere)", max_bytes), 0)
    end
  end

  local function encode(v, out, path, depth, seen)
    local t = type(v)
    if t == "boolean" then
      put(out, v and "T" or "F")
    elseif t == "number" then
      if mtype(v) == "integer" then
        put(out, spack("<c1j", "i", v))
      elseif v ~= v or v == huge or v == -huge then
        error(where(path, depth) .. " is " .. (v ~= v and "NaN" or tostring(v)) .. "; heph.state keeps finite numbers only", 0)
      else
        put(out, spack("<c1n", "d", v))
      end
    elseif t == "string" then
      if #v > max_bytes then put(out, v) end  -- too large: says so without copying it
      put(out, spack("<c1s4", "s", v))
    elseif t == "table" then
      if seen[v] then error(where(path, depth) .. " contains itself (a cycle); heph.state keeps trees of values", 0) end
      if depth >= max_depth then error(where(path, depth) .. " nests more than " .. max_depth .. " tables deep", 0) end
      seen[v] = true
      local keys = {}
      for k in next, v do keys[#keys + 1] = k end
      put(out, spack("<c1I4", "t", #keys))
      for _, k in ipairs(keys) do
        local kt = type(k)
        if kt ~= "string" and kt ~= "number" and kt ~= "boolean" then
          error(where(path, depth) .. " has a " .. kt .. " as a key; heph.state keys tables by strings, numbers and booleans", 0)
        end
        if kt == "number" and (k == huge or k == -huge) then
          error(where(path, depth) .. " has " .. tostring(k) .. " as a key; heph.state keeps finite numbers only", 0)
        end
        path[depth + 1] = k
        encode(k, out, path, depth + 1, seen)
        encode(rawget(v, k), out, path, depth + 1, seen)
      end
      path[depth + 1] = nil
      seen[v] = nil
    else
      error(where(path, depth) .. " is a " .. t .. "; heph.state keeps nil, booleans, numbers, strings and tables of those", 0)
    end
  end

  local function damaged() error("heph.state.get: the stored value is damaged (not written by heph.state.set)", 0) end

  local function decode(s, pos)
    local tag = ssub(s, pos, pos)
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
      error(fmt("bad argument #1 to 'heph.state.%s' (string key expected, got %s)", name, type(key)), 3)
    end
    if #key == 0 or #key > max_key then
      error(fmt("bad argument #1 to 'heph.state.%s' (a key is 1 to %d bytes, got %d)", name, max_key, #key), 3)
    end
  end

  heph.state = {
    get = function(key)
      check_key(key, "get")
      local bytes = get(key)
      if bytes == nil then return nil end
      if ssub(bytes, 1, 1) ~= "\1" then damaged() end
      local ok, value, stop = pcall(decode, bytes, 2)
      if not ok or stop ~= #bytes + 1 then damaged() end
      return value
    end,
    set = function(key, value)
      check_key(key, "set")
      local bytes
      if value ~= nil then
        local out = { "\1", size = 1 }
        local ok, problem = pcall(encode, value, out, {}, 0, {})
        if not ok then error(fmt("heph.state.set(%s): %s", quoted(key), tostring(problem)), 2) end
        out.size = nil
        bytes = concat(out)
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

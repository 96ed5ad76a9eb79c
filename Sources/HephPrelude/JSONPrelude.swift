/// The part of the prelude that makes `heph.json` (spliced into ``preludeSource``): JSON in
/// plain Lua, under the script's own time and memory limits, reading tables raw (no
/// `__pairs`, no `__index`).
///
/// Encoding: a table whose keys are exactly 1…n is an array, one whose keys are all
/// strings an object (keys sorted, so the text is the same every time), an empty table
/// `{}`; integers stay integers, floats keep their value; strings must be UTF-8. NaN, the
/// infinities, functions, other keys, cycles and nesting deeper than 64 are errors that say
/// where in the value they are. Decoding: `null` is nil (a hole in an array), numbers
/// without a fraction or exponent are integers when they fit.
public let jsonPreludeSource = #"""
do
  local type, next, ipairs, error, pcall, tonumber, tostring = type, next, ipairs, error, pcall, tonumber, tostring
  local fmt, sbyte, ssub, sfind, sgsub, gmatch = string.format, string.byte, string.sub, string.find, string.gsub, string.gmatch
  local concat, sort, mtype, huge = table.concat, table.sort, math.type, math.huge
  local utf8len, utf8char, rawlen, rawget = utf8.len, utf8.char, rawlen, rawget
  local max_depth = 64
  local failure = {}  -- the marker of the errors raised here: { failure, message }

  local function fail(message) error({ failure, message }, 0) end

  local where = value_path

  local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
  local function escape(c) return escapes[c] or fmt("\\u%04x", sbyte(c)) end

  local function number_text(v, path, depth)
    if mtype(v) == "integer" then return fmt("%d", v) end
    if v ~= v or v == huge or v == -huge then
      fail(where(path, depth) .. " is " .. (v ~= v and "NaN" or tostring(v)) .. "; JSON has no NaN or infinity")
    end
    local text = fmt("%.14g", v)
    if tonumber(text) ~= v then text = fmt("%.17g", v) end
    if not sfind(text, "[%.eE]") then text = text .. ".0" end
    return text
  end

  local encode
  local function encode_table(v, out, path, depth, seen)
    if depth >= max_depth then fail(where(path, depth) .. " is nested deeper than " .. max_depth .. " levels") end
    if seen[v] then fail(where(path, depth) .. " contains itself; JSON cannot hold a cycle") end
    seen[v] = true
    local count, n, keys = 0, rawlen(v), {}
    for k in next, v do
      count = count + 1
      if type(k) == "string" then keys[#keys + 1] = k end
    end
    local array = count == n
    for i = 1, array and n or 0 do
      if rawget(v, i) == nil then array = false; break end
    end
    if count == 0 then
      out[#out + 1] = "{}"
    elseif array then
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        path[depth + 1] = i
        encode(rawget(v, i), out, path, depth + 1, seen)
      end
      out[#out + 1] = "]"
    elseif #keys == count then
      sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = '"' .. sgsub(k, '[%c"\\]', escape) .. '":'
        if not utf8len(k) then fail(where(path, depth) .. " has a key that is not valid UTF-8; JSON holds text only") end
        path[depth + 1] = k
        encode(rawget(v, k), out, path, depth + 1, seen)
      end
      out[#out + 1] = "}"
    else
      -- The key to name: one that breaks the array (not an integer, below 1, after a hole).
      local other, breaks
      for k in next, v do
        if type(k) ~= "string" then
          local broken = mtype(k) ~= "integer" or k < 1 or (k > 1 and rawget(v, k - 1) == nil)
          if other == nil or (broken and not breaks) then other, breaks = k, broken end
        end
      end
      local shown = mtype(other) == "integer" and tostring(other) or type(other) == "number" and fmt("%.14g", other) or "of type " .. type(other)
      local why = #keys > 0 and " beside string keys" or mtype(other) == "integer" and " that is not part of an array 1 to n" or ""
      fail(where(path, depth) .. " has the key " .. shown .. why .. "; JSON holds arrays (keys 1 to n, no holes) and objects (string keys)")
    end
    seen[v] = nil
  end

  function encode(v, out, path, depth, seen)
    local t = type(v)
    if t == "nil" then
      out[#out + 1] = "null"
    elseif t == "boolean" then
      out[#out + 1] = v and "true" or "false"
    elseif t == "number" then
      out[#out + 1] = number_text(v, path, depth)
    elseif t == "string" then
      local valid, at = utf8len(v)
      if not valid then fail(fmt("%s is not valid UTF-8 (byte %d); JSON holds text only", where(path, depth), at)) end
      out[#out + 1] = '"' .. sgsub(v, '[%c"\\]', escape) .. '"'
    elseif t == "table" then
      encode_table(v, out, path, depth, seen)
    else
      fail(where(path, depth) .. " is a " .. t .. "; JSON holds nil, booleans, numbers, strings and tables")
    end
  end

  -- Runs f; a failure of ours becomes an error at the caller of heph.json.NAME.
  local function guarded(name, f, ...)
    local ok, result = pcall(f, ...)
    if ok then return result end
    if type(result) == "table" and result[1] == failure then error("heph.json." .. name .. ": " .. result[2], 3) end
    error(result, 0)
  end

  local decode_value

  local function position(s, pos)
    local line, start = 1, 1
    for at in gmatch(ssub(s, 1, pos - 1), "()\n") do line, start = line + 1, at + 1 end
    return fmt("line %d, column %d", line, pos - start + 1)
  end

  local function bad(s, pos, what)
    if pos > #s then fail("the text ends where " .. what .. " should follow (" .. position(s, pos) .. ")") end
    fail(fmt("unexpected %q where %s should be (%s)", ssub(s, pos, pos), what, position(s, pos)))
  end

  local function skip(s, pos)
    local _, last = sfind(s, "^[ \t\r\n]*", pos)
    return last + 1
  end

  local function decode_string(s, pos)
    local parts, at = {}, pos + 1
    while true do
      local stop = sfind(s, '["\\\0-\31]', at)
      if not stop then fail("a string is not closed (" .. position(s, pos) .. ")") end
      parts[#parts + 1] = ssub(s, at, stop - 1)
      local c = ssub(s, stop, stop)
      if c == '"' then return concat(parts), stop + 1 end
      if c ~= "\\" then fail("a control character inside a string must be escaped (" .. position(s, stop) .. ")") end
      local e = ssub(s, stop + 1, stop + 1)
      if e == "u" then
        local hex = ssub(s, stop + 2, stop + 5)
        if not sfind(hex, "^%x%x%x%x$") then fail("\\u needs four hex digits (" .. position(s, stop) .. ")") end
        local code, next_at = tonumber(hex, 16), stop + 6
        if code >= 0xD800 and code <= 0xDBFF then
          local low = sfind(s, "^\\u[dD][c-fC-F]%x%x", next_at) and tonumber(ssub(s, next_at + 2, next_at + 5), 16)
          if not low then fail("a lone surrogate \\u" .. hex .. " (" .. position(s, stop) .. ")") end
          code, next_at = 0x10000 + (code - 0xD800) * 0x400 + (low - 0xDC00), next_at + 6
        elseif code >= 0xDC00 and code <= 0xDFFF then
          fail("a lone surrogate \\u" .. hex .. " (" .. position(s, stop) .. ")")
        end
        parts[#parts + 1] = utf8char(code)
        at = next_at
      else
        local plain = ({ ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" })[e]
        if not plain then fail(fmt("\\%s is not an escape JSON knows (%s)", e, position(s, stop))) end
        parts[#parts + 1] = plain
        at = stop + 2
      end
    end
  end

  local function decode_number(s, pos)
    local _, last = sfind(s, "^-?%d+", pos)
    if not last then bad(s, pos, "a value") end
    local digits = ssub(s, pos, last)
    if sfind(digits, "^-?0%d") then fail("a number cannot start with 0 (" .. position(s, pos) .. ")") end
    local _, frac = sfind(s, "^%.%d+", last + 1)
    if frac then last = frac end
    local _, exp = sfind(s, "^[eE][-+]?%d+", last + 1)
    if exp then last = exp end
    -- Lua reads a whole number that fits as an integer, any other as a float.
    local value = tonumber(ssub(s, pos, last))
    if value == huge or value == -huge then fail("the number " .. ssub(s, pos, last) .. " is too large for a float (" .. position(s, pos) .. ")") end
    return value, last + 1
  end

  local literals = { t = { "true", true }, f = { "false", false }, n = { "null", nil } }

  function decode_value(s, pos, depth)
    pos = skip(s, pos)
    local c = ssub(s, pos, pos)
    if c == "{" or c == "[" then
      if depth >= max_depth then fail("the value is nested deeper than " .. max_depth .. " levels (" .. position(s, pos) .. ")") end
      local result, close = {}, c == "{" and "}" or "]"
      pos = skip(s, pos + 1)
      if ssub(s, pos, pos) == close then return result, pos + 1 end
      local n = 0
      while true do
        if c == "{" then
          if ssub(s, pos, pos) ~= '"' then bad(s, pos, "a key in quotes") end
          local key
          key, pos = decode_string(s, pos)
          pos = skip(s, pos)
          if ssub(s, pos, pos) ~= ":" then bad(s, pos, '":"') end
          result[key], pos = decode_value(s, pos + 1, depth + 1)
        else
          n = n + 1
          result[n], pos = decode_value(s, pos, depth + 1)
        end
        pos = skip(s, pos)
        local sep = ssub(s, pos, pos)
        if sep == close then return result, pos + 1 end
        if sep ~= "," then bad(s, pos, '"," or "' .. close .. '"') end
        pos = skip(s, pos + 1)
      end
    elseif c == '"' then
      return decode_string(s, pos)
    elseif literals[c] then
      local word, value = literals[c][1], literals[c][2]
      if ssub(s, pos, pos + #word - 1) ~= word then bad(s, pos, "a value") end
      return value, pos + #word
    else
      return decode_number(s, pos)
    end
  end

  heph.json = {
    encode = function(value)
      local text = guarded("encode", function(v)
        local out = {}
        encode(v, out, {}, 0, {})
        return concat(out)
      end, value)
      return text  -- not a tail call: guarded's errors point at the caller
    end,
    decode = function(text)
      if type(text) ~= "string" then
        error(fmt("bad argument #1 to 'decode' (string expected, got %s)", type(text)), 2)
      end
      local value = guarded("decode", function(s)
        local valid, at = utf8len(s)
        if not valid then fail(fmt("the text is not valid UTF-8 (byte %d)", at)) end
        local result, pos = decode_value(s, 1, 0)
        pos = skip(s, pos)
        if pos <= #s then bad(s, pos, "the end of the text") end
        return result
      end, text)
      return value
    end,
  }

  heph.http = { request = heph.http_request }
  heph.http_request = nil
end
"""#

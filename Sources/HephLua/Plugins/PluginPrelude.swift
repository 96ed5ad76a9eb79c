/// The part of the prelude that makes `heph.use` (spliced into ``preludeSource``): finds a
/// plugin, loads it, checks the plugin table and its declared `options`, validates the
/// script's options against them (one validator and one message shape for every plugin,
/// docs/plugins.md), runs `setup`, and keeps `stop` for the shutdown. Hooks, timers and
/// pollers the module or its `setup` registered are released when loading fails.
///
/// It also defines `describe_plugin(name)`, which `heph plugins NAME` runs: the plugin
/// found and checked as `heph.use` would, never set up, described as JSON.
let pluginPreludeSource = #"""
local describe_plugin
do
  local find_plugin, scope_open, scope_close = primitives.find_plugin, primitives.plugin_scope_open, primitives.plugin_scope_close
  local add_stop, described = primitives.plugin_stop, primitives.plugin_described
  local load, type, pcall, next, ipairs, error, rawget, rawlen, rawequal = load, type, pcall, next, ipairs, error, rawget, rawlen, rawequal
  local fmt, sfind, ssub, sgsub, sbyte, concat, sort = string.format, string.find, string.sub, string.gsub, string.byte, table.concat, table.sort
  local mtype, huge, tointeger, pack, unpack = math.type, math.huge, math.tointeger, table.pack, table.unpack
  local lua_package, running, json_encode = package, coroutine.running, heph.json.encode

  local type_names = { "array", "boolean", "function", "number", "string", "table", "target" }
  local attribute_names = { "above", "check", "default", "doc", "integer", "max", "min", "of", "one_of", "pattern", "required", "secret", "type" }
  local plugin_fields = { "description", "name", "options", "setup", "stop", "version" }
  local function set_of(list)
    local set = {}
    for _, v in ipairs(list) do set[v] = true end
    return set
  end
  local known_type, known_attribute = set_of(type_names), set_of(attribute_names)

  -- "Did you mean": the closest name within two edits (a swap of two letters is one), if any.
  local function distance(a, b)
    if #a > 64 or #b > 64 then return huge end
    local rows = { [0] = {} }
    for j = 0, #b do rows[0][j] = j end
    for i = 1, #a do
      local row, ai = { [0] = i }, sbyte(a, i)
      for j = 1, #b do
        local bj = sbyte(b, j)
        local best = rows[i - 1][j] + 1
        if row[j - 1] + 1 < best then best = row[j - 1] + 1 end
        local replace = rows[i - 1][j - 1] + (ai == bj and 0 or 1)
        if replace < best then best = replace end
        if i > 1 and j > 1 and ai == sbyte(b, j - 1) and sbyte(a, i - 1) == bj and rows[i - 2][j - 2] + 1 < best then
          best = rows[i - 2][j - 2] + 1
        end
        row[j] = best
      end
      rows[i] = row
    end
    return rows[#a][#b]
  end

  local function suggestion(word, candidates)
    if type(word) ~= "string" then return "" end
    local best, best_distance
    for _, candidate in ipairs(candidates) do
      local d = distance(word, candidate)
      if d <= 2 and d < #candidate and (not best_distance or d < best_distance) then best, best_distance = candidate, d end
    end
    return best and fmt("; did you mean %q?", best) or ""
  end

  -- A value as a message shows it: strings quoted (and shortened), never a metamethod run.
  local function quote(s)
    return (sgsub(fmt("%q", #s > 60 and ssub(s, 1, 60) .. "..." or s), "\\\n", "\\n"))
  end

  local function shown(v)
    local t = type(v)
    if t == "string" then return quote(v) end
    if t == "number" then
      if mtype(v) == "integer" then return fmt("%d", v) end
      if v ~= v then return "nan" end
      if v == huge or v == -huge then return v > 0 and "inf" or "-inf" end
      return fmt("%.14g", v)
    end
    if t == "boolean" then return v and "true" or "false" end
    if t == "nil" then return "nil" end
    return "a " .. t
  end

  local function got(v, spec)
    if rawget(spec, "secret") and v ~= nil then return "a " .. type(v) .. " (a secret: not shown)" end
    return shown(v)
  end

  local function kinds_of(spec)
    local kinds = rawget(spec, "type")
    if type(kinds) == "string" then return { kinds } end
    return kinds
  end

  local function member(list, v)
    for _, candidate in ipairs(list) do
      if rawequal(candidate, v) then return true end
    end
    return false
  end

  local function alternatives(list)
    local parts = {}
    for i, v in ipairs(list) do parts[i] = shown(v) end
    if #parts <= 1 then return parts[1] or "nothing" end
    return concat(parts, ", ", 1, #parts - 1) .. " or " .. parts[#parts]
  end

  local plurals = { array = "arrays", boolean = "booleans", ["function"] = "functions", number = "numbers", string = "strings", table = "tables", target = "targets" }

  local function describe_number(spec)
    local min, max, above = rawget(spec, "min"), rawget(spec, "max"), rawget(spec, "above")
    local text = rawget(spec, "integer") and "a whole number" or "a number"
    if above ~= nil then
      text = text .. " above " .. shown(above)
      if max ~= nil then text = text .. " and at most " .. shown(max) end
      if min ~= nil then text = text .. " and " .. shown(min) .. " or more" end
    elseif min ~= nil and max ~= nil then
      text = text .. " from " .. shown(min) .. " to " .. shown(max)
    elseif min ~= nil then
      text = text .. " " .. shown(min) .. " or more"
    elseif max ~= nil then
      text = text .. " at most " .. shown(max)
    end
    return text
  end

  local function element_text(spec)
    local one_of, of = rawget(spec, "one_of"), rawget(spec, "of")
    if one_of then return alternatives(one_of) end
    if of then
      local kinds, parts = type(of) == "table" and of or { of }, {}
      for i, kind in ipairs(kinds) do parts[i] = plurals[kind] or kind end
      return concat(parts, " or ")
    end
  end

  local function describe_kind(kind, spec)
    if kind == "number" then return describe_number(spec) end
    if kind == "string" then
      if rawget(spec, "one_of") then return alternatives(rawget(spec, "one_of")) end
      if rawget(spec, "pattern") then return "a string matching " .. quote(rawget(spec, "pattern")) end
      return "a string"
    end
    if kind == "boolean" then return "true or false" end
    if kind == "target" then return 'a container name or { pattern = "..." }' end
    if kind == "array" then
      local min, max = rawget(spec, "min"), rawget(spec, "max")
      local text = min == 1 and "a non-empty array" or "an array"
      local elements = element_text(spec)
      if elements then text = text .. " of " .. elements end
      if min and min > 1 then text = text .. fmt(" (at least %s)", shown(min)) end
      if max then text = text .. fmt(" (at most %s)", shown(max)) end
      return text
    end
    return "a " .. kind
  end

  local function describe(spec)
    local parts = {}
    for i, kind in ipairs(kinds_of(spec)) do parts[i] = describe_kind(kind, spec) end
    return concat(parts, " or ")
  end

  local function finite(v) return v == v and v ~= huge and v ~= -huge end

  -- Whether an array's keys are exactly 1..n (n = its raw length).
  local function is_array(v)
    local n, count = rawlen(v), 0
    for _ in next, v do count = count + 1 end
    if count ~= n then return false end
    for i = 1, n do
      if rawget(v, i) == nil then return false end
    end
    return true
  end

  -- Whether v is of one kind of a spec; for an array whose element i is wrong, also i.
  local matches
  local function matches_kind(kind, spec, v)
    local t = type(v)
    if kind == "number" then
      if t ~= "number" or not finite(v) then return false end
      if rawget(spec, "integer") and not tointeger(v) then return false end
      local min, max, above = rawget(spec, "min"), rawget(spec, "max"), rawget(spec, "above")
      return (min == nil or v >= min) and (max == nil or v <= max) and (above == nil or v > above)
    elseif kind == "string" then
      if t ~= "string" then return false end
      local one_of, pattern = rawget(spec, "one_of"), rawget(spec, "pattern")
      return (not one_of or member(one_of, v)) and (not pattern or sfind(v, pattern) ~= nil)
    elseif kind == "target" then
      if t == "string" then return v ~= "" end
      return t == "table" and type(rawget(v, "pattern")) == "string"
    elseif kind == "array" then
      if t ~= "table" or not is_array(v) then return false end
      local n, min, max = rawlen(v), rawget(spec, "min"), rawget(spec, "max")
      if (min and n < min) or (max and n > max) then return false end
      local of, one_of = rawget(spec, "of"), rawget(spec, "one_of")
      for i = 1, n do
        local element = rawget(v, i)
        if (of and not matches(type(of) == "table" and of or { of }, {}, element)) or (one_of and not member(one_of, element)) then
          return false, i
        end
      end
      return true
    end
    return t == kind
  end

  function matches(kinds, spec, v)
    local element
    for _, kind in ipairs(kinds) do
      local ok, at = matches_kind(kind, spec, v)
      if ok then return true end
      element = element or at
    end
    return false, #kinds == 1 and element or nil
  end

  -- nil when v suits spec; else what is wrong, as "option NAME …" says it.
  local function fault(name, spec, v)
    local ok, element = matches(kinds_of(spec), spec, v)
    if not ok then
      if element then
        local e, one_of, of = rawget(v, element), rawget(spec, "one_of"), rawget(spec, "of")
        local expected
        if one_of then
          expected = alternatives(one_of)
        else
          local parts = {}
          for i, kind in ipairs(type(of) == "table" and of or { of }) do parts[i] = describe_kind(kind, {}) end
          expected = concat(parts, " or ")
        end
        local hint = one_of and suggestion(e, one_of) or ""
        return fmt("option %s[%d] must be %s, got %s%s", name, element, expected, got(e, spec), hint ~= "" and " (" .. ssub(hint, 3) .. ")" or "")
      end
      local one_of = rawget(spec, "one_of")
      local hint = one_of and type(v) == "string" and not member(one_of, v) and suggestion(v, one_of) or ""
      return fmt("option %s must be %s, got %s%s", name, describe(spec), got(v, spec), hint ~= "" and " (" .. ssub(hint, 3) .. ")" or "")
    end
    local check = rawget(spec, "check")
    if check then
      local ran, accepted, message = pcall(check, v)
      if not ran then
        if type(accepted) ~= "string" then error(accepted, 0) end
        return fmt("option %s: the plugin's check of it failed: %s", name, accepted)
      end
      if not accepted then
        return fmt("option %s %s, got %s", name, type(message) == "string" and message or "is not valid", got(v, spec))
      end
    end
  end

  -- A copy of a default, so that no heph.use shares a table with another.
  local function copy(v, depth)
    if type(v) ~= "table" or depth > 32 then return v end
    local result = {}
    for k, x in next, v do result[k] = copy(x, depth + 1) end
    return result
  end

  -- The declared options: nil and the fault (with its fix) when the declaration is wrong,
  -- else the option names, sorted.
  local function check_schema(options)
    if type(options) ~= "table" then return nil, "options must be a table of name = { type = ... }, got " .. shown(options) end
    local names = {}
    for name, spec in next, options do
      if type(name) ~= "string" then return nil, "options has the key " .. shown(name) .. "; name each option with a string" end
      if type(spec) ~= "table" then return nil, fmt('option %s must be declared as a table such as { type = "string" }, got %s', name, shown(spec)) end
      names[#names + 1] = name
    end
    sort(names)
    for _, name in ipairs(names) do
      local spec = rawget(options, name)
      for attribute in next, spec do
        if not known_attribute[attribute] then
          return nil, fmt("option %s has the unknown field %s in its declaration (known: %s%s)", name, shown(attribute), concat(attribute_names, ", "), suggestion(attribute, attribute_names))
        end
      end
      local kinds = rawget(spec, "type")
      if kinds == nil then return nil, fmt('option %s declares no type; add one, such as type = "string" (known: %s)', name, concat(type_names, ", ")) end
      if type(kinds) ~= "string" and (type(kinds) ~= "table" or not is_array(kinds) or rawlen(kinds) == 0) then
        return nil, fmt('option %s: type must be a type name or a list of them, such as { "string", "array" }, got %s', name, shown(kinds))
      end
      for _, kind in ipairs(kinds_of(spec)) do
        if not known_type[kind] then
          return nil, fmt("option %s has the unknown type %s (known: %s%s)", name, shown(kind), concat(type_names, ", "), suggestion(kind, type_names))
        end
      end
      for _, attribute in ipairs({ "min", "max", "above" }) do
        local v = rawget(spec, attribute)
        if v ~= nil and (type(v) ~= "number" or not finite(v)) then return nil, fmt("option %s: %s must be a finite number, got %s", name, attribute, shown(v)) end
      end
      for _, attribute in ipairs({ "integer", "required", "secret" }) do
        local v = rawget(spec, attribute)
        if v ~= nil and type(v) ~= "boolean" then return nil, fmt("option %s: %s must be true or false, got %s", name, attribute, shown(v)) end
      end
      for attribute, kind in next, { doc = "string", pattern = "string", check = "function" } do
        local v = rawget(spec, attribute)
        if v ~= nil and type(v) ~= kind then return nil, fmt("option %s: %s must be a %s, got %s", name, attribute, kind, shown(v)) end
      end
      local one_of = rawget(spec, "one_of")
      if one_of ~= nil and (type(one_of) ~= "table" or not is_array(one_of) or rawlen(one_of) == 0) then
        return nil, fmt('option %s: one_of must be a non-empty list of the values allowed, such as { "soft", "hard" }, got %s', name, shown(one_of))
      end
      local of = rawget(spec, "of")
      if of ~= nil then
        for _, kind in ipairs(type(of) == "table" and of or { of }) do
          if not known_type[kind] then
            return nil, fmt("option %s: of names the unknown type %s (known: %s%s)", name, shown(kind), concat(type_names, ", "), suggestion(kind, type_names))
          end
        end
      end
      local pattern = rawget(spec, "pattern")
      if pattern then
        local valid, problem = pcall(sfind, "", pattern)
        if not valid then return nil, fmt("option %s: pattern %s is not a Lua pattern: %s", name, quote(pattern), problem) end
      end
      local default = rawget(spec, "default")
      if default ~= nil then
        if rawget(spec, "required") then return nil, fmt("option %s is required and has a default; keep one of the two", name) end
        local wrong = fault(name, spec, default)
        if wrong then return nil, "the default of " .. sgsub(wrong, "^option ", "", 1) end
      end
    end
    return names
  end

  -- The script's options checked against the declaration: a new table with the defaults
  -- filled in, or nil and the fault.
  local function checked_options(options, names, opts)
    local unknown = {}
    for key in next, opts do
      if type(key) ~= "string" or rawget(options, key) == nil then unknown[#unknown + 1] = key end
    end
    if #unknown > 0 then
      sort(unknown, function(a, b)
        if type(a) == "string" and type(b) == "string" then return a < b end
        return type(a) == "string"
      end)
      local key = unknown[1]
      return nil, fmt("unknown option %s (known: %s%s)", shown(key), #names > 0 and concat(names, ", ") or "none", suggestion(key, names))
    end
    local result = {}
    for _, name in ipairs(names) do
      local spec, v = rawget(options, name), rawget(opts, name)
      if v == nil then
        if rawget(spec, "required") then return nil, fmt("option %s is required", name) end
        result[name] = copy(rawget(spec, "default"), 0)
      else
        local wrong = fault(name, spec, v)
        if wrong then return nil, wrong end
        result[name] = v
      end
    end
    return result
  end

  -- The plugin table a module returned: nil and the fault when it is not one.
  local function check_plugin(plugin)
    if type(plugin) ~= "table" then
      return nil, "it returns " .. shown(plugin) .. "; a plugin module returns a table with a setup function, such as return { setup = function(heph, opts) ... end }"
    end
    if type(rawget(plugin, "setup")) ~= "function" then
      return nil, "it returns a table without a setup function; add setup = function(heph, opts) ... end to it"
    end
    for field, kind in next, { name = "string", version = "string", description = "string", stop = "function", options = "table" } do
      local v = rawget(plugin, field)
      if v ~= nil and type(v) ~= kind then
        return nil, fmt("the plugin's %s must be a %s, got %s", field, kind, shown(v))
      end
    end
    local options = rawget(plugin, "options")
    if options == nil then return plugin end
    local names, problem = check_schema(options)
    if not names then return nil, problem end
    return plugin, names
  end

  -- What a module or setup raised, as a message; heph.exit's signal is raised on as it is
  -- (the run ends), and so is every error where heph.exit cannot yield.
  local function problem_text(problem)
    if rawequal(problem, exit_signal) then error(problem, 0) end
    if type(problem) == "string" then return problem end
    return "(error object is a " .. type(problem) .. " value)"
  end

  -- Finds and runs the module of plugin `name`; raises at `level` when it cannot (the
  -- script's line, when called through pcall from heph.use: 4).
  local function load_plugin(name, label, level)
    local path = rawget(lua_package, "path")
    local chunkname, source, file, place = find_plugin(name, type(path) == "string" and path or nil)
    if not chunkname then error(label .. ": " .. source, level) end
    local chunk, problem = load(source, chunkname, "t")
    if not chunk then error(fmt("%s: %s does not compile: %s", label, file, problem), level) end
    local ran, plugin = pcall(chunk, name)
    if not ran then
      local hint = type(plugin) == "string" and sfind(plugin, "stack overflow", 1, true) and " (does the module require itself?)" or ""
      error(fmt("%s: %s failed while it loaded: %s%s", label, file, problem_text(plugin), hint), level)
    end
    local names
    plugin, names = check_plugin(plugin)
    if not plugin then error(fmt("%s: %s: %s", label, file, names), level) end
    return plugin, names, file, place
  end

  -- Plugins being loaded, by coroutine: one that uses itself is an error, not a recursion.
  local loading = setmetatable({}, { __mode = "k" })

  -- heph.use(name [, opts]): finds the plugin (next to the script, $HEPH_PATH, the user's
  -- plugin directory, heph.plugins.NAME on package.path, built in), checks opts against
  -- its options, runs setup, and returns what setup returns.
  function heph.use(name, opts)
    if type(name) ~= "string" then
      error(fmt("bad argument #1 to 'use' (plugin name expected, got %s)", type(name)), 2)
    end
    if opts ~= nil and type(opts) ~= "table" then
      error(fmt("bad argument #2 to 'use' (options table expected, got %s)", type(opts)), 2)
    end
    local label = fmt("heph.use('%s')", name)
    local co = running()
    local mine = loading[co] or {}
    if mine[name] then
      error(fmt("%s: the plugin uses itself while it loads (its module or setup calls heph.use(%s)); a plugin cannot use itself", label, quote(name)), 2)
    end
    loading[co], mine[name] = mine, true
    scope_open()
    local ok, plugin, names, file = pcall(load_plugin, name, label, 4)
    if not ok then
      mine[name] = nil
      scope_close(true)
      error(plugin, 0)
    end
    local options = opts or {}
    if names then
      local problem
      options, problem = checked_options(rawget(plugin, "options"), names, options)
      if not options then
        mine[name] = nil
        scope_close(true)
        error(label .. ": " .. problem, 2)
      end
    end
    local results = pack(pcall(rawget(plugin, "setup"), heph, options))
    mine[name] = nil
    if not results[1] then
      scope_close(true)
      error(fmt("%s: the setup of %s failed: %s", label, file, problem_text(results[2])), 2)
    end
    scope_close(false)
    local stop = rawget(plugin, "stop")
    if stop then add_stop(stop, name) end
    return unpack(results, 2, results.n)
  end

  -- A default as a table cell shows it: a literal, a few levels deep.
  local function literal(v, depth)
    if type(v) ~= "table" then return shown(v) end
    if depth > 2 then return "{ ... }" end
    local parts, n = {}, rawlen(v)
    for i = 1, n do parts[#parts + 1] = literal(rawget(v, i), depth + 1) end
    local keys = {}
    for k in next, v do
      if not (mtype(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    end
    sort(keys, function(a, b) return shown(a) < shown(b) end)
    for _, k in ipairs(keys) do
      local key = type(k) == "string" and sfind(k, "^[%a_][%w_]*$") and k or "[" .. shown(k) .. "]"
      parts[#parts + 1] = key .. " = " .. literal(rawget(v, k), depth + 1)
    end
    if #parts == 0 then return "{}" end
    return "{ " .. concat(parts, ", ") .. " }"
  end

  -- How the table of `heph plugins NAME` writes a type: "number >= 0", "array of string".
  local function summary(spec)
    local parts = {}
    for i, kind in ipairs(kinds_of(spec)) do
      local text = kind
      if kind == "number" then
        local min, max, above = rawget(spec, "min"), rawget(spec, "max"), rawget(spec, "above")
        text = rawget(spec, "integer") and "integer" or "number"
        local bounds = {}
        if above ~= nil then bounds[#bounds + 1] = "> " .. shown(above) end
        if min ~= nil and max ~= nil then bounds[#bounds + 1] = shown(min) .. ".." .. shown(max)
        elseif min ~= nil then bounds[#bounds + 1] = ">= " .. shown(min)
        elseif max ~= nil then bounds[#bounds + 1] = "<= " .. shown(max) end
        if #bounds > 0 then text = text .. " " .. concat(bounds, ", ") end
      elseif kind == "string" and rawget(spec, "one_of") then
        local values = {}
        for j, v in ipairs(rawget(spec, "one_of")) do values[j] = shown(v) end
        text = concat(values, "|")
      elseif kind == "array" then
        local one_of, of = rawget(spec, "one_of"), rawget(spec, "of")
        if one_of then
          local values = {}
          for j, v in ipairs(one_of) do values[j] = shown(v) end
          text = "array of " .. concat(values, "|")
          -- A long list reads better in the option's doc than in the column.
          if #text > 40 then text = fmt("array of %s (one of %d values)", type(of) == "string" and of or "values", #values) end
        elseif of then
          text = "array of " .. (type(of) == "table" and concat(of, "|") or of)
        end
      end
      parts[i] = text
    end
    return concat(parts, " or ")
  end

  -- `heph plugins NAME`: the plugin as heph.use would find it, checked, never set up.
  function describe_plugin(name)
    local label = fmt("heph plugins %s", name)
    local plugin, names, file, place = load_plugin(name, label, 0)
    local rows = {}
    local options = rawget(plugin, "options")
    for i, option in ipairs(names or {}) do
      local spec = rawget(options, option)
      local default = rawget(spec, "default")
      rows[i] = {
        name = option, type = summary(spec),
        default = default == nil and "" or rawget(spec, "secret") and "(secret)" or literal(default, 0),
        required = rawget(spec, "required") == true, doc = rawget(spec, "doc") or "",
      }
    end
    described(json_encode({
      name = rawget(plugin, "name") or name, version = rawget(plugin, "version") or "", description = rawget(plugin, "description") or "",
      file = file, place = place, options = #rows > 0 and rows or nil, declared = names ~= nil, stops = rawget(plugin, "stop") ~= nil,
    }))
  end
end
"""#

/// The part of the prelude that makes `heph.use` (spliced into ``preludeSource``): finds a
/// plugin, loads it, checks the plugin table and its declared `options`, validates the
/// script's options against them (one validator and one message shape for every plugin,
/// docs/plugins.md), runs `setup`, and keeps `stop` for the shutdown. Hooks, timers and
/// pollers the module or its `setup` registered are released when loading fails.
///
/// It also defines `describe_plugin(name)`, which `heph plugins NAME` runs: the plugin
/// found and checked as `heph.use` would, never set up, described as JSON.
public let pluginPreludeSource = #"""
local describe_plugin
do
  local find_plugin, scope_open, scope_close = primitives.find_plugin, primitives.plugin_scope_open, primitives.plugin_scope_close
  local add_stop, described = primitives.plugin_stop, primitives.plugin_described
  local load, type, pcall, next, ipairs, error, rawget, rawlen, rawequal = load, type, pcall, next, ipairs, error, rawget, rawlen, rawequal
  local fmt, sfind, ssub, sgsub, sbyte, concat, sort = string.format, string.find, string.sub, string.gsub, string.byte, table.concat, table.sort
  local mtype, huge, tointeger, pack, unpack = math.type, math.huge, math.tointeger, table.pack, table.unpack
  local lua_package, running, costatus, json_encode, utf8len = package, coroutine.running, coroutine.status, heph.json.encode, utf8.len

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
      local d = type(candidate) == "string" and distance(word, candidate) or huge
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

  local function finite(v) return v == v and v ~= huge and v ~= -huge end

  local function got(v, spec)
    if spec.secret and v ~= nil then return "a " .. type(v) .. " (a secret: not shown)" end
    if type(v) == "number" and not finite(v) then return shown(v) .. " (numbers must be finite)" end
    return shown(v)
  end

  -- "Did you mean", for a value of spec that is not one of `candidates`: never for a secret.
  local function hint(v, candidates, spec)
    if spec.secret or type(v) ~= "string" then return "" end
    local text = suggestion(v, candidates)
    return text ~= "" and " (" .. ssub(text, 3) .. ")" or ""
  end

  local function member(list, v)
    for i = 1, #list do
      if rawequal(list[i], v) then return true end
    end
    return false
  end

  local function alternatives(list)
    local parts = {}
    for i = 1, #list do parts[i] = shown(list[i]) end
    if #parts <= 1 then return parts[1] or "nothing" end
    return concat(parts, ", ", 1, #parts - 1) .. " or " .. parts[#parts]
  end

  local plurals = { array = "arrays", boolean = "booleans", ["function"] = "functions", number = "numbers", string = "strings", table = "tables", target = "targets" }

  local function describe_number(spec)
    local min, max, above = spec.min, spec.max, spec.above
    local text = spec.integer and "a whole number" or "a number"
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
    if spec.one_of then return alternatives(spec.one_of) end
    if spec.of then
      local parts = {}
      for i, kind in ipairs(spec.of) do parts[i] = plurals[kind] end
      return concat(parts, " or ")
    end
  end

  local function describe_kind(kind, spec)
    if kind == "number" then return describe_number(spec) end
    if kind == "string" then
      if spec.one_of then return alternatives(spec.one_of) end
      if spec.pattern then return "a string matching " .. quote(spec.pattern) end
      return "a string"
    end
    if kind == "boolean" then return "true or false" end
    if kind == "target" then return 'a container name or { pattern = "..." }' end
    if kind == "array" then
      local text = spec.min == 1 and "a non-empty array" or "an array"
      local elements = element_text(spec)
      if elements then text = text .. " of " .. elements end
      if spec.min and spec.min > 1 then text = text .. fmt(" (at least %s)", shown(spec.min)) end
      if spec.max then text = text .. fmt(" (at most %s)", shown(spec.max)) end
      return text
    end
    return "a " .. kind
  end

  local function describe(spec)
    local parts = {}
    for i, kind in ipairs(spec.type) do parts[i] = describe_kind(kind, spec) end
    return concat(parts, " or ")
  end

  -- Whether a table's keys are exactly 1..n (n = its raw length): read raw.
  local function is_array(v)
    local n, count = rawlen(v), 0
    for _ in next, v do count = count + 1 end
    if count ~= n then return false end
    for i = 1, n do
      if rawget(v, i) == nil then return false end
    end
    return true
  end

  -- A plain copy of a non-empty list, read raw (a declaration's metatables never run);
  -- nil when it is not one.
  local function plain_list(v)
    if type(v) ~= "table" or not is_array(v) or rawlen(v) == 0 then return nil end
    local list = {}
    for i = 1, rawlen(v) do list[i] = rawget(v, i) end
    return list
  end

  -- Whether v is of one kind of a spec; for an array whose element i is wrong, also i.
  local matches
  local function matches_kind(kind, spec, v)
    local t = type(v)
    if kind == "number" then
      if t ~= "number" or not finite(v) then return false end
      if spec.integer and not tointeger(v) then return false end
      return (spec.min == nil or v >= spec.min) and (spec.max == nil or v <= spec.max) and (spec.above == nil or v > spec.above)
    elseif kind == "string" then
      if t ~= "string" then return false end
      if spec.one_of and not member(spec.one_of, v) then return false end
      if spec.pattern then
        local ran, found = pcall(sfind, v, spec.pattern)
        return ran and found ~= nil
      end
      return true
    elseif kind == "target" then
      if t == "string" then return v ~= "" end
      return t == "table" and type(rawget(v, "pattern")) == "string"
    elseif kind == "array" then
      if t ~= "table" or not is_array(v) then return false end
      local n = rawlen(v)
      if (spec.min and n < spec.min) or (spec.max and n > spec.max) then return false end
      for i = 1, n do
        local element = rawget(v, i)
        if (spec.of and not matches(spec.of, {}, element)) or (spec.one_of and not member(spec.one_of, element)) then
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
    local ok, element = matches(spec.type, spec, v)
    if not ok then
      if element then
        local e, expected = rawget(v, element), nil
        if spec.one_of then
          expected = alternatives(spec.one_of)
        else
          local parts = {}
          for i, kind in ipairs(spec.of) do parts[i] = describe_kind(kind, {}) end
          expected = concat(parts, " or ")
        end
        return fmt("option %s[%d] must be %s, got %s%s", name, element, expected, got(e, spec), spec.one_of and hint(e, spec.one_of, spec) or "")
      end
      local extra = spec.one_of and not member(spec.one_of, v) and hint(v, spec.one_of, spec) or ""
      return fmt("option %s must be %s, got %s%s", name, describe(spec), got(v, spec), extra)
    end
    if spec.check then
      local ran, accepted, message = pcall(spec.check, v)
      if not ran then
        return fmt("option %s: the plugin's check of it failed: %s", name, type(accepted) == "string" and accepted or "(error object is a " .. type(accepted) .. " value)")
      end
      if not accepted then
        return fmt("option %s %s, got %s", name, type(message) == "string" and message or "is not valid", got(v, spec))
      end
    end
  end

  -- A copy of a default, so that no heph.use shares a table with another (a table met
  -- twice is copied once, so cycles and shared parts stay what they were).
  local function copy(v, copies)
    if type(v) ~= "table" then return v end
    if copies[v] then return copies[v] end
    local result = {}
    copies[v] = result
    for k, x in next, v do result[copy(k, copies)] = copy(x, copies) end
    return result
  end

  -- Which types each attribute of a declaration applies to.
  local applies = {
    min = { number = true, array = true }, max = { number = true, array = true }, above = { number = true },
    integer = { number = true }, one_of = { string = true, array = true }, pattern = { string = true }, of = { array = true },
  }

  -- One option's declaration, checked and read into a plain table (its lists copied raw);
  -- nil and the fault (with its fix) when it is wrong.
  local function declaration(name, spec)
    for attribute in next, spec do
      if not known_attribute[attribute] then
        return nil, fmt("option %s has the unknown field %s in its declaration (known: %s%s)", name, shown(attribute), concat(attribute_names, ", "), suggestion(attribute, attribute_names))
      end
    end
    local declared = rawget(spec, "type")
    if declared == nil then return nil, fmt('option %s declares no type; add one, such as type = "string" (known: %s)', name, concat(type_names, ", ")) end
    local kinds = type(declared) == "string" and { declared } or plain_list(declared)
    if not kinds then
      return nil, fmt('option %s: type must be a type name or a list of them, such as { "string", "array" }, got %s', name, shown(declared))
    end
    local result, has = { type = kinds }, {}
    for _, kind in ipairs(kinds) do
      if not known_type[kind] then
        return nil, fmt("option %s has the unknown type %s (known: %s%s)", name, shown(kind), concat(type_names, ", "), suggestion(kind, type_names))
      end
      has[kind] = true
    end
    for attribute, kinds_allowed in next, applies do
      if rawget(spec, attribute) ~= nil then
        local fits = false
        for kind in next, kinds_allowed do fits = fits or has[kind] end
        if not fits then
          local allowed = {}
          for kind in next, kinds_allowed do allowed[#allowed + 1] = kind end
          sort(allowed)
          return nil, fmt("option %s: %s applies to a %s, not to its type %s", name, attribute, concat(allowed, " or "), concat(kinds, " or "))
        end
      end
    end
    for _, attribute in ipairs({ "min", "max", "above" }) do
      local v = rawget(spec, attribute)
      if v ~= nil and (type(v) ~= "number" or not finite(v)) then return nil, fmt("option %s: %s must be a finite number, got %s", name, attribute, shown(v)) end
      result[attribute] = v
    end
    if result.min and result.max and result.min > result.max then
      return nil, fmt("option %s: min %s is above max %s; no value could pass", name, shown(result.min), shown(result.max))
    end
    if result.above and result.max and result.above >= result.max then
      return nil, fmt("option %s: above %s is not below max %s; no value could pass", name, shown(result.above), shown(result.max))
    end
    for _, attribute in ipairs({ "integer", "required", "secret" }) do
      local v = rawget(spec, attribute)
      if v ~= nil and type(v) ~= "boolean" then return nil, fmt("option %s: %s must be true or false, got %s", name, attribute, shown(v)) end
      result[attribute] = v
    end
    for attribute, kind in next, { doc = "string", pattern = "string", check = "function" } do
      local v = rawget(spec, attribute)
      if v ~= nil and type(v) ~= kind then return nil, fmt("option %s: %s must be a %s, got %s", name, attribute, kind, shown(v)) end
      result[attribute] = v
    end
    local one_of = rawget(spec, "one_of")
    if one_of ~= nil then
      result.one_of = plain_list(one_of)
      if not result.one_of then
        return nil, fmt('option %s: one_of must be a non-empty list of the values allowed, such as { "soft", "hard" }, got %s', name, shown(one_of))
      end
      if has.string and not has.array then
        for _, v in ipairs(result.one_of) do
          if type(v) ~= "string" then return nil, fmt("option %s: one_of of a string lists strings, got %s", name, shown(v)) end
        end
      end
    end
    local of = rawget(spec, "of")
    if of ~= nil then
      result.of = type(of) == "string" and { of } or plain_list(of)
      if not result.of then return nil, fmt('option %s: of must be a type name or a non-empty list of them, got %s', name, shown(of)) end
      for _, kind in ipairs(result.of) do
        if not known_type[kind] then
          return nil, fmt("option %s: of names the unknown type %s (known: %s%s)", name, shown(kind), concat(type_names, ", "), suggestion(kind, type_names))
        end
      end
    end
    if result.pattern then
      local valid, problem = pcall(sfind, "", result.pattern)
      if not valid then return nil, fmt("option %s: pattern %s is not a Lua pattern: %s", name, quote(result.pattern), problem) end
    end
    local default = rawget(spec, "default")
    if default ~= nil then
      if result.required then return nil, fmt("option %s is required and has a default; keep one of the two", name) end
      local wrong = fault(name, result, default)
      if wrong then return nil, "the default of " .. sgsub(wrong, "^option ", "", 1) end
      result.default = default
    end
    return result
  end

  -- The declared options: the option names, sorted, and their declarations read; or nil
  -- and the fault (with its fix) when the declaration is wrong.
  local function check_schema(options)
    if type(options) ~= "table" then return nil, "options must be a table of name = { type = ... }, got " .. shown(options) end
    local names = {}
    for name, spec in next, options do
      if type(name) ~= "string" then return nil, "options has the key " .. shown(name) .. "; name each option with a string" end
      if type(spec) ~= "table" then return nil, fmt('option %s must be declared as a table such as { type = "string" }, got %s', name, shown(spec)) end
      names[#names + 1] = name
    end
    sort(names)
    local specs = {}
    for _, name in ipairs(names) do
      local spec, problem = declaration(name, rawget(options, name))
      if not spec then return nil, problem end
      specs[name] = spec
    end
    return names, specs
  end

  -- The script's options checked against the declarations: a new table with the defaults
  -- filled in, or nil and the fault.
  local function checked_options(specs, names, opts)
    local unknown = {}
    for key in next, opts do
      if type(key) ~= "string" or specs[key] == nil then unknown[#unknown + 1] = key end
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
      local spec, v = specs[name], rawget(opts, name)
      if v == nil then
        if spec.required then return nil, fmt("option %s is required", name) end
        result[name] = copy(spec.default, {})
      else
        local wrong = fault(name, spec, v)
        if wrong then return nil, wrong end
        result[name] = v
      end
    end
    return result
  end

  -- The plugin table fields heph reads, and the type of each.
  local field_types = { name = "string", version = "string", description = "string", options = "table", setup = "function", stop = "function" }

  -- The plugin table a module returned, checked: the option names and their declarations
  -- (nil without options); or false and the fault.
  local function check_plugin(plugin)
    if type(plugin) ~= "table" then
      return false, "it returns " .. shown(plugin) .. "; a plugin module returns a table with a setup function, such as return { setup = function(heph, opts) ... end }"
    end
    if type(rawget(plugin, "setup")) ~= "function" then
      return false, "it returns a table without a setup function; add setup = function(heph, opts) ... end to it"
    end
    for field, kind in next, field_types do
      local v = rawget(plugin, field)
      if v ~= nil and type(v) ~= kind then return false, fmt("the plugin's %s must be a %s, got %s", field, kind, shown(v)) end
    end
    -- A misspelt description or options would be ignored unseen (functions are helpers a
    -- plugin may export, such as restart's delay).
    for field, v in next, plugin do
      if type(field) == "string" and field_types[field] == nil and type(v) ~= "function" then
        local near = suggestion(field, plugin_fields)
        if near ~= "" then return false, fmt("the plugin's field %s is not one heph reads%s", quote(field), near) end
      end
    end
    local options = rawget(plugin, "options")
    if options == nil then return nil end
    local names, specs = check_schema(options)
    if not names then return false, specs end
    return names, specs
  end

  -- What a module or setup raised, as a message; heph.exit's signal is raised on as it is
  -- (the run ends).
  local function problem_text(problem)
    if rawequal(problem, exit_signal) then error(problem, 0) end
    if type(problem) == "string" then return problem end
    return "(error object is a " .. type(problem) .. " value)"
  end

  -- Finds and runs the module of plugin `name`; raises at `level` when it cannot (the
  -- script's line, when called through pcall from heph.use: 4). `sandboxed` adds why a
  -- module may fail in heph plugins NAME that works in a script.
  local function load_plugin(name, label, level, sandboxed)
    local path = rawget(lua_package, "path")
    local chunkname, source, file, place = find_plugin(name, type(path) == "string" and path or nil)
    if not chunkname then error(label .. ": " .. source, level) end
    local chunk, problem = load(source, chunkname, "t")
    if not chunk then error(fmt("%s: %s does not compile: %s", label, file, problem), level) end
    local ran, plugin = pcall(chunk, name)
    if not ran then
      local text = problem_text(plugin)
      local hint = sfind(text, "stack overflow", 1, true) and " (does the module require itself?)"
        or sandboxed and " (heph plugins loads a module sandboxed, as heph run --sandbox runs a script: no os.getenv, io.open, os.execute or C modules while it loads)"
        or ""
      error(fmt("%s: %s failed while it loaded: %s%s", label, file, text, hint), level)
    end
    local names, specs = check_plugin(plugin)
    if names == false then error(fmt("%s: %s: %s", label, file, specs), level) end
    return plugin, names, specs, file, place
  end

  -- Plugins being loaded, by coroutine (a plugin used again while it loads is a cycle,
  -- not a recursion), and how deep loads nest in all (a cycle through coroutines of a
  -- plugin's own making).
  local loading = setmetatable({}, { __mode = "k" })
  local max_nesting = 32

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
      error(fmt("%s: plugin %s is used again while it loads (its module or setup, or a plugin they use, calls heph.use(%s)); a plugin cannot use itself", label, name, quote(name)), 2)
    end
    -- Loads one inside the other: those of the coroutines now running or resuming
    -- another (a load waiting in its setup is neither).
    local nesting = 0
    for other, names in next, loading do
      local status = costatus(other)
      if status == "running" or status == "normal" then
        for _ in next, names do nesting = nesting + 1 end
      end
    end
    if nesting >= max_nesting then
      error(fmt("%s: %d plugins are loading at once, one inside the other (does a plugin use itself from a coroutine of its own?)", label, nesting), 2)
    end
    -- Only heph's own coroutines are scoped: one of the script's may never finish.
    local scoped = managed[co]
    loading[co], mine[name] = mine, true
    if scoped then scope_open() end
    local function settle(kept)
      mine[name] = nil
      if scoped then scope_close(not kept) end
    end
    local ok, plugin, names, specs, file = pcall(load_plugin, name, label, 4)
    if not ok then
      settle(false)
      error(plugin, 0)
    end
    local options = opts or {}
    if names then
      local checked, result, problem = pcall(checked_options, specs, names, options)
      if not checked then
        settle(false)
        error(fmt("%s: the options of %s could not be checked: %s", label, file, problem_text(result)), 2)
      end
      if not result then
        settle(false)
        error(label .. ": " .. problem, 2)
      end
      options = result
    end
    local results = pack(pcall(rawget(plugin, "setup"), heph, options))
    if not results[1] then
      settle(false)
      error(fmt("%s: the setup of %s failed: %s", label, file, problem_text(results[2])), 2)
    end
    settle(true)
    local stop = rawget(plugin, "stop")
    if stop then add_stop(stop, name) end
    return unpack(results, 2, results.n)
  end

  -- Text for heph plugins NAME's JSON: bytes that are not UTF-8 become U+FFFD.
  local function text(s)
    if type(s) ~= "string" then return "" end
    local parts, at = {}, 1
    while at <= #s do
      local valid, bad = utf8len(s, at)
      if valid then parts[#parts + 1] = ssub(s, at); break end
      parts[#parts + 1] = ssub(s, at, bad - 1) .. "\u{FFFD}"
      at = bad + 1
    end
    return concat(parts)
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
    for i, kind in ipairs(spec.type) do
      local text = kind
      if kind == "number" then
        text = spec.integer and "integer" or "number"
        local bounds = {}
        if spec.above ~= nil then bounds[#bounds + 1] = "> " .. shown(spec.above) end
        if spec.min ~= nil and spec.max ~= nil then bounds[#bounds + 1] = shown(spec.min) .. ".." .. shown(spec.max)
        elseif spec.min ~= nil then bounds[#bounds + 1] = ">= " .. shown(spec.min)
        elseif spec.max ~= nil then bounds[#bounds + 1] = "<= " .. shown(spec.max) end
        if #bounds > 0 then text = text .. " " .. concat(bounds, ", ") end
      elseif kind == "string" and spec.one_of then
        local values = {}
        for j, v in ipairs(spec.one_of) do values[j] = shown(v) end
        text = concat(values, "|")
      elseif kind == "array" then
        if spec.one_of then
          local values = {}
          for j, v in ipairs(spec.one_of) do values[j] = shown(v) end
          text = "array of " .. concat(values, "|")
        elseif spec.of then
          text = "array of " .. concat(spec.of, "|")
        end
        if spec.min == 1 then text = "non-empty " .. text end
      end
      parts[i] = text
    end
    return concat(parts, " or ")
  end

  -- `heph plugins NAME`: the plugin as heph.use would find it, checked, never set up.
  function describe_plugin(name)
    local label = fmt("heph plugins %s", name)
    local plugin, names, specs, file, place = load_plugin(name, label, 0, true)
    local rows = {}
    for i, option in ipairs(names or {}) do
      local spec = specs[option]
      rows[i] = {
        name = option, type = summary(spec),
        default = spec.default == nil and "" or spec.secret and "(secret)" or text(literal(spec.default, 0)),
        required = spec.required == true, doc = text(spec.doc),
      }
    end
    described(json_encode({
      name = text(rawget(plugin, "name") or name), version = text(rawget(plugin, "version")), description = text(rawget(plugin, "description")),
      file = text(file), place = place, options = #rows > 0 and rows or nil, declared = names ~= nil, stops = rawget(plugin, "stop") ~= nil,
    }))
  end
end
"""#

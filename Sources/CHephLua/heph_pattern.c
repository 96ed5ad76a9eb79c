/* Lua patterns matched outside any script: readiness probes' `log` (HephLua's
 * LuaPattern), on a state of their own. */
#include "heph_lua.h"
#include <stdio.h>

/* string.find(arg 1, arg 2): raises what it raises (a malformed pattern). */
static int find_once(lua_State *L) {
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "find");
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

int heph_pattern_find(lua_State *L, const char *subject, size_t subject_length,
                      const char *pattern, size_t pattern_length, char *error, size_t size) {
    int top = lua_gettop(L);
    int result;
    lua_pushcfunction(L, find_once);
    lua_pushlstring(L, subject, subject_length);
    lua_pushlstring(L, pattern, pattern_length);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        const char *message = lua_tostring(L, -1);
        if (size > 0) snprintf(error, size, "%s", message ? message : "the pattern could not be matched");
        result = -1;
    } else {
        result = !lua_isnil(L, -1);
    }
    lua_settop(L, top);
    return result;
}

#include "heph_lua.h"

#include <string.h>

/* Errors as a person reads them, made from whatever a script raised. The error object is
 * the script's: a table whose __tostring raises, loops, yields, recurses, returns a
 * number or allocates without end. Its text is therefore made under lua_pcall with a
 * limit of its own, and checked before use. */

/* Under lua_pcall: argument 1's __tostring, when it has one. Stack: one value in; its
 * text (a string) or nothing out. */
static int heph_call_tostring(lua_State *L) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    return 0;
}

void heph_push_text(lua_State *L, int index) {
    index = lua_absindex(L, index);
    if (!lua_checkstack(L, 4)) return;  /* cannot happen below LUAI_MAXSTACK; nothing pushed would unbalance */
    int type = lua_type(L, index);
    if (type == LUA_TSTRING || type == LUA_TNUMBER) {
        lua_pushvalue(L, index);
        lua_tostring(L, -1);  /* a number becomes its text (no metamethod runs) */
        return;
    }
    if (luaL_getmetafield(L, index, "__tostring") != LUA_TNIL) {  /* raw: runs nothing */
        lua_pop(L, 1);
        int top = lua_gettop(L);
        lua_pushcfunction(L, heph_call_tostring);
        lua_pushvalue(L, index);
        if (heph_pcall_limited(L, 1, 1, HEPH_CLOSE_LIMIT) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) return;
        lua_settop(L, top);
    }
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, index));
}

/* Message handler: the error (argument 1) becomes its text plus the traceback of the
 * stack that raised it. Stack: one value in, one string out. */
int heph_traceback(lua_State *L) {
    heph_push_text(L, 1);
    luaL_traceback(L, L, lua_tostring(L, -1), 1);
    return 1;
}

/* Stack of L: pushes one string. Stack of co: unchanged. */
void heph_push_coroutine_traceback(lua_State *L, lua_State *co, const char *message) {
    if (message != NULL) {
        luaL_traceback(L, co, message, 0);
        return;
    }
    lua_pushvalue(co, -1);
    lua_xmove(co, L, 1);               /* L: error */
    heph_push_text(L, -1);              /* L: error, text */
    luaL_traceback(L, co, lua_tostring(L, -1), 0);  /* L: error, text, traceback */
    lua_replace(L, -3);                 /* L: traceback, text */
    lua_pop(L, 1);                      /* L: traceback */
}

/* Stack of L: pushes one string. */
void heph_push_script_where(lua_State *L, lua_State *co) {
    lua_Debug ar;
    for (int level = 0; lua_getstack(co, level, &ar); level++) {
        lua_getinfo(co, "Sl", &ar);
        if (ar.currentline > 0 && strcmp(ar.short_src, "[heph]") != 0) {
            lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
    }
    lua_pushliteral(L, "");
}

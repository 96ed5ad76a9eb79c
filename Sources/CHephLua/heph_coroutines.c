#include "heph_lua.h"

/* coroutine.close, as Lua 5.4.4's luaB_close, refusing a close inside a close inside a
 * close… deeper than HEPH_MAX_CLOSE_NESTING: 5.4.4 does not count the C stack that
 * lua_resetthread uses (fixed in 5.4.5), so a chain of __close handlers each closing the
 * next coroutine overflows the C stack and crashes the process. (The prelude's wrapper
 * refuses the coroutines heph runs.) Stack: a coroutine in; true, or false and the error,
 * out. */
int heph_lua_close(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    luaL_argexpected(L, co != NULL, 1, "coroutine");
    const char *status = NULL;
    if (co == L) status = "running";
    else if (lua_status(co) == LUA_OK) {
        lua_Debug ar;
        if (lua_getstack(co, 0, &ar)) status = "normal";  /* it resumed another */
        else if (lua_gettop(co) != 0) status = NULL;      /* not started: suspended */
    }
    if (status != NULL) return luaL_error(L, "cannot close a %s coroutine", status);
    heph_state_info *info = heph_get_info(L);
    if (info->close_nesting >= HEPH_MAX_CLOSE_NESTING) {
        return luaL_error(L, "coroutine.close nested more than %d deep (inside __close handlers)", HEPH_MAX_CLOSE_NESTING);
    }
    info->close_nesting++;
    int result = lua_resetthread(co);  /* protected: runs the __close handlers, never raises */
    info->close_nesting--;
    if (result == LUA_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_xmove(co, L, 1);
    return 2;
}

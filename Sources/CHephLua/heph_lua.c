#include "heph_lua.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- Argument errors in Lua's own form ---- */

/* Raises "WHERE: bad argument #arg to 'NAME' (message)", as luaL_argerror does, but for
 * the function the script called: the closure itself (level 0) or the Lua wrapper that
 * called it (level 1). NAME comes from the call site ("create_container"), or from
 * upvalue 2 ("heph.create_container") when the call site gives none, as under pcall.
 * Stack: the message is read from the top; never returns. */
static int heph_argerror(lua_State *L, int arg, int level) {
    const char *message = lua_tostring(L, -1);
    const char *qualified = lua_tostring(L, lua_upvalueindex(2));
    lua_Debug ar;
    if (message == NULL) message = "?";
    if (!lua_getstack(L, level, &ar)) {
        return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, qualified, message);
    }
    lua_getinfo(L, "n", &ar);
    if (ar.namewhat != NULL && strcmp(ar.namewhat, "method") == 0) {
        arg--;  /* do not count 'self' */
        if (arg == 0) {
            luaL_where(L, level + 1);
            lua_pushfstring(L, "calling '%s' on bad self (%s)", ar.name, message);
            lua_concat(L, 2);
            return lua_error(L);
        }
    }
    luaL_where(L, level + 1);
    lua_pushfstring(L, "bad argument #%d to '%s' (%s)", arg, ar.name != NULL ? ar.name : qualified, message);
    lua_concat(L, 2);
    return lua_error(L);
}

/* ---- The trampoline ---- */

static heph_dispatcher the_dispatcher = NULL;

void heph_set_dispatcher(heph_dispatcher dispatcher) {
    the_dispatcher = dispatcher;
}

/* Calls the Swift function named by upvalue 1, then does what Swift may not: raise.
 * Upvalues: 1 function id, 2 qualified name, 3 visible level.
 * Stack: the arguments in; the Swift function's results out (checked: exactly what it
 * said it pushed, above the arguments). */
static int heph_trampoline(lua_State *L) {
    int id = (int)lua_tointeger(L, lua_upvalueindex(1));
    int base = lua_gettop(L);
    heph_state_info *running = heph_get_info(L);
    if (running != NULL) running->in_swift++;
    int result = the_dispatcher(L, id);
    if (running != NULL) running->in_swift--;
    if (result >= 0) {
        heph_state_info *info = heph_get_info(L);
        if (info != NULL) info->bridge_calls++;
        if (lua_gettop(L) != base + result) {
            return luaL_error(L, "heph internal error: %s left the Lua stack unbalanced (%d values, expected %d)",
                              lua_tostring(L, lua_upvalueindex(2)), lua_gettop(L), base + result);
        }
        return result;
    }
    if (result == HEPH_RAISE) return lua_error(L);
    return heph_argerror(L, HEPH_ARGERROR_BASE - result, (int)lua_tointeger(L, lua_upvalueindex(3)));
}

/* Stack: pushes one closure. */
void heph_push_function(lua_State *L, int function_id, const char *qualified_name, int visible_level) {
    lua_pushinteger(L, function_id);
    lua_pushstring(L, qualified_name);
    lua_pushinteger(L, visible_level);
    lua_pushcclosure(L, heph_trampoline, 3);
}

/* ---- Tracebacks ---- */

/* The text of the error object at `index` of L: the string itself, its __tostring, or a
 * description of its type. Stack: pushes that text. */
static const char *heph_error_text(lua_State *L, int index) {
    const char *message = lua_tostring(L, index);
    if (message != NULL) {
        lua_pushvalue(L, index);
        return lua_tostring(L, -1);
    }
    if (luaL_callmeta(L, index, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
        return lua_tostring(L, -1);
    }
    return lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, index));
}

/* Message handler: the error (argument 1) becomes its text plus the traceback of the
 * stack that raised it. Stack: one value in, one string out. */
int heph_traceback(lua_State *L) {
    const char *message = heph_error_text(L, 1);
    luaL_traceback(L, L, message, 1);
    return 1;
}

/* Stack of L: pushes one string. Stack of co: unchanged. */
void heph_push_coroutine_traceback(lua_State *L, lua_State *co) {
    lua_pushvalue(co, -1);
    lua_xmove(co, L, 1);                            /* L: error */
    const char *message = heph_error_text(L, -1);  /* L: error, text */
    luaL_traceback(L, co, message, 0);              /* L: error, text, traceback */
    lua_replace(L, -3);                             /* L: traceback, text */
    lua_pop(L, 1);                                  /* L: traceback */
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

/* ---- The watchdog ---- */

/* Instructions between two checks: frequent enough to stop a runaway loop within
 * microseconds, rare enough to cost nothing measurable. */
#define HEPH_WATCHDOG_COUNT 10000

static double heph_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Count hook: raises in the running coroutine when interrupted or past its deadline. */
static void heph_watchdog(lua_State *L, lua_Debug *ar) {
    (void)ar;
    heph_state_info *info = heph_get_info(L);
    if (info == NULL) return;
    if (info->interrupt) {
        info->interrupt = 0;
        luaL_error(L, "interrupted");
    }
    if (info->deadline > 0 && heph_now() > info->deadline) {
        char limit[32];
        snprintf(limit, sizeof limit, "%g", info->limit);
        info->deadline = 0;
        luaL_error(L, "ran Lua code for more than %s s without waiting (heph.config.hook_timeout)", limit);
    }
}

void heph_watchdog_arm(lua_State *co, double seconds) {
    heph_state_info *info = heph_get_info(co);
    if (info != NULL) info->deadline = seconds > 0 ? heph_now() + seconds : 0;
    lua_sethook(co, heph_watchdog, LUA_MASKCOUNT, HEPH_WATCHDOG_COUNT);
}

void heph_watchdog_disarm(lua_State *co) {
    heph_state_info *info = heph_get_info(co);
    if (info != NULL) info->deadline = 0;
    lua_sethook(co, NULL, 0, 0);
}

void heph_request_interrupt(heph_state_info *info) {
    if (info != NULL) info->interrupt = 1;
}

/* ---- Output ---- */

void heph_write_stdout(const char *bytes, size_t length) {
    fwrite(bytes, 1, length, stdout);
    fflush(stdout);
}

void heph_write_stderr(const char *bytes, size_t length) {
    fwrite(bytes, 1, length, stderr);
}

/* ---- Memory ---- */

void *heph_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    heph_state_info *info = ud;
    size_t old = ptr != NULL ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        info->memory_in_use -= old;
        return NULL;
    }
    if (info->memory_limit != 0 && nsize > old && info->lua_running && info->in_swift == 0
        && info->memory_in_use - old + nsize > info->memory_limit) {
        return NULL;
    }
    void *block = realloc(ptr, nsize);
    if (block != NULL) info->memory_in_use = info->memory_in_use - old + nsize;
    return block;
}

static int heph_panic(lua_State *L) {
    const char *message = lua_tostring(L, -1);
    fprintf(stderr, "heph: Lua panicked (unprotected error): %s\n", message != NULL ? message : "?");
    fflush(stderr);
    return 0;  /* Lua then aborts */
}

lua_State *heph_new_state(heph_state_info *info) {
    lua_State *L = lua_newstate(heph_alloc, info);
    if (L != NULL) lua_atpanic(L, heph_panic);
    return L;
}

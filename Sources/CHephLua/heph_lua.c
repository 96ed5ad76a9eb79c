#include "heph_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    heph_state_info *info = heph_get_info(L);
    if (info == NULL) return luaL_error(L, "heph internal error: a heph function called from a state heph did not make");
    info->in_swift++;
    int result = the_dispatcher(L, info, id);
    info->in_swift--;
    if (result >= 0) {
        info->bridge_calls++;
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

/* ---- Warnings: finalizers that failed, and the script's own warn() ---- */

/* Bytes of complete warnings kept for the host at most: a finalizer failing in a loop
 * must not grow them without bound (past it, warnings are dropped). */
#define HEPH_WARNINGS_MAX (64 * 1024)

/* Keeps one complete warning (with its NUL) for the host. */
static void heph_warnings_push(heph_state_info *info, const char *text) {
    size_t length = strlen(text) + 1;
    if (info->warnings_length + length > HEPH_WARNINGS_MAX) return;
    char *grown = realloc(info->warnings, info->warnings_length + length);
    if (grown == NULL) return;
    memcpy(grown + info->warnings_length, text, length);
    info->warnings = grown;
    info->warnings_length += length;
}

/* Lua's warning function: pieces are joined until one without `tocont`. "@on"/"@off"
 * switch the script's own warnings, as in lua5.4 (off at first); a finalizer's failure
 * ("error in __gc (…)") is always kept. */
static void heph_warnf(void *ud, const char *message, int tocont) {
    heph_state_info *info = ud;
    if (!info->warning_continues && !tocont && message[0] == '@') {
        if (strcmp(message, "@on") == 0) info->warnings_on = 1;
        if (strcmp(message, "@off") == 0) info->warnings_on = 0;
        return;
    }
    size_t room = sizeof info->warning - 1 - info->warning_length;
    size_t length = strlen(message);
    if (length > room) length = room;
    memcpy(info->warning + info->warning_length, message, length);
    info->warning_length += length;
    info->warning[info->warning_length] = '\0';
    info->warning_continues = tocont;
    if (tocont) return;
    if (info->warnings_on || strncmp(info->warning, "error in ", 9) == 0) heph_warnings_push(info, info->warning);
    info->warning_length = 0;
}

int heph_take_warning(heph_state_info *info, char *buffer, size_t size) {
    if (info->warnings == NULL || info->warnings_length == 0 || size == 0) return 0;
    size_t first = strlen(info->warnings) + 1;
    snprintf(buffer, size, "%s", info->warnings);
    memmove(info->warnings, info->warnings + first, info->warnings_length - first);
    info->warnings_length -= first;
    return 1;
}

/* ---- The state and its info ---- */

lua_State *heph_new_state(heph_state_info *info) {
    lua_State *L = lua_newstate(heph_alloc, info);
    if (L == NULL) return NULL;
    lua_atpanic(L, heph_panic);
    lua_setwarnf(L, heph_warnf, info);
    return L;
}

heph_state_info *heph_info_new(size_t memory_limit) {
    heph_state_info *info = calloc(1, sizeof *info);
    if (info == NULL) return NULL;
    info->memory_limit = memory_limit;
    info->stop = heph_stop_new();
    info->guard = heph_guard_new();
    if (info->stop == NULL || info->guard == NULL) {
        heph_info_free(info);
        return NULL;
    }
    return info;
}

void heph_info_free(heph_state_info *info) {
    if (info == NULL) return;
    heph_stop_free(info->stop);
    heph_guard_free(info->guard);
    free(info->warnings);
    free(info);
}

/*
 * CHephLua: the C side of heph's Lua bridge.
 *
 * Everything that can raise a Lua error (and so longjmp) lives here, never in Swift:
 * the trampoline every `heph` function goes through, the argument-error formatter, the
 * traceback message handler and the instruction-count watchdog. Swift code calls only the
 * non-raising parts of the Lua API, and the inline wrappers below for Lua's macros.
 */
#ifndef HEPH_LUA_H
#define HEPH_LUA_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>

/* ---- Per-state data, reached through lua_getextraspace (copied into every coroutine) ---- */

/* What the host keeps beside a lua_State. Allocated and owned by the Swift runtime. */
typedef struct heph_state_info {
    void *runtime;                       /* the Swift runtime (an unretained reference) */
    double deadline;                     /* CLOCK_MONOTONIC seconds; 0 = no time limit */
    double limit;                        /* the time limit the deadline came from, for messages */
    volatile sig_atomic_t interrupt;     /* set from any thread or a signal handler */
    unsigned long long bridge_calls;     /* calls through the trampoline with a checked stack */
    size_t memory_in_use;                /* bytes the state holds now */
    size_t memory_limit;                 /* bytes Lua code may make it hold; 0 = no limit */
    int lua_running;                     /* Lua code runs (under lua_resume) */
    int in_swift;                        /* the trampoline is in Swift (nesting depth) */
} heph_state_info;

/* The state's allocator (ud: its heph_state_info). Past memory_limit it refuses what Lua
 * code asks for, so Lua raises "not enough memory" where it can. It never refuses the
 * host: not while Swift runs inside the trampoline (a raise would cross Swift frames), nor
 * outside Lua code (there is no protected call to catch it). */
void *heph_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* A new state on heph_alloc with `info`, with lauxlib's panic handler. NULL on failure. */
lua_State *heph_new_state(heph_state_info *info);

/* Stores `info` in L's extra space; coroutines created afterwards inherit it.
 * Inline: the dispatcher reads it on every call. Stack: unchanged. */
static inline void heph_set_info(lua_State *L, heph_state_info *info) {
    *(heph_state_info **)lua_getextraspace(L) = info;
}
/* The info stored for L (or for the main state L was created from). Stack: unchanged. */
static inline heph_state_info *heph_get_info(lua_State *L) {
    return *(heph_state_info **)lua_getextraspace(L);
}

/* ---- The trampoline ---- */

/* What the Swift dispatcher returns instead of raising. */
#define HEPH_RAISE (-1)            /* raise the value on top of the stack as the error */
#define HEPH_ARGERROR_BASE (-1000) /* HEPH_ARGERROR_BASE - n: argument n is wrong; message on top */

/* Runs the Swift function `function_id` with L's stack as its arguments. Returns the
 * number of results it pushed (≥ 0), or one of the codes above. Never raises. */
typedef int (*heph_dispatcher)(lua_State *L, int function_id);

/* Installs the one Swift dispatcher (once per process). */
void heph_set_dispatcher(heph_dispatcher dispatcher);

/* Pushes a C closure that calls function `function_id` through the trampoline.
 * `qualified_name` ("heph.create_container") names it in argument errors when the call
 * site gives no name; `visible_level` is 0 when scripts call the closure directly and 1
 * when a Lua wrapper calls it (errors then name the wrapper and point at its caller). */
void heph_push_function(lua_State *L, int function_id, const char *qualified_name, int visible_level);

/* ---- Errors and tracebacks ---- */

/* Message handler for lua_pcall: turns the error into "message\nstack traceback:…"
 * (a non-string error object becomes "(error object is a T value)"). */
int heph_traceback(lua_State *L);

/* Pushes the error on top of `co` (a coroutine that failed in lua_resume) onto L, as a
 * message with co's traceback. Does not pop it from co. */
void heph_push_coroutine_traceback(lua_State *L, lua_State *co);

/* Pushes "file:line: " for the innermost frame of co that runs a script's own Lua code
 * (not C, not heph's prelude), or "" when there is none. Stack of co: unchanged. */
void heph_push_script_where(lua_State *L, lua_State *co);

/* ---- The watchdog: an instruction-count hook that checks a deadline and an interrupt ---- */

/* Arms the watchdog on `co` for `seconds` of computation from now (0: only interrupts). */
void heph_watchdog_arm(lua_State *co, double seconds);
/* Removes the watchdog hook from `co`. */
void heph_watchdog_disarm(lua_State *co);
/* Asks whichever coroutine of the state runs next to stop with an "interrupted" error.
 * Safe from any thread and from a signal handler: it only sets a flag. */
void heph_request_interrupt(heph_state_info *info);

/* ---- Output through C stdio, the same buffers as Lua's io.write ---- */

/* Writes `length` bytes to stdout and flushes (as Lua's print does). */
void heph_write_stdout(const char *bytes, size_t length);
/* Writes `length` bytes to stderr. */
void heph_write_stderr(const char *bytes, size_t length);

/* ---- Wrappers for Lua's function-like macros, which Swift cannot import ---- */

static inline int heph_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int heph_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void heph_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void heph_newtable(lua_State *L) { lua_newtable(L); }
static inline void heph_insert(lua_State *L, int i) { lua_insert(L, i); }
static inline void heph_remove(lua_State *L, int i) { lua_remove(L, i); }
static inline void heph_replace(lua_State *L, int i) { lua_replace(L, i); }
static inline int heph_isnoneornil(lua_State *L, int i) { return lua_isnoneornil(L, i); }
static inline int heph_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }
static inline void heph_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }
static inline const char *heph_typename_at(lua_State *L, int i) { return luaL_typename(L, i); }
static inline int heph_maxstack(void) { return LUAI_MAXSTACK; }

#endif

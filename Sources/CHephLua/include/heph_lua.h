/*
 * CHephLua: the C side of heph's Lua bridge.
 *
 * Everything that can raise a Lua error (and so longjmp) lives here, never in Swift:
 * the trampoline every `heph` function goes through, the argument-error formatter, the
 * traceback message handler, the protected conversions of a script's values to text and
 * the watchdog. Swift code calls only the non-raising parts of the Lua API, the functions
 * below (none of which raises) and the inline wrappers for Lua's macros.
 *
 * Script code is hostile (DESIGN.md, rule 6): anything here that may run a metamethod runs
 * it under lua_pcall with a time limit, and checks what it returned before using it.
 */
#ifndef HEPH_LUA_H
#define HEPH_LUA_H

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <signal.h>

/* ---- Per-state data, reached through lua_getextraspace (copied into every coroutine) ---- */

/* The watchdog's own bookkeeping (heph_watchdog.c): the stop in progress, the __close
 * handlers running under their own limit. Opaque to Swift. */
typedef struct heph_stop heph_stop;
/* The watch thread that ends heph when Lua cannot be interrupted (heph_guard.c). */
typedef struct heph_guard heph_guard;

/* What the host keeps beside a lua_State. Made by heph_info_new, owned by the Swift runtime. */
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
    lua_State *current;                  /* the managed coroutine being resumed, if any */
    heph_stop *stop;                     /* the watchdog's state */
    heph_guard *guard;                   /* the watch thread */
    /* Warnings (finalizers that failed, the script's own warn) waiting to be reported. */
    char *warnings;                      /* NUL-terminated messages, one after another */
    size_t warnings_length;              /* bytes of them, NULs included */
    int warnings_on;                     /* the script's warn("@on") */
    char warning[1024];                  /* the warning being put together from pieces */
    size_t warning_length;
    int warning_continues;
    int close_nesting;                   /* coroutine.close calls inside each other now */
} heph_state_info;

/* A new info with the given memory limit (0: none) and its watch thread running; NULL when
 * out of memory. */
heph_state_info *heph_info_new(size_t memory_limit);
/* Stops the watch thread and frees the info (after lua_close). */
void heph_info_free(heph_state_info *info);

/* The state's allocator (ud: its heph_state_info). Past memory_limit it refuses what Lua
 * code asks for, so Lua raises "not enough memory" where it can. It never refuses the
 * host: not while Swift runs inside the trampoline (a raise would cross Swift frames), nor
 * outside Lua code (there is no protected call to catch it). */
void *heph_alloc(void *ud, void *ptr, size_t osize, size_t nsize);

/* A new state on heph_alloc with `info`, with heph's panic handler and warning function.
 * NULL on failure. */
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

/* Takes the oldest warning waiting to be reported into `buffer` (NUL-terminated, cut to
 * `size`); 0 when there is none. */
int heph_take_warning(heph_state_info *info, char *buffer, size_t size);

/* ---- The trampoline ---- */

/* What the Swift dispatcher returns instead of raising. */
#define HEPH_RAISE (-1)            /* raise the value on top of the stack as the error */
#define HEPH_ARGERROR_BASE (-1000) /* HEPH_ARGERROR_BASE - n: argument n is wrong; message on top */

/* Runs the Swift function `function_id` with L's stack as its arguments (`info` is L's,
 * read once by the trampoline). Returns the number of results it pushed (≥ 0), or one of
 * the codes above. Never raises. */
typedef int (*heph_dispatcher)(lua_State *L, heph_state_info *info, int function_id);

/* Installs the one Swift dispatcher (once per process). */
void heph_set_dispatcher(heph_dispatcher dispatcher);

/* Pushes a C closure that calls function `function_id` through the trampoline.
 * `qualified_name` ("heph.create_container") names it in argument errors when the call
 * site gives no name; `visible_level` is 0 when scripts call the closure directly and 1
 * when a Lua wrapper calls it (errors then name the wrapper and point at its caller). */
void heph_push_function(lua_State *L, int function_id, const char *qualified_name, int visible_level);

/* ---- Errors and tracebacks (heph_errors.c) ---- */

/* Message handler for lua_pcall: turns the error into "message\nstack traceback:…". The
 * message is the error's text as heph_push_text makes it. */
int heph_traceback(lua_State *L);

/* Pushes onto L the text of the value at `index` of L: a string as it is, a number
 * converted, else what its __tostring returns when that is a string, else
 * "(error object is a T value)". The __tostring runs under lua_pcall with a limit of 1 s
 * (it may raise, loop, yield, recurse or return anything). Never raises. */
void heph_push_text(lua_State *L, int index);

/* Pushes onto L the error on top of `co` (a coroutine that failed in lua_resume) as a
 * message with co's traceback; or, when co was stopped by the watchdog (`message` not
 * NULL), `message` with co's traceback. Stack of co: unchanged. Never raises. */
void heph_push_coroutine_traceback(lua_State *L, lua_State *co, const char *message);

/* Pushes "file:line: " for the innermost frame of co that runs a script's own Lua code
 * (not C, not heph's prelude), or "" when there is none. Stack of co: unchanged. */
void heph_push_script_where(lua_State *L, lua_State *co);

/* ---- The watchdog: an instruction-count hook that checks a deadline and an interrupt
 * (heph_watchdog.c) ----
 *
 * Once the deadline passed or an interrupt arrived, the code that runs is *stopped*: every
 * further instruction suspends it (where it can yield) or raises (where it cannot), so a
 * pcall cannot keep it alive. The one exception: __close handlers that run meanwhile each
 * get a fresh limit of HEPH_CLOSE_LIMIT seconds. The host ends the stop (heph_stop_end)
 * once control is back with it. */

/* Seconds each pending __close handler may run while code is stopped or a coroutine closed. */
#define HEPH_CLOSE_LIMIT 1.0

/* Arms the watchdog on `co` (the managed coroutine about to be resumed) for `seconds` of
 * computation from now (0: only interrupts). */
void heph_watchdog_arm(lua_State *co, double seconds);
/* Removes the watchdog hook from `co`. */
void heph_watchdog_disarm(lua_State *co);
/* Asks whatever Lua code of the state runs next to stop, as "interrupted". Safe from any
 * thread and from a signal handler: it only sets flags. */
void heph_request_interrupt(heph_state_info *info);
/* Stops the code of the state now, as the watchdog would, with `message` (NULL: the time
 * is up, in the watchdog's words): for a wait in place that an interrupt ended (the code
 * raises or suspends at its next instruction). */
void heph_stop_now(lua_State *L, const char *message);
/* The message of the stop in progress, or NULL when nothing is stopped. */
const char *heph_stop_message(heph_state_info *info);
/* Ends the stop in progress (control is back with the host). */
void heph_stop_end(heph_state_info *info);

/* Lua function stopping(): whether a stop is in progress. Never raises. */
int heph_lua_stopping(lua_State *L);
/* Lua function watch(co): the watchdog's hook on a coroutine that has none; returns co. */
int heph_lua_watch(lua_State *L);
/* Lua function close(co): coroutine.close, refusing to nest deeper than
 * HEPH_MAX_CLOSE_NESTING (Lua 5.4.4 does not count the C stack a close inside a close
 * uses: a chain of them overflows it). */
int heph_lua_close(lua_State *L);
#define HEPH_MAX_CLOSE_NESTING 100

/* Lua code is about to run on L's state: the memory limit applies and the collector runs
 * (so finalizers run only while Lua code does, never while the host pushes a value).
 * Returns what heph_leave_lua restores. */
int heph_enter_lua(lua_State *L);
/* Lua code has run: back to the host (the collector stops). */
void heph_leave_lua(lua_State *L, int was_running);

/* Runs the pending __close handlers of `co` (lua_resetthread), each under a fresh limit
 * of HEPH_CLOSE_LIMIT seconds, with the memory limit in force. Returns LUA_OK, or the
 * status of the last failure with its text pushed onto L (traceback-free). */
int heph_close_coroutine(lua_State *L, lua_State *co);

/* lua_pcall(L, nargs, nresults, 0) with the watchdog armed on L for `seconds` (and
 * interrupts), with the memory limit in force: for calls that run a script's metamethods
 * outside a coroutine (the REPL's printer, a hook's pattern). On failure, the error's text
 * (heph_push_text) replaces the error. */
int heph_pcall_limited(lua_State *L, int nargs, int nresults, double seconds);

/* ---- The watch thread (heph_guard.c) ----
 *
 * Lua cannot be interrupted everywhere: inside a finalizer (__gc) it turns hooks off, and
 * a long C function (string.find with a pathological pattern, string.rep) runs no hook.
 * A thread of its own watches the Lua thread's entries; one that outlives its limit (or
 * an interrupt by HEPH_INTERRUPT_GRACE seconds) ends the process with HEPH_EXIT_STUCK,
 * naming the cause, instead of letting heph hang. */

/* The exit code when the watch thread ends heph. */
#define HEPH_EXIT_STUCK 124
/* Seconds an entry may run past an interrupt before the watch thread ends heph. */
#define HEPH_INTERRUPT_GRACE 2.0

/* Starts watching an entry that may run for `seconds` (≤ 0: until interrupted); `cause`
 * names it in the message. Entries nest; at most 16 deep (deeper ones are not watched). */
void heph_guard_push(heph_guard *guard, double seconds, const char *cause);
/* An interrupt was asked for (or its stop began): the Lua thread must be back with the
 * host within HEPH_INTERRUPT_GRACE s. Safe from any thread (not from a signal handler). */
void heph_guard_interrupted(heph_guard *guard);
/* A __close handler got a grace of `seconds`: the innermost entry may run that long more
 * (Lua's hook bounds it). */
void heph_guard_extend(heph_guard *guard, double seconds);
/* The interrupt is dealt with (a shutdown's handlers begin): no need to end heph for it. */
void heph_guard_calm(heph_guard *guard);
/* Ends the innermost entry. */
void heph_guard_pop(heph_guard *guard);

/* ---- Output through C stdio, the same buffers as Lua's io.write ---- */

/* Writes `length` bytes to stdout and flushes (as Lua's print does). */
void heph_write_stdout(const char *bytes, size_t length);
/* Writes `length` bytes to stderr. */
void heph_write_stderr(const char *bytes, size_t length);

/* ---- Lua patterns outside any script (heph_pattern.c) ---- */

/* string.find(subject, pattern) on L, a state with the string library: 1 when it matches,
 * 0 when not, -1 when the pattern is malformed (its message in `error`, at most `size`
 * bytes with the NUL). Nothing stays on L's stack. */
int heph_pattern_find(lua_State *L, const char *subject, size_t subject_length,
                      const char *pattern, size_t pattern_length, char *error, size_t size);

/* ---- Wrappers for Lua's function-like macros, which Swift cannot import ---- */

static inline int heph_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline void heph_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void heph_insert(lua_State *L, int i) { lua_insert(L, i); }
static inline int heph_isnoneornil(lua_State *L, int i) { return lua_isnoneornil(L, i); }
static inline int heph_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }
static inline const char *heph_typename_at(lua_State *L, int i) { return luaL_typename(L, i); }
static inline void heph_gc_stop(lua_State *L) { lua_gc(L, LUA_GCSTOP); }

#endif

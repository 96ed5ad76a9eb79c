#include "heph_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The watchdog: Lua's count hook, checking a deadline and an interrupt flag.
 *
 * A time limit that raises an ordinary error can be caught: `pcall` around a loop would
 * keep runaway code alive. So once the time is up (or an interrupt came), the code is
 * *stopped*: the hook then runs before every instruction of every coroutine of the state,
 * and each time suspends the coroutine where Lua can yield (a yield cannot be caught) or
 * raises where it cannot (inside a C function that called Lua), until control is back with
 * the host, which ends the stop (heph_stop_end).
 *
 * While stopped no instruction of the script's runs, so a Lua function that starts is
 * called by Lua itself: a __close handler (a pcall unwinding, a coroutine being closed) or
 * an xpcall message handler. Each gets a *grace*: a fresh limit of HEPH_CLOSE_LIMIT
 * seconds, during which the hook lets it run; a grace ends when its function returns, or
 * unwinds past it, and one that runs out makes its function raise. (Finalizers run with
 * hooks off in Lua: the watch thread, heph_guard.c, covers those.)
 */

/* Instructions between two checks while nothing is stopped: frequent enough to stop a
 * runaway loop within microseconds, rare enough to cost nothing measurable. */
#define HEPH_WATCHDOG_COUNT 10000
/* __close handlers running inside each other while stopped, at most (deeper ones run on
 * the limit of the one that called them). */
#define HEPH_MAX_GRACES 32
/* Seconds all the graces of one stop may take together: past them, a handler that starts
 * is stopped at its first instruction (so 100,000 pending handlers, or one that keeps
 * renewing its grace through C calls, cannot make a stop last hours). */
#define HEPH_STOP_BUDGET 5.0

typedef struct heph_grace {
    lua_State *thread;   /* the coroutine the handler runs in */
    int depth;           /* its frame's depth in that coroutine */
    double deadline;
} heph_grace;

struct heph_stop {
    int stopping;
    char message[160];
    double budget_end;   /* when every grace ends, whatever its own deadline */
    int graces;
    heph_grace grace[HEPH_MAX_GRACES];
};

heph_stop *heph_stop_new(void) { return calloc(1, sizeof(heph_stop)); }
void heph_stop_free(heph_stop *stop) { free(stop); }

static double heph_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* Whether the deadline of the code running now has passed. */
static int heph_deadline_passed(heph_state_info *info) {
    return info->deadline > 0 && heph_now() > info->deadline;
}

/* How many frames L's stack has (a binary search, as lauxlib's traceback does). */
static int heph_depth(lua_State *L) {
    lua_Debug ar;
    int low = 1, high = 1;
    if (!lua_getstack(L, 0, &ar)) return 0;
    while (lua_getstack(L, high, &ar)) { low = high; high *= 2; }
    while (low < high) {
        int middle = (low + high) / 2;
        if (lua_getstack(L, middle, &ar)) low = middle + 1;
        else high = middle;
    }
    return high;
}

#define HEPH_STOPPED_MASK (LUA_MASKCOUNT | LUA_MASKCALL | LUA_MASKRET)

static void heph_hook(lua_State *L, lua_Debug *ar);

/* Begins the stop: from now on the hook runs before every instruction of L and of the
 * managed coroutine being resumed. */
static void heph_stop_begin(lua_State *L, heph_state_info *info, const char *message) {
    heph_stop *stop = info->stop;
    stop->stopping = 1;
    stop->graces = 0;
    stop->budget_end = heph_now() + HEPH_STOP_BUDGET;
    /* An interrupt's stop must end within the watch thread's grace from now, graces and
     * all: what ran it may have been a script's handler that ran with hooks off. */
    if (strcmp(message, "interrupted") == 0) heph_guard_interrupted(info->guard);
    snprintf(stop->message, sizeof stop->message, "%s", message);
    info->deadline = 0;
    lua_sethook(L, heph_hook, HEPH_STOPPED_MASK, 1);
    if (info->current != NULL && info->current != L) lua_sethook(info->current, heph_hook, HEPH_STOPPED_MASK, 1);
}

/* Drops the graces of L whose frame is gone: deeper than `depth` (a call event: the new
 * frame is at `depth`) or at least as deep (an instruction at `depth`). */
static void heph_drop_graces(heph_stop *stop, lua_State *L, int depth, int calling) {
    while (stop->graces > 0) {
        heph_grace *grace = &stop->grace[stop->graces - 1];
        if (grace->thread != L) return;
        if (calling ? depth > grace->depth : depth >= grace->depth) return;
        stop->graces--;
    }
}

/* The hook of a stop in progress (see above). */
static void heph_stopped(lua_State *L, lua_Debug *ar, heph_state_info *info) {
    heph_stop *stop = info->stop;
    int depth = heph_depth(L);
    switch (ar->event) {
    case LUA_HOOKCALL:
    case LUA_HOOKTAILCALL: {
        /* A tail call replaces its caller's frame: the same handler, on the same grace. */
        int tail = ar->event == LUA_HOOKTAILCALL;
        heph_drop_graces(stop, L, depth, !tail);
        if (stop->graces > 0) {
            heph_grace *top = &stop->grace[stop->graces - 1];
            if (tail && top->thread == L && top->depth == depth) return;
            if (heph_now() <= top->deadline) return;  /* a call inside a handler */
        }
        if (stop->graces == HEPH_MAX_GRACES) return;
        double now = heph_now();
        double deadline = now + HEPH_CLOSE_LIMIT < stop->budget_end ? now + HEPH_CLOSE_LIMIT : stop->budget_end;
        heph_grace *grace = &stop->grace[stop->graces++];
        grace->thread = L;
        grace->depth = depth;
        grace->deadline = deadline;
        if (deadline > now) heph_guard_extend(info->guard, deadline - now);
        return;
    }
    case LUA_HOOKRET:
        if (stop->graces > 0) {
            heph_grace *grace = &stop->grace[stop->graces - 1];
            if (grace->thread == L && grace->depth == depth) stop->graces--;
        }
        return;
    default:
        heph_drop_graces(stop, L, depth, 0);
        if (stop->graces > 0) {
            if (heph_now() <= stop->grace[stop->graces - 1].deadline) return;
            char message[96];
            snprintf(message, sizeof message, "a __close handler ran for more than %g s; stopped", HEPH_CLOSE_LIMIT);
            luaL_error(L, "%s", message);
            return;
        }
        if (lua_isyieldable(L)) {
            lua_yield(L, 0);  /* returns to Lua, which then suspends the coroutine */
            return;
        }
        luaL_error(L, "%s", stop->message);
    }
}

/* The hook: the deadline and the interrupt, then the stop. */
static void heph_hook(lua_State *L, lua_Debug *ar) {
    heph_state_info *info = heph_get_info(L);
    if (info == NULL) return;
    if (!info->stop->stopping) {
        if (ar->event != LUA_HOOKCOUNT || lua_gethookcount(L) != HEPH_WATCHDOG_COUNT) {
            /* A coroutine of the script's still hooked as a stop left it: back to counting. */
            lua_sethook(L, heph_hook, LUA_MASKCOUNT, HEPH_WATCHDOG_COUNT);
            if (ar->event != LUA_HOOKCOUNT) return;
        }
        if (info->interrupt) {
            info->interrupt = 0;
            heph_stop_begin(L, info, "interrupted");
        } else if (heph_deadline_passed(info)) {
            heph_stop_now(L, NULL);
        } else {
            return;
        }
    }
    heph_stopped(L, ar, info);
}

void heph_watchdog_arm(lua_State *co, double seconds) {
    heph_state_info *info = heph_get_info(co);
    if (info != NULL) {
        info->deadline = seconds > 0 ? heph_now() + seconds : 0;
        info->current = co;
    }
    lua_sethook(co, heph_hook, LUA_MASKCOUNT, HEPH_WATCHDOG_COUNT);
}

void heph_watchdog_disarm(lua_State *co) {
    heph_state_info *info = heph_get_info(co);
    if (info != NULL) {
        info->deadline = 0;
        if (info->current == co) info->current = NULL;
    }
    lua_sethook(co, NULL, 0, 0);
}

void heph_request_interrupt(heph_state_info *info) {
    if (info == NULL) return;
    info->interrupt = 1;
    heph_guard_interrupted(info->guard);
}

void heph_stop_now(lua_State *L, const char *message) {
    heph_state_info *info = heph_get_info(L);
    if (info == NULL || info->stop->stopping) return;
    char time_up[128];
    if (message == NULL) {
        snprintf(time_up, sizeof time_up, "ran Lua code for more than %g s without waiting (heph.config.hook_timeout)", info->limit);
        message = time_up;
    }
    heph_stop_begin(L, info, message);
}

const char *heph_stop_message(heph_state_info *info) {
    return info->stop->stopping ? info->stop->message : NULL;
}

void heph_stop_end(heph_state_info *info) {
    info->stop->stopping = 0;
    info->stop->graces = 0;
}

int heph_enter_lua(lua_State *L) {
    heph_state_info *info = heph_get_info(L);
    int was_running = info->lua_running;
    info->lua_running = 1;
    if (!was_running) lua_gc(L, LUA_GCRESTART);
    return was_running;
}

void heph_leave_lua(lua_State *L, int was_running) {
    heph_state_info *info = heph_get_info(L);
    info->lua_running = was_running;
    if (!was_running) lua_gc(L, LUA_GCSTOP);
}

/* Stack of L: the failure's text when one is returned. Stack of co: emptied. */
int heph_close_coroutine(lua_State *L, lua_State *co) {
    heph_state_info *info = heph_get_info(co);
    /* A coroutine that failed keeps its error on top, and lua_resetthread reports that
     * error again when every handler succeeds: keep it, to tell a handler's failure apart. */
    int failed = lua_status(co) != LUA_OK && lua_status(co) != LUA_YIELD;
    if (failed) {
        if (lua_gettop(co) == 0 || !lua_checkstack(co, 1) || !lua_checkstack(L, 3)) failed = 0;
        else {
            lua_pushvalue(co, -1);
            lua_xmove(co, L, 1);                         /* L: original */
        }
    }
    int was_stopping = info->stop->stopping;
    if (!was_stopping) heph_stop_begin(co, info, "closing");
    lua_sethook(co, heph_hook, HEPH_STOPPED_MASK, 1);
    int was_running = heph_enter_lua(co);
    int status = lua_resetthread(co);
    heph_leave_lua(co, was_running);
    lua_sethook(co, NULL, 0, 0);
    if (!was_stopping) heph_stop_end(info);
    if (status != LUA_OK && lua_gettop(co) > 0) {
        lua_xmove(co, L, 1);                             /* L: [original,] error */
        if (failed && lua_rawequal(L, -1, -2)) {
            lua_pop(L, 2);                               /* no handler failed */
            status = LUA_OK;
        } else {
            heph_push_text(L, -1);                      /* L: [original,] error, text */
            lua_replace(L, -2);                          /* L: [original,] text */
            if (failed) lua_remove(L, -2);               /* L: text */
        }
    } else {
        if (failed) lua_pop(L, 1);
        if (status != LUA_OK) lua_pushliteral(L, "(no error object)");
    }
    lua_settop(co, 0);
    return status;
}

/* Stack of L: nargs + the function in; nresults or the error's text out. The call runs
 * in a context of its own: a stop in progress (of the coroutine whose error this may be
 * the text of) is set aside meanwhile, and comes back after. */
int heph_pcall_limited(lua_State *L, int nargs, int nresults, double seconds) {
    heph_state_info *info = heph_get_info(L);
    heph_stop saved = *info->stop;
    lua_Hook old_hook = lua_gethook(L);
    int old_mask = lua_gethookmask(L), old_count = lua_gethookcount(L);
    double old_deadline = info->deadline, old_limit = info->limit;
    lua_State *old_current = info->current;
    heph_stop_end(info);
    info->deadline = heph_now() + seconds;
    info->limit = seconds;
    info->current = L;
    lua_sethook(L, heph_hook, LUA_MASKCOUNT, HEPH_WATCHDOG_COUNT);
    int was_running = heph_enter_lua(L);
    int status = lua_pcall(L, nargs, nresults, 0);
    heph_leave_lua(L, was_running);
    *info->stop = saved;
    info->deadline = old_deadline;
    info->limit = old_limit;
    info->current = old_current;
    lua_sethook(L, old_hook, old_mask, old_count);
    if (status != LUA_OK && lua_type(L, -1) != LUA_TSTRING) {
        /* The error of a failed conversion is not converted again: its type is enough. */
        const char *type = luaL_typename(L, -1);
        lua_pop(L, 1);
        lua_pushfstring(L, "(error object is a %s value)", type);
    }
    return status;
}

/* Lua: stopping() → whether a stop is in progress (the prelude's xpcall asks, so that a
 * script's message handler is not run for a stop: raised from the hook, it would run with
 * Lua's hooks off). Stack: pushes one boolean. */
int heph_lua_stopping(lua_State *L) {
    heph_state_info *info = heph_get_info(L);
    lua_pushboolean(L, info != NULL && info->stop->stopping);
    return 1;
}

/* Lua: watch(co) → co. A coroutine made where no hook was set (by a finalizer that ran on
 * the main state) gets the watchdog before the script resumes it. Stack: returns its
 * argument. */
int heph_lua_watch(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    if (co != NULL && lua_gethook(co) == NULL) lua_sethook(co, heph_hook, LUA_MASKCOUNT, HEPH_WATCHDOG_COUNT);
    lua_settop(L, 1);
    return 1;
}

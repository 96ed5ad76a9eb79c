/* A Lua C module with one function that does exactly what heph.now does (read
 * CLOCK_REALTIME, push seconds as a float) but without heph's bridge, so the benchmark
 * can tell the bridge's cost from the clock's. Built by scripts/bench, never shipped. */
#include <lua.h>
#include <lauxlib.h>
#include <time.h>

static int now(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

int luaopen_baseline_clock(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, now);
    lua_setfield(L, -2, "now");
    return 1;
}

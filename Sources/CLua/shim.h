/* Lua 5.4 as Debian's liblua5.4-dev installs it (pkg-config lua5.4: -I/usr/include/lua5.4). */
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* The linked library's own identification ("$LuaVersion: Lua 5.4.4  Copyright …"), which
   names its release: the prelude's bytecode is used only with the Lua that made it. */
static inline const char *heph_lua_ident(void) { return lua_ident; }

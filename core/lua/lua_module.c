/*
 * lua_module.c - `vsg` as a Lua C module (vsg.so) for plain lua5.4
 * interpreters, so busted specs run the shipped Lua code against the same
 * C functions vsgate's Lua host gives it, not against stand-ins.
 *
 *   local vsg = require("vsg")  -- LUA_CPATH="<build>/lua-cmodules/?.so;;"
 *
 * It holds what needs no host state: vsg.null and vsg.isnull (the JSON
 * null, a light userdata), vsg.json, vsg.time and vsg.url, the very
 * functions of lua_json.c, lua_time.c and lua_url.c. Outside a host state
 * nothing is metered and there is no memory cap (vsg_lua_from() is NULL).
 * vsg.log (it logs as the state's script) and the libraries added above
 * the host (vsg.kube, vsg.hash, vsg.filter, ...) need a vsgate state and
 * are not in it.
 */
#include <lauxlib.h>
#include <lua.h>

#include "lua/internal.h"
#include "lua/json.h"

__attribute__((visibility("default"))) int luaopen_vsg(lua_State *L);

/* [-0, +1, m] require("vsg") */
int luaopen_vsg(lua_State *L)
{
    luaL_checkversion(L);
    vsg__lua_json_setup(L); /* vsg.null's metatable (tostring "vsg.null"). */
    lua_createtable(L, 0, 5);
    vsg_lua_pushnull(L);
    lua_setfield(L, -2, "null");
    lua_pushcfunction(L, vsg__lua_isnull);
    lua_setfield(L, -2, "isnull");
    vsg__lua_open_json(L);
    lua_setfield(L, -2, "json");
    vsg__lua_open_time(L);
    lua_setfield(L, -2, "time");
    vsg__lua_open_url(L);
    lua_setfield(L, -2, "url");
    return 1;
}

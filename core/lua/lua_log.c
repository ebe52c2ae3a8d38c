/*
 * lua_log.c - vsg.log: debug/info/warn/error(msg [, fields]) into the
 * structured log of base/log.h.
 *
 * Lines carry the state's logger name and the calling script's chunk:line
 * as `caller`; the fields table becomes JSON members (sorted keys, values
 * JSON cannot hold written as strings; a key that would clash with the
 * line's own keys gets a leading underscore). Each line written costs
 * LOG_LINE_COST instructions of the call's budget.
 */
#include <string.h>

#include <lauxlib.h>

#include "base/buf.h"
#include "base/log.h"
#include "lua/host.h"
#include "lua/internal.h"
#include "lua/json.h"

/* Instructions charged per line written, so that a script cannot flood the
 * log: the default filter budget allows about 1000 lines per call. */
#define LOG_LINE_COST 1000

/* Registry key of the fields every line of a state carries (a table). */
static const char log_context_key = 0;

void vsg_lua_log_context(lua_State *L, const char *key, const char *value)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &log_context_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &log_context_key);
    }
    if (value)
        lua_pushstring(L, value);
    else
        lua_pushnil(L);
    lua_setfield(L, -2, key);
    lua_pop(L, 1);
}

/* [-0, +1, m] A table of the context fields plus those at `fields` (which
 * win), or nothing pushed (returns 0) when there is no context. */
static int with_context(lua_State *L, int fields)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &log_context_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    int ctx = lua_gettop(L);
    lua_pushnil(L);
    if (!lua_next(L, ctx)) { /* Empty. */
        lua_pop(L, 1);
        return 0;
    }
    lua_pop(L, 2);
    lua_newtable(L);
    int out = lua_gettop(L);
    for (int src = 0; src < 2; src++) {
        int from = src == 0 ? ctx : fields;
        if (from == 0) continue;
        lua_pushnil(L);
        while (lua_next(L, from)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_settable(L, out);
        }
    }
    lua_remove(L, ctx);
    return 1;
}

void vsg__lua_log(lua_State *L, enum vsg_log_level level, const char *msg,
                  int fields)
{
    struct vsg_lua *s = vsg_lua_from(L);
    struct vsg_buf raw;
    const char *file = NULL;
    int line = 0;
    lua_Debug ar;

    if (!vsg_log_enabled(level)) return;
    /* The message is cut to VSG_LOG_MSG_MAX, but looked at whole. */
    vsg__lua_charge(L, LOG_LINE_COST + strlen(msg) / 16);
    for (int lvl = 1; lua_getstack(L, lvl, &ar); lvl++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            file = ar.short_src;
            line = ar.currentline;
            break;
        }
    }
    if (fields != 0) fields = lua_absindex(L, fields);
    int merged = with_context(L, fields); /* May raise (memory): nothing to free yet. */
    if (merged) fields = lua_gettop(L);
    /* Nothing below raises: the C buffer is always freed. */
    vsg_buf_init(&raw, VSG_LOG_LINE_MAX / 2);
    if (fields != 0 &&
        vsg__lua_json_encode_log_fields(L, fields, &raw) != VSG_OK)
        vsg_buf_reset(&raw);
    vsg_log_emit_json(level, vsg_lua_name(s), file, line, msg,
                      raw.len > 0 ? raw.data : NULL);
    vsg_buf_cleanup(&raw);
    if (merged) lua_pop(L, 1);
}

/* [-(1|2), +0, v] The body of vsg.log.<level>(msg [, fields]). */
static int log_at(lua_State *L, enum vsg_log_level level)
{
    const char *msg = luaL_checkstring(L, 1);

    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
    vsg__lua_log(L, level, msg, lua_isnoneornil(L, 2) ? 0 : 2);
    return 0;
}

/* [-(1|2), +0, v] vsg.log.debug(msg [, fields]) */
static int log_debug(lua_State *L)
{
    return log_at(L, VSG_LOG_LEVEL_DEBUG);
}

/* [-(1|2), +0, v] vsg.log.info(msg [, fields]) */
static int log_info(lua_State *L)
{
    return log_at(L, VSG_LOG_LEVEL_INFO);
}

/* [-(1|2), +0, v] vsg.log.warn(msg [, fields]) */
static int log_warn(lua_State *L)
{
    return log_at(L, VSG_LOG_LEVEL_WARN);
}

/* [-(1|2), +0, v] vsg.log.error(msg [, fields]) */
static int log_error(lua_State *L)
{
    return log_at(L, VSG_LOG_LEVEL_ERROR);
}

/* Where each function may run: everywhere. */
static const struct vsg_lua_reg log_funcs[] = {
    {"debug", log_debug, VSG_LUA_CTX_ANY},
    {"info", log_info, VSG_LUA_CTX_ANY},
    {"warn", log_warn, VSG_LUA_CTX_ANY},
    {"error", log_error, VSG_LUA_CTX_ANY},
    {NULL, NULL, 0}};

int vsg__lua_open_log(lua_State *L)
{
    lua_createtable(L, 0, 4);
    vsg_lua_setfuncs(L, "vsg.log", log_funcs);
    return 1;
}

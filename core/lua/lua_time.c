/*
 * lua_time.c - vsg.time: RFC 3339 timestamps and Go durations for scripts.
 *
 *   now()                      -> "2026-11-25T11:37:53.123456789Z" (UTC,
 *                                 RFC 3339 with up to 9 fraction digits)
 *   unix()                     -> sec, nsec (integers, wall clock)
 *   parse(s)                   -> sec, nsec | nil, err (offsets applied)
 *   format(sec [, nsec])       -> RFC 3339 string in UTC; `sec` may be a
 *                                 float (its fraction gives the nsec) when
 *                                 nsec is absent
 *   parse_duration(s)          -> nanoseconds | nil, err ("1h30m", "2.5s")
 *   format_duration(ns)        -> Go's notation ("1h30m0s")
 *   parse_iso8601_duration(s)  -> milliseconds | nil, err, why: an ISO-8601
 *                                 duration ("PT0.5S", "P1DT2H"), the rule
 *                                 of Knative's backoffDelay; why is
 *                                 "syntax" (not such a duration; so is a
 *                                 string with a NUL byte) or "range" (well
 *                                 formed but past ~292 million years)
 *
 * Bad argument types and out-of-range values passed to format* raise;
 * unparsable text returns nil, err.
 */
#include <math.h>
#include <string.h>

#include <lauxlib.h>

#include "base/vtime.h"
#include "lua/host.h"
#include "lua/internal.h"

/* [-0, +1, m] Pushes t as RFC 3339 (nano style) or raises. */
static int push_time(lua_State *L, struct vsg_time t, int arg)
{
    char b[VSG_TIME_RFC3339_BUFSZ];

    if (vsg_time_format_rfc3339(t, VSG_TIME_NANO, b, sizeof b) != VSG_OK)
        return luaL_argerror(L, arg, "time out of range (years 0000-9999)");
    lua_pushstring(L, b);
    return 1;
}

/* [-0, +1, m] vsg.time.now() */
static int time_now(lua_State *L)
{
    return push_time(L, vsg_time_now(), 0);
}

/* [-0, +2, -] vsg.time.unix() */
static int time_unix(lua_State *L)
{
    struct vsg_time t = vsg_time_now();

    lua_pushinteger(L, (lua_Integer)t.sec);
    lua_pushinteger(L, (lua_Integer)t.nsec);
    return 2;
}

/* [-1, +2, m] vsg.time.parse(s) */
static int time_parse(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    struct vsg_time t;

    if (vsg_time_parse_rfc3339(s, &t) != VSG_OK) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid RFC 3339 time '%s'", s);
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)t.sec);
    lua_pushinteger(L, (lua_Integer)t.nsec);
    return 2;
}

/* [-(1|2), +1, v] vsg.time.format(sec [, nsec]) */
static int time_format(lua_State *L)
{
    struct vsg_time t;

    if (lua_isinteger(L, 1) || !lua_isnoneornil(L, 2)) {
        lua_Integer ns = luaL_optinteger(L, 2, 0);

        t.sec = (int64_t)luaL_checkinteger(L, 1);
        luaL_argcheck(L, ns >= 0 && ns <= 999999999, 2,
                      "nanoseconds must be 0..999999999");
        t.nsec = (int32_t)ns;
    } else {
        lua_Number x = luaL_checknumber(L, 1), fl = floor(x);

        luaL_argcheck(L, isfinite(x) && fl >= -1e15 && fl <= 1e15, 1,
                      "time out of range");
        t.sec = (int64_t)fl;
        t.nsec = (int32_t)((x - fl) * 1e9);
        if (t.nsec > 999999999) t.nsec = 999999999;
    }
    return push_time(L, t, 1);
}

/* [-1, +(1|2), m] vsg.time.parse_duration(s) */
static int time_parse_duration(lua_State *L)
{
    const char *s = luaL_checkstring(L, 1);
    int64_t ns;

    if (vsg_duration_parse(s, &ns) != VSG_OK) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid duration '%s'", s);
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)ns);
    return 1;
}

/* [-1, +(1|3), m] vsg.time.parse_iso8601_duration(s) */
static int time_parse_iso8601_duration(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    struct vsg_error err;
    enum vsg_err rc = VSG_ERR_PARSE;
    int64_t ms;

    if (strlen(s) == len) rc = vsg_iso8601_duration_parse(s, &ms, &err);
    if (rc != VSG_OK) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid ISO-8601 duration '%s'", s);
        lua_pushstring(L, rc == VSG_ERR_RANGE ? "range" : "syntax");
        return 3;
    }
    lua_pushinteger(L, (lua_Integer)ms);
    return 1;
}

/* [-1, +1, v] vsg.time.format_duration(ns) */
static int time_format_duration(lua_State *L)
{
    char b[VSG_DURATION_BUFSZ];
    lua_Integer ns = luaL_checkinteger(L, 1);

    if (vsg_duration_format((int64_t)ns, b, sizeof b) != VSG_OK)
        return luaL_argerror(L, 1, "cannot format duration");
    lua_pushstring(L, b);
    return 1;
}

/* Where each function may run: everywhere. */
static const struct vsg_lua_reg time_funcs[] = {
    {"now", time_now, VSG_LUA_CTX_ANY},
    {"unix", time_unix, VSG_LUA_CTX_ANY},
    {"parse", time_parse, VSG_LUA_CTX_ANY},
    {"format", time_format, VSG_LUA_CTX_ANY},
    {"parse_duration", time_parse_duration, VSG_LUA_CTX_ANY},
    {"format_duration", time_format_duration, VSG_LUA_CTX_ANY},
    {"parse_iso8601_duration", time_parse_iso8601_duration, VSG_LUA_CTX_ANY},
    {NULL, NULL, 0}};

int vsg__lua_open_time(lua_State *L)
{
    lua_createtable(L, 0, 7);
    vsg_lua_setfuncs(L, "vsg.time", time_funcs);
    return 1;
}

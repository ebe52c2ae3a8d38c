/*
 * host.c - sandboxed Lua states: factory, limits, loading, protected
 * calls, the sandboxed require, context guards.
 *
 * The struct vsg_lua is the allocator's userdata, so any lua_State of it
 * finds it with lua_getallocf() (no registry lookup on hot paths).
 */
#include "lua/host.h"

#include <assert.h>
#include <signal.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "lua/internal.h"
#include "lua/json.h"

/* Registry keys: the addresses of these variables (those require.c
 * shares are in internal.h). */
static const char key_envmt = 'e';   /* Metatable of every chunk env. */
const char vsg__lua_key_loaded = 'l';  /* require's cache: name -> value. */
const char vsg__lua_key_modules = 'm'; /* In-memory modules: name -> text. */
const char vsg__lua_key_vsg = 'v';     /* The real vsg table. */
const char vsg__lua_key_vsgro = 'r';   /* The read-only proxy of vsg. */
const char vsg__lua_key_loading = 'L'; /* Light userdata marking a module
                                          whose body is running. */
static const char key_hostmt = 'h';  /* Weak-keyed: metatable of a host
                                        table -> its name (read-only
                                        proxy) or true (settable). */

/* Longest module name require accepts. */

/* Which limit stopped the current call. */
enum limit_hit {
    LIMIT_NONE,   /* None. */
    LIMIT_BUDGET, /* The instruction budget. */
    LIMIT_MEMORY, /* The memory cap. */
    LIMIT_TIME,   /* The wall-clock limit. */
    LIMIT_STOP    /* The process is stopping (vsg_lua_set_interrupt). */
};

struct vsg_lua {
    lua_State *L;                 /* The state; NULL while being made. */
    enum vsg_lua_kind kind;       /* What the state runs. */
    enum vsg_lua_context ctx;     /* The current context. */
    struct vsg_lua_limits limits; /* Effective limits. */
    char *name;                   /* Logger name (owned). */
    char *path;                   /* require's file templates, or NULL
                                     (owned). */
    size_t mem_used;              /* Bytes the state holds now. */
    int hook_period;              /* Instructions between two hook calls. */
    uint64_t steps;               /* Instructions counted in this call. */
    uint64_t last_steps;          /* Those of the last outermost call. */
    uint64_t clock_steps;         /* vsg_lua_meter() reads the clock once
                                     steps reach this. */
    int64_t deadline_ms;          /* Monotonic ms deadline of the call,
                                     set when it starts; 0: none. */
    int depth;                    /* Nesting of vsg_lua_pcall(). */
    enum limit_hit limit_hit;     /* The limit that stopped this call. */
    int refused;                  /* The allocator refused the last growth
                                     request (below) and may see it again
                                     after an emergency collection. */
    const void *refused_ptr;      /* That request's block. */
    size_t refused_osize;         /* That request's old size (or tag). */
    size_t refused_nsize;         /* That request's new size. */
    char where[LUA_IDSIZE + 16];  /* "chunk:line" where a limit was hit,
                                     or "". */
    char traceback[2048];         /* Traceback of the last error, kept
                                     only while debug logging is on. */
};

/* ====================================================================
 * Allocator and hook
 * ==================================================================== */

/*
 * [-0, +0, -] Fills s->where with the chunk:line of the innermost Lua function at or
 * above stack level `level` ("" when there is none). Reads the call info
 * only, allocates nothing, so the allocator may call it.
 */
static void record_where(lua_State *L, struct vsg_lua *s, int level)
{
    lua_Debug ar;

    s->where[0] = '\0';
    for (; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            (void)snprintf(s->where, sizeof s->where, "%s:%d", ar.short_src,
                           ar.currentline);
            return;
        }
    }
}

/*
 * The lua_Alloc of every state: vsg_realloc() plus a byte count and the
 * cap. A refused growth marks the call as stopped by the memory limit,
 * unless Lua's emergency collection frees enough and the same request
 * then succeeds.
 */
static void *state_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct vsg_lua *s = ud;
    size_t old = ptr != NULL ? osize : 0;
    void *p;

    if (nsize == 0) {
        vsg_free(ptr);
        s->mem_used -= old;
        return NULL;
    }
    if (nsize > old) {
        int retry = s->refused && s->refused_ptr == ptr &&
                    s->refused_osize == osize && s->refused_nsize == nsize;

        s->refused = 0;
        if (nsize - old > s->limits.memory - s->mem_used) {
            if (s->limit_hit == LIMIT_NONE) {
                s->limit_hit = LIMIT_MEMORY;
                if (s->L != NULL && s->depth > 0) record_where(s->L, s, 0);
            }
            s->refused = 1;
            s->refused_ptr = ptr;
            s->refused_osize = osize;
            s->refused_nsize = nsize;
            return NULL;
        }
        if (retry && s->limit_hit == LIMIT_MEMORY) {
            s->limit_hit = LIMIT_NONE; /* The emergency GC made room. */
            s->where[0] = '\0';
        }
    }
    p = vsg_realloc(ptr, nsize);
    if (p == NULL) return NULL;
    s->mem_used = s->mem_used - old + nsize;
    return p;
}

/* [-0, +0, -] Notes that `hit` stopped the current call (unless a limit
 * already did) and where. */
static void note_limit(lua_State *L, struct vsg_lua *s, enum limit_hit hit)
{
    if (s->limit_hit == LIMIT_NONE) {
        s->limit_hit = hit;
        record_where(L, s, 0);
    }
}

/* [-0, +0, v] Raises the error of the budget or time limit noted. */
static void raise_limit(lua_State *L, const struct vsg_lua *s)
{
    luaL_error(L, s->limit_hit == LIMIT_TIME   ? "time limit exceeded"
                  : s->limit_hit == LIMIT_STOP ? "interrupted: stopping"
                                               : "instruction budget exceeded");
}

/* The process's stop flag, read with the clock (see vsg_lua_set_interrupt). */
static volatile sig_atomic_t *interrupt_flag;

void vsg_lua_set_interrupt(volatile sig_atomic_t *flag)
{
    interrupt_flag = flag;
}

/* A charge of at least this many instructions (work about to be done in
 * one piece) reads the clock, and is refused as the time limit when even
 * at FASTEST_PER_MS instructions a millisecond (2 ns each, faster than
 * anything charged) it could not be done by the deadline: with a budget
 * much larger than the time limit allows, the clock still bounds it. */
#define BIG_CHARGE 65536
#define FASTEST_PER_MS 500000

/*
 * [-0, +0, -] Charges `n` instructions (saturating: C work may charge a
 * lot) and reads the clock when `clock` is set, the charge is big, or
 * VSG_LUA_HOOK_PERIOD instructions were charged since it was last read.
 * Nonzero, with the limit noted, when the call is over its budget or past
 * its deadline (or one of them already stopped it).
 */
static int over_limits(lua_State *L, struct vsg_lua *s, uint64_t n, int clock)
{
    if (s->limit_hit == LIMIT_BUDGET || s->limit_hit == LIMIT_TIME || s->limit_hit == LIMIT_STOP)
        return 1;
    s->steps = n > UINT64_MAX - s->steps ? UINT64_MAX : s->steps + n;
    if (s->steps > s->limits.instructions) {
        note_limit(L, s, LIMIT_BUDGET);
        return 1;
    }
    if (clock || n >= BIG_CHARGE || s->steps >= s->clock_steps) {
        int64_t now;

        s->clock_steps = s->steps + VSG_LUA_HOOK_PERIOD;
        if (interrupt_flag != NULL && *interrupt_flag) {
            note_limit(L, s, LIMIT_STOP);
            return 1;
        }
        if (s->deadline_ms == 0) return 0;
        now = vsg_time_mono_ms();
        if (now >= s->deadline_ms ||
            n / FASTEST_PER_MS >= (uint64_t)(s->deadline_ms - now)) {
            note_limit(L, s, LIMIT_TIME);
            return 1;
        }
    }
    return 0;
}

/* [-0, +0, v] The count hook: charges the budget and checks the clock. */
static void count_hook(lua_State *L, lua_Debug *ar)
{
    struct vsg_lua *s = vsg_lua_from(L);

    (void)ar;
    if (over_limits(L, s, (uint64_t)s->hook_period, 1)) raise_limit(L, s);
}

/* [-0, +0, -] Called on an error outside any protected call: a host
 * bug. */
static int panic(lua_State *L)
{
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                     : "(not a string)";

    VSG_LOG_ERROR("vsgate.lua", "unprotected Lua error: %s", msg);
    abort();
    return 0;
}

/* ====================================================================
 * Read-only proxies and envs
 * ==================================================================== */

/* [-0, +0, v] __newindex of proxies. Upvalue 1: the table's name. */
static int ro_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to modify read-only table '%s'",
                      lua_tostring(L, lua_upvalueindex(1)));
}

/* [-2, +(2|1), e] Iterator of proxies: next() over the proxied table. */
static int ro_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (!lua_getmetatable(L, 1)) return 0;   /* 3: metatable */
    lua_pushliteral(L, "__index");
    lua_rawget(L, 3);                        /* 4: the real table */
    luaL_checktype(L, 4, LUA_TTABLE);
    lua_pushvalue(L, 2);                     /* 5: key */
    if (lua_next(L, 4)) return 2;
    lua_pushnil(L);
    return 1;
}

/* [-1, +3, -] __pairs of proxies; never hands out the real table. */
static int ro_pairs(lua_State *L)
{
    lua_pushcfunction(L, ro_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* [-1, +0, m] Records the metatable on top (popped) as a host table's
 * for sb_rawset: `name` for a read-only proxy, NULL for a table whose
 * __newindex must see every write. */
static void mark_host_mt(lua_State *L, const char *name)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_hostmt) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_createtable(L, 0, 16);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &key_hostmt);
    }
    lua_insert(L, -2);
    if (name != NULL)
        lua_pushstring(L, name);
    else
        lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

void vsg_lua_mark_settable(lua_State *L, int idx)
{
    lua_pushvalue(L, idx);
    mark_host_mt(L, NULL);
}

/* [-1, +0, -] Calls __pairs (at -1 under the table at -2). */
static int complete_protected(lua_State *L)
{
    lua_call(L, 1, 0);
    return 0;
}

void vsg__lua_complete_lazy(lua_State *L, int idx)
{
    int top = lua_gettop(L);

    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 4) || !lua_getmetatable(L, idx)) return;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_hostmt) == LUA_TTABLE) {
        lua_pushvalue(L, -2);
        if (lua_rawget(L, -2) == LUA_TBOOLEAN && lua_toboolean(L, -1)) {
            lua_pushcfunction(L, complete_protected);
            lua_getfield(L, top + 1, "__pairs");
            lua_pushvalue(L, idx);
            if (lua_isfunction(L, -2)) (void)lua_pcall(L, 2, 0, 0);
        }
    }
    lua_settop(L, top);
}

/* [-3, +1, e] rawset(t, k, v), sandboxed: a write to a read-only library
 * (string, vsg, ...) fails as an assignment would, instead of shadowing
 * the library for every module of the state; a write to a host table
 * that tracks its fields (a filter's event) goes through its __newindex,
 * so it takes effect. Any other table: Lua's rawset. */
static int sb_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    lua_settop(L, 3);
    if (lua_getmetatable(L, 1)) {                       /* 4 */
        lua_rawgetp(L, LUA_REGISTRYINDEX, &key_hostmt); /* 5 */
        if (lua_type(L, 5) == LUA_TTABLE) {
            lua_pushvalue(L, 4);
            lua_rawget(L, 5);                           /* 6 */
            if (lua_type(L, 6) == LUA_TSTRING)
                return luaL_error(L, "attempt to modify read-only table '%s'",
                                  lua_tostring(L, 6));
            if (lua_toboolean(L, 6)) {
                lua_settop(L, 3);
                lua_settable(L, 1);
                return 1;
            }
        }
        lua_settop(L, 3);
    }
    lua_rawset(L, 1);
    return 1;
}

void vsg__lua_push_readonly(lua_State *L, int idx, const char *name)
{
    idx = lua_absindex(L, idx);
    lua_createtable(L, 0, 0);          /* The proxy. */
    lua_createtable(L, 0, 4);          /* Its metatable. */
    lua_pushvalue(L, -1);
    mark_host_mt(L, name != NULL ? name : "?");
    lua_pushvalue(L, idx);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, name);
    lua_pushcclosure(L, ro_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, ro_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

/* [-0, +1, m] Pushes a fresh chunk env: writable, reads fall back to the
 * allow-list, `_G` is the env itself. */
static void push_env(lua_State *L)
{
    lua_createtable(L, 0, 2);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_envmt);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
}

/* [-0, +0, m] Gives the function at `idx` (a main chunk) a fresh env. */
void vsg__lua_set_fresh_env(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    push_env(L);
    if (lua_setupvalue(L, idx, 1) == NULL) lua_pop(L, 1);
}

/* ====================================================================
 * Sandboxed base functions
 * ==================================================================== */

/* [-0, +0, -] Nonzero when a limit stopped the current call: then every
 * catch re-raises so scripts cannot swallow it. */
static int limit_is_fatal(lua_State *L)
{
    return vsg_lua_from(L)->limit_hit != LIMIT_NONE;
}

/* [-0, +(1|2), v] The tail of sb_pcall/sb_xpcall (lbaselib's finishpcall
 * plus the limit rule). */
static int finish_pcall(lua_State *L, int status, int extra)
{
    if (status != LUA_OK) {
        if (limit_is_fatal(L)) return lua_error(L);
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - extra;
}

/* [-n, +r, e] pcall(f, ...): as Lua's, but limits are not catchable. */
static int sb_pcall(lua_State *L)
{
    int status;

    luaL_checkany(L, 1);
    lua_pushboolean(L, 1);
    lua_insert(L, 1);
    status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
    return finish_pcall(L, status, 0);
}

/*
 * [-1, +1, e] Wraps a script's xpcall message handler (upvalue 1). Lua
 * runs message handlers before unwinding, so when the error came from the
 * count hook, hooks are still off: the script's handler must not run then
 * (an endless loop in it would never be stopped). After a limit the error
 * passes through untouched.
 */
static int sb_xpcall_handler(lua_State *L)
{
    lua_settop(L, 1);
    if (limit_is_fatal(L)) return 1;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

/* [-n, +r, e] xpcall(f, msgh, ...): as Lua's, limits not catchable. */
static int sb_xpcall(lua_State *L)
{
    int n = lua_gettop(L), status;

    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, sb_xpcall_handler, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2);
    status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
    return finish_pcall(L, status, 2);
}

/* [-0, +1, e] The reader sb_load() hands Lua's load for a reader function
 * (upvalue 1): each piece is charged before it is compiled. */
static int sb_load_reader(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, 1);
    if (lua_type(L, -1) == LUA_TSTRING)
        vsg_lua_meter(L, lua_rawlen(L, -1) / LOAD_BYTES);
    return 1;
}

/* [-n, +r, e] load(chunk [, name [, mode [, env]]]): always text mode; the
 * env defaults to a fresh sandbox env; compiling is charged by the bytes.
 * Upvalue 1: Lua's load. */
static int sb_load(lua_State *L)
{
    int has_env = lua_gettop(L) >= 4;

    luaL_checkany(L, 1);
    lua_settop(L, 4);
    if (lua_type(L, 1) == LUA_TSTRING) {
        vsg_lua_meter(L, lua_rawlen(L, 1) / LOAD_BYTES);
    } else if (lua_type(L, 1) == LUA_TFUNCTION) {
        lua_pushvalue(L, 1);
        lua_pushcclosure(L, sb_load_reader, 1);
        lua_replace(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t");
    if (has_env)
        lua_pushvalue(L, 4);
    else
        push_env(L);
    lua_call(L, 4, LUA_MULTRET);
    /* lua_load catches errors of a reader function, limits included. */
    if (limit_is_fatal(L)) return luaL_error(L, "limit exceeded in load");
    return lua_gettop(L) - 4;
}

/* [-2, +1, e] setmetatable(t, mt): refuses __gc (finalizers would run
 * outside any call's limits). Upvalue 1: Lua's setmetatable. */
static int sb_setmetatable(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "__gc metamethods are not allowed in "
                                 "scripts");
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* [-1, +1, e] collectgarbage("count") only. Upvalue 1: Lua's. */
static int sb_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "collect");

    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage('%s') is not allowed in "
                             "scripts (only 'count')", opt);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushliteral(L, "count");
    lua_call(L, 1, 1);
    return 1;
}

/* [-n, +0, m] print(...): one info line in the log, args tab-separated. */
static int sb_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;

    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    vsg__lua_log(L, VSG_LOG_LEVEL_INFO, lua_tostring(L, -1), 0);
    return 0;
}

const char *vsg__lua_search_path(const struct vsg_lua *s)
{
    return s->path;
}

/* ====================================================================
 * Setup
 * ==================================================================== */

/* Base functions scripts get unchanged. */
static const char *const base_allowed[] = {
    "assert", "error", "getmetatable", "ipairs", "next", "pairs",
    "rawequal", "rawget", "rawlen", "select", "tonumber",
    "tostring", "type", "_VERSION", NULL};

/* [-0, +0, e] Sets table[field] to a read-only proxy of the table made by
 * `open`; the table at the top of the stack receives it. */
static void add_sub(lua_State *L, lua_CFunction open, const char *field,
                    const char *name)
{
    int t = lua_gettop(L);

    lua_pushcfunction(L, open);
    lua_call(L, 0, 1);
    vsg__lua_push_readonly(L, -1, name);
    lua_setfield(L, t, field);
    lua_pop(L, 1);
}

/* [-1, +1, -] vsg.isnull(v): true for nil and vsg.null (a JSON null,
 * which is truthy), so `if vsg.isnull(e.data.Vm) then` reads right. */
int vsg__lua_isnull(lua_State *L)
{
    lua_pushboolean(L, lua_isnoneornil(L, 1) || vsg_lua_isnull(L, 1));
    return 1;
}

/* [-1, +0, m] Builds the sandbox (run protected by vsg_lua_newstate()). */
static int setup(lua_State *L)
{
    const int g = 8; /* Stack index of the allow-list table. */

    lua_settop(L, 0);
    lua_pushnil(L);                                        /* 1: unused */
    luaL_requiref(L, LUA_GNAME, luaopen_base, 0);          /* 2: real _G */
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);   /* 3 */
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 0);    /* 4 */
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 0);    /* 5 */
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 0);    /* 6 */
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);        /* 7 */

    /* string.dump goes (also from the method table strings index), and
     * the string metatable is hidden. That method table is this very
     * table, so the metered matcher replaces Lua's for ("x"):find() too. */
    lua_pushnil(L);
    lua_setfield(L, 3, "dump");
    vsg__lua_patterns_install(L, 3);
    vsg__lua_meter_install(L, 2, 3, 4, 6, 7);
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    lua_createtable(L, 0, 32);                             /* 8: allow-list */
    for (const char *const *n = base_allowed; *n != NULL; n++) {
        lua_getfield(L, 2, *n);
        lua_setfield(L, g, *n);
    }
    lua_pushcfunction(L, sb_rawset);
    lua_setfield(L, g, "rawset");
    lua_pushcfunction(L, sb_pcall);
    lua_setfield(L, g, "pcall");
    lua_pushcfunction(L, sb_xpcall);
    lua_setfield(L, g, "xpcall");
    lua_pushcfunction(L, sb_print);
    lua_setfield(L, g, "print");
    lua_pushcfunction(L, vsg__lua_require);
    lua_setfield(L, g, "require");
    lua_getfield(L, 2, "load");
    lua_pushcclosure(L, sb_load, 1);
    lua_setfield(L, g, "load");
    lua_getfield(L, 2, "setmetatable");
    lua_pushcclosure(L, sb_setmetatable, 1);
    lua_setfield(L, g, "setmetatable");
    lua_getfield(L, 2, "collectgarbage");
    lua_pushcclosure(L, sb_collectgarbage, 1);
    lua_setfield(L, g, "collectgarbage");

    vsg__lua_push_readonly(L, 3, "string");
    lua_setfield(L, g, "string");
    vsg__lua_push_readonly(L, 4, "table");
    lua_setfield(L, g, "table");
    vsg__lua_push_readonly(L, 5, "math");
    lua_setfield(L, g, "math");
    vsg__lua_push_readonly(L, 6, "utf8");
    lua_setfield(L, g, "utf8");
    lua_createtable(L, 0, 3);                              /* 9: os subset */
    lua_getfield(L, 7, "time");
    lua_setfield(L, 9, "time");
    lua_getfield(L, 7, "clock");
    lua_setfield(L, 9, "clock");
    lua_getfield(L, 7, "date");
    lua_setfield(L, 9, "date");
    vsg__lua_push_readonly(L, 9, "os");
    lua_setfield(L, g, "os");
    lua_pop(L, 1);

    /* vsg: null plus the libraries, each read-only. */
    vsg__lua_json_setup(L);
    lua_createtable(L, 0, 8);                              /* 9: real vsg */
    vsg_lua_pushnull(L);
    lua_setfield(L, 9, "null");
    lua_pushcfunction(L, vsg__lua_isnull);
    lua_setfield(L, 9, "isnull");
    add_sub(L, vsg__lua_open_log, "log", "vsg.log");
    add_sub(L, vsg__lua_open_json, "json", "vsg.json");
    add_sub(L, vsg__lua_open_time, "time", "vsg.time");
    add_sub(L, vsg__lua_open_url, "url", "vsg.url");
    lua_pushvalue(L, 9);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &vsg__lua_key_vsg);
    vsg__lua_push_readonly(L, 9, "vsg");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &vsg__lua_key_vsgro);
    lua_setfield(L, g, "vsg");

    /* The env metatable: reads fall back to the allow-list; hidden. */
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, g);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_envmt);

    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &vsg__lua_key_loaded);
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &vsg__lua_key_modules);
    return 0;
}

/* ====================================================================
 * Life cycle and introspection
 * ==================================================================== */

/* Builds the search path from cfg (owned string, or NULL). */
static enum vsg_err make_path(const struct vsg_lua_config *cfg, char **out)
{
    struct vsg_buf b;
    const char *r = cfg->root;

    *out = NULL;
    if (cfg->search_path != NULL) {
        *out = vsg_strdup(cfg->search_path);
        return *out != NULL ? VSG_OK : VSG_ERR_NOMEM;
    }
    if (r == NULL) return VSG_OK;
    vsg_buf_init(&b, 16384);
    if (vsg_buf_printf(&b,
                       "%s/lua/?.lua;%s/lua/?/init.lua;%s/plugins/?.lua;"
                       "%s/plugins/?/init.lua",
                       r, r, r, r) != VSG_OK) {
        vsg_buf_cleanup(&b);
        return VSG_ERR_NOMEM;
    }
    *out = vsg_buf_steal(&b);
    vsg_buf_cleanup(&b);
    return *out != NULL ? VSG_OK : VSG_ERR_NOMEM;
}

struct vsg_lua *vsg_lua_newstate(const struct vsg_lua_config *cfg,
                                 struct vsg_error *err)
{
    struct vsg_lua *s = NULL;
    struct vsg_lua_limits def;

    if (cfg == NULL) {
        vsg_error_set(err, VSG_ERR_INVAL, "no Lua state configuration");
        return NULL;
    }
    s = vsg_calloc(1, sizeof *s);
    if (s == NULL) goto nomem;
    s->kind = cfg->kind;
    s->ctx = VSG_LUA_CTX_LOAD;
    def = vsg_lua_limits_default(cfg->kind);
    s->limits = cfg->limits;
    if (s->limits.memory == 0) s->limits.memory = def.memory;
    if (s->limits.instructions == 0)
        s->limits.instructions = def.instructions;
    if (s->limits.time_ms == 0) s->limits.time_ms = def.time_ms;
    if (s->limits.time_ms == VSG_LUA_NO_TIME_LIMIT) s->limits.time_ms = 0;
    s->hook_period = s->limits.instructions < VSG_LUA_HOOK_PERIOD
                         ? (int)s->limits.instructions
                         : VSG_LUA_HOOK_PERIOD;
    s->name = vsg_strdup(cfg->name != NULL ? cfg->name : "vsgate.lua");
    if (s->name == NULL || make_path(cfg, &s->path) != VSG_OK) goto nomem;

    s->L = lua_newstate(state_alloc, s);
    if (s->L == NULL) {
        if (s->limit_hit == LIMIT_MEMORY)
            vsg_error_set(err, VSG_ERR_LIMIT,
                          "memory limit of %zu bytes is too small for a Lua "
                          "state", s->limits.memory);
        else
            vsg_error_set(err, VSG_ERR_NOMEM, "cannot create a Lua state");
        goto fail;
    }
    lua_atpanic(s->L, panic);
    lua_sethook(s->L, count_hook, LUA_MASKCOUNT, s->hook_period);
    if (vsg_lua_cpcall(s, setup, NULL, 0, err) != VSG_OK) goto fail;
    for (const struct vsg_lua_lib *l = cfg->libs; l != NULL && l->name != NULL;
         l++) {
        if (vsg_lua_add_library(s, l->name, l->open, err) != VSG_OK)
            goto fail;
    }
    return s;

nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "cannot create a Lua state");
fail:
    vsg_lua_close(s);
    return NULL;
}

void vsg_lua_close(struct vsg_lua *s)
{
    if (s == NULL) return;
    if (s->L != NULL) lua_close(s->L);
    vsg_free(s->name);
    vsg_free(s->path);
    vsg_free(s);
}

lua_State *vsg_lua_L(struct vsg_lua *s)
{
    return s->L;
}

struct vsg_lua *vsg_lua_from(lua_State *L)
{
    void *ud = NULL;

    /* A plain interpreter that loaded vsg.so (lua_module.c) has another
     * allocator: no host state, so nothing is metered there. */
    if (lua_getallocf(L, &ud) != state_alloc) return NULL;
    return ud;
}

enum vsg_lua_kind vsg_lua_kind(const struct vsg_lua *s)
{
    return s->kind;
}

const char *vsg_lua_name(const struct vsg_lua *s)
{
    return s->name;
}

struct vsg_lua_limits vsg_lua_limits(const struct vsg_lua *s)
{
    return s->limits;
}

size_t vsg_lua_memory(const struct vsg_lua *s)
{
    return s->mem_used;
}

uint64_t vsg_lua_instructions(const struct vsg_lua *s)
{
    return s->last_steps;
}

void vsg__lua_charge(lua_State *L, uint64_t n)
{
    struct vsg_lua *s = vsg_lua_from(L);

    if (s == NULL) return;
    /* Saturating; the next hook or vsg_lua_meter() enforces it. */
    s->steps = n > UINT64_MAX - s->steps ? UINT64_MAX : s->steps + n;
}

void vsg_lua_meter(lua_State *L, uint64_t n)
{
    struct vsg_lua *s = vsg_lua_from(L);

    if (s != NULL && s->depth > 0 && over_limits(L, s, n, 0)) raise_limit(L, s);
}

int vsg__lua_over(lua_State *L, uint64_t n)
{
    struct vsg_lua *s = vsg_lua_from(L);

    return s != NULL && s->depth > 0 && over_limits(L, s, n, 0);
}

/* ====================================================================
 * Contexts
 * ==================================================================== */

enum vsg_lua_context vsg_lua_set_context(struct vsg_lua *s,
                                         enum vsg_lua_context ctx)
{
    enum vsg_lua_context old = s->ctx;

    s->ctx = ctx;
    return old;
}

enum vsg_lua_context vsg_lua_context(const struct vsg_lua *s)
{
    return s->ctx;
}

void vsg_lua_check_context(lua_State *L, unsigned allowed, const char *what)
{
    struct vsg_lua *s = vsg_lua_from(L);

    if (((unsigned)s->ctx & allowed) != 0) return;
    luaL_error(L, "%s is not allowed %s", what, vsg__lua_context_phrase(s->ctx));
}

/* [-n, +r, e] The wrapper of guarded functions. Upvalues: 1 the struct
 * vsg_lua_reg (light userdata), 2 the prefix ("vsg.kube"). */
static int guarded_call(lua_State *L)
{
    const struct vsg_lua_reg *r = lua_touserdata(L, lua_upvalueindex(1));
    struct vsg_lua *s = vsg_lua_from(L);

    if (((unsigned)s->ctx & r->contexts) == 0)
        return luaL_error(L, "%s.%s is not allowed %s",
                          lua_tostring(L, lua_upvalueindex(2)), r->name,
                          vsg__lua_context_phrase(s->ctx));
    return r->fn(L);
}

void vsg_lua_setfuncs(lua_State *L, const char *prefix,
                      const struct vsg_lua_reg *regs)
{
    int t = lua_gettop(L);

    for (const struct vsg_lua_reg *r = regs; r->name != NULL; r++) {
        if ((r->contexts & VSG_LUA_CTX_ANY) == VSG_LUA_CTX_ANY) {
            lua_pushcfunction(L, r->fn);
        } else {
            lua_pushlightuserdata(L, (void *)r);
            lua_pushstring(L, prefix);
            lua_pushcclosure(L, guarded_call, 2);
        }
        lua_setfield(L, t, r->name);
    }
}

/* ====================================================================
 * Calls
 * ==================================================================== */

int vsg_lua_error_has_location(const char *msg)
{
    const char *colon = strchr(msg, ':');

    if (colon == NULL || colon == msg || memchr(msg, '\n', (size_t)(colon - msg)) != NULL) return 0;
    if (!(colon[1] >= '0' && colon[1] <= '9')) return 0;
    for (colon++; *colon >= '0' && *colon <= '9'; colon++) {}
    return *colon == ':';
}

/*
 * [-1, +1, -] The message handler of vsg_lua_pcall(): turns the error into
 * a string that says where in the script it happened and, while debug
 * logging is on, keeps a traceback in s.
 */
static int msgh(lua_State *L)
{
    struct vsg_lua *s = vsg_lua_from(L);
    const char *msg = lua_tostring(L, 1);

    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") &&
            lua_type(L, -1) == LUA_TSTRING)
            msg = lua_tostring(L, -1);
        else
            msg = lua_pushfstring(L, "(error object is a %s value)",
                                  luaL_typename(L, 1));
    }
    if (s->limit_hit == LIMIT_NONE && !vsg_lua_error_has_location(msg)) {
        /* Raised where luaL_error cannot see a script line (Lua's own
         * "C stack overflow", a library function called through a sandbox
         * wrapper): say where the script was. */
        record_where(L, s, 1);
        if (s->where[0] != '\0') msg = lua_pushfstring(L, "%s: %s", s->where, msg);
        s->where[0] = '\0';
    }
    if (s->limit_hit == LIMIT_NONE && vsg_log_enabled(VSG_LOG_LEVEL_DEBUG)) {
        luaL_traceback(L, L, msg, 1);
        (void)snprintf(s->traceback, sizeof s->traceback, "%s",
                       lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return 1;
}

/* [-0, +0, -] Turns a failed call (error object on top, left there) into
 * err. */
static enum vsg_err call_error(struct vsg_lua *s, int status,
                               struct vsg_error *err)
{
    lua_State *L = s->L;
    const char *at = s->where, *sep = s->where[0] != '\0' ? ": " : "";

    switch (s->limit_hit) {
    case LIMIT_BUDGET:
        return vsg_error_set(err, VSG_ERR_LIMIT,
                             "%s%sinstruction budget exceeded (%llu "
                             "instructions)",
                             at, sep,
                             (unsigned long long)s->limits.instructions);
    case LIMIT_MEMORY:
        return vsg_error_set(err, VSG_ERR_LIMIT,
                             "%s%smemory limit exceeded (%zu bytes)", at, sep,
                             s->limits.memory);
    case LIMIT_TIME:
        return vsg_error_set(err, VSG_ERR_LIMIT,
                             "%s%stime limit exceeded (%u ms)", at, sep,
                             (unsigned)s->limits.time_ms);
    case LIMIT_STOP:
        return vsg_error_set(err, VSG_ERR_CANCELLED, "%s%sinterrupted: stopping", at, sep);
    case LIMIT_NONE:
        break;
    }
    if (status == LUA_ERRMEM)
        return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
    if (lua_type(L, -1) == LUA_TSTRING)
        return vsg_error_set(err, VSG_ERR_LUA, "%s", lua_tostring(L, -1));
    return vsg_error_set(err, VSG_ERR_LUA, "(error object is a %s value)",
                         luaL_typename(L, -1));
}

enum vsg_err vsg_lua_pcall(struct vsg_lua *s, int nargs, int nresults,
                           struct vsg_error *err)
{
    lua_State *L = s->L;
    int base = lua_gettop(L) - nargs, outer = s->depth == 0, status;
    enum vsg_err rc;

    if (!lua_checkstack(L, 1)) {
        lua_settop(L, base - 1);
        return vsg_error_set(err, VSG_ERR_NOMEM, "Lua stack overflow");
    }
    lua_pushcfunction(L, msgh);
    lua_insert(L, base);
    if (outer) {
        s->steps = 0;
        s->limit_hit = LIMIT_NONE;
        s->refused = 0;
        s->where[0] = '\0';
        s->traceback[0] = '\0';
        /* The clock runs from here: the first hook may come late (a long
         * C call before it), and a call shorter than a hook period reads
         * the clock this once. */
        s->clock_steps = VSG_LUA_HOOK_PERIOD;
        s->deadline_ms = s->limits.time_ms != 0
                             ? vsg_time_mono_ms() + s->limits.time_ms
                             : 0;
        lua_sethook(L, count_hook, LUA_MASKCOUNT, s->hook_period);
    }
    s->depth++;
    status = lua_pcall(L, nargs, nresults, base);
    s->depth--;
    lua_remove(L, base);
    if (outer) s->last_steps = s->steps;
    if (status == LUA_OK) {
        assert(nresults == LUA_MULTRET ||
               lua_gettop(L) == base - 1 + nresults);
        return VSG_OK;
    }

    rc = call_error(s, status, err);
    lua_pop(L, 1);
    if (s->traceback[0] != '\0') {
        VSG_LOGF_DEBUG(s->name,
                       ((const char *[]){"traceback", s->traceback, NULL}),
                       "script error: %s",
                       err != NULL ? err->msg : vsg_strerror(rc));
        s->traceback[0] = '\0';
    }
    /* After a limit, give the garbage back before the next call. */
    if (outer && rc == VSG_ERR_LIMIT) lua_gc(L, LUA_GCCOLLECT);
    assert(lua_gettop(L) == base - 1);
    return rc;
}

enum vsg_err vsg_lua_cpcall(struct vsg_lua *s, lua_CFunction fn, void *ud,
                            int nresults, struct vsg_error *err)
{
    if (!lua_checkstack(s->L, 3))
        return vsg_error_set(err, VSG_ERR_NOMEM, "Lua stack overflow");
    lua_pushcfunction(s->L, fn);
    lua_pushlightuserdata(s->L, ud);
    return vsg_lua_pcall(s, 1, nresults, err);
}

/* Arguments of load_protected(). */
struct load_args {
    const char *name; /* Chunk name as Lua wants it ("=filter.lua"). */
    const char *src;  /* The text. */
    size_t len;       /* Its length. */
};

/* [-1, +1, e] Compiles load_args into a function with a fresh env. */
static int load_protected(lua_State *L)
{
    const struct load_args *a = lua_touserdata(L, 1);

    if (a->len > 0 && a->src[0] == LUA_SIGNATURE[0])
        return luaL_error(L, "%s: binary chunks are not allowed (text only)",
                          a->name + 1);
    if (luaL_loadbufferx(L, a->src, a->len, a->name, "t") != LUA_OK)
        return lua_error(L);
    vsg__lua_set_fresh_env(L, -1);
    return 1;
}

enum vsg_err vsg_lua_load(struct vsg_lua *s, const char *chunkname,
                          const char *src, size_t len, struct vsg_error *err)
{
    char name[LUA_IDSIZE + 2];
    struct load_args a;

    if (chunkname == NULL) chunkname = "script.lua";
    if (chunkname[0] == '=' || chunkname[0] == '@')
        (void)snprintf(name, sizeof name, "%s", chunkname);
    else
        (void)snprintf(name, sizeof name, "=%s", chunkname);
    a.name = name;
    a.src = src != NULL ? src : "";
    a.len = src != NULL ? len : 0;
    return vsg_lua_cpcall(s, load_protected, &a, 1, err);
}

/* Arguments of add_module_protected(). */
struct module_args {
    const char *name; /* Module name. */
    const char *src;  /* Its text. */
    size_t len;       /* Its length. */
};

/* [-1, +0, e] modules[name] = text. */
static int add_module_protected(lua_State *L)
{
    const struct module_args *a = lua_touserdata(L, 1);

    lua_rawgetp(L, LUA_REGISTRYINDEX, &vsg__lua_key_modules);
    lua_pushstring(L, a->name);
    lua_pushlstring(L, a->src, a->len);
    lua_rawset(L, -3);
    return 0;
}

enum vsg_err vsg_lua_add_module(struct vsg_lua *s, const char *name,
                                const char *src, size_t len,
                                struct vsg_error *err)
{
    struct module_args a;

    if (name == NULL || !vsg__lua_valid_module_name(name, strlen(name)) ||
        strcmp(name, "vsg") == 0 || strncmp(name, "vsg.", 4) == 0)
        return vsg_error_set(err, VSG_ERR_INVAL, "invalid module name '%s'",
                             name != NULL ? name : "(null)");
    a.name = name;
    a.src = src != NULL ? src : "";
    a.len = src != NULL ? len : 0;
    return vsg_lua_cpcall(s, add_module_protected, &a, 0, err);
}

/* Arguments of add_library_protected(). */
struct library_args {
    const char *name;   /* Field name in vsg. */
    lua_CFunction open; /* Pushes the library table. */
};

/* [-1, +0, e] vsg[name] = read-only open(). */
static int add_library_protected(lua_State *L)
{
    const struct library_args *a = lua_touserdata(L, 1);

    lua_rawgetp(L, LUA_REGISTRYINDEX, &vsg__lua_key_vsg);          /* 2 */
    if (lua_getfield(L, 2, a->name) != LUA_TNIL)
        return luaL_error(L, "vsg.%s already exists", a->name);
    lua_pop(L, 1);
    lua_pushcfunction(L, a->open);
    lua_call(L, 0, 1);                                    /* 3 */
    if (!lua_istable(L, 3))
        return luaL_error(L, "library vsg.%s: open function returned %s, "
                             "not a table", a->name, luaL_typename(L, 3));
    lua_pushfstring(L, "vsg.%s", a->name);                /* 4 */
    vsg__lua_push_readonly(L, 3, lua_tostring(L, 4));
    lua_setfield(L, 2, a->name);
    return 0;
}

enum vsg_err vsg_lua_add_library(struct vsg_lua *s, const char *name,
                                 lua_CFunction open, struct vsg_error *err)
{
    struct library_args a;
    enum vsg_lua_context old;
    enum vsg_err rc;
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == 0 || n > 32 || open == NULL ||
        strspn(name, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n ||
        (name[0] >= '0' && name[0] <= '9'))
        return vsg_error_set(err, VSG_ERR_INVAL, "invalid library name '%s'",
                             name != NULL ? name : "(null)");
    a.name = name;
    a.open = open;
    old = vsg_lua_set_context(s, VSG_LUA_CTX_LOAD);
    rc = vsg_lua_cpcall(s, add_library_protected, &a, 0, err);
    vsg_lua_set_context(s, old);
    return rc;
}

/*
 * lua/limits.c - the limits of each kind of Lua state (defaults, parsing
 * a "instructions=...,memoryBytes=...,timeoutMilliseconds=..." setting,
 * and the limits as a Lua table) and the call context of each kind (see
 * host.h).
 */
#include "lua/host.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/err.h"
#include "lua/internal.h"

/* ====================================================================
 * Limits and kinds
 * ==================================================================== */

struct vsg_lua_limits vsg_lua_limits_default(enum vsg_lua_kind kind)
{
    struct vsg_lua_limits l = {16u * 1024 * 1024, 5000000, 2000};

    switch (kind) {
    case VSG_LUA_KIND_FILTER:
        l.instructions = 1000000;
        l.time_ms = 1000;
        break;
    case VSG_LUA_KIND_RECONCILER:
        l.memory = 64u * 1024 * 1024;
        l.instructions = 10000000;
        l.time_ms = 10000;
        break;
    case VSG_LUA_KIND_ADMISSION:
    case VSG_LUA_KIND_BINDING:
        break;
    }
    return l;
}

enum vsg_err vsg_lua_limits_parse(const char *setting, const char *text, struct vsg_lua_limits *out,
                                  struct vsg_error *err)
{
    struct vsg_lua_limits l = *out;
    const char *p = text ? text : "";

    if (*p == '\0')
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "%s: expected instructions=N,memory=BYTES,timeoutMs=MS, got \"\"", setting);
    while (*p) {
        size_t klen = strcspn(p, "=,"), vlen;
        char key[16], val[32], *end;
        unsigned long long v, mul = 1;

        if (p[klen] != '=' || klen == 0 || klen >= sizeof key)
            return vsg_error_set(err, VSG_ERR_INVAL, "%s: expected key=value at \"%.*s\"", setting,
                                 (int)strcspn(p, ","), p);
        memcpy(key, p, klen);
        key[klen] = '\0';
        p += klen + 1;
        vlen = strcspn(p, ",");
        if (vlen == 0 || vlen >= sizeof val)
            return vsg_error_set(err, VSG_ERR_INVAL, "%s: %s: expected a positive integer", setting, key);
        memcpy(val, p, vlen);
        val[vlen] = '\0';
        p += vlen;
        if (*p == ',') p++;
        if (strcmp(key, "memory") == 0 && vlen > 2) {
            const char *sfx = val + vlen - 2;
            if (strcmp(sfx, "Ki") == 0) mul = 1024;
            else if (strcmp(sfx, "Mi") == 0) mul = 1024 * 1024;
            else if (strcmp(sfx, "Gi") == 0) mul = 1024 * 1024 * 1024;
            if (mul != 1) val[vlen - 2] = '\0';
        }
        errno = 0;
        v = val[0] >= '0' && val[0] <= '9' ? strtoull(val, &end, 10) : 0;
        if (v == 0 || *end != '\0' || errno == ERANGE || v > UINT64_MAX / mul)
            return vsg_error_set(err, VSG_ERR_INVAL, "%s: %s: expected a positive integer, got \"%s\"",
                                 setting, key, val);
        v *= mul;
        if (strcmp(key, "instructions") == 0) {
            l.instructions = v;
        } else if (strcmp(key, "memory") == 0) {
            if (v > SIZE_MAX) return vsg_error_set(err, VSG_ERR_INVAL, "%s: memory: too large", setting);
            l.memory = (size_t)v;
        } else if (strcmp(key, "timeoutMs") == 0) {
            if (v >= UINT32_MAX)
                return vsg_error_set(err, VSG_ERR_INVAL, "%s: timeoutMs: too large", setting);
            l.time_ms = (uint32_t)v;
        } else {
            return vsg_error_set(err, VSG_ERR_INVAL,
                                 "%s: unknown limit \"%s\" (instructions, memory or timeoutMs)", setting, key);
        }
    }
    *out = l;
    return VSG_OK;
}

void vsg_lua_limits_fill(struct vsg_lua_limits *l, struct vsg_lua_limits def)
{
    if (!l->instructions) l->instructions = def.instructions;
    if (!l->memory) l->memory = def.memory;
    if (!l->time_ms) l->time_ms = def.time_ms;
}

void vsg_lua_limits_push(lua_State *L, const struct vsg_lua_limits *l)
{
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)l->instructions);
    lua_setfield(L, -2, "instructions");
    lua_pushinteger(L, (lua_Integer)l->memory);
    lua_setfield(L, -2, "memoryBytes");
    lua_pushinteger(L, (lua_Integer)l->time_ms);
    lua_setfield(L, -2, "timeoutMilliseconds");
}

void vsg_lua_limits_read(lua_State *L, int idx, struct vsg_lua_limits *l)
{
    static const char *const keys[] = {"instructions", "memoryBytes", "timeoutMilliseconds"};
    idx = lua_absindex(L, idx);
    for (int i = 0; i < 3; i++) {
        int isint = 0;
        lua_Integer v;
        lua_getfield(L, idx, keys[i]);
        v = lua_tointegerx(L, -1, &isint);
        lua_pop(L, 1);
        if (!isint || v <= 0) continue;
        if (i == 0) l->instructions = (uint64_t)v;
        else if (i == 1 && (uint64_t)v <= SIZE_MAX) l->memory = (size_t)v;
        else if (i == 2 && v < (lua_Integer)UINT32_MAX) l->time_ms = (uint32_t)v;
    }
}

enum vsg_lua_context vsg_lua_kind_context(enum vsg_lua_kind kind)
{
    switch (kind) {
    case VSG_LUA_KIND_FILTER: return VSG_LUA_CTX_FILTER;
    case VSG_LUA_KIND_RECONCILER: return VSG_LUA_CTX_RECONCILE;
    case VSG_LUA_KIND_ADMISSION: return VSG_LUA_CTX_ADMIT;
    case VSG_LUA_KIND_BINDING: return VSG_LUA_CTX_BIND;
    }
    return VSG_LUA_CTX_LOAD;
}

/* How misuse messages name a context: "... is not allowed <phrase>". */
const char *vsg__lua_context_phrase(enum vsg_lua_context ctx)
{
    switch (ctx) {
    case VSG_LUA_CTX_LOAD: return "while a script loads";
    case VSG_LUA_CTX_FILTER: return "in filter scripts";
    case VSG_LUA_CTX_RECONCILE: return "in reconcilers";
    case VSG_LUA_CTX_FINALIZE: return "in finalizers";
    case VSG_LUA_CTX_ADMIT: return "in admission scripts";
    case VSG_LUA_CTX_BIND: return "in binding scripts";
    }
    return "here";
}

/*
 * filter/filter_check.c - vsg.filter for the controller's reconcilers: judges
 * a filter ConfigMap exactly as the adapter will (see filter_watch.h).
 *
 * Provides: vsg_filter_lua_open() (vsg.filter.check).
 * Uses: filter/filter_watch.h (the ConfigMap layout), filter/filter_stage.h
 * (vsg_filter_compile: load, entry function, dry run on the sample event,
 * within the filter limits), lua/json.h.
 * Owns: a small cache of verdicts by source hash, so a reconcile of an
 * unchanged filter costs no compile (shared by the workers; a mutex).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "base/buf.h"
#include "base/mem.h"
#include "filter/filter_watch.h"
#include "lua/json.h"

/* Verdicts remembered (most recent first out when full). */
#define CACHE_SIZE 64

struct verdict {
    uint64_t hash;                  /* Of the sources and the key. */
    int used;                       /* The slot holds a verdict. */
    int ok;                         /* Accepted. */
    char msg[VSG_ERROR_MSG_MAX];    /* Why not. */
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct verdict cache[CACHE_SIZE];
static size_t cache_next;

static int cache_get(uint64_t h, struct verdict *out)
{
    int found = 0;

    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < CACHE_SIZE && !found; i++)
        if (cache[i].used && cache[i].hash == h) {
            *out = cache[i];
            found = 1;
        }
    pthread_mutex_unlock(&cache_mu);
    return found;
}

static void cache_put(const struct verdict *v)
{
    pthread_mutex_lock(&cache_mu);
    cache[cache_next] = *v;
    cache[cache_next].used = 1;
    cache_next = (cache_next + 1) % CACHE_SIZE;
    pthread_mutex_unlock(&cache_mu);
}

/* Compiles and checks the sources as the adapter's watcher does, with
 * the limits the adapter will have. */
static void judge(const struct vsg_filter_cm_sources *src, const struct vsg_lua_limits *limits,
                  struct verdict *v)
{
    struct vsg_filter_config cfg = {0};
    struct vsg_filter_version *fv;
    struct vsg_error err;

    cfg.limits = *limits;
    cfg.name = "vsgate.filter.check";
    cfg.logger = "vsgate.controller";
    cfg.root = vsg_filter_default_root();
    fv = vsg_filter_compile(&cfg, &src->main, src->mods, src->n, "check", &err);
    v->ok = fv != NULL;
    if (fv == NULL) (void)snprintf(v->msg, sizeof v->msg, "%s", err.msg);
    vsg_filter_version_free(fv);
}

/* [-3, +(1|2), e] vsg.filter.check(data [, key [, limits]]): true when
 * the adapter will accept the filter in a ConfigMap whose data is `data`
 * (key: the script's key, default filter.lua; limits: the source's
 * spec.filter.limits, {instructions, memoryBytes, timeoutMilliseconds},
 * absent fields the filter defaults); else nil and why (chunk:line; "dry
 * run on a sample VmPoweredOnEvent: ..." when the dry run failed). */
static int l_check(lua_State *L)
{
    struct vsg_buf json;
    struct vsg_error err;
    struct vsg_filter_cm_sources src;
    struct verdict v = {0};
    cJSON *data;
    const char *key;
    int got;

    struct vsg_lua_limits limits = vsg_lua_limits_default(VSG_LUA_KIND_FILTER);

    luaL_checktype(L, 1, LUA_TTABLE);
    key = luaL_optstring(L, 2, "filter.lua");
    if (lua_istable(L, 3)) vsg_lua_limits_read(L, 3, &limits);
    vsg_buf_init(&json, 4u * 1024 * 1024); /* A ConfigMap holds at most 1 MiB. */
    if (vsg_lua_json_encode(L, 1, &json, &err) != VSG_OK) {
        vsg_buf_cleanup(&json);
        return luaL_error(L, "vsg.filter.check: data: %s", err.msg);
    }
    data = cJSON_ParseWithLength(json.data, json.len);
    vsg_buf_cleanup(&json);
    if (data == NULL) return luaL_error(L, "vsg.filter.check: out of memory");
    got = vsg_filter_cm_sources_read(&src, data, key, &err);
    if (got <= 0) {
        cJSON_Delete(data);
        if (got < 0) return luaL_error(L, "vsg.filter.check: %s", err.msg);
        lua_pushnil(L);
        lua_pushfstring(L, "no key \"%s\"", key);
        return 2;
    }
    v.hash = vsg_filter_sources_hash(&src.main, src.mods, src.n);
    v.hash ^= (limits.instructions * UINT64_C(0x9e3779b97f4a7c15)) ^ ((uint64_t)limits.memory << 17) ^
              ((uint64_t)limits.time_ms << 41); /* Other limits, another verdict. */
    if (!cache_get(v.hash, &v)) {
        judge(&src, &limits, &v);
        cache_put(&v);
    }
    vsg_filter_cm_sources_cleanup(&src);
    cJSON_Delete(data);
    if (v.ok) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, v.msg);
    return 2;
}

int vsg_filter_lua_open(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"check", l_check},
        {NULL, NULL},
    };

    luaL_newlib(L, fns);
    return 1;
}

/*
 * controller/controller.c - see controller.h.
 *
 * Threads: one per informer (kube/informer.c), one elector
 * (kube/leader.c), one worker per reconciler module (each owning its Lua
 * state and its kube client). The worker is the only thread that touches
 * its reconciler's Lua state, tracker writes and script.
 */
#include "controller/controller.h"
#include "filter/filter_watch.h"
#include "controller/uninstall.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/prom.h"
#include "base/url.h"
#include "base/vtime.h"
#include "kube/cache.h"
#include "kube/client.h"
#include "kube/discovery.h"
#include "kube/informer.h"
#include "kube/leader.h"
#include "kube/lua_kube.h"
#include "kube/queue.h"
#include "kube/strmap.h"
#include "lua/host.h"
#include "lua/json.h"
#include "lua/script.h"

#define LOGGER "vsgate.controller"
#define DEFAULT_RESYNC_MS (10LL * 3600 * 1000)
#define NAME_MAX_LEN 253
/* Latency histogram bucket bounds, in seconds. */
static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

/* Knative's reconcile_latency buckets (knative pkg controller), in ms. */
static const double kbuckets[] = {10, 100, 1000, 10000, 30000, 60000};
#define NKBUCKETS (sizeof kbuckets / sizeof kbuckets[0])
/* Rows of Knative's reconcile_count per reconciler: (success, namespace)
 * pairs; beyond, namespace_name "other". */
#define KROWS_MAX 2048

/* One row of Knative's reconcile_count and reconcile_latency. */
struct krow {
    uint64_t count;                  /* reconcile_count. */
    uint64_t hist[NKBUCKETS + 1];    /* reconcile_latency, per bucket. */
    double sum_ms;                   /* Its sum. */
};

struct vsg_ctl;

/* A watch the module declared. */
struct watch_decl {
    char *api_version, *kind, *resource; /* What to watch (resource may be NULL). */
    int owned, tracker;                  /* How its events enqueue. */
};

/* The tracker's handler data for one kind. */
struct tracked_kind {
    struct rec *rec;  /* The reconciler. */
    char group[128];  /* The kind's group ("" for core). */
    char kind[128];   /* The kind. */
};

/* One reconciler module and its worker. */
struct rec {
    struct vsg_ctl *ctl;              /* The controller. */
    char *module;                     /* "vspheresource". */
    char *api_version, *kind, *resource, *group; /* The reconciled kind. */
    char *finalizer;                  /* Finalizer name, or NULL. */
    struct watch_decl *watches;       /* Declared watches. */
    size_t nwatches;                  /* How many. */
    char *driver;                     /* The main chunk's text. */
    char chunkname[64];               /* Its chunk name. */
    struct vsg_lua_script *script;    /* The Lua code in use. */
    struct vsg_kube_client *client;   /* The worker's client. */
    struct vsg_kube_lua_env env;      /* vsg.kube's environment. */
    struct vsg_kube_queue *queue;     /* Keys to reconcile. */
    struct vsg_kube_informer *primary; /* The reconciled kind's informer. */
    pthread_t worker;                 /* The worker thread. */
    int started;                      /* The worker runs. */
    atomic_int alive;                 /* Cleared if the worker died. */
    _Atomic int_least64_t busy_since; /* Monotonic ms the Lua call in progress
                                         started, 0 when none: /healthz fails
                                         when one outlives its limit. */
    uint64_t ovr_seen;                /* Overrides generation applied. */
    /* Tracker (tmu guards refs, bykey, kinds). */
    pthread_mutex_t tmu;
    struct vsg__strmap refs;          /* "group|kind|ns|name" -> strmap of keys. */
    struct vsg__strmap bykey;         /* key -> strmap of refs. */
    struct vsg__strmap kinds;         /* "av|kind" -> struct tracked_kind *. */
    const char *cur_key;              /* Key being reconciled (worker's). */
    /* Metrics (mmu). */
    pthread_mutex_t mmu;
    char *metrics_name;               /* Knative's `reconciler` tag. */
    struct vsg__strmap krows;         /* "true|<ns>", "false|<ns>" -> struct krow. */
    unsigned long n_ok, n_err, n_requeue, n_finalize;
    unsigned long hist[NBUCKETS + 1];
    double sum;
    unsigned long reload_ok, reload_err;
};

/* The overrides ConfigMap, as last seen (omu). */
struct overrides {
    uint64_t gen;                 /* Bumped on every change. */
    struct vsg_lua_source *mods;  /* Module sources (names and texts owned). */
    size_t n;                     /* How many. */
    char uid[64];                 /* The ConfigMap's uid ("" when absent). */
    char rv[64];                  /* Its resourceVersion. */
};

struct vsg_ctl {
    struct vsg_ctl_opts o;                 /* Options (strings are the copies below). */
    char *system_ns, *lua_root, *search_path, *lease_name, *overrides_name;
    char *logging_cm, *observability_cm, *leader_election_cm; /* Config map names. */
    char *identity;                        /* Copy or NULL. */
    struct vsg_kube_stats stats;           /* API request counters. */
    struct vsg_kube_discovery *disco;      /* Resource names. */
    struct vsg_kube_informers *informers;  /* Shared informers. */
    struct vsg_kube_informer *sysinf;      /* ConfigMaps of the system namespace. */
    struct vsg_kube_client *client;        /* Main thread's client. */
    struct vsg_kube_leader *leader;        /* Elector, or NULL. */
    struct rec *recs;                      /* One per module. */
    size_t nrecs;                          /* How many. */
    pthread_mutex_t mu;                    /* Guards stopping; with cond. */
    pthread_cond_t cond;                   /* Wakes workers (leadership, stop). */
    int stopping;                          /* vsg_ctl_stop() began. */
    int started;                           /* vsg_ctl_start() ran. */
    pthread_mutex_t omu;                   /* Guards ovr. */
    struct overrides ovr;                  /* The overrides ConfigMap. */
    pthread_mutex_t cmu;                   /* Guards the config strings. */
    char *logging_config, *metrics_config; /* JSON of the data maps, or "". */
    pthread_mutex_t hmu;                   /* Guards hooks; held while they run. */
    struct {
        vsg_ctl_leader_fn fn;              /* Told of leadership changes. */
        void *ud;                          /* Its data. */
    } hooks[VSG_CTL_MAX_HOOKS];
    size_t nhooks;                         /* How many. */
};

/* ====================================================================
 * Small helpers
 * ==================================================================== */

static char *xdup(const char *s)
{
    return s ? vsg_strdup(s) : NULL;
}

static int is_stopping(struct vsg_ctl *ctl)
{
    pthread_mutex_lock(&ctl->mu);
    int s = ctl->stopping;
    pthread_mutex_unlock(&ctl->mu);
    return s;
}

static int leading(struct vsg_ctl *ctl)
{
    return !ctl->leader || vsg_kube_leader_is_leader(ctl->leader);
}

/* vsg.kube writes: only while leading, and not once stopping (a reconcile
 * under way ends at its next write instead of holding up the exit; the
 * next leader does it again). */
static int may_write(void *ud)
{
    return leading(ud) && !is_stopping(ud);
}

/* The group of an apiVersion into buf ("" for "v1"). */
static void group_of(const char *av, char *buf, size_t n)
{
    const char *slash = strchr(av, '/');
    snprintf(buf, n, "%.*s", slash ? (int)(slash - av) : 0, av);
}

static void free_sources(struct vsg_lua_source *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vsg_free((char *)m[i].name);
        vsg_free((char *)m[i].text);
    }
    vsg_free(m);
}

/* ====================================================================
 * Overrides and config maps (system namespace informer)
 * ==================================================================== */

/*
 * Reads the overrides ConfigMap `cm` (NULL: none) into module sources:
 * each data key "<module.name>.lua" overrides `require "<module.name>"`.
 * Keys not ending in ".lua" are ignored (a README may sit there).
 */
static enum vsg_err sources_of(const cJSON *cm, struct vsg_lua_source **out, size_t *n)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(cm, "data"), *it;
    size_t cnt = 0, i = 0;
    *out = NULL;
    *n = 0;
    cJSON_ArrayForEach(it, data) cnt++;
    if (!cnt) return VSG_OK;
    struct vsg_lua_source *m = vsg_calloc(cnt, sizeof *m);
    if (!m) return VSG_ERR_NOMEM;
    cJSON_ArrayForEach(it, data) {
        size_t kl = it->string ? strlen(it->string) : 0;
        if (!cJSON_IsString(it) || kl <= 4 || strcmp(it->string + kl - 4, ".lua") != 0) continue;
        m[i].name = vsg_strndup(it->string, kl - 4);
        m[i].text = vsg_strdup(it->valuestring);
        m[i].len = strlen(it->valuestring);
        if (!m[i].name || !m[i].text) {
            free_sources(m, i + 1);
            return VSG_ERR_NOMEM;
        }
        i++;
    }
    *out = m;
    *n = i;
    return VSG_OK;
}

/* JSON text of cm.data, "{}" without data, "" for no ConfigMap. */
static char *data_json(const cJSON *cm)
{
    if (!cm) return vsg_strdup("");
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(cm, "data");
    if (!cJSON_IsObject(data)) return vsg_strdup("{}");
    char *t = cJSON_PrintUnformatted(data), *s = t ? vsg_strdup(t) : NULL;
    if (t) cJSON_free(t);
    return s;
}

static void set_config(struct vsg_ctl *ctl, char **field, const cJSON *cm)
{
    char *s = data_json(cm);
    if (!s) return;
    pthread_mutex_lock(&ctl->cmu);
    vsg_free(*field);
    *field = s;
    pthread_mutex_unlock(&ctl->cmu);
}

static void set_overrides(struct vsg_ctl *ctl, const cJSON *cm)
{
    struct vsg_lua_source *m;
    size_t n;
    const char *rv = cm ? vsg_kube_meta_str(cm, "resourceVersion") : NULL;
    pthread_mutex_lock(&ctl->omu);
    int same = rv && strcmp(rv, ctl->ovr.rv) == 0;
    pthread_mutex_unlock(&ctl->omu);
    if (same) return; /* A resync. */
    if (sources_of(cm, &m, &n) != VSG_OK) {
        VSG_LOG_ERROR(LOGGER, "out of memory reading the Lua overrides");
        return;
    }
    pthread_mutex_lock(&ctl->omu);
    free_sources(ctl->ovr.mods, ctl->ovr.n);
    ctl->ovr.mods = m;
    ctl->ovr.n = n;
    ctl->ovr.gen++;
    snprintf(ctl->ovr.rv, sizeof ctl->ovr.rv, "%s", rv ? rv : "");
    const char *uid = cm ? vsg_kube_meta_str(cm, "uid") : NULL;
    snprintf(ctl->ovr.uid, sizeof ctl->ovr.uid, "%s", uid ? uid : "");
    pthread_mutex_unlock(&ctl->omu);
    VSG_LOG_INFO(LOGGER, "Lua overrides %s/%s %s (%zu module%s)", ctl->system_ns,
                 ctl->overrides_name, cm ? "changed" : "removed", n, n == 1 ? "" : "s");
    pthread_mutex_lock(&ctl->mu);
    pthread_cond_broadcast(&ctl->cond);
    pthread_mutex_unlock(&ctl->mu);
}

static void on_system_cm(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
{
    struct vsg_ctl *ctl = ud;
    const char *name = vsg_kube_meta_str(obj, "name");
    const cJSON *cm = t == VSG_KUBE_EVENT_DELETE ? NULL : obj;
    (void)old;
    if (!name) return;
    if (strcmp(name, ctl->overrides_name) == 0) set_overrides(ctl, cm);
    else if (strcmp(name, ctl->logging_cm) == 0) {
        set_config(ctl, &ctl->logging_config, cm);
        if (ctl->o.on_logging) {
            pthread_mutex_lock(&ctl->cmu);
            char *json = vsg_strdup(ctl->logging_config);
            pthread_mutex_unlock(&ctl->cmu);
            ctl->o.on_logging(json && *json ? json : "{}");
            vsg_free(json);
        }
    }
    else if (strcmp(name, ctl->observability_cm) == 0) set_config(ctl, &ctl->metrics_config, cm);
}

/* ====================================================================
 * Enqueueing (informer threads)
 * ==================================================================== */

static void enqueue(struct rec *r, const char *key)
{
    enum vsg_err rc = vsg_kube_queue_add(r->queue, key);
    if (rc != VSG_OK && rc != VSG_ERR_CANCELLED)
        VSG_LOG_WARN(LOGGER, "%s: cannot queue %s: %s", r->kind, key, vsg_strerror(rc));
}

static void on_primary(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
{
    struct rec *r = ud;
    struct vsg_buf k;
    (void)t;
    (void)old;
    vsg_buf_init(&k, 1024);
    if (vsg_kube_object_key(obj, &k) == VSG_OK) enqueue(r, k.data);
    vsg_buf_cleanup(&k);
}

static void on_owned(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
{
    struct rec *r = ud;
    (void)t;
    (void)old;
    const cJSON *ref = vsg_kube_controller_ref(obj, r->group, r->kind);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(ref, "name");
    const char *ns = vsg_kube_meta_str(obj, "namespace");
    char key[600];
    if (!cJSON_IsString(name)) return;
    if (ns && *ns) snprintf(key, sizeof key, "%s/%s", ns, name->valuestring);
    else snprintf(key, sizeof key, "%s", name->valuestring);
    enqueue(r, key);
}

static void ref_key(char *buf, size_t n, const char *group, const char *kind, const char *ns,
                    const char *name)
{
    snprintf(buf, n, "%s|%s|%s|%s", group, kind, ns ? ns : "", name);
}

static void on_tracked(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
{
    struct tracked_kind *tk = ud;
    struct rec *r = tk->rec;
    const char *name = vsg_kube_meta_str(obj, "name");
    char ref[1024];
    (void)t;
    (void)old;
    if (!name) return;
    ref_key(ref, sizeof ref, tk->group, tk->kind, vsg_kube_meta_str(obj, "namespace"), name);
    pthread_mutex_lock(&r->tmu);
    struct vsg__strmap *keys = vsg__strmap_get(&r->refs, ref);
    for (size_t i = 0; keys && i < keys->cap; i++)
        if (keys->slots[i].key) enqueue(r, keys->slots[i].key);
    /* Name "*": whoever tracks every object of the kind in the namespace
     * (subjects by label selector). */
    ref_key(ref, sizeof ref, tk->group, tk->kind, vsg_kube_meta_str(obj, "namespace"), "*");
    keys = vsg__strmap_get(&r->refs, ref);
    for (size_t i = 0; keys && i < keys->cap; i++)
        if (keys->slots[i].key) enqueue(r, keys->slots[i].key);
    pthread_mutex_unlock(&r->tmu);
}

/* ====================================================================
 * Tracker (worker thread)
 * ==================================================================== */

static void free_strmap(void *p)
{
    struct vsg__strmap *m = p;
    vsg__strmap_cleanup(m, NULL);
    vsg_free(m);
}

/* Adds `item` to the set stored at map[key]. */
static enum vsg_err set_add(struct vsg__strmap *map, const char *key, const char *item)
{
    struct vsg__strmap *s = vsg__strmap_get(map, key);
    if (!s) {
        if (!(s = vsg_calloc(1, sizeof *s))) return VSG_ERR_NOMEM;
        if (vsg__strmap_put(map, key, s, NULL) != VSG_OK) {
            vsg_free(s);
            return VSG_ERR_NOMEM;
        }
    }
    return vsg__strmap_put(s, item, (void *)1, NULL);
}

/* Forgets everything `key` tracked. */
static void untrack_all(struct rec *r, const char *key)
{
    pthread_mutex_lock(&r->tmu);
    struct vsg__strmap *refs = vsg__strmap_del(&r->bykey, key);
    for (size_t i = 0; refs && i < refs->cap; i++) {
        if (!refs->slots[i].key) continue;
        struct vsg__strmap *keys = vsg__strmap_get(&r->refs, refs->slots[i].key);
        if (!keys) continue;
        vsg__strmap_del(keys, key);
        if (!keys->len) free_strmap(vsg__strmap_del(&r->refs, refs->slots[i].key));
    }
    pthread_mutex_unlock(&r->tmu);
    if (refs) free_strmap(refs);
}

/* Makes sure events of `kind` reach the tracker: the informer (started
 * on first use) and this reconciler's handler on it. */
static enum vsg_err track_kind(struct rec *r, const char *av, const char *kind, const char *resource,
                               struct vsg_error *err)
{
    char k[512];
    snprintf(k, sizeof k, "%s|%s", av, kind);
    pthread_mutex_lock(&r->tmu);
    int have = vsg__strmap_has(&r->kinds, k);
    pthread_mutex_unlock(&r->tmu);
    if (have) return VSG_OK;
    struct vsg_kube_informer *inf =
        vsg_kube_informers_ensure(r->ctl->informers, r->client, av, kind, resource, NULL, err);
    if (!inf) return err->code;
    struct tracked_kind *tk = vsg_calloc(1, sizeof *tk);
    if (!tk) return vsg_error_set(err, VSG_ERR_NOMEM, "tracker: out of memory");
    tk->rec = r;
    group_of(av, tk->group, sizeof tk->group);
    snprintf(tk->kind, sizeof tk->kind, "%s", kind);
    pthread_mutex_lock(&r->tmu);
    enum vsg_err rc = vsg__strmap_put(&r->kinds, k, tk, NULL);
    pthread_mutex_unlock(&r->tmu);
    if (rc != VSG_OK) {
        vsg_free(tk);
        return vsg_error_set(err, rc, "tracker: out of memory");
    }
    if ((rc = vsg_kube_informer_add_handler(inf, on_tracked, tk)) != VSG_OK)
        return vsg_error_set(err, rc, "tracker: out of memory");
    VSG_LOG_INFO(LOGGER, "%s: tracking %s %s", r->kind, av, kind);
    return VSG_OK;
}

/* ctx.track(apiVersion, kind, namespace, name) -> true | nil, err; name "*"
 * tracks every object of the kind in the namespace. */
static int lua_track(lua_State *L)
{
    struct rec *r = lua_touserdata(L, lua_upvalueindex(1));
    const char *av = luaL_checkstring(L, 1), *kind = luaL_checkstring(L, 2);
    const char *ns = lua_isnoneornil(L, 3) || vsg_lua_isnull(L, 3) ? NULL : luaL_checkstring(L, 3);
    const char *name = luaL_checkstring(L, 4);
    struct vsg_error err;
    char group[128], ref[1024];
    if (!r->cur_key) return luaL_error(L, "ctx.track: not inside a reconcile");
    vsg_error_clear(&err);
    group_of(av, group, sizeof group);
    ref_key(ref, sizeof ref, group, kind, ns && *ns ? ns : NULL, name);
    pthread_mutex_lock(&r->tmu);
    enum vsg_err rc = set_add(&r->refs, ref, r->cur_key);
    if (rc == VSG_OK) rc = set_add(&r->bykey, r->cur_key, ref);
    pthread_mutex_unlock(&r->tmu);
    if (rc != VSG_OK) vsg_error_set(&err, rc, "tracker: out of memory");
    else rc = track_kind(r, av, kind, NULL, &err);
    if (rc != VSG_OK) {
        lua_pushnil(L);
        vsg_kube_lua_push_error(L, rc, "", rc == VSG_ERR_NOTFOUND ? 404 : 0, err.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ====================================================================
 * Loading modules
 * ==================================================================== */

static const struct vsg_lua_lib libs[] = {
    {"kube", vsg_kube_lua_open},
    {"hash", vsg_hash_lua_open},
    {"filter", vsg_filter_lua_open},
    {NULL, NULL},
};

/* Reads a string field of the table at `idx` into a new C string. */
static char *field_str(lua_State *L, int idx, const char *k)
{
    char *s = NULL;
    if (lua_getfield(L, idx, k) == LUA_TSTRING) s = vsg_strdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    return s;
}

/* [-0, +0, e] Reads the module table into the rec (first load). */
static int read_module(lua_State *L)
{
    struct rec *r = lua_touserdata(L, 1);
    if (vsg_lua_script_push_module(r->script) != VSG_OK) return luaL_error(L, "no module");
    lua_getfield(L, -1, "module");
    int m = lua_gettop(L);
    if (!(r->api_version = field_str(L, m, "apiVersion")) || !(r->kind = field_str(L, m, "kind")))
        return luaL_error(L, "reconcilers.%s: the module table needs apiVersion and kind", r->module);
    r->resource = field_str(L, m, "resource");
    r->finalizer = field_str(L, m, "finalizer");
    r->metrics_name = field_str(L, m, "metrics_name");
    if (lua_getfield(L, m, "watches") == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        if (n > 64) return luaL_error(L, "reconcilers.%s: too many watches", r->module);
        r->watches = vsg_calloc((size_t)n + 1, sizeof *r->watches);
        if (!r->watches) return luaL_error(L, "out of memory");
        for (lua_Integer i = 1; i <= n; i++) {
            struct watch_decl *w = &r->watches[r->nwatches];
            if (lua_geti(L, -1, i) != LUA_TTABLE)
                return luaL_error(L, "reconcilers.%s: watches[%d] is not a table", r->module, (int)i);
            int t = lua_gettop(L);
            w->api_version = field_str(L, t, "apiVersion");
            w->kind = field_str(L, t, "kind");
            w->resource = field_str(L, t, "resource");
            lua_getfield(L, t, "owned");
            w->owned = lua_toboolean(L, -1);
            lua_getfield(L, t, "tracker");
            w->tracker = lua_toboolean(L, -1);
            lua_pop(L, 3);
            r->nwatches++;
            if (!w->api_version || !w->kind)
                return luaL_error(L, "reconcilers.%s: watches[%d] needs apiVersion and kind",
                                  r->module, (int)i);
        }
    }
    lua_settop(L, 0);
    return 0;
}

/* The check of a candidate version: a module table of the same kind with
 * the functions it needs; then binds vsg.kube for it. */
struct check_args {
    struct rec *rec;                     /* The reconciler. */
    const struct vsg_lua_script *cand;   /* The candidate. */
    char msg[VSG_ERROR_MSG_MAX];         /* Why it is rejected. */
};

static int check_protected(lua_State *L)
{
    struct check_args *a = lua_touserdata(L, 1);
    struct rec *r = a->rec;
    if (vsg_lua_script_push_module(a->cand) != VSG_OK || !lua_istable(L, -1))
        return luaL_error(L, "the driver chunk returned no table");
    if (lua_getfield(L, -1, "module") != LUA_TTABLE) {
        snprintf(a->msg, sizeof a->msg, "reconcilers.%s does not return a table", r->module);
        return 0;
    }
    int m = lua_gettop(L);
    if (lua_getfield(L, m, "reconcile") != LUA_TFUNCTION) {
        snprintf(a->msg, sizeof a->msg, "reconcilers.%s has no function reconcile", r->module);
        return 0;
    }
    lua_getfield(L, m, "apiVersion");
    lua_getfield(L, m, "kind");
    if (r->kind && (!lua_isstring(L, -1) || strcmp(lua_tostring(L, -1), r->kind) != 0 ||
                    !lua_isstring(L, -2) || strcmp(lua_tostring(L, -2), r->api_version) != 0)) {
        snprintf(a->msg, sizeof a->msg,
                 "reconcilers.%s must keep reconciling %s %s (a restart is needed to change it)",
                 r->module, r->api_version, r->kind);
        return 0;
    }
    if (r->finalizer && lua_getfield(L, m, "finalize") != LUA_TFUNCTION) {
        snprintf(a->msg, sizeof a->msg, "reconcilers.%s declares a finalizer but no function finalize",
                 r->module);
        return 0;
    }
    lua_settop(L, 0);
    return 0;
}

static enum vsg_err check(const struct vsg_lua_script *cand, void *ud, struct vsg_error *err)
{
    struct check_args a = {ud, cand, ""};
    struct vsg_lua *s = vsg_lua_script_state(cand);
    enum vsg_err rc = vsg_lua_cpcall(s, check_protected, &a, 0, err);
    if (rc != VSG_OK) return rc;
    if (a.msg[0]) return vsg_error_set(err, VSG_ERR_LUA, "%s", a.msg);
    return vsg_kube_lua_bind(s, &a.rec->env, err);
}

/* Builds the script from files plus `mods`. */
static enum vsg_err load_script(struct rec *r, const struct vsg_lua_source *mods, size_t n,
                                struct vsg_error *err)
{
    struct vsg_lua_source main = {r->chunkname, r->driver, strlen(r->driver)};
    return vsg_lua_script_update(r->script, &main, mods, n, check, r, err);
}

/* Reports a rejected override: log and a Warning Event on the ConfigMap. */
static void report_override(struct rec *r, const char *uid, const char *msg)
{
    struct vsg_ctl *ctl = r->ctl;
    struct vsg_error e;
    VSG_LOG_ERROR(LOGGER, "%s: Lua overrides in %s/%s rejected, the previous code keeps running: %s",
                  r->kind, ctl->system_ns, ctl->overrides_name, msg);
    if (!r->client) return;
    struct vsg_kube_event ev = {
        .api_version = "v1", .kind = "ConfigMap", .ns = ctl->system_ns,
        .name = ctl->overrides_name, .uid = uid && *uid ? uid : NULL, .type = "Warning",
        .reason = "LuaOverrideRejected", .message = msg, .component = "vsgate-controller"};
    if (vsg_kube_create_event(r->client, &ev, &e) != VSG_OK)
        VSG_LOG_WARN(LOGGER, "recording the override event: %s", e.msg);
}

/* Applies a changed overrides ConfigMap (worker thread, between two
 * reconciles). */
static void apply_overrides(struct rec *r)
{
    struct vsg_ctl *ctl = r->ctl;
    struct vsg_lua_source *mods = NULL;
    size_t n = 0;
    char uid[64];
    struct vsg_error err;
    pthread_mutex_lock(&ctl->omu);
    uint64_t gen = ctl->ovr.gen;
    if (gen == r->ovr_seen) {
        pthread_mutex_unlock(&ctl->omu);
        return;
    }
    int ok = 1;
    if (ctl->ovr.n && (mods = vsg_calloc(ctl->ovr.n, sizeof *mods))) {
        for (size_t i = 0; i < ctl->ovr.n; i++, n++) {
            mods[i].name = vsg_strdup(ctl->ovr.mods[i].name);
            mods[i].text = vsg_strdup(ctl->ovr.mods[i].text);
            mods[i].len = ctl->ovr.mods[i].len;
            if (!mods[i].name || !mods[i].text) ok = 0;
        }
    } else if (ctl->ovr.n) {
        ok = 0;
    }
    snprintf(uid, sizeof uid, "%s", ctl->ovr.uid);
    pthread_mutex_unlock(&ctl->omu);
    r->ovr_seen = gen;
    vsg_error_clear(&err);
    uint64_t before = vsg_lua_script_version(r->script);
    enum vsg_err rc = ok ? load_script(r, mods, n, &err) : vsg_error_set(&err, VSG_ERR_NOMEM, NULL);
    free_sources(mods, n);
    pthread_mutex_lock(&r->mmu);
    if (rc == VSG_OK) r->reload_ok++;
    else r->reload_err++;
    pthread_mutex_unlock(&r->mmu);
    if (rc != VSG_OK) {
        report_override(r, uid, err.msg);
    } else if (vsg_lua_script_version(r->script) != before) {
        VSG_LOG_INFO(LOGGER, "%s: Lua code reloaded (%zu override%s, version %llu, hash %s)",
                     r->kind, n, n == 1 ? "" : "s",
                     (unsigned long long)vsg_lua_script_version(r->script),
                     vsg_lua_script_hash(r->script));
        /* New code: every object gets a pass with it. */
        char **keys;
        size_t nk;
        if (r->primary &&
            vsg_kube_cache_keys(vsg_kube_informer_cache(r->primary), &keys, &nk) == VSG_OK) {
            for (size_t i = 0; i < nk; i++) {
                enqueue(r, keys[i]);
                vsg_free(keys[i]);
            }
            vsg_free(keys);
        }
    }
}

/* ====================================================================
 * One reconcile (worker thread)
 * ==================================================================== */

enum outcome { OUT_DONE, OUT_REQUEUE, OUT_ERROR };

/* ctx.config of one reconcile: copies taken under the config lock (the
 * config maps change while a reconcile runs), each "" when unset. */
struct rec_config {
    char *adapter_image;          /* VSPHERE_ADAPTER. */
    char *logging_config;         /* config-logging's data, JSON. */
    char *metrics_config;         /* config-observability's data, JSON. */
    char *system_namespace;       /* The controller's namespace. */
    char *metrics_domain;         /* METRICS_DOMAIN. */
    char *binding_selection_mode; /* exclusion (default) or inclusion. */
};

struct call_args {
    struct rec *rec;              /* The reconciler. */
    const char *ns, *name;        /* The object. */
    const char *obj;              /* Its JSON text. */
    size_t obj_len;               /* Its length. */
    int finalize;                 /* Call finalize, not reconcile. */
    struct rec_config cfg;        /* ctx.config. */
    enum outcome out;             /* Result. */
    int conflict;                 /* OUT_ERROR from a Conflict or AlreadyExists: a stale
                                     read, retried without a Warning Event. */
    double requeue_after;         /* Seconds, for OUT_REQUEUE. */
    char msg[1024];               /* For OUT_ERROR. */
};

/* [-0, +0, m] t[key] = value or "" (t on top). */
static void push_config(lua_State *L, const char *key, const char *value)
{
    lua_pushstring(L, value ? value : "");
    lua_setfield(L, -2, key);
}

/* [-1, +0, e] Builds ctx, calls the function, reads what it returned. */
static int call_protected(lua_State *L)
{
    struct call_args *a = lua_touserdata(L, 1);
    struct rec *r = a->rec;
    char now[VSG_TIME_RFC3339_BUFSZ];
    struct vsg_error e;
    lua_settop(L, 0);
    if (vsg_lua_script_push_module(r->script) != VSG_OK) return luaL_error(L, "no module");
    lua_getfield(L, 1, "module");                                    /* 2 */
    lua_getfield(L, 2, a->finalize ? "finalize" : "reconcile");      /* 3: fn */
    if (!lua_isfunction(L, 3))
        return luaL_error(L, "reconcilers.%s has no function %s", r->module,
                          a->finalize ? "finalize" : "reconcile");
    lua_getfield(L, 1, "ctx");                                       /* 4: ctx maker */
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, lua_track, 1);
    (void)vsg_time_format_rfc3339(vsg_time_now(), VSG_TIME_SECONDS, now, sizeof now);
    lua_pushstring(L, now);
    lua_pushstring(L, a->ns ? a->ns : "");
    lua_pushstring(L, a->name);
    lua_createtable(L, 0, 7);
    push_config(L, "adapter_image", a->cfg.adapter_image);
    push_config(L, "logging_config", a->cfg.logging_config);
    push_config(L, "metrics_config", a->cfg.metrics_config);
    push_config(L, "system_namespace", a->cfg.system_namespace);
    push_config(L, "metrics_domain", a->cfg.metrics_domain);
    push_config(L, "binding_selection_mode", a->cfg.binding_selection_mode);
    vsg_lua_limits_push(L, &r->ctl->o.filter_max);
    lua_setfield(L, -2, "filter_max");
    lua_call(L, 5, 1);                                               /* 4: ctx */
    {
        /* Every line the reconcile logs names the object, as Knative's do. */
        char key[2 * NAME_MAX_LEN + 2];
        snprintf(key, sizeof key, "%s%s%s", a->ns && *a->ns ? a->ns : "", a->ns && *a->ns ? "/" : "", a->name);
        vsg_lua_log_context(L, "knative.dev/key", key);
    }
    if (vsg_lua_json_decode(L, a->obj, a->obj_len, &e) != VSG_OK)    /* 5: obj */
        return luaL_error(L, "decoding %s/%s: %s", a->ns ? a->ns : "", a->name, e.msg);
    lua_call(L, 2, 2);                                               /* 3, 4: results */
    vsg_lua_log_context(L, "knative.dev/key", NULL);
    a->out = OUT_DONE;
    if (lua_isnil(L, 3)) {
        if (!lua_isnil(L, 4)) {
            a->out = OUT_ERROR;
            if (lua_istable(L, 4)) {
                lua_getfield(L, 4, "code");
                const char *code = lua_tostring(L, -1);
                a->conflict = code && (strcmp(code, "Conflict") == 0 || strcmp(code, "AlreadyExists") == 0);
                lua_pop(L, 1);
            }
            snprintf(a->msg, sizeof a->msg, "%s", luaL_tolstring(L, 4, NULL));
        }
    } else if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "requeue_after");
        lua_getfield(L, 3, "code");
        lua_getfield(L, 3, "message");
        if (lua_isnumber(L, -3)) {
            a->out = OUT_REQUEUE;
            a->requeue_after = lua_tonumber(L, -3);
        } else if (!lua_isnil(L, -2) || !lua_isnil(L, -1)) {
            a->out = OUT_ERROR;
            snprintf(a->msg, sizeof a->msg, "%s", luaL_tolstring(L, 3, NULL));
        }
    } else if (lua_type(L, 3) == LUA_TSTRING) {
        a->out = OUT_ERROR;
        snprintf(a->msg, sizeof a->msg, "%s", lua_tostring(L, 3));
    }
    lua_settop(L, 0);
    return 0;
}

/* Knative's row of (success, ns) (ns "" for cluster-scoped objects);
 * NULL when out of memory. Under mmu. */
static struct krow *krow_of(struct rec *r, int success, const char *ns)
{
    char key[NAME_MAX_LEN + 16];
    snprintf(key, sizeof key, "%s|%s", success ? "true" : "false", ns);
    struct krow *k = vsg__strmap_get(&r->krows, key);
    if (k) return k;
    if (r->krows.len >= KROWS_MAX) {
        snprintf(key, sizeof key, "%s|other", success ? "true" : "false");
        if ((k = vsg__strmap_get(&r->krows, key))) return k;
    }
    if (!(k = vsg_calloc(1, sizeof *k))) return NULL;
    if (vsg__strmap_put(&r->krows, key, k, NULL) != VSG_OK) {
        vsg_free(k);
        return NULL;
    }
    return k;
}

static void observe(struct rec *r, const char *ns, enum outcome out, int finalize, double secs)
{
    pthread_mutex_lock(&r->mmu);
    /* Knative reports success "true" only when Reconcile returned no error;
     * a requeue is an error there. */
    struct krow *k = krow_of(r, out == OUT_DONE, ns);
    if (k) {
        double ms = secs * 1000.0;
        k->count++;
        k->hist[vsg_prom_bucket(kbuckets, NKBUCKETS, ms)]++;
        k->sum_ms += ms;
    }
    if (out == OUT_DONE) r->n_ok++;
    else if (out == OUT_REQUEUE) r->n_requeue++;
    else r->n_err++;
    if (finalize) r->n_finalize++;
    size_t b = 0;
    while (b < NBUCKETS && secs > buckets[b]) b++;
    r->hist[b]++;
    r->sum += secs;
    pthread_mutex_unlock(&r->mmu);
}

/* Names `finalizer` in metadata.finalizers of obj? */
static int has_finalizer(const cJSON *obj, const char *f)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "finalizers"))
        if (cJSON_IsString(it) && strcmp(it->valuestring, f) == 0) return 1;
    return 0;
}

/* Adds or removes the module's finalizer with a merge patch guarded by
 * the resourceVersion; the patched object in *out. */
static enum vsg_err patch_finalizer(struct rec *r, const cJSON *obj, int add, cJSON **out,
                                    struct vsg_error *err)
{
    struct vsg_buf p;
    cJSON *patch = cJSON_CreateObject(), *meta, *list, *it;
    char *text = NULL;
    enum vsg_err rc = VSG_ERR_NOMEM;
    const char *rv = vsg_kube_meta_str(obj, "resourceVersion");
    vsg_buf_init(&p, 4096);
    if (!patch || !(meta = cJSON_AddObjectToObject(patch, "metadata")) ||
        !(list = cJSON_AddArrayToObject(meta, "finalizers")) ||
        (rv && !cJSON_AddStringToObject(meta, "resourceVersion", rv)))
        goto done;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "finalizers")) {
        if (!cJSON_IsString(it) || strcmp(it->valuestring, r->finalizer) == 0) continue;
        cJSON_AddItemToArray(list, cJSON_CreateString(it->valuestring));
    }
    if (add) cJSON_AddItemToArray(list, cJSON_CreateString(r->finalizer));
    if (!(text = cJSON_PrintUnformatted(patch))) goto done;
    if ((rc = vsg_kube_path(&p, r->api_version, vsg_kube_meta_str(obj, "namespace"), r->resource,
                            vsg_kube_meta_str(obj, "name"), NULL)) != VSG_OK) {
        vsg_error_set(err, rc, "bad object path");
        goto done;
    }
    rc = vsg_kube_patch(r->client, p.data, VSG_KUBE_CT_MERGE_PATCH, text, out, err);
done:
    if (rc == VSG_ERR_NOMEM && err && !err->msg[0]) vsg_error_set(err, rc, "out of memory");
    if (text) cJSON_free(text);
    cJSON_Delete(patch);
    vsg_buf_cleanup(&p);
    return rc;
}

static void reconcile_key(struct rec *r, const char *key)
{
    struct vsg_ctl *ctl = r->ctl;
    struct call_args a;
    struct vsg_error err;
    char ns[NAME_MAX_LEN + 1] = "", name[NAME_MAX_LEN + 1];
    const char *slash = strchr(key, '/');
    cJSON *obj = NULL, *patched = NULL;
    char *text = NULL;
    int64_t t0 = vsg_time_mono_ms();
    int fin_skipped = 0; /* No finalizer added: an uninstall mark (controller/uninstall.h). */
    memset(&a, 0, sizeof a);
    vsg_error_clear(&err);
    if (slash) {
        snprintf(ns, sizeof ns, "%.*s", (int)(slash - key), key);
        snprintf(name, sizeof name, "%s", slash + 1);
    } else {
        snprintf(name, sizeof name, "%s", key);
    }
    obj = vsg_kube_cache_get(vsg_kube_informer_cache(r->primary), *ns ? ns : NULL, name);
    untrack_all(r, key);
    if (!obj) {
        /* Deleted: nothing to do (children go with their owner). */
        vsg_kube_queue_forget(r->queue, key);
        return;
    }
    int deleting = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "deletionTimestamp"));
    if (deleting && !(r->finalizer && has_finalizer(obj, r->finalizer))) {
        vsg_kube_queue_forget(r->queue, key);
        goto done;
    }
    /* While the release is being deleted (controller/uninstall.h) no finalizer is added: nothing
     * would be left to remove it. The uninstall webhook marks first and then releases the
     * bindings, so a finalizer added here just before the mark is caught by the check after. */
    if (!deleting && r->finalizer && !has_finalizer(obj, r->finalizer)) {
        int uninstalling = vsg_uninstall_in_progress(r->client, ctl->system_ns);
        if (uninstalling < 0) {
            a.out = OUT_ERROR;
            snprintf(a.msg, sizeof a.msg, "adding finalizer %s: cannot read namespace %s", r->finalizer,
                     ctl->system_ns);
            goto result;
        }
        fin_skipped = uninstalling;
        if (!uninstalling && patch_finalizer(r, obj, 1, &patched, &err) != VSG_OK) {
            a.out = OUT_ERROR;
            snprintf(a.msg, sizeof a.msg, "adding finalizer %s: %s", r->finalizer, err.msg);
            goto result;
        }
        if (!uninstalling) {
            cJSON_Delete(obj);
            obj = patched;
            patched = NULL;
            if (vsg_uninstall_in_progress(r->client, ctl->system_ns) == 1) {
                (void)patch_finalizer(r, obj, 0, NULL, &err);
                fin_skipped = 1;
            }
        }
    }
    if (!(text = cJSON_PrintUnformatted(obj))) {
        a.out = OUT_ERROR;
        snprintf(a.msg, sizeof a.msg, "out of memory");
        goto result;
    }
    pthread_mutex_lock(&ctl->cmu);
    a.cfg.adapter_image = xdup(ctl->o.adapter_image);
    a.cfg.logging_config = xdup(ctl->logging_config);
    a.cfg.metrics_config = xdup(ctl->metrics_config);
    a.cfg.system_namespace = xdup(ctl->system_ns);
    a.cfg.metrics_domain = xdup(ctl->o.metrics_domain);
    a.cfg.binding_selection_mode = xdup(ctl->o.binding_selection_mode);
    pthread_mutex_unlock(&ctl->cmu);
    a.rec = r;
    a.ns = *ns ? ns : NULL;
    a.name = name;
    a.obj = text;
    a.obj_len = strlen(text);
    a.finalize = deleting;
    struct vsg_lua *s = vsg_lua_script_state(r->script);
    vsg_lua_set_context(s, deleting ? VSG_LUA_CTX_FINALIZE : VSG_LUA_CTX_RECONCILE);
    r->cur_key = key;
    atomic_store(&r->busy_since, vsg_time_mono_ms());
    enum vsg_err rc = vsg_lua_cpcall(s, call_protected, &a, 0, &err);
    atomic_store(&r->busy_since, 0);
    r->cur_key = NULL;
    vsg_lua_set_context(s, VSG_LUA_CTX_RECONCILE);
    vsg_free(a.cfg.adapter_image);
    vsg_free(a.cfg.logging_config);
    vsg_free(a.cfg.metrics_config);
    vsg_free(a.cfg.system_namespace);
    vsg_free(a.cfg.metrics_domain);
    vsg_free(a.cfg.binding_selection_mode);
    if (rc != VSG_OK) {
        a.out = OUT_ERROR;
        snprintf(a.msg, sizeof a.msg, "%s", err.msg);
    }
    if (a.out != OUT_ERROR && deleting) {
        if (patch_finalizer(r, obj, 0, NULL, &err) != VSG_OK && err.code != VSG_ERR_NOTFOUND) {
            a.out = OUT_ERROR;
            snprintf(a.msg, sizeof a.msg, "removing finalizer %s: %s", r->finalizer, err.msg);
        }
    }
    /* Without its finalizer because of an uninstall mark: look again once a mark that had no
     * deletion behind it has gone stale. */
    if (fin_skipped && a.out == OUT_DONE) {
        a.out = OUT_REQUEUE;
        a.requeue_after = VSG_UNINSTALL_MARK_SECONDS + 10;
    }
result:;
    double secs = (double)(vsg_time_mono_ms() - t0) / 1000.0;
    observe(r, ns, a.out, deleting, secs);
    if (a.msg[0]) {
        /* For the log and the Event: a URL it quotes may hold credentials. */
        char safe[sizeof a.msg];
        size_t n = vsg_url_redact(a.msg, safe, sizeof safe);
        memcpy(a.msg, safe, (n < sizeof safe ? n : sizeof safe - 1) + 1);
    }
    if (a.out == OUT_DONE) {
        vsg_kube_queue_forget(r->queue, key);
        VSG_LOG_DEBUG(LOGGER, "%s %s: reconciled in %.3f s", r->kind, key, secs);
    } else if (a.out == OUT_REQUEUE) {
        vsg_kube_queue_forget(r->queue, key);
        int64_t ms = a.requeue_after > 0 ? (int64_t)(a.requeue_after * 1000.0) : 0;
        (void)vsg_kube_queue_add_after(r->queue, key, ms);
    } else if (is_stopping(ctl)) {
        VSG_LOG_INFO(LOGGER, "%s %s: reconcile interrupted by the shutdown: %s", r->kind, key, a.msg);
    } else if (a.conflict) {
        /* Another writer got there first (a status update racing the
         * informer, a child created meanwhile): read again, no Warning. */
        int64_t d = 0;
        (void)vsg_kube_queue_add_rate_limited(r->queue, key, &d);
        VSG_LOG_DEBUG(LOGGER, "%s %s: conflict, retrying in %lld ms: %s", r->kind, key, (long long)d, a.msg);
    } else {
        int64_t d = 0;
        (void)vsg_kube_queue_add_rate_limited(r->queue, key, &d);
        const char *fields[] = {"knative.dev/key", key, NULL};
        VSG_LOGF_ERROR(LOGGER, fields, "%s %s: reconcile failed (retry in %lld ms): %s", r->kind,
                       key, (long long)d, a.msg);
        if (leading(ctl)) {
            struct vsg_kube_event ev = {
                .api_version = r->api_version, .kind = r->kind, .ns = *ns ? ns : "default",
                .name = name, .uid = vsg_kube_meta_str(obj, "uid"), .type = "Warning",
                .reason = "InternalError", .message = a.msg, .component = "vsgate-controller"};
            struct vsg_error e2;
            if (vsg_kube_create_event(r->client, &ev, &e2) != VSG_OK)
                VSG_LOG_DEBUG(LOGGER, "recording the event: %s", e2.msg);
        }
    }
done:
    vsg_free(text);
    cJSON_Delete(patched);
    cJSON_Delete(obj);
}

/* ====================================================================
 * The worker
 * ==================================================================== */

static void wait_a_bit(struct vsg_ctl *ctl, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    while (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ctl->mu);
    if (!ctl->stopping) pthread_cond_timedwait(&ctl->cond, &ctl->mu, &ts);
    pthread_mutex_unlock(&ctl->mu);
}

static void *worker(void *arg)
{
    struct rec *r = arg;
    struct vsg_ctl *ctl = r->ctl;
    while (!is_stopping(ctl)) {
        char *key = NULL;
        apply_overrides(r);
        if (!leading(ctl)) {
            wait_a_bit(ctl, 500);
            continue;
        }
        enum vsg_err rc = vsg_kube_queue_get(r->queue, 500, &key);
        if (rc == VSG_ERR_CANCELLED) break;
        if (rc != VSG_OK) continue;
        if (!leading(ctl)) {
            /* Lost it meanwhile: keep the key for the next term. */
            vsg_kube_queue_done(r->queue, key);
            (void)vsg_kube_queue_add(r->queue, key);
        } else {
            reconcile_key(r, key);
            vsg_kube_queue_done(r->queue, key);
        }
        vsg_free(key);
    }
    return NULL;
}

/* ====================================================================
 * Leadership callbacks (elector thread)
 * ==================================================================== */

static void call_hooks(struct vsg_ctl *ctl, int lead)
{
    pthread_mutex_lock(&ctl->hmu);
    for (size_t i = 0; i < ctl->nhooks; i++) ctl->hooks[i].fn(ctl->hooks[i].ud, lead);
    pthread_mutex_unlock(&ctl->hmu);
}

static void on_lead(void *ud)
{
    struct vsg_ctl *ctl = ud;
    /* Everything gets a pass in the new term. */
    for (size_t i = 0; i < ctl->nrecs; i++) {
        char **keys;
        size_t n;
        struct rec *r = &ctl->recs[i];
        if (vsg_kube_cache_keys(vsg_kube_informer_cache(r->primary), &keys, &n) != VSG_OK) continue;
        for (size_t j = 0; j < n; j++) {
            enqueue(r, keys[j]);
            vsg_free(keys[j]);
        }
        vsg_free(keys);
    }
    pthread_mutex_lock(&ctl->mu);
    pthread_cond_broadcast(&ctl->cond);
    pthread_mutex_unlock(&ctl->mu);
    call_hooks(ctl, 1);
}

static void on_unlead(void *ud)
{
    struct vsg_ctl *ctl = ud;
    if (!is_stopping(ctl))
        VSG_LOG_WARN(LOGGER, "leadership lost: reconciling stops until it is won again");
    call_hooks(ctl, 0);
}

int vsg_ctl_leading(struct vsg_ctl *ctl)
{
    return leading(ctl);
}

enum vsg_err vsg_ctl_add_leader_hook(struct vsg_ctl *ctl, vsg_ctl_leader_fn fn, void *ud)
{
    enum vsg_err rc = VSG_ERR_NOMEM;
    pthread_mutex_lock(&ctl->hmu);
    if (ctl->nhooks < VSG_CTL_MAX_HOOKS) {
        ctl->hooks[ctl->nhooks].fn = fn;
        ctl->hooks[ctl->nhooks].ud = ud;
        ctl->nhooks++;
        rc = VSG_OK;
    }
    pthread_mutex_unlock(&ctl->hmu);
    return rc;
}

void vsg_ctl_remove_leader_hook(struct vsg_ctl *ctl, vsg_ctl_leader_fn fn, void *ud)
{
    pthread_mutex_lock(&ctl->hmu);
    for (size_t i = 0; i < ctl->nhooks; i++)
        if (ctl->hooks[i].fn == fn && ctl->hooks[i].ud == ud) {
            memmove(&ctl->hooks[i], &ctl->hooks[i + 1], (ctl->nhooks - i - 1) * sizeof ctl->hooks[0]);
            ctl->nhooks--;
            break;
        }
    pthread_mutex_unlock(&ctl->hmu);
}

/* ====================================================================
 * Life cycle
 * ==================================================================== */

static int valid_module(const char *m)
{
    if (!*m || strlen(m) > 64) return 0;
    for (const char *c = m; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return 0;
    return 1;
}

/* Reads the overrides ConfigMap once at start-up (absent is fine). */
static void initial_overrides(struct vsg_ctl *ctl)
{
    cJSON *cm = NULL;
    struct vsg_error e;
    enum vsg_err rc = vsg_kube_configmap_get(ctl->client, ctl->system_ns, ctl->overrides_name, &cm, &e);
    if (rc == VSG_OK) set_overrides(ctl, cm);
    else if (rc != VSG_ERR_NOTFOUND)
        VSG_LOG_WARN(LOGGER, "reading %s/%s: %s (starting with the shipped Lua code)",
                     ctl->system_ns, ctl->overrides_name, e.msg);
    cJSON_Delete(cm);
}

static enum vsg_err init_rec(struct vsg_ctl *ctl, struct rec *r, const char *module,
                             struct vsg_error *err)
{
    struct vsg_buf b;
    enum vsg_err rc;
    char logname[128];
    r->ctl = ctl;
    atomic_store(&r->alive, 1);
    pthread_mutex_init(&r->tmu, NULL);
    pthread_mutex_init(&r->mmu, NULL);
    if (!valid_module(module))
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "reconciler \"%s\": names are lower-case letters, digits and _", module);
    if (!(r->module = vsg_strdup(module))) return vsg_error_set(err, VSG_ERR_NOMEM, NULL);
    snprintf(r->chunkname, sizeof r->chunkname, "=driver:%s", module);
    vsg_buf_init(&b, 4096);
    rc = vsg_buf_printf(&b,
                        "local vsg = require \"vsg\"\n"
                        "local M = require \"reconcilers.%s\"\n"
                        "return { module = M, ctx = function(track, now, ns, name, config)\n"
                        "  return { now = now, namespace = ns, name = name, config = config,\n"
                        "           log = vsg.log, track = track }\n"
                        "end }\n",
                        module);
    r->driver = rc == VSG_OK ? vsg_buf_steal(&b) : NULL;
    vsg_buf_cleanup(&b);
    if (!r->driver) return vsg_error_set(err, VSG_ERR_NOMEM, NULL);
    if (!(r->queue = vsg_kube_queue_new(NULL))) return vsg_error_set(err, VSG_ERR_NOMEM, NULL);
    if (!(r->client = vsg_kube_client_new(ctl->o.cfg, err))) return err->code;
    vsg_kube_client_set_stats(r->client, &ctl->stats);
    r->env.client = r->client;
    r->env.disco = ctl->disco;
    r->env.informers = ctl->informers;
    r->env.component = "vsgate-controller";
    r->env.may_write = may_write;
    r->env.ud = ctl;
    snprintf(logname, sizeof logname, "vsgate.reconciler.%s", module);
    struct vsg_lua_config lc = {
        .kind = VSG_LUA_KIND_RECONCILER,
        .limits = ctl->o.reconciler_limits,
        .name = logname,
        .search_path = ctl->search_path,
        .libs = libs,
    };
    if (!(r->script = vsg_lua_script_new(&lc, NULL, err))) return err->code;

    /* With the overrides if there are any; if they are broken, without. */
    struct vsg_error oe;
    pthread_mutex_lock(&ctl->omu);
    size_t n = ctl->ovr.n;
    uint64_t gen = ctl->ovr.gen;
    rc = n ? load_script(r, ctl->ovr.mods, n, &oe) : VSG_ERR_NOTFOUND;
    char uid[64];
    snprintf(uid, sizeof uid, "%s", ctl->ovr.uid);
    pthread_mutex_unlock(&ctl->omu);
    r->ovr_seen = gen;
    if (rc != VSG_OK) {
        if (rc != VSG_ERR_NOTFOUND) report_override(r, uid, oe.msg);
        if ((rc = load_script(r, NULL, 0, err)) != VSG_OK)
            return vsg_error_set(err, rc, "reconciler \"%s\": %s", module, err->msg);
    }
    if ((rc = vsg_lua_cpcall(vsg_lua_script_state(r->script), read_module, r, 0, err)) != VSG_OK)
        return vsg_error_set(err, rc, "reconciler \"%s\": %s", module, err->msg);
    if (!r->metrics_name && !(r->metrics_name = vsg_strdup(module))) return vsg_error_set(err, VSG_ERR_NOMEM, NULL);
    char g[128];
    group_of(r->api_version, g, sizeof g);
    if (!(r->group = vsg_strdup(g))) return vsg_error_set(err, VSG_ERR_NOMEM, NULL);
    VSG_LOG_INFO(LOGGER, "reconciler %s: %s %s, %zu watch%s%s%s", module, r->api_version, r->kind,
                 r->nwatches, r->nwatches == 1 ? "" : "es", r->finalizer ? ", finalizer " : "",
                 r->finalizer ? r->finalizer : "");
    return VSG_OK;
}

struct vsg_ctl *vsg_ctl_new(const struct vsg_ctl_opts *o, struct vsg_error *err)
{
    struct vsg_ctl *ctl;
    struct vsg_buf b;
    pthread_condattr_t ca;
    if (!o || !o->cfg || !o->system_ns || !o->lua_root || !o->nmodules) {
        vsg_error_set(err, VSG_ERR_INVAL, "controller: kube config, system namespace, Lua root and "
                                          "at least one reconciler are required");
        return NULL;
    }
    if (!(ctl = vsg_calloc(1, sizeof *ctl))) goto nomem;
    pthread_mutex_init(&ctl->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ctl->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&ctl->omu, NULL);
    pthread_mutex_init(&ctl->cmu, NULL);
    pthread_mutex_init(&ctl->hmu, NULL);
    ctl->o = *o;
    vsg_lua_limits_fill(&ctl->o.filter_max, (struct vsg_lua_limits)VSG_FILTER_LIMITS_MAX_DEFAULT);
    ctl->system_ns = vsg_strdup(o->system_ns);
    ctl->lua_root = vsg_strdup(o->lua_root);
    ctl->lease_name = vsg_strdup(o->lease_name ? o->lease_name : VSG_CTL_LEASE_NAME);
    ctl->overrides_name = vsg_strdup(o->overrides_name ? o->overrides_name : VSG_CTL_OVERRIDES_CONFIGMAP);
    ctl->logging_cm = vsg_strdup(o->logging_cm && *o->logging_cm ? o->logging_cm : "config-logging");
    ctl->observability_cm = vsg_strdup(o->observability_cm && *o->observability_cm
                                           ? o->observability_cm : "config-observability");
    ctl->leader_election_cm = vsg_strdup(o->leader_election_cm && *o->leader_election_cm
                                             ? o->leader_election_cm : "config-leader-election");
    ctl->identity = xdup(o->identity);
    ctl->logging_config = vsg_strdup("");
    ctl->metrics_config = vsg_strdup("");
    /* The two option strings kept are copies too. */
    ctl->o.adapter_image = xdup(o->adapter_image ? o->adapter_image : "");
    ctl->o.metrics_domain = xdup(o->metrics_domain ? o->metrics_domain : "");
    ctl->o.modules = NULL;
    if (!ctl->system_ns || !ctl->lua_root || !ctl->lease_name || !ctl->overrides_name ||
        !ctl->logging_cm || !ctl->observability_cm || !ctl->leader_election_cm ||
        !ctl->logging_config || !ctl->metrics_config || !ctl->o.adapter_image ||
        !ctl->o.metrics_domain || (o->identity && !ctl->identity))
        goto nomem;
    vsg_buf_init(&b, 16384);
    if (vsg_buf_printf(&b, "%s/?.lua;%s/?/init.lua%s%s", o->lua_root, o->lua_root,
                       o->extra_path ? ";" : "", o->extra_path ? o->extra_path : "") != VSG_OK ||
        !(ctl->search_path = vsg_buf_steal(&b))) {
        vsg_buf_cleanup(&b);
        goto nomem;
    }
    vsg_buf_cleanup(&b);
    if (!(ctl->disco = vsg_kube_discovery_new())) goto nomem;
    struct vsg_kube_informers_opts io = {
        .resync_ms = o->resync_ms > 0 ? o->resync_ms : DEFAULT_RESYNC_MS, .stats = &ctl->stats};
    if (!(ctl->informers = vsg_kube_informers_new(o->cfg, ctl->disco, &io))) goto nomem;
    if (!(ctl->client = vsg_kube_client_new(o->cfg, err))) goto fail;
    vsg_kube_client_set_stats(ctl->client, &ctl->stats);
    struct vsg_kube_informer_opts so = {
        .name = "ConfigMap@system", .api_version = "v1", .kind = "ConfigMap",
        .resource = "configmaps", .ns = ctl->system_ns, .resync_ms = 0, .stats = &ctl->stats};
    if (!(ctl->sysinf = vsg_kube_informer_new(o->cfg, &so, err))) goto fail;
    if (vsg_kube_informer_add_handler(ctl->sysinf, on_system_cm, ctl) != VSG_OK) goto nomem;
    initial_overrides(ctl);
    if (!(ctl->recs = vsg_calloc(o->nmodules, sizeof *ctl->recs))) goto nomem;
    ctl->nrecs = o->nmodules;
    for (size_t i = 0; i < o->nmodules; i++)
        if (init_rec(ctl, &ctl->recs[i], o->modules[i], err) != VSG_OK) goto fail;
    if (o->leader_elect) {
        cJSON *cm = NULL;
        struct vsg_error e;
        struct vsg_kube_leader_opts lo = {
            .ns = ctl->system_ns, .name = ctl->lease_name, .identity = ctl->identity,
            .on_start = on_lead, .on_stop = on_unlead, .ud = ctl, .stats = &ctl->stats};
        enum vsg_err rc = vsg_kube_configmap_get(ctl->client, ctl->system_ns, ctl->leader_election_cm, &cm, &e);
        if (rc != VSG_OK && rc != VSG_ERR_NOTFOUND)
            VSG_LOG_WARN(LOGGER, "reading %s: %s (using the defaults)", ctl->leader_election_cm, e.msg);
        rc = vsg_kube_leader_config_from_configmap(cm, &lo, err);
        cJSON_Delete(cm);
        if (rc != VSG_OK) goto fail;
        if (!(ctl->leader = vsg_kube_leader_new(o->cfg, &lo, err))) goto fail;
        VSG_LOG_INFO(LOGGER, "leader election: Lease %s/%s as %s (lease %lld ms, renew deadline "
                             "%lld ms, retry %lld ms)",
                     ctl->system_ns, ctl->lease_name, vsg_kube_leader_identity(ctl->leader),
                     (long long)lo.lease_ms, (long long)lo.renew_deadline_ms,
                     (long long)lo.retry_ms);
    }
    return ctl;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "controller: out of memory");
fail:
    vsg_ctl_free(ctl);
    return NULL;
}

enum vsg_err vsg_ctl_start(struct vsg_ctl *ctl, struct vsg_error *err)
{
    enum vsg_err rc;
    if (ctl->started) return vsg_error_set(err, VSG_ERR_INVALIDSTATE, "controller already started");
    ctl->started = 1;
    if ((rc = vsg_kube_informer_start(ctl->sysinf, err)) != VSG_OK) return rc;
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        if (!(r->primary = vsg_kube_informers_ensure(ctl->informers, r->client, r->api_version,
                                                     r->kind, r->resource, NULL, err)))
            return vsg_error_set(err, err->code, "reconciler %s: watching %s: %s", r->module,
                                 r->kind, err->msg);
        if ((rc = vsg_kube_informer_add_handler(r->primary, on_primary, r)) != VSG_OK)
            return vsg_error_set(err, rc, "out of memory");
        for (size_t j = 0; j < r->nwatches; j++) {
            struct watch_decl *w = &r->watches[j];
            if (w->tracker) {
                if ((rc = track_kind(r, w->api_version, w->kind, w->resource, err)) != VSG_OK)
                    return vsg_error_set(err, rc, "reconciler %s: watching %s: %s", r->module,
                                         w->kind, err->msg);
                continue;
            }
            struct vsg_kube_informer *inf = vsg_kube_informers_ensure(
                ctl->informers, r->client, w->api_version, w->kind, w->resource, NULL, err);
            if (!inf)
                return vsg_error_set(err, err->code, "reconciler %s: watching %s: %s", r->module,
                                     w->kind, err->msg);
            if (w->owned && (rc = vsg_kube_informer_add_handler(inf, on_owned, r)) != VSG_OK)
                return vsg_error_set(err, rc, "out of memory");
        }
    }
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        if (pthread_create(&r->worker, NULL, worker, r) != 0)
            return vsg_error_set(err, VSG_ERR_NOMEM, "cannot start a worker thread");
        r->started = 1;
    }
    if (ctl->leader && (rc = vsg_kube_leader_start(ctl->leader, err)) != VSG_OK) return rc;
    return VSG_OK;
}

static void cancel_informer(void *ud, struct vsg_kube_informer *inf)
{
    (void)ud;
    vsg_kube_informer_cancel(inf);
}

void vsg_ctl_stop(struct vsg_ctl *ctl)
{
    pthread_mutex_lock(&ctl->mu);
    ctl->stopping = 1;
    pthread_cond_broadcast(&ctl->cond);
    pthread_mutex_unlock(&ctl->mu);
    /* The informers wind down together (each takes up to a second to see
     * it) while the workers finish: a reconcile reads only their caches. */
    if (ctl->sysinf) vsg_kube_informer_cancel(ctl->sysinf);
    if (ctl->informers) vsg_kube_informers_each(ctl->informers, cancel_informer, NULL);
    for (size_t i = 0; i < ctl->nrecs; i++)
        if (ctl->recs[i].queue) vsg_kube_queue_shutdown(ctl->recs[i].queue);
    for (size_t i = 0; i < ctl->nrecs; i++) {
        if (!ctl->recs[i].started) continue;
        pthread_join(ctl->recs[i].worker, NULL);
        ctl->recs[i].started = 0;
    }
    /* Only now may a peer take over. */
    if (ctl->leader) vsg_kube_leader_stop(ctl->leader, 1);
    if (ctl->sysinf) vsg_kube_informer_stop(ctl->sysinf);
    if (ctl->informers) vsg_kube_informers_stop(ctl->informers);
}

static void free_tracked(void *p)
{
    vsg_free(p);
}

static void free_rec(struct rec *r)
{
    vsg_lua_script_free(r->script);
    vsg_kube_client_free(r->client);
    vsg_kube_queue_free(r->queue);
    vsg_free(r->module);
    vsg_free(r->api_version);
    vsg_free(r->kind);
    vsg_free(r->resource);
    vsg_free(r->group);
    vsg_free(r->finalizer);
    vsg_free(r->driver);
    for (size_t i = 0; i < r->nwatches; i++) {
        vsg_free(r->watches[i].api_version);
        vsg_free(r->watches[i].kind);
        vsg_free(r->watches[i].resource);
    }
    vsg_free(r->watches);
    vsg__strmap_cleanup(&r->refs, free_strmap);
    vsg__strmap_cleanup(&r->bykey, free_strmap);
    vsg__strmap_cleanup(&r->kinds, free_tracked);
    vsg__strmap_cleanup(&r->krows, vsg_free);
    vsg_free(r->metrics_name);
    pthread_mutex_destroy(&r->tmu);
    pthread_mutex_destroy(&r->mmu);
}

void vsg_ctl_free(struct vsg_ctl *ctl)
{
    if (!ctl) return;
    vsg_ctl_stop(ctl);
    vsg_kube_leader_free(ctl->leader);
    vsg_kube_informer_free(ctl->sysinf);
    vsg_kube_informers_free(ctl->informers);
    for (size_t i = 0; i < ctl->nrecs; i++) free_rec(&ctl->recs[i]);
    vsg_free(ctl->recs);
    vsg_kube_discovery_free(ctl->disco);
    vsg_kube_client_free(ctl->client);
    free_sources(ctl->ovr.mods, ctl->ovr.n);
    vsg_free(ctl->system_ns);
    vsg_free(ctl->lua_root);
    vsg_free(ctl->search_path);
    vsg_free(ctl->lease_name);
    vsg_free(ctl->overrides_name);
    vsg_free(ctl->logging_cm);
    vsg_free(ctl->observability_cm);
    vsg_free(ctl->leader_election_cm);
    vsg_free(ctl->identity);
    vsg_free(ctl->logging_config);
    vsg_free(ctl->metrics_config);
    vsg_free((char *)ctl->o.adapter_image);
    vsg_free((char *)ctl->o.metrics_domain);
    pthread_cond_destroy(&ctl->cond);
    pthread_mutex_destroy(&ctl->mu);
    pthread_mutex_destroy(&ctl->omu);
    pthread_mutex_destroy(&ctl->cmu);
    pthread_mutex_destroy(&ctl->hmu);
    vsg_free(ctl);
}

enum vsg_err vsg_ctl_overrides(struct vsg_ctl *ctl, uint64_t *gen, struct vsg_lua_source **mods,
                               size_t *n)
{
    enum vsg_err rc = VSG_OK;
    *mods = NULL;
    *n = 0;
    pthread_mutex_lock(&ctl->omu);
    *gen = ctl->ovr.gen;
    if (ctl->ovr.n && !(*mods = vsg_calloc(ctl->ovr.n, sizeof **mods))) rc = VSG_ERR_NOMEM;
    for (size_t i = 0; rc == VSG_OK && i < ctl->ovr.n; i++, (*n)++) {
        (*mods)[i].name = vsg_strdup(ctl->ovr.mods[i].name);
        (*mods)[i].text = vsg_strndup(ctl->ovr.mods[i].text, ctl->ovr.mods[i].len);
        (*mods)[i].len = ctl->ovr.mods[i].len;
        if (!(*mods)[i].name || !(*mods)[i].text) rc = VSG_ERR_NOMEM;
    }
    pthread_mutex_unlock(&ctl->omu);
    if (rc != VSG_OK) {
        free_sources(*mods, *n);
        *mods = NULL;
        *n = 0;
    }
    return rc;
}

uint64_t vsg_ctl_overrides_gen(struct vsg_ctl *ctl)
{
    pthread_mutex_lock(&ctl->omu);
    uint64_t g = ctl->ovr.gen;
    pthread_mutex_unlock(&ctl->omu);
    return g;
}

void vsg_ctl_free_sources(struct vsg_lua_source *mods, size_t n)
{
    free_sources(mods, n);
}

/* ====================================================================
 * Probes and metrics
 * ==================================================================== */

/* Past twice its time limit, how much longer a reconcile call may take
 * before /healthz calls its worker stuck (API requests made from Lua are
 * outside the limit's clock checks). */
#define STUCK_SLACK_MS 30000

struct ready_check {
    int ok;              /* All synced so far. */
    struct vsg_error *why; /* Where to say which is not. */
};

static void check_synced(void *ud, struct vsg_kube_informer *inf)
{
    struct ready_check *c = ud;
    if (c->ok && !vsg_kube_informer_synced(inf)) {
        c->ok = 0;
        vsg_error_set(c->why, VSG_ERR_INVALIDSTATE, "informer for %s %s has not synced yet",
                      vsg_kube_informer_api_version(inf), vsg_kube_informer_kind(inf));
    }
}

enum vsg_err vsg_ctl_ready(struct vsg_ctl *ctl, struct vsg_error *why)
{
    struct ready_check c = {1, why};
    if (!ctl->started) return vsg_error_set(why, VSG_ERR_INVALIDSTATE, "not started");
    if (!vsg_kube_informer_synced(ctl->sysinf))
        return vsg_error_set(why, VSG_ERR_INVALIDSTATE, "ConfigMaps of %s not synced yet",
                             ctl->system_ns);
    vsg_kube_informers_each(ctl->informers, check_synced, &c);
    return c.ok ? VSG_OK : VSG_ERR_INVALIDSTATE;
}

enum vsg_err vsg_ctl_healthy(struct vsg_ctl *ctl, struct vsg_error *why)
{
    int64_t now = vsg_time_mono_ms();
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        int64_t since = atomic_load(&r->busy_since);
        uint32_t limit_ms;
        if (!atomic_load(&r->alive))
            return vsg_error_set(why, VSG_ERR_INVALIDSTATE, "worker of %s stopped", r->kind);
        /* A call ends within its time limit; twice that plus a little, and
         * the worker is stuck (in C, where no hook runs): say so, so that
         * the kubelet restarts the pod. */
        limit_ms = ctl->o.reconciler_limits.time_ms ? ctl->o.reconciler_limits.time_ms
                                                    : vsg_lua_limits_default(VSG_LUA_KIND_RECONCILER).time_ms;
        if (since != 0 && now - since > 2 * (int64_t)limit_ms + STUCK_SLACK_MS)
            return vsg_error_set(why, VSG_ERR_INVALIDSTATE,
                                 "worker of %s stuck in one reconcile for %lld ms (its limit is %u ms)",
                                 r->kind, (long long)(now - since), (unsigned)limit_ms);
    }
    return VSG_OK;
}

/* The series Knative's controllers publish (knative pkg controller and
 * its client-go request metrics), under the component the Go project's
 * controller ran as (VSG_CTL_METRICS_COMPONENT). */
static enum vsg_err knative_metrics(struct vsg_ctl *ctl, struct vsg_buf *o)
{
    enum vsg_err rc = VSG_OK;
    struct vsg_buf labels;
    vsg_buf_init(&labels, 4096);
#define C VSG_CTL_METRICS_COMPONENT
#define P(...) do { if (rc == VSG_OK) rc = vsg_buf_printf(o, __VA_ARGS__); } while (0)
#define FAM(n, t, h) do { if (rc == VSG_OK) rc = vsg_prom_family(o, C n, t, h); } while (0)
    FAM("_work_queue_depth", "gauge", "Depth of the work queue");
    for (size_t i = 0; i < ctl->nrecs && rc == VSG_OK; i++) {
        P(C "_work_queue_depth{");
        if (rc == VSG_OK) rc = vsg_prom_label(o, 0, "reconciler", ctl->recs[i].metrics_name);
        P("} %zu\n", vsg_kube_queue_len(ctl->recs[i].queue));
    }
    /* reconcile_count and reconcile_latency: one row per (reconciler, success, namespace). */
    for (int fam = 0; fam < 2 && rc == VSG_OK; fam++) {
        int header = 0;
        for (size_t i = 0; i < ctl->nrecs && rc == VSG_OK; i++) {
            struct rec *r = &ctl->recs[i];
            pthread_mutex_lock(&r->mmu);
            for (size_t j = 0; j < r->krows.cap && rc == VSG_OK; j++) {
                const char *key = r->krows.slots[j].key;
                const struct krow *k = r->krows.slots[j].val;
                if (!key) continue;
                if (!header) {
                    if (fam == 0) FAM("_reconcile_count", "counter", "Number of reconcile operations");
                    else FAM("_reconcile_latency", "histogram", "Latency of reconcile operations");
                    header = 1;
                }
                const char *bar = strchr(key, '|');
                char success[8];
                snprintf(success, sizeof success, "%.*s", (int)(bar - key), key);
                vsg_buf_reset(&labels);
                if (rc == VSG_OK) rc = vsg_prom_label(&labels, 0, "namespace_name", bar + 1);
                if (rc == VSG_OK) rc = vsg_prom_label(&labels, 1, "reconciler", r->metrics_name);
                if (rc == VSG_OK) rc = vsg_prom_label(&labels, 1, "success", success);
                if (fam == 0)
                    P(C "_reconcile_count{%s} %llu\n", labels.data, (unsigned long long)k->count);
                else if (rc == VSG_OK)
                    rc = vsg_prom_histogram(o, C "_reconcile_latency", labels.data, kbuckets, NKBUCKETS, k->hist,
                                            k->sum_ms);
            }
            pthread_mutex_unlock(&r->mmu);
        }
    }
    /* client-go's request metrics as knative pkg's ClientProvider views them:
     * by the tag `name` only, which nothing sets. */
    uint64_t lat[VSG_KUBE_LATENCY_BUCKETS + 1];
    for (size_t b = 0; b <= VSG_KUBE_LATENCY_BUCKETS; b++)
        lat[b] = atomic_load_explicit(&ctl->stats.latency[b], memory_order_relaxed);
    FAM("_client_latency", "histogram", "How long Kubernetes API requests take");
    if (rc == VSG_OK)
        rc = vsg_prom_histogram(o, C "_client_latency", "name=\"\"", vsg_kube_latency_bounds, VSG_KUBE_LATENCY_BUCKETS,
                                lat, (double)atomic_load_explicit(&ctl->stats.latency_ns, memory_order_relaxed) / 1e9);
    FAM("_client_results", "counter", "Total number of API requests (broken down by status code)");
    P(C "_client_results{name=\"\"} %lu\n", atomic_load(&ctl->stats.requests));
#undef FAM
#undef P
#undef C
    vsg_buf_cleanup(&labels);
    return rc;
}

enum vsg_err vsg_ctl_metrics(struct vsg_ctl *ctl, struct vsg_buf *o)
{
    enum vsg_err rc = VSG_OK;
#define P(...) do { if (rc == VSG_OK) rc = vsg_buf_printf(o, __VA_ARGS__); } while (0)
    P("# HELP vsgate_reconcile_total Reconciles by kind and result.\n"
      "# TYPE vsgate_reconcile_total counter\n");
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        pthread_mutex_lock(&r->mmu);
        P("vsgate_reconcile_total{kind=\"%s\",result=\"success\"} %lu\n", r->kind, r->n_ok);
        P("vsgate_reconcile_total{kind=\"%s\",result=\"requeue\"} %lu\n", r->kind, r->n_requeue);
        P("vsgate_reconcile_total{kind=\"%s\",result=\"error\"} %lu\n", r->kind, r->n_err);
        pthread_mutex_unlock(&r->mmu);
    }
    P("# HELP vsgate_reconcile_duration_seconds Reconcile latency by kind.\n"
      "# TYPE vsgate_reconcile_duration_seconds histogram\n");
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        unsigned long cum = 0;
        pthread_mutex_lock(&r->mmu);
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += r->hist[b];
            P("vsgate_reconcile_duration_seconds_bucket{kind=\"%s\",le=\"%g\"} %lu\n", r->kind,
              buckets[b], cum);
        }
        cum += r->hist[NBUCKETS];
        P("vsgate_reconcile_duration_seconds_bucket{kind=\"%s\",le=\"+Inf\"} %lu\n", r->kind, cum);
        P("vsgate_reconcile_duration_seconds_sum{kind=\"%s\"} %.6f\n", r->kind, r->sum);
        P("vsgate_reconcile_duration_seconds_count{kind=\"%s\"} %lu\n", r->kind, cum);
        pthread_mutex_unlock(&r->mmu);
    }
    P("# HELP vsgate_workqueue_depth Keys ready to reconcile.\n# TYPE vsgate_workqueue_depth gauge\n");
    for (size_t i = 0; i < ctl->nrecs; i++)
        P("vsgate_workqueue_depth{kind=\"%s\"} %zu\n", ctl->recs[i].kind,
          vsg_kube_queue_len(ctl->recs[i].queue));
    P("# HELP vsgate_workqueue_waiting Keys waiting for a delayed retry.\n"
      "# TYPE vsgate_workqueue_waiting gauge\n");
    for (size_t i = 0; i < ctl->nrecs; i++)
        P("vsgate_workqueue_waiting{kind=\"%s\"} %zu\n", ctl->recs[i].kind,
          vsg_kube_queue_waiting(ctl->recs[i].queue));
    P("# HELP vsgate_lua_reloads_total Lua override applications by result.\n"
      "# TYPE vsgate_lua_reloads_total counter\n");
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        pthread_mutex_lock(&r->mmu);
        P("vsgate_lua_reloads_total{kind=\"%s\",result=\"success\"} %lu\n", r->kind, r->reload_ok);
        P("vsgate_lua_reloads_total{kind=\"%s\",result=\"error\"} %lu\n", r->kind, r->reload_err);
        pthread_mutex_unlock(&r->mmu);
    }
    P("# HELP vsgate_kube_requests_total Requests sent to the API server.\n"
      "# TYPE vsgate_kube_requests_total counter\nvsgate_kube_requests_total %lu\n",
      atomic_load(&ctl->stats.requests));
    P("# HELP vsgate_kube_api_errors_total Failed API requests by error.\n"
      "# TYPE vsgate_kube_api_errors_total counter\n");
    for (int c = 1; c < VSG_ERR__COUNT_; c++) {
        unsigned long n = atomic_load(&ctl->stats.errors[c]);
        if (n) P("vsgate_kube_api_errors_total{error=\"%s\"} %lu\n", vsg_errname((enum vsg_err)c), n);
    }
    P("# HELP vsgate_leader 1 while this replica leads.\n# TYPE vsgate_leader gauge\nvsgate_leader %d\n",
      leading(ctl));
#undef P
    if (rc == VSG_OK) rc = knative_metrics(ctl, o);
    return rc;
}

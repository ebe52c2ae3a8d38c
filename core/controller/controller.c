/*
 * controller/controller.c - the controller's life cycle and the loading
 * of its reconciler modules (see controller.h, and internal.h for the
 * other files).
 *
 * Threads: one per informer (kube/informer.c), one elector
 * (kube/leader.c), one worker per reconciler module (each owning its Lua
 * state and its kube client). The worker is the only thread that touches
 * its reconciler's Lua state, tracker writes and script.
 */
#include "controller/internal.h"
#include "filter/filter_watch.h"

#include <lauxlib.h>

#include "base/log.h"

#define DEFAULT_RESYNC_MS (10LL * 3600 * 1000)

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
enum vsg_err vsg__ctl_load_script(struct rec *r, const struct vsg_lua_source *mods, size_t n,
                                struct vsg_error *err)
{
    struct vsg_lua_source main = {r->chunkname, r->driver, strlen(r->driver)};
    return vsg_lua_script_update(r->script, &main, mods, n, check, r, err);
}

/* ====================================================================
 * Life cycle
 * ==================================================================== */

/* vsg.kube writes: only while leading, and not once stopping (a reconcile
 * under way ends at its next write instead of holding up the exit; the
 * next leader does it again). */
static int may_write(void *ud)
{
    return leading(ud) && !is_stopping(ud);
}

static int valid_module(const char *m)
{
    if (!*m || strlen(m) > 64) return 0;
    for (const char *c = m; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return 0;
    return 1;
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
    rc = n ? vsg__ctl_load_script(r, ctl->ovr.mods, n, &oe) : VSG_ERR_NOTFOUND;
    char uid[64];
    snprintf(uid, sizeof uid, "%s", ctl->ovr.uid);
    pthread_mutex_unlock(&ctl->omu);
    r->ovr_seen = gen;
    if (rc != VSG_OK) {
        if (rc != VSG_ERR_NOTFOUND) vsg__ctl_report_override(r, uid, oe.msg);
        if ((rc = vsg__ctl_load_script(r, NULL, 0, err)) != VSG_OK)
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
    if (vsg_kube_informer_add_handler(ctl->sysinf, vsg__ctl_on_system_cm, ctl) != VSG_OK) goto nomem;
    vsg__ctl_initial_overrides(ctl);
    if (!(ctl->recs = vsg_calloc(o->nmodules, sizeof *ctl->recs))) goto nomem;
    ctl->nrecs = o->nmodules;
    for (size_t i = 0; i < o->nmodules; i++)
        if (init_rec(ctl, &ctl->recs[i], o->modules[i], err) != VSG_OK) goto fail;
    if (o->leader_elect) {
        cJSON *cm = NULL;
        struct vsg_error e;
        struct vsg_kube_leader_opts lo = {
            .ns = ctl->system_ns, .name = ctl->lease_name, .identity = ctl->identity,
            .on_start = vsg__ctl_on_lead, .on_stop = vsg__ctl_on_unlead, .ud = ctl, .stats = &ctl->stats};
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
        if ((rc = vsg_kube_informer_add_handler(r->primary, vsg__ctl_on_primary, r)) != VSG_OK)
            return vsg_error_set(err, rc, "out of memory");
        for (size_t j = 0; j < r->nwatches; j++) {
            struct watch_decl *w = &r->watches[j];
            if (w->tracker) {
                if ((rc = vsg__ctl_track_kind(r, w->api_version, w->kind, w->resource, err)) != VSG_OK)
                    return vsg_error_set(err, rc, "reconciler %s: watching %s: %s", r->module,
                                         w->kind, err->msg);
                continue;
            }
            struct vsg_kube_informer *inf = vsg_kube_informers_ensure(
                ctl->informers, r->client, w->api_version, w->kind, w->resource, NULL, err);
            if (!inf)
                return vsg_error_set(err, err->code, "reconciler %s: watching %s: %s", r->module,
                                     w->kind, err->msg);
            if (w->owned && (rc = vsg_kube_informer_add_handler(inf, vsg__ctl_on_owned, r)) != VSG_OK)
                return vsg_error_set(err, rc, "out of memory");
        }
    }
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        if (pthread_create(&r->worker, NULL, vsg__ctl_worker, r) != 0)
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
    vsg__strmap_cleanup(&r->refs, vsg__ctl_free_strmap);
    vsg__strmap_cleanup(&r->bykey, vsg__ctl_free_strmap);
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
    vsg_ctl_free_sources(ctl->ovr.mods, ctl->ovr.n);
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

/*
 * controller/reconcile.c - one reconcile (ctx, the Lua call, finalizers)
 * and the worker thread that runs them (see controller.h and internal.h).
 */
#include "controller/internal.h"
#include "controller/uninstall.h"

#include <lauxlib.h>

#include "base/log.h"
#include "base/url.h"
#include "base/vtime.h"
#include "lua/json.h"

/* ====================================================================
 * One reconcile (worker thread)
 * ==================================================================== */

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
    lua_pushcclosure(L, vsg__ctl_lua_track, 1);
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
static int has_finalizer(const cJSON *obj, const char *f)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "finalizers"))
        if (cJSON_IsString(it) && strcmp(it->valuestring, f) == 0) return 1;
    return 0;
}

/* Appends string `s` to array `arr`: 1, or 0 out of memory. */
static int add_string(cJSON *arr, const char *s)
{
    cJSON *v = cJSON_CreateString(s);
    if (v && cJSON_AddItemToArray(arr, v)) return 1;
    cJSON_Delete(v);
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
        if (!add_string(list, it->valuestring)) goto done; /* Never a patch missing one. */
    }
    if (add && !add_string(list, r->finalizer)) goto done;
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
    vsg__ctl_untrack_all(r, key);
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
    vsg__ctl_observe(r, ns, a.out, deleting, secs);
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

void *vsg__ctl_worker(void *arg)
{
    struct rec *r = arg;
    struct vsg_ctl *ctl = r->ctl;
    while (!is_stopping(ctl)) {
        char *key = NULL;
        vsg__ctl_apply_overrides(r);
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


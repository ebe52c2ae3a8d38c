/*
 * webhook/admission.c - the admission side: the pool of Lua states (each
 * with the controller's overrides applied between two requests), the call
 * into Lua, and the handlers of /defaulting, /resource-validation,
 * /vspherebindings and /uninstall (see webhook.h and internal.h).
 */
#include "webhook/internal.h"

#include <lauxlib.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/url.h"
#include "controller/uninstall.h"
#include "kube/informer.h"
#include "lua/json.h"
#include "webhook/jsonpatch.h"

/* The main chunk of every admission state: the driver is Lua
 * (lua/admission/driver.lua), like everything it decides. */
static const char driver_src[] = "return require 'admission.driver'\n";

/* ====================================================================
 * Lua slots
 * ==================================================================== */

struct check_args {
    const struct vsg_lua_script *cand; /* The candidate version. */
    const struct vsg_webhook *wh;      /* Its settings. */
};

static int check_protected(lua_State *L)
{
    const struct check_args *ca = lua_touserdata(L, 1);
    const struct vsg_lua_script *cand = ca->cand;
    lua_settop(L, 0);
    if (vsg_lua_script_push_module(cand) != VSG_OK || !lua_istable(L, 1))
        return luaL_error(L, "the admission driver returned no table");
    static const char *const fns[] = {"defaulting", "validate", "bind", "selftest"};
    for (int i = 0; i < 4; i++) {
        if (lua_getfield(L, 1, fns[i]) != LUA_TFUNCTION)
            return luaL_error(L, "the admission driver has no function %s", fns[i]);
        lua_pop(L, 1);
    }
    /* What validation bounds spec.filter.limits by. */
    vsg_lua_limits_push(L, &ca->wh->o.filter_max);
    lua_setfield(L, 1, "filter_max");
    /* A dry run of each handler on the driver's samples. */
    lua_getfield(L, 1, "selftest");
    lua_call(L, 0, 0);
    lua_settop(L, 0);
    return 0;
}

static enum vsg_err check(const struct vsg_lua_script *cand, void *ud, struct vsg_error *err)
{
    struct check_args ca = {cand, ud};
    return vsg_lua_cpcall(vsg_lua_script_state(cand), check_protected, &ca, 0, err);
}

/* Brings a slot to the overrides in effect (only ever to a version that
 * passed the check). */
void vsg__wh_refresh_slot(struct vsg_webhook *wh, struct slot *s, int first)
{
    struct vsg_lua_source main = {"=webhook", driver_src, sizeof driver_src - 1};
    struct vsg_lua_source *mods = NULL;
    size_t n = 0;
    uint64_t gen = 0;
    struct vsg_error err;
    vsg_error_clear(&err);
    if (wh->o.ctl) {
        if (!first && vsg_ctl_overrides_gen(wh->o.ctl) == s->ovr_gen) return;
        if (vsg_ctl_overrides(wh->o.ctl, &gen, &mods, &n) != VSG_OK) return;
    }
    s->ovr_gen = gen;
    uint64_t before = vsg_lua_script_version(s->script);
    enum vsg_err rc = vsg_lua_script_update(s->script, &main, mods, n, check, wh, &err);
    if (rc != VSG_OK) {
        VSG_LOG_ERROR(LOGGER, "Lua overrides rejected by the webhook, the previous code keeps "
                              "serving: %s", err.msg);
        if (first && vsg_lua_script_version(s->script) == 0)
            (void)vsg_lua_script_update(s->script, &main, NULL, 0, check, wh, &err);
    } else if (before && vsg_lua_script_version(s->script) != before) {
        VSG_LOG_INFO(LOGGER, "webhook Lua code reloaded (hash %s)", vsg_lua_script_hash(s->script));
    }
    vsg_ctl_free_sources(mods, n);
}

static struct slot *take_slot(struct vsg_webhook *wh)
{
    pthread_mutex_lock(&wh->smu);
    for (;;) {
        for (size_t i = 0; i < wh->nslots; i++)
            if (!wh->slots[i].busy) {
                wh->slots[i].busy = 1;
                pthread_mutex_unlock(&wh->smu);
                vsg__wh_refresh_slot(wh, &wh->slots[i], 0);
                return &wh->slots[i];
            }
        pthread_cond_wait(&wh->scond, &wh->smu);
    }
}

static void give_slot(struct vsg_webhook *wh, struct slot *s)
{
    pthread_mutex_lock(&wh->smu);
    s->busy = 0;
    pthread_cond_signal(&wh->scond);
    pthread_mutex_unlock(&wh->smu);
}

/* ====================================================================
 * Calling Lua
 * ==================================================================== */

enum route { R_DEFAULTING, R_VALIDATION, R_BINDINGS };

struct call {
    struct slot *slot;
    enum route route;
    const cJSON *req;           /* request. */
    const char *obj, *old;      /* JSON texts (old may be NULL). */
    const char *bindings;       /* JSON array text (R_BINDINGS). */
    const char *ns_labels;      /* JSON object text or NULL. */
    const char *mode;
    struct vsg_buf out;         /* The object after (mutating routes). */
    char msg[4096];             /* Denial message (validation). */
    int denied;
};

static void push_str_field(lua_State *L, const cJSON *req, const char *k)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, k));
    if (v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
}

static int call_protected(lua_State *L)
{
    struct call *c = lua_touserdata(L, 1);
    struct vsg_error e;
    static const char *const fns[] = {"defaulting", "validate", "bind"};
    lua_settop(L, 0);
    if (vsg_lua_script_push_module(c->slot->script) != VSG_OK) return luaL_error(L, "no module");
    lua_getfield(L, 1, fns[c->route]);
    /* req */
    lua_createtable(L, 0, 6);
    push_str_field(L, c->req, "operation");
    push_str_field(L, c->req, "namespace");
    push_str_field(L, c->req, "name");
    push_str_field(L, c->req, "subResource");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(c->req, "kind");
    lua_createtable(L, 0, 3);
    if (cJSON_IsObject(kind)) {
        push_str_field(L, kind, "group");
        push_str_field(L, kind, "version");
        push_str_field(L, kind, "kind");
    }
    lua_setfield(L, -2, "kind");
    if (vsg_lua_json_decode(L, c->obj, strlen(c->obj), &e) != VSG_OK)
        return luaL_error(L, "request.object: %s", e.msg);
    int nargs = 2;
    if (c->route == R_VALIDATION) {
        if (c->old) {
            if (vsg_lua_json_decode(L, c->old, strlen(c->old), &e) != VSG_OK)
                return luaL_error(L, "request.oldObject: %s", e.msg);
        } else {
            lua_pushnil(L);
        }
        nargs = 3;
    } else if (c->route == R_BINDINGS) {
        if (vsg_lua_json_decode(L, c->bindings, strlen(c->bindings), &e) != VSG_OK)
            return luaL_error(L, "bindings: %s", e.msg);
        if (c->ns_labels) {
            if (vsg_lua_json_decode(L, c->ns_labels, strlen(c->ns_labels), &e) != VSG_OK)
                return luaL_error(L, "namespace labels: %s", e.msg);
        } else {
            lua_newtable(L);
        }
        lua_pushstring(L, c->mode);
        nargs = 5;
    }
    lua_call(L, nargs, 1);
    if (c->route == R_VALIDATION) {
        if (!lua_isnil(L, -1)) {
            c->denied = 1;
            snprintf(c->msg, sizeof c->msg, "%s", luaL_tolstring(L, -1, NULL));
        }
    } else {
        if (!lua_istable(L, -1)) return luaL_error(L, "%s returned no object", fns[c->route]);
        if (vsg_lua_json_encode(L, -1, &c->out, &e) != VSG_OK)
            return luaL_error(L, "encoding the object: %s", e.msg);
    }
    lua_settop(L, 0);
    return 0;
}

/* ====================================================================
 * Bindings and namespaces (informer caches)
 * ==================================================================== */

int vsg__wh_collect(void *ud, const cJSON *obj)
{
    struct vsg__wh_collect *c = ud;
    cJSON *d = cJSON_Duplicate(obj, 1);
    if (d && cJSON_AddItemToArray(c->arr, d)) return 0;
    cJSON_Delete(d);
    c->nomem = 1;
    return 1;
}

cJSON *vsg__wh_bindings(struct vsg_webhook *wh, const char *ns)
{
    struct vsg__wh_collect c = {cJSON_CreateArray(), 0};
    if (!c.arr) return NULL;
    vsg_kube_cache_each(vsg_kube_informer_cache(wh->binf), ns, NULL, vsg__wh_collect, &c);
    if (!c.nomem) return c.arr;
    cJSON_Delete(c.arr);
    return NULL;
}

/* ====================================================================
 * Handlers
 * ==================================================================== */

static enum vsg_err reply(struct vsg_http_resp *rs, const char *uid, int allowed, const char *patch64,
                          int code, const char *reason, const char *msg)
{
    cJSON *r = cJSON_CreateObject(), *resp;
    enum vsg_err rc = VSG_ERR_NOMEM;
    char *t = NULL;
    if (!r || !cJSON_AddStringToObject(r, "apiVersion", "admission.k8s.io/v1") ||
        !cJSON_AddStringToObject(r, "kind", "AdmissionReview") ||
        !(resp = cJSON_AddObjectToObject(r, "response")) ||
        !cJSON_AddStringToObject(resp, "uid", uid) || !cJSON_AddBoolToObject(resp, "allowed", allowed))
        goto done;
    if (patch64 && (!cJSON_AddStringToObject(resp, "patchType", "JSONPatch") ||
                    !cJSON_AddStringToObject(resp, "patch", patch64)))
        goto done;
    if (!allowed) {
        cJSON *st = cJSON_AddObjectToObject(resp, "status");
        if (!st || !cJSON_AddObjectToObject(st, "metadata") ||
            !cJSON_AddStringToObject(st, "status", "Failure") ||
            !cJSON_AddStringToObject(st, "message", msg) ||
            !cJSON_AddStringToObject(st, "reason", reason) || !cJSON_AddNumberToObject(st, "code", code))
            goto done;
    }
    if (!(t = cJSON_PrintUnformatted(r))) goto done;
    rs->status = 200;
    vsg_buf_reset(&rs->body);
    if ((rc = vsg_http_resp_header(rs, "Content-Type", "application/json")) == VSG_OK)
        rc = vsg_buf_puts(&rs->body, t);
done:
    if (t) cJSON_free(t);
    cJSON_Delete(r);
    return rc;
}

static enum vsg_err admit(struct vsg_webhook *wh, enum route route, const struct vsg_http_req *rq,
                          struct vsg_http_resp *rs)
{
    struct vsg_webhook_review rv;
    enum vsg_err drc = vsg_webhook_review_decode(rq->body, rq->body_len, 1, &rv);
    cJSON *after = NULL, *ops = NULL;
    const cJSON *req = rv.request, *object = rv.object, *old = rv.old;
    const char *uid = rv.uid;
    char *obj_text = NULL, *old_text = NULL, *bind_text = NULL, *labels_text = NULL, *patch_text = NULL;
    char *patch64 = NULL;
    struct call c;
    struct vsg_error err;
    enum vsg_err rc = VSG_OK;
    enum result res = RES_ALLOWED; /* What the answer says, once there is one. */
    int answered = 0;              /* An AdmissionReview answer was built. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(&c, 0, sizeof c);
    vsg_buf_init(&c.out, MAX_BODY * 2);
    __atomic_add_fetch(&wh->n_requests, 1, __ATOMIC_RELAXED);
    if (drc != VSG_OK) {
        rc = drc == VSG_ERR_NOMEM ? drc : vsg_http_resp_text(rs, 400, "text/plain",
                                "expected an admission.k8s.io/v1 AdmissionReview with a request\n");
        goto done;
    }
    answered = 1;
    /* Nothing to look at (DELETE and the like): allow. */
    if (!cJSON_IsObject(object)) {
        rc = reply(rs, uid, 1, NULL, 0, NULL, NULL);
        goto done;
    }
    if (!(obj_text = cJSON_PrintUnformatted(object)) ||
        (cJSON_IsObject(old) && !(old_text = cJSON_PrintUnformatted(old)))) {
        rc = VSG_ERR_NOMEM;
        goto done;
    }
    c.route = route;
    c.req = req;
    c.obj = obj_text;
    c.old = old_text;
    c.mode = wh->mode;
    if (route == R_BINDINGS) {
        const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "namespace"));
        cJSON *arr = ns && *ns ? vsg__wh_bindings(wh, ns) : cJSON_CreateArray();
        if (!arr) {
            rc = VSG_ERR_NOMEM;
            goto done;
        }
        int nb = cJSON_GetArraySize(arr);
        bind_text = nb ? cJSON_PrintUnformatted(arr) : NULL;
        cJSON_Delete(arr);
        if (!nb) { /* No binding in this namespace: nothing to do. */
            rc = reply(rs, uid, 1, NULL, 0, NULL, NULL);
            goto done;
        }
        if (!bind_text) {
            rc = VSG_ERR_NOMEM;
            goto done;
        }
        cJSON *nsobj = vsg_kube_cache_get(vsg_kube_informer_cache(wh->nsinf), NULL, ns);
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(nsobj, "metadata"), "labels");
        if (cJSON_IsObject(labels)) labels_text = cJSON_PrintUnformatted(labels);
        cJSON_Delete(nsobj);
        c.bindings = bind_text;
        c.ns_labels = labels_text;
    }
    c.slot = take_slot(wh);
    struct vsg_lua *s = vsg_lua_script_state(c.slot->script);
    vsg_error_clear(&err);
    enum vsg_err lrc = s ? vsg_lua_cpcall(s, call_protected, &c, 0, &err)
                         : vsg_error_set(&err, VSG_ERR_INVALIDSTATE, "no Lua code loaded");
    give_slot(wh, c.slot);
    if (lrc != VSG_OK) {
        __atomic_add_fetch(&wh->n_errors, 1, __ATOMIC_RELAXED);
        VSG_LOG_ERROR(LOGGER, "%s %s: %s", rq->path, uid, err.msg);
        res = RES_ERROR;
        rc = reply(rs, uid, 0, NULL, 500, "InternalError", err.msg);
        goto done;
    }
    if (route == R_VALIDATION) {
        if (c.denied) __atomic_add_fetch(&wh->n_denied, 1, __ATOMIC_RELAXED);
        if (c.denied) res = RES_DENIED;
        rc = c.denied ? reply(rs, uid, 0, NULL, 400, "BadRequest", c.msg)
                      : reply(rs, uid, 1, NULL, 0, NULL, NULL);
        goto done;
    }
    if (!(after = cJSON_ParseWithLength(c.out.data, c.out.len)) ||
        !(ops = vsg_jsonpatch_diff(object, after))) {
        rc = VSG_ERR_NOMEM;
        goto done;
    }
    if (cJSON_GetArraySize(ops) > 0) {
        if (!(patch_text = cJSON_PrintUnformatted(ops)) ||
            !(patch64 = vsg_base64_encode(patch_text, strlen(patch_text)))) {
            rc = VSG_ERR_NOMEM;
            goto done;
        }
        if (vsg_log_enabled(VSG_LOG_LEVEL_DEBUG)) {
            /* The patch may set VC_URL from an address with credentials. */
            char *shown = vsg_url_redact_dup(patch_text);
            VSG_LOG_DEBUG(LOGGER, "%s %s: patch %s", rq->path, uid, shown ? shown : "(out of memory)");
            vsg_free(shown);
        }
    }
    rc = reply(rs, uid, 1, patch64, 0, NULL, NULL);
done:
    if (rc != VSG_OK || !answered) answered = 0, res = RES_ERROR;
    vsg__wh_record(wh, (int)route, res, answered ? req : NULL, res == RES_ALLOWED, &t0);
    vsg_buf_cleanup(&c.out);
    if (obj_text) cJSON_free(obj_text);
    if (old_text) cJSON_free(old_text);
    if (bind_text) cJSON_free(bind_text);
    if (labels_text) cJSON_free(labels_text);
    if (patch_text) cJSON_free(patch_text);
    vsg_free(patch64);
    cJSON_Delete(ops);
    cJSON_Delete(after);
    vsg_webhook_review_cleanup(&rv);
    return rc;
}

enum vsg_err vsg__wh_h_defaulting(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    return admit(ud, R_DEFAULTING, rq, rs);
}

enum vsg_err vsg__wh_h_validation(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    return admit(ud, R_VALIDATION, rq, rs);
}

enum vsg_err vsg__wh_h_bindings(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    return admit(ud, R_BINDINGS, rq, rs);
}

/* DELETE of the system namespace (the first object of `kubectl delete -f release.yaml`):
 * releases every VSphereBinding before the controller loses its pod, service account and RBAC
 * (controller/uninstall.h). Always allows; a dry run changes nothing. */
enum vsg_err vsg__wh_h_uninstall(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    struct vsg_webhook *wh = ud;
    struct vsg_webhook_review rv;
    enum vsg_err drc = vsg_webhook_review_decode(rq->body, rq->body_len, 0, &rv);
    const cJSON *req = rv.request;
    const char *uid = rv.uid, *op = rv.operation, *name = rv.name;
    enum vsg_err rc;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    __atomic_add_fetch(&wh->n_requests, 1, __ATOMIC_RELAXED);
    if (drc != VSG_OK) {
        rc = drc == VSG_ERR_NOMEM ? drc
                                  : vsg_http_resp_text(rs, 400, "text/plain",
                                                       "expected an AdmissionReview with a request\n");
        vsg__wh_record(wh, 3, RES_ERROR, NULL, 0, &t0);
        goto done;
    }
    if (op && strcmp(op, "DELETE") == 0 && name && strcmp(name, wh->system_ns) == 0 && !rv.dry_run) {
        struct vsg_error err;
        struct vsg_kube_client *c = vsg_kube_client_new(wh->o.cfg, &err);
        size_t n = 0;
        if (!c || vsg_uninstall_release(c, wh->system_ns, VSG_BINDING_FINALIZER, &n, &err) != VSG_OK)
            VSG_LOG_WARN(LOGGER, "namespace %s deleted: releasing the VSphereBindings: %s", wh->system_ns,
                         err.msg);
        VSG_LOG_INFO(LOGGER, "namespace %s deleted (uninstall): %zu VSphereBinding%s released", wh->system_ns,
                     n, n == 1 ? "" : "s");
        vsg_kube_client_free(c);
    }
    rc = reply(rs, uid, 1, NULL, 0, NULL, NULL);
    vsg__wh_record(wh, 3, rc == VSG_OK ? RES_ALLOWED : RES_ERROR, rc == VSG_OK ? req : NULL, 1, &t0);
done:
    vsg_webhook_review_cleanup(&rv);
    return rc;
}


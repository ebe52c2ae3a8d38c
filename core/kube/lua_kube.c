/*
 * kube/lua_kube.c - vsg.kube and vsg.hash (see lua_kube.h).
 *
 * Every vsg.kube function first reads its arguments (which may raise),
 * then does the C work into a struct result that owns the C memory, and
 * frees that memory before pushing anything, so no raise can leak it.
 */
#include "kube/lua_kube.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/mem.h"
#include "kube/cache.h"
#include "kube/selector.h"
#include "lua/json.h"

/* Registry keys: the addresses of these variables. */
static const char key_env = 'k';    /* Light userdata: the bound env. */
static const char key_errmt = 'E';  /* Metatable of err tables. */

/* Largest response text handed to Lua. */
#define TEXT_MAX (64u * 1024 * 1024)
#define PATH_MAX_LEN (16u * 1024)

/* The outcome of one call, in C memory. */
struct result {
    enum vsg_err rc;         /* VSG_OK or the failure. */
    char reason[64];         /* Status reason, or "". */
    long status;             /* HTTP status, 0 when none. */
    struct vsg_error err;    /* The message on failure. */
    struct vsg_buf text;     /* JSON text of the result on success. */
    size_t sent;             /* Bytes of the request body. */
};

static void result_init(struct result *r)
{
    memset(r, 0, sizeof *r);
    vsg_buf_init(&r->text, TEXT_MAX);
}

/* ====================================================================
 * Errors
 * ==================================================================== */

static const char *code_name(enum vsg_err code, const char *reason, long status)
{
    static const char *const known[] = {
        "NotFound", "AlreadyExists", "Conflict", "Invalid", "Forbidden", "Unauthorized",
        "Gone", "Expired", "BadRequest", "TooManyRequests", "InternalError",
        "ServiceUnavailable", "Timeout", "MethodNotAllowed", "NotAcceptable",
        "RequestEntityTooLarge", "UnsupportedMediaType", NULL};
    for (int i = 0; reason && *reason && known[i]; i++)
        if (strcmp(reason, known[i]) == 0) return known[i];
    switch (code) {
    case VSG_ERR_NOTFOUND: return "NotFound";
    case VSG_ERR_CONFLICT: return "Conflict";
    case VSG_ERR_FORBIDDEN: return "Forbidden";
    case VSG_ERR_UNAUTHORIZED: return "Unauthorized";
    case VSG_ERR_GONE: return "Gone";
    case VSG_ERR_INVAL: return status == 400 ? "BadRequest" : "Invalid";
    case VSG_ERR_TIMEOUT: return "Timeout";
    case VSG_ERR_TLS:
    case VSG_ERR_TRANSPORT:
        if (status == 429) return "TooManyRequests";
        if (status == 503) return "ServiceUnavailable";
        if (status >= 500) return "InternalError";
        return "Transport";
    default: return "Unknown";
    }
}

static int err_tostring(lua_State *L)
{
    lua_getfield(L, 1, "code");
    lua_getfield(L, 1, "message");
    lua_pushfstring(L, "%s: %s", luaL_optstring(L, -2, "Unknown"), luaL_optstring(L, -1, ""));
    return 1;
}

void vsg_kube_lua_push_error(lua_State *L, enum vsg_err code, const char *reason, long status,
                             const char *message)
{
    const char *name = code_name(code, reason, status);
    int retry = code == VSG_ERR_TRANSPORT || code == VSG_ERR_TIMEOUT || code == VSG_ERR_CONFLICT ||
                code == VSG_ERR_TLS;
    if (code == VSG_ERR_CONFLICT && reason && strcmp(reason, "AlreadyExists") == 0) retry = 0;
    lua_createtable(L, 0, 6);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, message ? message : "");
    lua_setfield(L, -2, "message");
    lua_pushinteger(L, (lua_Integer)status);
    lua_setfield(L, -2, "status");
    lua_pushstring(L, reason ? reason : "");
    lua_setfield(L, -2, "reason");
    lua_pushboolean(L, retry);
    lua_setfield(L, -2, "retryable");
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_errmt) != LUA_TTABLE) {
        lua_pop(L, 1);
        luaL_newmetatable(L, "vsg.kube.Error");
        lua_pushcfunction(L, err_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &key_errmt);
    }
    lua_setmetatable(L, -2);
}

/* Pushes nil, err for a failed result. */
static int push_failure(lua_State *L, struct result *r)
{
    char msg[VSG_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", r->err.msg[0] ? r->err.msg : vsg_strerror(r->rc));
    vsg_buf_cleanup(&r->text);
    lua_pushnil(L);
    vsg_kube_lua_push_error(L, r->rc, r->reason, r->status, msg);
    return 2;
}

/* Pushes the decoded result (or nil, err). Frees r's memory. */
static int finish(lua_State *L, struct result *r)
{
    struct vsg_error e;
    /* The JSON encoded and decoded for the script counts to its budget. */
    size_t work = r->sent + r->text.len;
    if (r->rc != VSG_OK) {
        int n = push_failure(L, r);
        vsg_lua_meter(L, work / 8);
        return n;
    }
    enum vsg_err rc = vsg_lua_json_decode(L, r->text.data ? r->text.data : "null", r->text.len ? r->text.len : 4, &e);
    vsg_buf_cleanup(&r->text);
    vsg_lua_meter(L, work / 8);
    if (rc != VSG_OK) {
        if (rc == VSG_ERR_LIMIT) return luaL_error(L, "vsg.kube: %s", e.msg);
        lua_pushnil(L);
        vsg_kube_lua_push_error(L, rc, "", 0, e.msg);
        return 2;
    }
    return 1;
}

/* ====================================================================
 * Environment and arguments
 * ==================================================================== */

static int bind_protected(lua_State *L)
{
    void *env = lua_touserdata(L, 1);
    if (env) lua_pushlightuserdata(L, env);
    else lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_env);
    return 0;
}

enum vsg_err vsg_kube_lua_bind(struct vsg_lua *s, const struct vsg_kube_lua_env *env,
                               struct vsg_error *err)
{
    return vsg_lua_cpcall(s, bind_protected, (void *)env, 0, err);
}

static const struct vsg_kube_lua_env *get_env(lua_State *L, const char *fn)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_env);
    const struct vsg_kube_lua_env *env = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!env || !env->client || !env->disco)
        luaL_error(L, "vsg.kube.%s: no Kubernetes client is bound to this script", fn);
    return env;
}

static void check_write(lua_State *L, const struct vsg_kube_lua_env *env, const char *fn)
{
    if (env->may_write && !env->may_write(env->ud))
        luaL_error(L, "vsg.kube.%s: this controller is no longer the leader; stopping", fn);
}

/* A namespace argument: nil, vsg.null or "" mean none. */
static const char *opt_ns(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx) || vsg_lua_isnull(L, idx)) return NULL;
    const char *s = luaL_checkstring(L, idx);
    return *s ? s : NULL;
}

/* Reads apiVersion, kind, metadata.namespace and metadata.name of the
 * table at `idx`, leaving the strings on the stack (they stay valid
 * while the caller's frame lives). Raises when one is missing. */
static void obj_ids(lua_State *L, int idx, const char *fn, const char **av, const char **kind,
                    const char **ns, const char **name)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_getfield(L, idx, "apiVersion");
    lua_getfield(L, idx, "kind");
    if (!lua_isstring(L, -2) || !lua_isstring(L, -1))
        luaL_error(L, "vsg.kube.%s: the object needs apiVersion and kind", fn);
    *av = lua_tostring(L, -2);
    *kind = lua_tostring(L, -1);
    if (lua_getfield(L, idx, "metadata") != LUA_TTABLE)
        luaL_error(L, "vsg.kube.%s: the object needs metadata", fn);
    lua_getfield(L, -1, "namespace");
    lua_getfield(L, -2, "name");
    *ns = lua_isstring(L, -2) && *lua_tostring(L, -2) ? lua_tostring(L, -2) : NULL;
    *name = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
}

/* Builds the path of a kind (and object): discovery first. */
static enum vsg_err resolve(const struct vsg_kube_lua_env *env, const char *av, const char *kind,
                            const char *ns, const char *name, const char *sub, struct vsg_buf *p,
                            struct result *r)
{
    struct vsg_kube_resource res;
    enum vsg_err rc = vsg_kube_discovery_lookup(env->disco, env->client, av, kind, &res, &r->err);
    if (rc != VSG_OK) {
        r->status = rc == VSG_ERR_NOTFOUND ? 404 : 0;
        return r->rc = rc;
    }
    if (!res.namespaced) ns = NULL;
    else if (!ns && name) {
        vsg_error_set(&r->err, VSG_ERR_INVAL, "%s %s is namespaced: give a namespace", kind,
                      name);
        return r->rc = VSG_ERR_INVAL;
    }
    if ((rc = vsg_kube_path(p, av, ns, res.resource, name, sub)) != VSG_OK) {
        vsg_error_set(&r->err, VSG_ERR_INVAL, "bad name or namespace for %s", kind);
        return r->rc = VSG_ERR_INVAL;
    }
    return VSG_OK;
}

/* Records a request outcome and, on success, the response text. */
static void take(struct result *r, const struct vsg_kube_lua_env *env, enum vsg_err rc, cJSON *out,
                 const char *av, const char *kind)
{
    r->rc = rc;
    r->status = vsg_kube_last_status(env->client);
    snprintf(r->reason, sizeof r->reason, "%s", vsg_kube_last_reason(env->client));
    if (rc == VSG_OK && out) {
        int ok = 1;
        if (av && !cJSON_HasObjectItem(out, "apiVersion"))
            ok = cJSON_AddStringToObject(out, "apiVersion", av) != NULL;
        if (ok && kind && !cJSON_HasObjectItem(out, "kind"))
            ok = cJSON_AddStringToObject(out, "kind", kind) != NULL;
        char *t = ok ? cJSON_PrintUnformatted(out) : NULL;
        if (!t || vsg_buf_puts(&r->text, t) != VSG_OK) {
            r->rc = VSG_ERR_NOMEM;
            vsg_error_set(&r->err, VSG_ERR_NOMEM, "out of memory");
        }
        if (t) cJSON_free(t);
    }
    cJSON_Delete(out);
}

/* A synced informer's cache for the kind in `ns`, or NULL. */
static struct vsg_kube_cache *cache_for(const struct vsg_kube_lua_env *env, const char *av,
                                        const char *kind, const char *ns)
{
    struct vsg_kube_informer *inf;
    if (!env->informers) return NULL;
    inf = vsg_kube_informers_find(env->informers, av, kind, NULL);
    if (inf && vsg_kube_informer_synced(inf)) return vsg_kube_informer_cache(inf);
    if (!ns) return NULL;
    inf = vsg_kube_informers_find(env->informers, av, kind, ns);
    if (inf && vsg_kube_informer_synced(inf)) return vsg_kube_informer_cache(inf);
    return NULL;
}

/* ====================================================================
 * vsg.kube
 * ==================================================================== */

static int kube_get(lua_State *L)
{
    const struct vsg_kube_lua_env *env = get_env(L, "get");
    const char *av = luaL_checkstring(L, 1), *kind = luaL_checkstring(L, 2);
    const char *ns = opt_ns(L, 3), *name = luaL_checkstring(L, 4);
    struct result r;
    struct vsg_buf p;
    struct vsg_kube_cache *c = cache_for(env, av, kind, ns);
    result_init(&r);
    if (c) {
        char *t = vsg_kube_cache_get_text(c, ns, name);
        if (t) {
            if (vsg_buf_puts(&r.text, t) != VSG_OK) r.rc = vsg_error_set(&r.err, VSG_ERR_NOMEM, NULL);
            vsg_free(t);
        } else {
            r.rc = vsg_error_set(&r.err, VSG_ERR_NOTFOUND, "%s \"%s\" not found", kind, name);
            r.status = 404;
            snprintf(r.reason, sizeof r.reason, "NotFound");
        }
        return finish(L, &r);
    }
    vsg_buf_init(&p, PATH_MAX_LEN);
    if (resolve(env, av, kind, ns, name, NULL, &p, &r) == VSG_OK) {
        cJSON *out = NULL;
        enum vsg_err rc = vsg_kube_get(env->client, p.data, &out, &r.err);
        take(&r, env, rc, out, av, kind);
    }
    vsg_buf_cleanup(&p);
    return finish(L, &r);
}

struct collect {
    struct vsg_buf *out; /* "[a,b,..." so far. */
    enum vsg_err rc;     /* First failure. */
};

static int collect_one(void *ud, const cJSON *obj)
{
    struct collect *c = ud;
    char *t = cJSON_PrintUnformatted(obj);
    if (!t) {
        c->rc = VSG_ERR_NOMEM;
        return 1;
    }
    if (c->out->len > 1) c->rc = vsg_buf_putc(c->out, ',');
    if (c->rc == VSG_OK) c->rc = vsg_buf_puts(c->out, t);
    cJSON_free(t);
    return c->rc != VSG_OK;
}

static int kube_list(lua_State *L)
{
    const struct vsg_kube_lua_env *env = get_env(L, "list");
    const char *av = luaL_checkstring(L, 1), *kind = luaL_checkstring(L, 2);
    const char *ns = opt_ns(L, 3);
    const char *lsel = NULL, *fsel = NULL;
    cJSON *lobj = NULL; /* labelSelector given as a LabelSelector object. */
    struct result r;
    struct vsg_buf p, ltext;
    result_init(&r);
    vsg_buf_init(&ltext, PATH_MAX_LEN);
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        lua_getfield(L, 4, "labelSelector");
        lua_getfield(L, 4, "fieldSelector");
        lsel = lua_isstring(L, -2) && *lua_tostring(L, -2) ? lua_tostring(L, -2) : NULL;
        fsel = lua_isstring(L, -1) && *lua_tostring(L, -1) ? lua_tostring(L, -1) : NULL;
        if (lua_istable(L, -2)) {
            /* A LabelSelector ({matchLabels=, matchExpressions=}): written
             * as selector text by kube/selector.h, the one writer of it. */
            struct vsg_buf j;
            vsg_buf_init(&j, PATH_MAX_LEN);
            enum vsg_err rc = vsg_lua_json_encode(L, -2, &j, &r.err);
            if (rc == VSG_OK && !(lobj = cJSON_ParseWithLength(j.data, j.len)))
                rc = vsg_error_set(&r.err, VSG_ERR_NOMEM, "labelSelector: out of memory");
            if (rc == VSG_OK && (rc = vsg_selector_text(lobj, &ltext)) != VSG_OK)
                vsg_error_set(&r.err, rc, "labelSelector too long");
            vsg_buf_cleanup(&j);
            if (rc != VSG_OK) {
                r.rc = rc;
                cJSON_Delete(lobj);
                vsg_buf_cleanup(&ltext);
                return finish(L, &r);
            }
            lsel = ltext.len ? ltext.data : NULL;
        }
    }
    struct vsg_kube_cache *c = fsel ? NULL : cache_for(env, av, kind, ns);
    if (c) {
        struct vsg_kube_selector *sel =
            lobj ? vsg_kube_selector_from_object(lobj, &r.err) : vsg_kube_selector_parse(lsel, &r.err);
        cJSON_Delete(lobj);
        vsg_buf_cleanup(&ltext);
        if (!sel) {
            r.rc = r.err.code;
            return finish(L, &r);
        }
        struct collect col = {&r.text, vsg_buf_putc(&r.text, '[')};
        if (col.rc == VSG_OK) vsg_kube_cache_each(c, ns, sel, collect_one, &col);
        if (col.rc == VSG_OK) col.rc = vsg_buf_putc(&r.text, ']');
        vsg_kube_selector_free(sel);
        if (col.rc != VSG_OK) r.rc = vsg_error_set(&r.err, col.rc, "listing %s", kind);
        return finish(L, &r);
    }
    vsg_buf_init(&p, PATH_MAX_LEN);
    if (resolve(env, av, kind, ns, NULL, NULL, &p, &r) == VSG_OK) {
        enum vsg_err rc = vsg_buf_putc(&p, '?');
        if (rc == VSG_OK && lsel) {
            rc = vsg_buf_puts(&p, "labelSelector=");
            if (rc == VSG_OK) rc = vsg_http_escape(lsel, &p);
            if (rc == VSG_OK) rc = vsg_buf_putc(&p, '&');
        }
        if (rc == VSG_OK && fsel) {
            rc = vsg_buf_puts(&p, "fieldSelector=");
            if (rc == VSG_OK) rc = vsg_http_escape(fsel, &p);
        }
        cJSON *out = NULL;
        if (rc == VSG_OK) rc = vsg_kube_get(env->client, p.data, &out, &r.err);
        else vsg_error_set(&r.err, rc, "list path too long");
        cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(out, "items");
        cJSON *it;
        cJSON_ArrayForEach(it, items) {
            if ((!cJSON_HasObjectItem(it, "apiVersion") &&
                 !cJSON_AddStringToObject(it, "apiVersion", av)) ||
                (!cJSON_HasObjectItem(it, "kind") && !cJSON_AddStringToObject(it, "kind", kind)))
                rc = vsg_error_set(&r.err, VSG_ERR_NOMEM, "out of memory");
        }
        cJSON_Delete(out);
        if (rc == VSG_OK && !items && !(items = cJSON_CreateArray()))
            rc = vsg_error_set(&r.err, VSG_ERR_NOMEM, "out of memory");
        take(&r, env, rc, items, NULL, NULL);
    }
    vsg_buf_cleanup(&p);
    cJSON_Delete(lobj);
    vsg_buf_cleanup(&ltext);
    return finish(L, &r);
}

/* Encodes the value at `idx` into `b` or raises (after freeing b). */
static void encode_or_raise(lua_State *L, int idx, struct vsg_buf *b, const char *fn)
{
    struct vsg_error e;
    if (vsg_lua_json_encode(L, idx, b, &e) != VSG_OK) {
        char msg[VSG_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", e.msg);
        vsg_buf_cleanup(b);
        luaL_error(L, "vsg.kube.%s: %s", fn, msg);
    }
}

/* create, update and update_status. */
static int write_obj(lua_State *L, const char *fn, const char *method, const char *sub)
{
    const struct vsg_kube_lua_env *env = get_env(L, fn);
    const char *av, *kind, *ns, *name;
    obj_ids(L, 1, fn, &av, &kind, &ns, &name);
    if (!name && strcmp(method, "POST") != 0)
        return luaL_error(L, "vsg.kube.%s: the object needs metadata.name", fn);
    check_write(L, env, fn);
    struct vsg_buf body, p;
    struct result r;
    vsg_buf_init(&body, TEXT_MAX);
    encode_or_raise(L, 1, &body, fn);
    result_init(&r);
    r.sent = body.len;
    vsg_buf_init(&p, PATH_MAX_LEN);
    if (resolve(env, av, kind, ns, strcmp(method, "POST") == 0 ? NULL : name, sub, &p, &r) ==
        VSG_OK) {
        cJSON *out = NULL;
        struct vsg_kube_request rq = {.method = method, .path = p.data, .body_str = body.data};
        enum vsg_err rc = vsg_kube_request(env->client, &rq, &out, &r.err);
        take(&r, env, rc, out, av, kind);
    }
    vsg_buf_cleanup(&p);
    vsg_buf_cleanup(&body);
    return finish(L, &r);
}

static int kube_create(lua_State *L)
{
    return write_obj(L, "create", "POST", NULL);
}

static int kube_update(lua_State *L)
{
    return write_obj(L, "update", "PUT", NULL);
}

static int kube_update_status(lua_State *L)
{
    return write_obj(L, "update_status", "PUT", "status");
}

static int kube_patch(lua_State *L)
{
    const struct vsg_kube_lua_env *env = get_env(L, "patch");
    const char *av = luaL_checkstring(L, 1), *kind = luaL_checkstring(L, 2);
    const char *ns = opt_ns(L, 3), *name = luaL_checkstring(L, 4);
    static const char *const types[] = {"merge", "json", "strategic", NULL};
    static const char *const cts[] = {VSG_KUBE_CT_MERGE_PATCH, VSG_KUBE_CT_JSON_PATCH,
                                      VSG_KUBE_CT_STRATEGIC_PATCH};
    int t = luaL_checkoption(L, 6, "merge", types);
    if (!lua_istable(L, 5) && lua_type(L, 5) != LUA_TSTRING)
        return luaL_typeerror(L, 5, "table or string");
    check_write(L, env, "patch");
    struct vsg_buf body, p;
    struct result r;
    vsg_buf_init(&body, TEXT_MAX);
    if (lua_type(L, 5) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, 5, &n);
        if (vsg_buf_append(&body, s, n) != VSG_OK) {
            vsg_buf_cleanup(&body);
            return luaL_error(L, "vsg.kube.patch: patch too large");
        }
    } else {
        encode_or_raise(L, 5, &body, "patch");
    }
    result_init(&r);
    r.sent = body.len;
    vsg_buf_init(&p, PATH_MAX_LEN);
    if (resolve(env, av, kind, ns, name, NULL, &p, &r) == VSG_OK) {
        cJSON *out = NULL;
        enum vsg_err rc = vsg_kube_patch(env->client, p.data, cts[t], body.data, &out, &r.err);
        take(&r, env, rc, out, av, kind);
    }
    vsg_buf_cleanup(&p);
    vsg_buf_cleanup(&body);
    return finish(L, &r);
}

static int kube_delete(lua_State *L)
{
    const struct vsg_kube_lua_env *env = get_env(L, "delete");
    const char *av = luaL_checkstring(L, 1), *kind = luaL_checkstring(L, 2);
    const char *ns = opt_ns(L, 3), *name = luaL_checkstring(L, 4);
    const char *prop = NULL;
    if (!lua_isnoneornil(L, 5)) {
        luaL_checktype(L, 5, LUA_TTABLE);
        lua_getfield(L, 5, "propagationPolicy");
        prop = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
    }
    check_write(L, env, "delete");
    struct vsg_buf body, p;
    struct result r;
    vsg_buf_init(&body, 1024);
    result_init(&r);
    vsg_buf_init(&p, PATH_MAX_LEN);
    if (prop &&
        (vsg_buf_puts(&body, "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"propagationPolicy\":") != VSG_OK ||
         vsg_buf_append_json_string(&body, prop) != VSG_OK || vsg_buf_putc(&body, '}') != VSG_OK))
        r.rc = vsg_error_set(&r.err, VSG_ERR_NOMEM, NULL);
    if (r.rc == VSG_OK && resolve(env, av, kind, ns, name, NULL, &p, &r) == VSG_OK) {
        struct vsg_kube_request rq = {.method = "DELETE", .path = p.data,
                                      .body_str = prop ? body.data : NULL};
        enum vsg_err rc = vsg_kube_request(env->client, &rq, NULL, &r.err);
        take(&r, env, rc, NULL, NULL, NULL);
    }
    vsg_buf_cleanup(&p);
    vsg_buf_cleanup(&body);
    if (r.rc != VSG_OK) return push_failure(L, &r);
    vsg_buf_cleanup(&r.text);
    lua_pushboolean(L, 1);
    return 1;
}

static int kube_event(lua_State *L)
{
    const struct vsg_kube_lua_env *env = get_env(L, "event");
    const char *av, *kind, *ns, *name;
    static const char *const types[] = {"Normal", "Warning", NULL};
    obj_ids(L, 1, "event", &av, &kind, &ns, &name);
    int t = luaL_checkoption(L, 2, NULL, types);
    const char *reason = luaL_checkstring(L, 3);
    const char *message = luaL_optstring(L, 4, "");
    lua_getfield(L, 1, "metadata");
    lua_getfield(L, -1, "uid");
    const char *uid = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
    if (!name) return luaL_error(L, "vsg.kube.event: the object needs metadata.name");
    check_write(L, env, "event");
    struct vsg_kube_event ev = {
        .api_version = av, .kind = kind, .ns = ns ? ns : "default", .name = name, .uid = uid,
        .type = types[t], .reason = reason, .message = message, .component = env->component};
    struct result r;
    result_init(&r);
    enum vsg_err rc = vsg_kube_create_event(env->client, &ev, &r.err);
    take(&r, env, rc, NULL, NULL, NULL);
    if (r.rc != VSG_OK) return push_failure(L, &r);
    vsg_buf_cleanup(&r.text);
    lua_pushboolean(L, 1);
    return 1;
}

#define KUBE_CTX (VSG_LUA_CTX_RECONCILE | VSG_LUA_CTX_FINALIZE)

static const struct vsg_lua_reg kube_funcs[] = {
    {"get", kube_get, KUBE_CTX},
    {"list", kube_list, KUBE_CTX},
    {"create", kube_create, KUBE_CTX},
    {"update", kube_update, KUBE_CTX},
    {"update_status", kube_update_status, KUBE_CTX},
    {"patch", kube_patch, KUBE_CTX},
    {"delete", kube_delete, KUBE_CTX},
    {"event", kube_event, KUBE_CTX},
    {NULL, NULL, 0},
};

int vsg_kube_lua_open(lua_State *L)
{
    lua_createtable(L, 0, 8);
    vsg_lua_setfuncs(L, "vsg.kube", kube_funcs);
    return 1;
}

/* ====================================================================
 * vsg.hash
 * ==================================================================== */

static int digest_hex(lua_State *L, const EVP_MD *md)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char d[EVP_MAX_MD_SIZE];
    vsg_lua_meter(L, n / 8); /* 1 to 3 ns a byte. */
    unsigned int dl = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    if (EVP_Digest(s, n, d, &dl, md, NULL) != 1) return luaL_error(L, "vsg.hash: digest failed");
    for (unsigned i = 0; i < dl; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    lua_pushlstring(L, hex, 2 * (size_t)dl);
    return 1;
}

static int hash_md5(lua_State *L)
{
    return digest_hex(L, EVP_md5());
}

static int hash_sha256(lua_State *L)
{
    return digest_hex(L, EVP_sha256());
}

static const struct vsg_lua_reg hash_funcs[] = {
    {"md5", hash_md5, VSG_LUA_CTX_ANY},
    {"sha256", hash_sha256, VSG_LUA_CTX_ANY},
    {NULL, NULL, 0},
};

int vsg_hash_lua_open(lua_State *L)
{
    lua_createtable(L, 0, 2);
    vsg_lua_setfuncs(L, "vsg.hash", hash_funcs);
    return 1;
}

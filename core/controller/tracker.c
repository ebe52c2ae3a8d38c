/*
 * controller/tracker.c - what enqueues a key: the primary kind, owned
 * objects, and the objects a reconcile tracked (ctx.track) (see controller.h and internal.h).
 */
#include "controller/internal.h"

#include <lauxlib.h>

#include "base/log.h"
#include "lua/json.h"

/* ====================================================================
 * Enqueueing (informer threads)
 * ==================================================================== */

void vsg__ctl_enqueue(struct rec *r, const char *key)
{
    enum vsg_err rc = vsg_kube_queue_add(r->queue, key);
    if (rc != VSG_OK && rc != VSG_ERR_CANCELLED)
        VSG_LOG_WARN(LOGGER, "%s: cannot queue %s: %s", r->kind, key, vsg_strerror(rc));
}

void vsg__ctl_on_primary(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
{
    struct rec *r = ud;
    struct vsg_buf k;
    (void)t;
    (void)old;
    vsg_buf_init(&k, 1024);
    if (vsg_kube_object_key(obj, &k) == VSG_OK) vsg__ctl_enqueue(r, k.data);
    vsg_buf_cleanup(&k);
}

void vsg__ctl_on_owned(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
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
    vsg__ctl_enqueue(r, key);
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
        if (keys->slots[i].key) vsg__ctl_enqueue(r, keys->slots[i].key);
    /* Name "*": whoever tracks every object of the kind in the namespace
     * (subjects by label selector). */
    ref_key(ref, sizeof ref, tk->group, tk->kind, vsg_kube_meta_str(obj, "namespace"), "*");
    keys = vsg__strmap_get(&r->refs, ref);
    for (size_t i = 0; keys && i < keys->cap; i++)
        if (keys->slots[i].key) vsg__ctl_enqueue(r, keys->slots[i].key);
    pthread_mutex_unlock(&r->tmu);
}

/* ====================================================================
 * Tracker (worker thread)
 * ==================================================================== */

void vsg__ctl_free_strmap(void *p)
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
void vsg__ctl_untrack_all(struct rec *r, const char *key)
{
    pthread_mutex_lock(&r->tmu);
    struct vsg__strmap *refs = vsg__strmap_del(&r->bykey, key);
    for (size_t i = 0; refs && i < refs->cap; i++) {
        if (!refs->slots[i].key) continue;
        struct vsg__strmap *keys = vsg__strmap_get(&r->refs, refs->slots[i].key);
        if (!keys) continue;
        vsg__strmap_del(keys, key);
        if (!keys->len) vsg__ctl_free_strmap(vsg__strmap_del(&r->refs, refs->slots[i].key));
    }
    pthread_mutex_unlock(&r->tmu);
    if (refs) vsg__ctl_free_strmap(refs);
}

/* Makes sure events of `kind` reach the tracker: the informer (started
 * on first use) and this reconciler's handler on it. */
enum vsg_err vsg__ctl_track_kind(struct rec *r, const char *av, const char *kind, const char *resource,
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
int vsg__ctl_lua_track(lua_State *L)
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
    else rc = vsg__ctl_track_kind(r, av, kind, NULL, &err);
    if (rc != VSG_OK) {
        lua_pushnil(L);
        vsg_kube_lua_push_error(L, rc, "", rc == VSG_ERR_NOTFOUND ? 404 : 0, err.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}


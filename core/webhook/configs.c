/*
 * webhook/configs.c - the webhook configurations: built once by
 * lua/webhook/configurations.lua for this mode, namespace and Service,
 * then kept in line while leading (the caBundle, the leader's fields of
 * the binding webhook, its rules grown by the bindings' kinds), and in URL
 * mode created and deleted (see webhook.h and internal.h).
 */
#include "webhook/internal.h"

#include <lauxlib.h>

#include "base/log.h"
#include "base/mem.h"
#include "kube/informer.h"
#include "lua/json.h"
#include "webhook/whrules.h"

/* ====================================================================
 * Webhook configurations
 * ==================================================================== */

/* One configuration of webhook.configurations (wh->confs). */
struct whconf {
    cJSON *obj;           /* The object as built (URL mode: what is registered). */
    const char *name;     /* Its metadata.name (in obj). */
    const char *resource; /* mutatingwebhookconfigurations | validatingwebhookconfigurations. */
    int bindings;         /* Holds the binding webhook. */
};

/* The first (only) webhook of configuration object o. */
static cJSON *first_hook(const cJSON *o)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "webhooks"), 0);
}

static void conf_path(struct vsg_buf *b, const struct whconf *w, int with_name)
{
    vsg_buf_reset(b);
    (void)vsg_kube_path(b, "admissionregistration.k8s.io/v1", NULL, w->resource, with_name ? w->name : NULL,
                        NULL);
}

struct conf_args {
    const struct vsg_webhook *wh;
    struct vsg_buf out; /* The JSON of build()'s result. */
};

static int conf_protected(lua_State *L)
{
    struct conf_args *ca = lua_touserdata(L, 1);
    const struct vsg_webhook *wh = ca->wh;
    struct vsg_error e;
    lua_settop(L, 0);
    if (vsg_lua_script_push_module(wh->conf_script) != VSG_OK || !lua_istable(L, 1) ||
        lua_getfield(L, 1, "build") != LUA_TFUNCTION)
        return luaL_error(L, "webhook.configurations has no function build");
    lua_createtable(L, 0, 4);
    lua_pushstring(L, wh->system_ns);
    lua_setfield(L, -2, "system_namespace");
    lua_pushstring(L, wh->mode);
    lua_setfield(L, -2, "selection_mode");
    lua_pushstring(L, wh->url_base ? wh->url_base : wh->service);
    lua_setfield(L, -2, wh->url_base ? "url_base" : "service");
    lua_call(L, 1, 1);
    if (vsg_lua_json_encode(L, -1, &ca->out, &e) != VSG_OK) return luaL_error(L, "%s", e.msg);
    lua_settop(L, 0);
    return 0;
}

/* The configurations of lua/webhook/configurations.lua (the shipped code:
 * not overridable, as they decide which requests reach the overrides) for
 * this controller's mode, names and namespace, into wh->confs. */
enum vsg_err vsg__wh_load_configurations(struct vsg_webhook *wh, struct vsg_error *err)
{
    static const char main_src[] = "return require 'webhook.configurations'\n";
    struct vsg_lua_config lc = {.kind = VSG_LUA_KIND_ADMISSION, .limits = wh->o.admission_limits,
                                .name = "vsgate.webhook-configurations.lua", .search_path = wh->search_path};
    struct vsg_lua_source main = {"=webhook-configurations", main_src, sizeof main_src - 1};
    struct conf_args ca = {.wh = wh};
    enum vsg_err rc;
    if (!(wh->conf_script = vsg_lua_script_new(&lc, NULL, err))) return err->code;
    if ((rc = vsg_lua_script_update(wh->conf_script, &main, NULL, 0, NULL, NULL, err)) != VSG_OK) return rc;
    vsg_buf_init(&ca.out, 1 << 20);
    rc = vsg_lua_cpcall(vsg_lua_script_state(wh->conf_script), conf_protected, &ca, 0, err);
    if (rc == VSG_OK && !(wh->conf_doc = cJSON_ParseWithLength(ca.out.data, ca.out.len)))
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "webhook: out of memory");
    vsg_buf_cleanup(&ca.out);
    if (rc != VSG_OK) return rc;
    cJSON *list = cJSON_GetObjectItemCaseSensitive(wh->conf_doc, "configurations"), *o;
    const char *bname = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(wh->conf_doc, "bindings"));
    wh->leader_fields = cJSON_GetObjectItemCaseSensitive(wh->conf_doc, "leader_fields");
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (!bname || !n || !cJSON_IsArray(wh->leader_fields))
        return vsg_error_set(err, VSG_ERR_INVAL, "webhook.configurations: build() returned no configurations");
    if (!(wh->confs = vsg_calloc(n, sizeof *wh->confs))) return vsg_error_set(err, VSG_ERR_NOMEM, "webhook: out of memory");
    cJSON_ArrayForEach(o, list) {
        struct whconf *w = &wh->confs[wh->nconfs];
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "kind"));
        const char *hook = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first_hook(o), "name"));
        w->obj = o;
        w->name = cJSON_GetStringValue(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "metadata"), "name"));
        w->resource = same_str(kind, "MutatingWebhookConfiguration")     ? "mutatingwebhookconfigurations"
                      : same_str(kind, "ValidatingWebhookConfiguration") ? "validatingwebhookconfigurations"
                                                                         : NULL;
        if (!w->name || !w->resource || !hook || cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "webhooks")) != 1)
            return vsg_error_set(err, VSG_ERR_INVAL,
                                 "webhook.configurations: configuration %zu needs a name, a kind of "
                                 "Mutating/ValidatingWebhookConfiguration and one webhook",
                                 wh->nconfs + 1);
        w->bindings = strcmp(hook, bname) == 0;
        if (w->bindings) wh->base_rules = cJSON_GetObjectItemCaseSensitive(first_hook(o), "rules");
        wh->nconfs++;
    }
    if (!wh->base_rules)
        return vsg_error_set(err, VSG_ERR_INVAL, "webhook.configurations: no configuration holds webhook %s",
                             bname);
    return VSG_OK;
}

static enum vsg_err resolve_kind(void *ud, const char *av, const char *kind,
                                 struct vsg_kube_resource *out, struct vsg_error *err)
{
    struct vsg_webhook *wh = ud;
    return vsg_kube_discovery_lookup(wh->disco, wh->client, av, kind, out, err);
}

/* Logs `why` unless it is what was logged last (*last). NULL: forget. */
void vsg__wh_log_changed(char **last, const char *why)
{
    if (!why) {
        vsg_free(*last);
        *last = NULL;
        return;
    }
    if (*last && strcmp(*last, why) == 0) return;
    VSG_LOG_WARN(LOGGER, "%s", why);
    vsg_free(*last);
    *last = vsg_strdup(why);
}

/* The binding webhook's rules for the VSphereBindings in the cache
 * (webhook/whrules.h); *skipped: subject kinds left out (retry later). */
static cJSON *binding_rules(struct vsg_webhook *wh, size_t *skipped)
{
    cJSON *arr = vsg__wh_bindings(wh, NULL), *rules;
    struct vsg_error why;
    *skipped = 0;
    if (!arr) return NULL;
    rules = vsg_whrules_build(wh->base_rules, arr, resolve_kind, wh, skipped, &why);
    cJSON_Delete(arr);
    if (rules) {
        char msg[VSG_ERROR_MSG_MAX + 128];
        snprintf(msg, sizeof msg, "%s: %zu subject kind(s) left out of its rules (retrying): %s",
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(wh->conf_doc, "bindings")), *skipped,
                 why.msg);
        vsg__wh_log_changed(&wh->skip_why, *skipped ? msg : NULL);
    }
    return rules;
}

/* Sets h[key] to a copy of want unless it is equal already; 1 when it
 * changed, 0 when not, -1 out of memory. */
static int set_field(cJSON *h, const char *key, const cJSON *want)
{
    if (cJSON_Compare(cJSON_GetObjectItemCaseSensitive(h, key), want, 1)) return 0;
    cJSON *d = cJSON_Duplicate(want, 1);
    if (!d) return -1;
    cJSON_DeleteItemFromObjectCaseSensitive(h, key);
    if (!cJSON_AddItemToObject(h, key, d)) {
        cJSON_Delete(d);
        return -1;
    }
    return 1;
}

/* The webhooks array of a URL-mode configuration: as built, with the
 * caBundle and (the binding webhook) the rules of the live bindings. */
static cJSON *url_webhooks(const struct whconf *w, const char *ca64, const cJSON *rules)
{
    cJSON *out = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(w->obj, "webhooks"), 1);
    cJSON *h = cJSON_GetArrayItem(out, 0);
    cJSON *cc = cJSON_GetObjectItemCaseSensitive(h, "clientConfig");
    cJSON *ca = cJSON_CreateString(ca64);
    if (!cc || !ca || !cJSON_AddItemToObject(cc, "caBundle", ca) ||
        (w->bindings && set_field(h, "rules", rules) < 0)) {
        if (!cc) cJSON_Delete(ca);
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

/* Every field of the webhook `want` has its value in `have` (the API
 * server fills in defaults for the fields not set). */
static int webhook_matches(const cJSON *want, const cJSON *have)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, want)
        if (!cJSON_Compare(f, cJSON_GetObjectItemCaseSensitive(have, f->string), 1)) return 0;
    return 1;
}

/* In Service mode: the caBundle of every webhook, and the leader's fields
 * of the binding webhook (webhook.configurations' leader_fields: its
 * selectors, policies and rules, as psbinding rewrites them). Nonzero
 * when `cur` changed; -1 out of memory. */
static int update_service_conf(const struct vsg_webhook *wh, const struct whconf *w, cJSON *cur,
                               const char *ca64, const cJSON *rules)
{
    cJSON *h;
    int changed = 0;
    const cJSON *want = first_hook(w->obj);
    const char *want_name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(want, "name"));
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(cur, "webhooks")) {
        cJSON *cc = cJSON_GetObjectItemCaseSensitive(h, "clientConfig");
        if (!cJSON_IsObject(cc)) continue;
        const char *bundle = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cc, "caBundle"));
        if (!bundle || strcmp(bundle, ca64) != 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(cc, "caBundle");
            if (!cJSON_AddStringToObject(cc, "caBundle", ca64)) return -1;
            changed = 1;
        }
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "name"));
        if (!w->bindings || !same_str(name, want_name)) continue;
        const cJSON *f;
        cJSON_ArrayForEach(f, wh->leader_fields) {
            const char *key = cJSON_GetStringValue(f);
            if (!key) continue;
            const cJSON *v = strcmp(key, "rules") == 0 ? rules : cJSON_GetObjectItemCaseSensitive(want, key);
            if (!v) continue;
            int r = set_field(h, key, v);
            if (r < 0) return -1;
            if (r) changed = 1;
        }
    }
    return changed;
}

/* Puts `hooks` as the webhooks of configuration `cur` (which takes it);
 * 0, or -1 out of memory (hooks freed). */
static int put_hooks(cJSON *cur, cJSON *hooks)
{
    if (cJSON_GetObjectItemCaseSensitive(cur, "webhooks")
            ? cJSON_ReplaceItemInObjectCaseSensitive(cur, "webhooks", hooks)
            : cJSON_AddItemToObject(cur, "webhooks", hooks))
        return 0;
    cJSON_Delete(hooks);
    return -1;
}

/* Brings every configuration in line (leader only): the caBundle, the
 * binding webhook's rules, and in URL mode the whole webhook (created
 * when missing). VSG_OK when all went through; *skipped: subject kinds
 * the rules could not name yet. */
enum vsg_err vsg__wh_sync_configs(struct vsg_webhook *wh, size_t *skipped)
{
    const char *ca = wh->certs.ca_pem;
    char *ca64 = ca ? vsg_base64_encode(ca, strlen(ca)) : NULL;
    cJSON *rules = binding_rules(wh, skipped);
    struct vsg_buf p;
    struct vsg_error err;
    enum vsg_err worst = VSG_OK;
    if (!ca64 || !rules) {
        vsg_free(ca64);
        cJSON_Delete(rules);
        return VSG_ERR_NOMEM;
    }
    vsg_buf_init(&p, 4096);
    for (size_t i = 0; i < wh->nconfs; i++) {
        const struct whconf *w = &wh->confs[i];
        cJSON *cur = NULL;
        conf_path(&p, w, 1);
        enum vsg_err rc = vsg_kube_get(wh->client, p.data, &cur, &err);
        if (rc == VSG_ERR_NOTFOUND && !wh->url_base) continue;
        if (rc != VSG_OK && rc != VSG_ERR_NOTFOUND) {
            VSG_LOG_WARN(LOGGER, "reading %s: %s", w->name, err.msg);
            worst = rc;
            continue;
        }
        int changed = 0;
        if (wh->url_base) {
            cJSON *hooks = url_webhooks(w, ca64, rules);
            if (!hooks) {
                cJSON_Delete(cur);
                worst = VSG_ERR_NOMEM;
                continue;
            }
            if (!cur) {
                cur = cJSON_Duplicate(w->obj, 1);
                if (!cur) {
                    cJSON_Delete(hooks);
                    worst = VSG_ERR_NOMEM;
                    continue;
                }
                if (put_hooks(cur, hooks) != 0) {
                    cJSON_Delete(cur);
                    worst = VSG_ERR_NOMEM;
                    continue;
                }
                conf_path(&p, w, 0);
                rc = vsg_kube_create(wh->client, p.data, cur, NULL, &err);
                if (rc == VSG_OK)
                    VSG_LOG_INFO(LOGGER, "registered %s at %s", w->name,
                                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                     cJSON_GetObjectItemCaseSensitive(first_hook(w->obj), "clientConfig"), "url")));
                else VSG_LOG_WARN(LOGGER, "creating %s: %s", w->name, err.msg);
                if (rc != VSG_OK) worst = rc;
                cJSON_Delete(cur);
                continue;
            }
            const cJSON *had = cJSON_GetObjectItemCaseSensitive(cur, "webhooks");
            changed = cJSON_GetArraySize(had) != cJSON_GetArraySize(hooks) ||
                      !webhook_matches(cJSON_GetArrayItem(hooks, 0), cJSON_GetArrayItem(had, 0));
            if (!changed) {
                cJSON_Delete(hooks);
            } else if (put_hooks(cur, hooks) != 0) {
                cJSON_Delete(cur);
                worst = VSG_ERR_NOMEM;
                continue;
            }
        } else {
            changed = update_service_conf(wh, w, cur, ca64, rules);
            if (changed < 0) {
                cJSON_Delete(cur);
                worst = VSG_ERR_NOMEM;
                continue;
            }
        }
        if (changed) {
            rc = vsg_kube_update(wh->client, p.data, cur, NULL, &err);
            if (rc == VSG_OK) VSG_LOG_INFO(LOGGER, "updated %s", w->name);
            else {
                VSG_LOG_WARN(LOGGER, "updating %s: %s", w->name, err.msg);
                worst = rc;
            }
        }
        cJSON_Delete(cur);
    }
    vsg_buf_cleanup(&p);
    vsg_free(ca64);
    cJSON_Delete(rules);
    return worst;
}

/* URL mode, at stop: deletes the configurations that point at this
 * replica (a new leader's stay). */
void vsg__wh_delete_url_configs(struct vsg_webhook *wh)
{
    struct vsg_buf p;
    struct vsg_error err;
    vsg_buf_init(&p, 4096);
    for (size_t i = 0; i < wh->nconfs; i++) {
        const struct whconf *w = &wh->confs[i];
        cJSON *cur = NULL;
        conf_path(&p, w, 1);
        enum vsg_err rc = vsg_kube_get(wh->client, p.data, &cur, &err);
        const char *url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(first_hook(cur), "clientConfig"), "url"));
        const char *want = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(first_hook(w->obj), "clientConfig"), "url"));
        int ours = rc == VSG_OK && url && want && strcmp(url, want) == 0;
        cJSON_Delete(cur);
        if (rc != VSG_OK) {
            if (rc != VSG_ERR_NOTFOUND) VSG_LOG_WARN(LOGGER, "reading %s: %s", w->name, err.msg);
            continue;
        }
        if (!ours) continue;
        rc = vsg_kube_delete(wh->client, p.data, &err);
        if (rc == VSG_OK) VSG_LOG_INFO(LOGGER, "unregistered %s", w->name);
        else if (rc != VSG_ERR_NOTFOUND) VSG_LOG_WARN(LOGGER, "deleting %s: %s", w->name, err.msg);
    }
    vsg_buf_cleanup(&p);
}


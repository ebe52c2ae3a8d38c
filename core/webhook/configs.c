/*
 * webhook/configs.c - the webhook configurations: the caBundle, the
 * binding webhook's rules and selectors kept in line (while leading), and
 * in URL mode the three configurations created and deleted (see webhook.h and internal.h).
 */
#include "webhook/internal.h"

#include "base/log.h"
#include "base/mem.h"
#include "kube/informer.h"
#include "webhook/whrules.h"

/* ====================================================================
 * Webhook configurations
 * ==================================================================== */

struct whconf {
    const char *name, *resource, *path;
    int mutating;
    int service_only; /* Never registered by URL (it would see the whole cluster's namespaces). */
};

static const struct whconf confs[] = {
    {VSG_WH_DEFAULTING, "mutatingwebhookconfigurations", "/defaulting", 1, 0},
    {VSG_WH_VALIDATION, "validatingwebhookconfigurations", "/resource-validation", 0, 0},
    {VSG_WH_BINDINGS, "mutatingwebhookconfigurations", "/vspherebindings", 1, 0},
    {VSG_WH_UNINSTALL, "validatingwebhookconfigurations", "/uninstall", 0, 1},
};
#define NCONFS (sizeof confs / sizeof confs[0])

static int is_bindings(const struct whconf *w)
{
    return strcmp(w->name, VSG_WH_BINDINGS) == 0;
}

/* The configuration object's name: the webhook's, or in URL mode
 * VSG_WH_URL_PREFIX + it (in a static buffer per configuration). */
static const char *conf_name(const struct vsg_webhook *wh, const struct whconf *w)
{
    static _Thread_local char buf[256];
    if (!wh->url_base) return w->name;
    snprintf(buf, sizeof buf, "%s%s", VSG_WH_URL_PREFIX, w->name);
    return buf;
}

static void conf_path(struct vsg_buf *b, const struct vsg_webhook *wh, const struct whconf *w, int with_name)
{
    vsg_buf_reset(b);
    (void)vsg_kube_path(b, "admissionregistration.k8s.io/v1", NULL, w->resource,
                        with_name ? conf_name(wh, w) : NULL, NULL);
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
    cJSON *arr = cJSON_CreateArray(), *rules;
    struct vsg_error why;
    *skipped = 0;
    if (!arr) return NULL;
    vsg_kube_cache_each(vsg_kube_informer_cache(wh->binf), NULL, NULL, vsg__wh_collect, arr);
    rules = vsg_whrules_build(arr, resolve_kind, wh, skipped, &why);
    cJSON_Delete(arr);
    if (rules) {
        char msg[VSG_ERROR_MSG_MAX + 128];
        snprintf(msg, sizeof msg, "%s: %zu subject kind(s) left out of its rules (retrying): %s",
                 VSG_WH_BINDINGS, *skipped, why.msg);
        vsg__wh_log_changed(&wh->skip_why, *skipped ? msg : NULL);
    }
    return rules;
}

/* One matchExpressions entry: {key, operator, values: [v1, v2]} (v2 may
 * be NULL); the array takes it. 0, or -1 out of memory. */
static int add_expr(cJSON *arr, const char *key, const char *op, const char *v1, const char *v2)
{
    const char *vals[] = {v1, v2};
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddItemToArray(arr, e)) {
        cJSON_Delete(e);
        return -1;
    }
    return cJSON_AddStringToObject(e, "key", key) && cJSON_AddStringToObject(e, "operator", op) &&
                   cJSON_AddItemToObject(e, "values", cJSON_CreateStringArray(vals, v2 ? 2 : 1))
               ? 0
               : -1;
}

/*
 * The binding webhook's namespaceSelector (ns nonzero) or objectSelector,
 * as deploy/webhooks/700-webhook-configurations.yaml ships them (same
 * order, so the leader and `kubectl apply` agree). Namespaces: ours, in
 * both modes only those labelled bindings.knative.dev/include=true (the
 * VSphereBinding reconciler labels the namespaces of subjects), so that
 * workloads elsewhere never wait on this webhook; in exclusion mode also
 * not bindings.knative.dev/exclude=true; never kube-system nor the system
 * namespace. Objects: as psbinding, exclusion mode not
 * bindings.knative.dev/exclude=true, inclusion mode
 * bindings.knative.dev/include=true. NULL when out of memory.
 */
static cJSON *binding_selector(const struct vsg_webhook *wh, int ns)
{
    int incl = strcmp(wh->mode, "inclusion") == 0;
    cJSON *sel = cJSON_CreateObject();
    cJSON *exprs = sel ? cJSON_AddArrayToObject(sel, "matchExpressions") : NULL;
    int rc = exprs ? 0 : -1;
    if (ns) {
        if (!rc) rc = add_expr(exprs, VSG_WH_INCLUDE_LABEL, "In", "true", NULL);
        if (!rc && !incl) rc = add_expr(exprs, VSG_WH_EXCLUDE_LABEL, "NotIn", "true", NULL);
        if (!rc) rc = add_expr(exprs, "kubernetes.io/metadata.name", "NotIn", "kube-system", wh->system_ns);
    } else if (!rc) {
        rc = incl ? add_expr(exprs, VSG_WH_INCLUDE_LABEL, "In", "true", NULL)
                  : add_expr(exprs, VSG_WH_EXCLUDE_LABEL, "NotIn", "true", NULL);
    }
    if (rc) {
        cJSON_Delete(sel);
        return NULL;
    }
    return sel;
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

/* The webhooks array of a URL-mode configuration. */
static cJSON *url_webhooks(struct vsg_webhook *wh, const struct whconf *w, const char *ca64,
                           const cJSON *rules)
{
    struct vsg_buf b;
    cJSON *out = NULL;
    vsg_buf_init(&b, 64 * 1024);
    enum vsg_err rc = vsg_buf_printf(
        &b,
        "[{\"name\":\"%s\",\"admissionReviewVersions\":[\"v1\"],"
        "\"clientConfig\":{\"url\":\"%s%s\",\"caBundle\":\"%s\"},"
        "\"failurePolicy\":\"Fail\",\"sideEffects\":\"None\",\"timeoutSeconds\":10,"
        "\"matchPolicy\":\"Equivalent\",",
        w->name, wh->url_base, w->path, ca64);
    if (rc == VSG_OK && w->mutating) rc = vsg_buf_puts(&b, "\"reinvocationPolicy\":\"IfNeeded\",");
    if (rc == VSG_OK && !is_bindings(w)) {
        rc = vsg_buf_puts(&b, "\"rules\":[{\"apiGroups\":[\"sources.tanzu.vmware.com\"],"
                              "\"apiVersions\":[\"v1alpha1\"],\"operations\":[\"CREATE\",\"UPDATE\"],"
                              "\"resources\":[\"vspheresources\",\"vspherebindings\"],"
                              "\"scope\":\"Namespaced\"}]}]");
    } else if (rc == VSG_OK) {
        /* The selectors and the rules (which follow the bindings) are
         * added below. */
        rc = vsg_buf_puts(&b, "\"rules\":[]}]");
    }
    if (rc == VSG_OK) out = cJSON_ParseWithLength(b.data, b.len);
    vsg_buf_cleanup(&b);
    if (out && is_bindings(w)) {
        cJSON *h = cJSON_GetArrayItem(out, 0);
        cJSON *nsel = binding_selector(wh, 1), *osel = binding_selector(wh, 0);
        if (!nsel || !osel || set_field(h, "namespaceSelector", nsel) < 0 ||
            set_field(h, "objectSelector", osel) < 0 || set_field(h, "rules", rules) < 0) {
            cJSON_Delete(out);
            out = NULL;
        }
        cJSON_Delete(nsel);
        cJSON_Delete(osel);
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

/* In Service mode: the caBundle of every webhook, and the rules and the
 * selectors (binding_selector()) of the binding webhook. Nonzero when
 * `cur` changed; -1 out of memory. */
static int update_service_conf(const struct vsg_webhook *wh, const struct whconf *w, cJSON *cur,
                               const char *ca64, const cJSON *rules)
{
    cJSON *h;
    int changed = 0;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(cur, "webhooks")) {
        cJSON *cc = cJSON_GetObjectItemCaseSensitive(h, "clientConfig");
        if (!cJSON_IsObject(cc)) continue;
        const char *bundle = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cc, "caBundle"));
        if (!bundle || strcmp(bundle, ca64) != 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(cc, "caBundle");
            cJSON_AddStringToObject(cc, "caBundle", ca64);
            changed = 1;
        }
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "name"));
        if (is_bindings(w) && same_str(name, VSG_WH_BINDINGS)) {
            cJSON *nsel = binding_selector(wh, 1), *osel = binding_selector(wh, 0);
            int a = nsel ? set_field(h, "namespaceSelector", nsel) : -1;
            int o = osel ? set_field(h, "objectSelector", osel) : -1;
            int r = set_field(h, "rules", rules);
            cJSON_Delete(nsel);
            cJSON_Delete(osel);
            if (a < 0 || o < 0 || r < 0) return -1;
            if (a || o || r) changed = 1;
        }
    }
    return changed;
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
    for (size_t i = 0; i < NCONFS; i++) {
        const struct whconf *w = &confs[i];
        cJSON *cur = NULL;
        if (w->service_only && wh->url_base) continue;
        conf_path(&p, wh, w, 1);
        enum vsg_err rc = vsg_kube_get(wh->client, p.data, &cur, &err);
        if (rc == VSG_ERR_NOTFOUND && !wh->url_base) continue;
        if (rc != VSG_OK && rc != VSG_ERR_NOTFOUND) {
            VSG_LOG_WARN(LOGGER, "reading %s: %s", w->name, err.msg);
            worst = rc;
            continue;
        }
        int changed = 0;
        if (wh->url_base) {
            cJSON *hooks = url_webhooks(wh, w, ca64, rules);
            if (!hooks) {
                cJSON_Delete(cur);
                worst = VSG_ERR_NOMEM;
                continue;
            }
            if (!cur) {
                cur = cJSON_CreateObject();
                cJSON *md = cJSON_AddObjectToObject(cur, "metadata");
                cJSON_AddStringToObject(cur, "apiVersion", "admissionregistration.k8s.io/v1");
                cJSON_AddStringToObject(cur, "kind", w->mutating ? "MutatingWebhookConfiguration"
                                                                 : "ValidatingWebhookConfiguration");
                cJSON_AddStringToObject(md, "name", conf_name(wh, w));
                cJSON *labels = cJSON_AddObjectToObject(md, "labels");
                cJSON_AddStringToObject(labels, "sources.tanzu.vmware.com/webhook-mode", "url");
                cJSON_AddItemToObject(cur, "webhooks", hooks);
                conf_path(&p, wh, w, 0);
                rc = vsg_kube_create(wh->client, p.data, cur, NULL, &err);
                if (rc == VSG_OK)
                    VSG_LOG_INFO(LOGGER, "registered %s at %s%s", conf_name(wh, w), wh->url_base, w->path);
                else VSG_LOG_WARN(LOGGER, "creating %s: %s", w->name, err.msg);
                if (rc != VSG_OK) worst = rc;
                cJSON_Delete(cur);
                continue;
            }
            const cJSON *had = cJSON_GetObjectItemCaseSensitive(cur, "webhooks");
            changed = cJSON_GetArraySize(had) != cJSON_GetArraySize(hooks) ||
                      !webhook_matches(cJSON_GetArrayItem(hooks, 0), cJSON_GetArrayItem(had, 0));
            if (changed) cJSON_ReplaceItemInObjectCaseSensitive(cur, "webhooks", hooks);
            else cJSON_Delete(hooks);
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
    for (size_t i = 0; i < NCONFS; i++) {
        cJSON *cur = NULL;
        char want[1024];
        conf_path(&p, wh, &confs[i], 1);
        enum vsg_err rc = vsg_kube_get(wh->client, p.data, &cur, &err);
        const char *url = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(
                cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cur, "webhooks"), 0), "clientConfig"),
            "url"));
        snprintf(want, sizeof want, "%s%s", wh->url_base, confs[i].path);
        int ours = rc == VSG_OK && url && strcmp(url, want) == 0;
        cJSON_Delete(cur);
        if (rc != VSG_OK) {
            if (rc != VSG_ERR_NOTFOUND) VSG_LOG_WARN(LOGGER, "reading %s: %s", confs[i].name, err.msg);
            continue;
        }
        if (!ours) continue;
        rc = vsg_kube_delete(wh->client, p.data, &err);
        if (rc == VSG_OK) VSG_LOG_INFO(LOGGER, "unregistered %s", conf_name(wh, &confs[i]));
        else if (rc != VSG_ERR_NOTFOUND) VSG_LOG_WARN(LOGGER, "deleting %s: %s", confs[i].name, err.msg);
    }
    vsg_buf_cleanup(&p);
}


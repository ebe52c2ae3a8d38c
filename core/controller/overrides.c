/*
 * controller/overrides.c - the ConfigMaps of the system namespace: the Lua
 * overrides (read, applied between two reconciles, rejected with an Event),
 * config-logging and config-observability (see controller.h and internal.h).
 */
#include "controller/internal.h"

#include "base/log.h"

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
            vsg_ctl_free_sources(m, i + 1);
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
    vsg_ctl_free_sources(ctl->ovr.mods, ctl->ovr.n);
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

void vsg__ctl_on_system_cm(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
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

/* Reports a rejected override: log and a Warning Event on the ConfigMap. */
void vsg__ctl_report_override(struct rec *r, const char *uid, const char *msg)
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
void vsg__ctl_apply_overrides(struct rec *r)
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
    enum vsg_err rc = ok ? vsg__ctl_load_script(r, mods, n, &err) : vsg_error_set(&err, VSG_ERR_NOMEM, NULL);
    vsg_ctl_free_sources(mods, n);
    pthread_mutex_lock(&r->mmu);
    if (rc == VSG_OK) r->reload_ok++;
    else r->reload_err++;
    pthread_mutex_unlock(&r->mmu);
    if (rc != VSG_OK) {
        vsg__ctl_report_override(r, uid, err.msg);
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
                vsg__ctl_enqueue(r, keys[i]);
                vsg_free(keys[i]);
            }
            vsg_free(keys);
        }
    }
}

/* Reads the overrides ConfigMap once at start-up (absent is fine). */
void vsg__ctl_initial_overrides(struct vsg_ctl *ctl)
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
        vsg_ctl_free_sources(*mods, *n);
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

void vsg_ctl_free_sources(struct vsg_lua_source *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vsg_free((char *)m[i].name);
        vsg_free((char *)m[i].text);
    }
    vsg_free(m);
}


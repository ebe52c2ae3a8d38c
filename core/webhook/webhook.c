/*
 * webhook/webhook.c - the webhook's life cycle, its wake-ups and the
 * manager thread (see webhook.h, and internal.h for the other files).
 *
 * Threads: the server's pool (handlers; each takes a free Lua slot), the
 * informers' threads, one manager (certificates and, while leading, the
 * webhook configurations). The informers and the elector only wake the
 * manager (kick()); it alone uses the manager's client and discovery.
 */
#include "webhook/internal.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "kube/informer.h"

/* ====================================================================
 * Wake-ups (informer and elector threads)
 * ==================================================================== */

static int leading(struct vsg_webhook *wh)
{
    return !wh->o.ctl || vsg_ctl_leading(wh->o.ctl);
}

/* Asks the manager for a pass now. */
static void kick(struct vsg_webhook *wh)
{
    pthread_mutex_lock(&wh->cmu);
    wh->kicked = 1;
    pthread_cond_broadcast(&wh->ccond);
    pthread_mutex_unlock(&wh->cmu);
}

static const char *subject_str(const cJSON *b, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "spec"), "subject"), k));
}

/* A binding came, went or changed its subject's kind: the rules may
 * change. */
static void on_binding(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
{
    if (t == VSG_KUBE_EVENT_UPDATE &&
        same_str(subject_str(obj, "apiVersion"), subject_str(old, "apiVersion")) &&
        same_str(subject_str(obj, "kind"), subject_str(old, "kind")))
        return;
    kick(ud);
}

/* The Secret changed: the leader checks it, the others serve it. */
static void on_secret(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old)
{
    if (t == VSG_KUBE_EVENT_UPDATE && obj == old) return; /* A resync. */
    kick(ud);
}

static void on_leader(void *ud, int lead)
{
    (void)lead;
    kick(ud);
}

/* Waits up to `ms`, or until kicked or stopping (cmu held). */
static void wait_kick(struct vsg_webhook *wh, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    while (!wh->stopping && !wh->kicked)
        if (pthread_cond_timedwait(&wh->ccond, &wh->cmu, &ts) != 0) break;
}

/*
 * The manager: a pass every check period, and whenever a binding, the
 * Secret or the leadership changes. The leader keeps the Secret's
 * certificates valid and the configurations in line (caBundle, rules);
 * the others serve what the Secret holds and write nothing. After a
 * failed pass (or with subject kinds left out of the rules) it retries
 * sooner, backing off.
 */
static void *cert_manager(void *arg)
{
    struct vsg_webhook *wh = arg;
    int was = -1;
    int64_t every = wh->o.cert_check_ms > 0 ? wh->o.cert_check_ms : 60000;
    int64_t retry = RETRY_MIN_MS;
    pthread_mutex_lock(&wh->cmu);
    while (!wh->stopping) {
        wh->kicked = 0;
        pthread_mutex_unlock(&wh->cmu);
        int lead = leading(wh), ok = 1;
        if (lead != was) {
            if (lead)
                VSG_LOG_INFO(LOGGER, "leading: keeping Secret %s/%s and the webhook configurations",
                             wh->system_ns, VSG_WH_SECRET);
            else if (was != -1)
                VSG_LOG_INFO(LOGGER, "not leading: serving what Secret %s/%s holds", wh->system_ns,
                             VSG_WH_SECRET);
            was = lead;
        }
        vsg__wh_cert_pass(wh, lead);
        if (lead) {
            size_t skipped = 0;
            ok = wh->certs.ca_pem && vsg__wh_sync_configs(wh, &skipped) == VSG_OK && !skipped;
        }
        int64_t wait = every;
        if (ok) {
            retry = RETRY_MIN_MS;
        } else {
            wait = retry < every ? retry : every;
            retry = retry * 2 < every ? retry * 2 : every;
        }
        pthread_mutex_lock(&wh->cmu);
        wait_kick(wh, wait);
    }
    pthread_mutex_unlock(&wh->cmu);
    return NULL;
}

/* ====================================================================
 * Life cycle
 * ==================================================================== */

static char *xdup(const char *s)
{
    return s ? vsg_strdup(s) : NULL;
}

struct vsg_webhook *vsg_webhook_new(const struct vsg_webhook_opts *o, struct vsg_error *err)
{
    struct vsg_webhook *wh = vsg_calloc(1, sizeof *wh);
    pthread_condattr_t ca;
    struct vsg_buf b;
    if (!wh) {
        vsg_error_set(err, VSG_ERR_NOMEM, "webhook: out of memory");
        return NULL;
    }
    wh->o = *o;
    vsg_lua_limits_fill(&wh->o.filter_max, (struct vsg_lua_limits)VSG_FILTER_LIMITS_MAX_DEFAULT);
    pthread_mutex_init(&wh->smu, NULL);
    pthread_cond_init(&wh->scond, NULL);
    pthread_mutex_init(&wh->cmu, NULL);
    pthread_mutex_init(&wh->mmu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&wh->ccond, &ca);
    pthread_condattr_destroy(&ca);
    wh->system_ns = xdup(o->system_ns);
    wh->lua_root = xdup(o->lua_root);
    wh->addr = xdup(o->addr ? o->addr : "0.0.0.0");
    wh->url_base = xdup(o->url_base);
    wh->service = xdup(o->service_name && *o->service_name ? o->service_name : VSG_WH_SERVICE);
    wh->mode = xdup(o->selection_mode && strcmp(o->selection_mode, "inclusion") == 0 ? "inclusion"
                                                                                   : "exclusion");
    if (!wh->system_ns || !wh->lua_root || !wh->addr || !wh->mode || !wh->service ||
        (o->url_base && !wh->url_base))
        goto nomem;
    if (wh->url_base) {
        size_t n = strlen(wh->url_base);
        while (n && wh->url_base[n - 1] == '/') wh->url_base[--n] = '\0';
        if (strncmp(wh->url_base, "https://", 8) != 0) {
            vsg_error_set(err, VSG_ERR_INVAL, "--webhook-url-base must start with https://");
            goto fail;
        }
    }
    vsg_buf_init(&b, 16384);
    if (vsg_buf_printf(&b, "%s/?.lua;%s/?/init.lua", wh->lua_root, wh->lua_root) != VSG_OK ||
        !(wh->search_path = vsg_buf_steal(&b))) {
        vsg_buf_cleanup(&b);
        goto nomem;
    }
    vsg_buf_cleanup(&b);
    if (vsg__wh_load_configurations(wh, err) != VSG_OK) goto fail;
    if (!(wh->client = vsg_kube_client_new(o->cfg, err))) goto fail;
    if (!(wh->disco = vsg_kube_discovery_new())) goto nomem;
    wh->nslots = o->threads ? o->threads : 4;
    if (!(wh->slots = vsg_calloc(wh->nslots, sizeof *wh->slots))) goto nomem;
    struct vsg_lua_config lc = {
        .kind = VSG_LUA_KIND_ADMISSION, .limits = wh->o.admission_limits, .name = "vsgate.webhook.lua",
        .search_path = wh->search_path};
    for (size_t i = 0; i < wh->nslots; i++) {
        if (!(wh->slots[i].script = vsg_lua_script_new(&lc, NULL, err))) goto fail;
        vsg__wh_refresh_slot(wh, &wh->slots[i], 1);
        if (!vsg_lua_script_state(wh->slots[i].script)) {
            vsg_error_set(err, VSG_ERR_LUA, "webhook: the admission Lua code does not load (see the log)");
            goto fail;
        }
    }
    struct vsg_kube_informer_opts bo = {
        .name = "VSphereBinding@webhook", .api_version = "sources.tanzu.vmware.com/v1alpha1",
        .kind = "VSphereBinding", .resource = "vspherebindings"};
    struct vsg_kube_informer_opts no = {
        .name = "Namespace@webhook", .api_version = "v1", .kind = "Namespace", .resource = "namespaces"};
    struct vsg_kube_informer_opts so = {
        .name = "Secret@webhook", .api_version = "v1", .kind = "Secret", .resource = "secrets",
        .ns = wh->system_ns, .field_selector = "metadata.name=" VSG_WH_SECRET};
    if (!(wh->binf = vsg_kube_informer_new(o->cfg, &bo, err)) ||
        !(wh->nsinf = vsg_kube_informer_new(o->cfg, &no, err)) ||
        !(wh->secinf = vsg_kube_informer_new(o->cfg, &so, err)))
        goto fail;
    if (vsg_kube_informer_add_handler(wh->binf, on_binding, wh) != VSG_OK ||
        vsg_kube_informer_add_handler(wh->secinf, on_secret, wh) != VSG_OK)
        goto nomem;
    return wh;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "webhook: out of memory");
fail:
    vsg_webhook_free(wh);
    return NULL;
}

/* The first certificates: the leader's (made when the Secret has none
 * usable), or, on the other replicas, the Secret's once the leader wrote
 * it (leadership may also come meanwhile). */
static enum vsg_err first_certs(struct vsg_webhook *wh, struct vsg_error *err)
{
    int64_t deadline = vsg_time_mono_ms() + START_CERTS_MS;
    for (;;) {
        enum vsg_err rc = vsg__wh_current_certs(wh, leading(wh), &wh->certs, err);
        if (rc != VSG_OK) return rc;
        if (wh->certs.cert_pem) return VSG_OK;
        if (vsg_time_mono_ms() >= deadline)
            return vsg_error_set(err, VSG_ERR_TIMEOUT,
                                 "webhook: no usable certificates in Secret %s/%s after %d s, and "
                                 "this replica does not lead (is the leader running?)",
                                 wh->system_ns, VSG_WH_SECRET, START_CERTS_MS / 1000);
        pthread_mutex_lock(&wh->cmu);
        wh->kicked = 0;
        wait_kick(wh, 500);
        pthread_mutex_unlock(&wh->cmu);
    }
}

enum vsg_err vsg_webhook_start(struct vsg_webhook *wh, struct vsg_error *err)
{
    enum vsg_err rc;
    if (wh->started) return vsg_error_set(err, VSG_ERR_INVALIDSTATE, "webhook already started");
    wh->started = 1;
    if ((rc = vsg_kube_informer_start(wh->binf, err)) != VSG_OK ||
        (rc = vsg_kube_informer_start(wh->nsinf, err)) != VSG_OK ||
        (rc = vsg_kube_informer_start(wh->secinf, err)) != VSG_OK)
        return rc;
    if (vsg_kube_informer_wait_synced(wh->binf, 30000) != VSG_OK ||
        vsg_kube_informer_wait_synced(wh->nsinf, 30000) != VSG_OK ||
        vsg_kube_informer_wait_synced(wh->secinf, 30000) != VSG_OK)
        return vsg_error_set(err, VSG_ERR_TIMEOUT, "webhook: VSphereBindings, Namespaces and Secret "
                                                   "%s not listed within 30 s", VSG_WH_SECRET);
    if (wh->o.ctl) {
        if (vsg_ctl_add_leader_hook(wh->o.ctl, on_leader, wh) != VSG_OK)
            return vsg_error_set(err, VSG_ERR_NOMEM, "webhook: too many leadership hooks");
        wh->hooked = 1;
    }
    if ((rc = first_certs(wh, err)) != VSG_OK) return rc;
    struct vsg_http_server_opts so = {
        .name = "webhook", .addr = wh->addr, .port = wh->o.port, .threads = (unsigned)wh->nslots,
        .max_body = MAX_BODY, .timeout_s = IDLE_TIMEOUT_S, .cert_pem = wh->certs.cert_pem,
        .key_pem = wh->certs.key_pem};
    if (!(wh->srv = vsg_http_server_new(&so, err))) return err->code;
    if ((rc = vsg_http_server_route(wh->srv, "POST", "/defaulting", vsg__wh_h_defaulting, wh, err)) != VSG_OK ||
        (rc = vsg_http_server_route(wh->srv, "POST", "/resource-validation", vsg__wh_h_validation, wh, err)) !=
            VSG_OK ||
        (rc = vsg_http_server_route(wh->srv, "POST", "/vspherebindings", vsg__wh_h_bindings, wh, err)) != VSG_OK ||
        (rc = vsg_http_server_route(wh->srv, "POST", "/uninstall", vsg__wh_h_uninstall, wh, err)) != VSG_OK ||
        (rc = vsg_http_server_add_healthz(wh->srv, "/healthz", NULL, NULL, err)) != VSG_OK ||
        (rc = vsg_http_server_start(wh->srv, err)) != VSG_OK)
        return rc;
    VSG_LOG_INFO(LOGGER, "webhook on https://%s:%u (%zu workers, %s mode%s%s)", wh->addr,
                 vsg_http_server_port(wh->srv), wh->nslots, wh->mode,
                 wh->url_base ? ", registered by URL " : "", wh->url_base ? wh->url_base : "");
    if (pthread_create(&wh->mgr, NULL, cert_manager, wh) != 0)
        return vsg_error_set(err, VSG_ERR_NOMEM, "webhook: cannot start a thread");
    wh->mgr_started = 1;
    return VSG_OK;
}

void vsg_webhook_stop(struct vsg_webhook *wh)
{
    if (!wh) return;
    if (wh->hooked) {
        vsg_ctl_remove_leader_hook(wh->o.ctl, on_leader, wh);
        wh->hooked = 0;
    }
    pthread_mutex_lock(&wh->cmu);
    wh->stopping = 1;
    pthread_cond_broadcast(&wh->ccond);
    pthread_mutex_unlock(&wh->cmu);
    /* The informers wind down meanwhile, with the controller's (each takes
     * up to a second to see it; vsg_webhook_free() joins them). */
    if (wh->binf) vsg_kube_informer_cancel(wh->binf);
    if (wh->nsinf) vsg_kube_informer_cancel(wh->nsinf);
    if (wh->secinf) vsg_kube_informer_cancel(wh->secinf);
    if (wh->mgr_started) {
        pthread_join(wh->mgr, NULL);
        wh->mgr_started = 0;
    }
    /* Only the leader registered them (and a new leader's stay). */
    if (wh->url_base && wh->started && wh->client && leading(wh)) vsg__wh_delete_url_configs(wh);
    wh->started = 0;
    if (wh->srv) vsg_http_server_stop(wh->srv);
}

void vsg_webhook_drain(struct vsg_webhook *wh)
{
    if (wh && wh->srv) vsg_http_server_drain(wh->srv);
}

void vsg_webhook_free(struct vsg_webhook *wh)
{
    if (!wh) return;
    vsg_webhook_stop(wh);
    vsg_http_server_free(wh->srv);
    vsg_kube_informer_free(wh->binf);
    vsg_kube_informer_free(wh->nsinf);
    vsg_kube_informer_free(wh->secinf);
    vsg_kube_discovery_free(wh->disco);
    for (size_t i = 0; wh->slots && i < wh->nslots; i++) vsg_lua_script_free(wh->slots[i].script);
    vsg_free(wh->slots);
    vsg_kube_client_free(wh->client);
    vsg_certs_cleanup(&wh->certs);
    vsg_free(wh->system_ns);
    vsg_free(wh->service);
    vsg_free(wh->lua_root);
    vsg_free(wh->search_path);
    vsg_lua_script_free(wh->conf_script);
    vsg_free(wh->confs);
    cJSON_Delete(wh->conf_doc);
    vsg_free(wh->addr);
    vsg_free(wh->url_base);
    vsg_free(wh->mode);
    vsg_free(wh->certs_why);
    vsg_free(wh->skip_why);
    pthread_cond_destroy(&wh->scond);
    pthread_mutex_destroy(&wh->smu);
    pthread_cond_destroy(&wh->ccond);
    pthread_mutex_destroy(&wh->cmu);
    vsg__strmap_cleanup(&wh->kn_rows, vsg_free);
    pthread_mutex_destroy(&wh->mmu);
    vsg_free(wh);
}

unsigned vsg_webhook_port(const struct vsg_webhook *wh)
{
    return wh->srv ? vsg_http_server_port(wh->srv) : 0;
}


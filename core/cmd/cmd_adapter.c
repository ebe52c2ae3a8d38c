/*
 * cmd/cmd_adapter.c - `vsgate adapter`: the receive adapter of one
 * VSphereSource, configured by exactly the environment the controller
 * writes into its Deployment (CONTRACTS §2-3), with the checkpoint in
 * ConfigMap $VSPHERE_KVSTORE_CONFIGMAP of $NAMESPACE.
 *
 * Environment (compat): VC_URL (required), VC_INSECURE, VC_SECRET_PATH
 * (files username, password; default /var/bindings/vsphere), K_SINK
 * (required), NAMESPACE, NAME, K_CE_OVERRIDES, K_SINK_TIMEOUT (seconds),
 * K_LOGGING_CONFIG, VSPHERE_KVSTORE_CONFIGMAP (required),
 * VSPHERE_CHECKPOINT_CONFIG, VSPHERE_PAYLOAD_ENCODING.
 * Ours: VSPHERE_CA_CERTS (PEM trusted besides the system roots),
 * VSPHERE_DELIVERY (JSON {"retry","backoffPolicy","backoffDelay",
 * "deadLetterSink"}), VSPHERE_PAGE_SIZE (1..1000, default 100),
 * VSPHERE_WAIT (updates|poll), VSPHERE_BATCH_WAIT_MS (0..1000, default 20:
 * how long to let a burst gather after a wake), KUBECONFIG (outside a cluster),
 * VSPHERE_FILTER_CONFIGMAP (spec.filter.configMapRef.name: the Lua filter,
 * watched and hot-reloaded; unset: no filter), VSPHERE_FILTER_KEY (its
 * key, default filter.lua), VSPHERE_FILTER_ON_ERROR (deliver|drop),
 * VSPHERE_FILTER_LIMITS (spec.filter.limits: "instructions=N,memory=N,
 * timeoutMs=N", any subset; unset: the filter defaults),
 * VSPHERE_SESSION_FILE (where the vCenter session is kept so that a
 * restart after a kill logs it out: soap/session.h), see
 * filter/filter_watch.h for what the service account then needs.
 * VSPHERE_HEALTH_PORT (unset or 0: none; the reconciler sets 8080) and
 * VSPHERE_HEALTH_ADDR (default 0.0.0.0): /healthz, and /readyz which is
 * 200 only while logged in to vCenter and reading events (the Deployment's
 * readinessProbe); each change of that state is also written to the
 * checkpoint ConfigMap as key `vcenter` ({"ready":..,"message":..}), which
 * the controller turns into the source's AdapterReady.
 * Metrics (compat, Knative's env contract): K_METRICS_CONFIG (the JSON of
 * knative metrics.ExporterOptions the controller writes) names the
 * component, the series prefix of Knative's source metrics
 * (<component>_event_count, <component>_retry_event_count; tags name =
 * $NAME, namespace_name = $NAMESPACE, resource_group = $K_RESOURCE_GROUP,
 * default adapter.sources.knative.dev), and the Prometheus port:
 * PrometheusPort, else METRICS_PROMETHEUS_PORT, else 9090 (0: none), on
 * METRICS_PROMETHEUS_HOST, else PrometheusHost, else 0.0.0.0. /metrics
 * also serves vsgate_adapter_* (adapter/adapter.h). Without K_METRICS_CONFIG,
 * or without a Component in it, or with metrics.backend-destination
 * "none", nothing is served, as with Knative's adapters; a backend other
 * than prometheus (opencensus) is logged once and Prometheus is served
 * all the same. A port that cannot be bound is logged; events flow on.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/url.h"
#include "checkpoint/configmap_store.h"
#include "adapter/adapter.h"
#include "cmd/cmd.h"
#include "filter/filter_stage.h"
#include "filter/filter_watch.h"
#include "cmd/util.h"
#include "http/client.h"
#include "http/server.h"
#include "kube/client.h"
#include "kube/config.h"
#include "soap/session.h"

#define LG "vsgate.adapter"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Parses VSPHERE_DELIVERY into the config; the DLS URL is returned owned. */
static enum vsg_err parse_delivery(const char *json, struct vsg_adapter_config *cfg, char **dls,
                                   struct vsg_error *err)
{
    enum vsg_err rc = VSG_OK;
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "VSPHERE_DELIVERY: not a JSON object");
        goto done;
    }
    char retry[32] = "";
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "retry");
    if (r && !cJSON_IsNull(r)) {
        /* Bounded before the cast: a double beyond long is undefined behaviour. */
        if (!cJSON_IsNumber(r) || !(r->valuedouble >= 0 && r->valuedouble <= INT32_MAX) ||
            r->valuedouble != (double)(long)r->valuedouble) {
            rc = vsg_error_set(err, VSG_ERR_INVAL, "VSPHERE_DELIVERY: retry must be a whole number from 0 to %ld",
                               (long)INT32_MAX);
            goto done;
        }
        snprintf(retry, sizeof retry, "%ld", (long)r->valuedouble);
    }
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "backoffPolicy");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "backoffDelay");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "deadLetterSink");
    if ((p && !cJSON_IsString(p) && !cJSON_IsNull(p)) || (d && !cJSON_IsString(d) && !cJSON_IsNull(d)) ||
        (s && !cJSON_IsString(s) && !cJSON_IsNull(s))) {
        rc = vsg_error_set(err, VSG_ERR_INVAL,
                           "VSPHERE_DELIVERY: backoffPolicy, backoffDelay and deadLetterSink must be strings");
        goto done;
    }
    rc = vsg_ce_delivery_parse(retry[0] ? retry : NULL, cJSON_IsString(p) ? p->valuestring : NULL,
                               cJSON_IsString(d) ? d->valuestring : NULL, &cfg->delivery, err);
    if (rc != VSG_OK) goto done;
    if (cJSON_IsString(s) && *s->valuestring) {
        if ((rc = vsg_check_http_url("VSPHERE_DELIVERY: deadLetterSink", s->valuestring, err)) != VSG_OK)
            goto done;
        *dls = vsg_strdup(s->valuestring);
        if (!*dls) rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
    }
done:
    cJSON_Delete(root);
    return rc;
}

/* ====================================================================
 * Metrics: K_METRICS_CONFIG, and /metrics
 * ==================================================================== */

/* knative pkg's defaultPrometheusPort. */
#define DEFAULT_METRICS_PORT 9090

struct metrics_setup {
    char component[128]; /* K_METRICS_CONFIG's Component. */
    char addr[64];       /* Listen address. */
    unsigned port;       /* 0: /metrics is not served. */
};

/* What K_METRICS_CONFIG (and the METRICS_* env) ask for. A value that is
 * not what Knative writes there stops the start (VSG_ERR_INVAL). */
static enum vsg_err parse_metrics_config(const char *json, struct metrics_setup *ms, struct vsg_error *err)
{
    enum vsg_err rc = VSG_OK;
    cJSON *root = NULL;
    memset(ms, 0, sizeof *ms);
    if (!json) {
        VSG_LOG_DEBUG(LG, "K_METRICS_CONFIG is not set: /metrics is not served");
        return VSG_OK;
    }
    root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) {
        rc = vsg_error_set(err, VSG_ERR_INVAL, "K_METRICS_CONFIG: not a JSON object");
        goto done;
    }
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(root, "Component");
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(root, "PrometheusPort");
    const cJSON *host = cJSON_GetObjectItemCaseSensitive(root, "PrometheusHost");
    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(root, "ConfigMap");
    if ((comp && !cJSON_IsString(comp) && !cJSON_IsNull(comp)) ||
        (host && !cJSON_IsString(host) && !cJSON_IsNull(host)) || (cm && !cJSON_IsObject(cm) && !cJSON_IsNull(cm))) {
        rc = vsg_error_set(err, VSG_ERR_INVAL,
                           "K_METRICS_CONFIG: Component and PrometheusHost must be strings, ConfigMap an object");
        goto done;
    }
    long long p = 0;
    if (port && !cJSON_IsNull(port)) {
        if (!cJSON_IsNumber(port) || !(port->valuedouble >= 0 && port->valuedouble <= 65535) ||
            port->valuedouble != (double)(long)port->valuedouble) {
            rc = vsg_error_set(err, VSG_ERR_INVAL, "K_METRICS_CONFIG: PrometheusPort must be a TCP port (0: default)");
            goto done;
        }
        p = (long long)port->valuedouble;
    }
    if (p == 0 && env("METRICS_PROMETHEUS_PORT")) {
        if ((rc = vsg_parse_int("METRICS_PROMETHEUS_PORT", env("METRICS_PROMETHEUS_PORT"), 0, 65535,
                                "a TCP port", &p, err)) != VSG_OK)
            goto done;
        if (p == 0) {
            VSG_LOG_INFO(LG, "METRICS_PROMETHEUS_PORT is 0: /metrics is not served");
            goto done;
        }
    }
    if (p == 0) p = DEFAULT_METRICS_PORT;
    if (!cJSON_IsString(comp) || !*comp->valuestring) {
        VSG_LOG_INFO(LG, "K_METRICS_CONFIG names no Component: /metrics is not served");
        goto done;
    }
    /* The backend: DEFAULT_METRICS_BACKEND, else prometheus; the ConfigMap's wins. */
    const char *backend = env("DEFAULT_METRICS_BACKEND") ? env("DEFAULT_METRICS_BACKEND") : "prometheus";
    const cJSON *bd = cJSON_GetObjectItemCaseSensitive(cm, "metrics.backend-destination");
    if (cJSON_IsString(bd) && *bd->valuestring) backend = bd->valuestring;
    if (strcasecmp(backend, "none") == 0) {
        VSG_LOG_INFO(LG, "metrics.backend-destination is none: /metrics is not served");
        goto done;
    }
    snprintf(ms->component, sizeof ms->component, "%s", comp->valuestring);
    snprintf(ms->addr, sizeof ms->addr, "%s",
             env("METRICS_PROMETHEUS_HOST")                 ? env("METRICS_PROMETHEUS_HOST")
             : cJSON_IsString(host) && *host->valuestring ? host->valuestring
                                                            : "0.0.0.0");
    ms->port = (unsigned)p;
    if (strcasecmp(backend, "prometheus") != 0)
        VSG_LOG_WARN(LG, "metrics.backend-destination \"%s\": vsgate exports metrics only for Prometheus; serving "
                         "them on %s:%u/metrics instead", backend, ms->addr, ms->port);
done:
    cJSON_Delete(root);
    return rc;
}

struct metrics_src {
    struct vsg_ce_metrics *ce;          /* Knative's source metrics. */
    struct vsg_adapter_metrics *engine; /* vsgate_adapter_*. */
};

static enum vsg_err h_metrics(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    struct metrics_src *src = ud;
    (void)rq;
    enum vsg_err rc = vsg_http_resp_header(rs, "Content-Type", "text/plain; version=0.0.4");
    if (rc == VSG_OK) rc = vsg_ce_metrics_write(src->ce, &rs->body);
    if (rc == VSG_OK) rc = vsg_adapter_metrics_write(src->engine, &rs->body);
    return rc;
}

/* ====================================================================
 * vCenter state: /readyz, and key `vcenter` of the checkpoint ConfigMap
 * ==================================================================== */

/* The key of the checkpoint ConfigMap the adapter reports vCenter's state in. */
#define VCENTER_KEY "vcenter"

struct vc_health {
    pthread_mutex_t mu;          /* Guards state and msg (the server's threads read). */
    int state;                   /* 0: not yet; 1: logged in and reading; -1: failing. */
    char msg[512];               /* Why it fails. */
    struct vsg_kube_client *kc;  /* The engine thread's client (the store's). */
    const char *ns, *cm;         /* The checkpoint ConfigMap. */
};

static struct vc_health health = {PTHREAD_MUTEX_INITIALIZER, 0, "", NULL, NULL, NULL};

/* Puts `value` as key VCENTER_KEY of the checkpoint ConfigMap: read,
 * change, write (the adapter's role may update it, not patch it), again
 * on a conflict with a checkpoint save. */
static enum vsg_err put_vcenter_key(struct vc_health *h, const char *value, struct vsg_error *err)
{
    enum vsg_err rc = VSG_ERR_CONFLICT;
    for (int attempt = 0; attempt < 3 && rc == VSG_ERR_CONFLICT; attempt++) {
        cJSON *cm = NULL, *data;
        rc = vsg_kube_configmap_get(h->kc, h->ns, h->cm, &cm, err);
        if (rc == VSG_OK) {
            data = cJSON_GetObjectItemCaseSensitive(cm, "data");
            if (!cJSON_IsObject(data)) {
                cJSON_DeleteItemFromObjectCaseSensitive(cm, "data");
                data = cJSON_AddObjectToObject(cm, "data");
            }
            cJSON_DeleteItemFromObjectCaseSensitive(data, VCENTER_KEY);
            if (!data || !cJSON_AddStringToObject(data, VCENTER_KEY, value))
                rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
            else
                rc = vsg_kube_configmap_update(h->kc, h->ns, cm, NULL, err);
        }
        cJSON_Delete(cm);
    }
    return rc;
}

/* On the engine's thread: the state for /readyz, and the ConfigMap key. */
static void on_vcenter(void *ud, int ok, const char *message)
{
    struct vc_health *h = ud;
    pthread_mutex_lock(&h->mu);
    h->state = ok ? 1 : -1;
    snprintf(h->msg, sizeof h->msg, "%s", ok ? "" : message);
    pthread_mutex_unlock(&h->mu);
    if (!h->kc) return;
    cJSON *v = cJSON_CreateObject();
    char *text = NULL;
    struct vsg_error err;
    if (v && cJSON_AddBoolToObject(v, "ready", ok) && (ok || cJSON_AddStringToObject(v, "message", message)) &&
        (text = cJSON_PrintUnformatted(v)) && put_vcenter_key(h, text, &err) != VSG_OK)
        VSG_LOG_WARN(LG, "cannot report vCenter's state in ConfigMap %s/%s: %s", h->ns, h->cm, err.msg);
    cJSON_free(text);
    cJSON_Delete(v);
}

static enum vsg_err ready_check(void *ud, struct vsg_error *why)
{
    struct vc_health *h = ud;
    enum vsg_err rc = VSG_OK;
    pthread_mutex_lock(&h->mu);
    if (h->state == 0) rc = vsg_error_set(why, VSG_ERR_INVALIDSTATE, "not logged in to vCenter yet");
    else if (h->state < 0) rc = vsg_error_set(why, VSG_ERR_INVALIDSTATE, "%s", h->msg);
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* Starts a server on addr:port with /healthz and /readyz (when
 * `health_routes`) and /metrics (when `metrics` is not NULL). NULL
 * (logged) when it cannot listen: events still flow. */
static struct vsg_http_server *start_server(const char *addr, unsigned port, int health_routes,
                                            struct metrics_src *metrics)
{
    struct vsg_http_server_opts o;
    struct vsg_error err;
    memset(&o, 0, sizeof o);
    o.name = health_routes ? "health" : "metrics";
    o.addr = addr;
    o.port = port;
    o.threads = 1;
    struct vsg_http_server *srv = vsg_http_server_new(&o, &err);
    if (!srv ||
        (health_routes && (vsg_http_server_add_healthz(srv, "/healthz", NULL, NULL, &err) != VSG_OK ||
                           vsg_http_server_add_healthz(srv, "/readyz", ready_check, &health, &err) != VSG_OK)) ||
        (metrics && vsg_http_server_route(srv, "GET", "/metrics", h_metrics, metrics, &err) != VSG_OK) ||
        vsg_http_server_start(srv, &err) != VSG_OK) {
        VSG_LOG_ERROR(LG, "%s on %s:%u, not served (events flow on): %s",
                      health_routes && metrics ? "health endpoints and /metrics"
                      : health_routes          ? "health endpoints"
                                               : "/metrics",
                      addr, port, err.msg);
        vsg_http_server_free(srv);
        return NULL;
    }
    if (metrics) VSG_LOG_INFO(LG, "metrics on http://%s:%u/metrics", addr, vsg_http_server_port(srv));
    return srv;
}

int vsg_cmd_adapter(int argc, char **argv)
{
    if (argc > 1) {
        printf("Usage: vsgate adapter\n\n"
               "The receive adapter of a VSphereSource; configured only by its environment:\n"
               "  VC_URL, VC_INSECURE, VC_SECRET_PATH, K_SINK, NAMESPACE, NAME, K_CE_OVERRIDES,\n"
               "  K_SINK_TIMEOUT, K_LOGGING_CONFIG, K_TRACING_CONFIG, VSPHERE_KVSTORE_CONFIGMAP,\n"
               "  VSPHERE_CHECKPOINT_CONFIG, VSPHERE_PAYLOAD_ENCODING,\n"
               "  VSPHERE_CA_CERTS, VSPHERE_DELIVERY, VSPHERE_PAGE_SIZE, VSPHERE_WAIT,\n"
               "  VSPHERE_BATCH_WAIT_MS, VSPHERE_SESSION_FILE, VSPHERE_SOURCE_NAME,\n"
               "  VSPHERE_CE_HEADER_ENCODING (raw, the default, or percent),\n"
               "  VSPHERE_HEALTH_PORT, VSPHERE_HEALTH_ADDR (/healthz, /readyz: logged in to vCenter),\n"
               "  K_METRICS_CONFIG, METRICS_PROMETHEUS_PORT, METRICS_PROMETHEUS_HOST, K_RESOURCE_GROUP\n"
               "  (/metrics: Knative's <component>_event_count and retry_event_count, vsgate_adapter_*),\n"
               "  VSPHERE_FILTER_CONFIGMAP, VSPHERE_FILTER_KEY, VSPHERE_FILTER_ON_ERROR,\n"
               "  VSPHERE_FILTER_LIMITS (instructions=N,memory=BYTES,timeoutMs=MS) (ours).\n"
               "VC_URL, K_SINK and VSPHERE_DELIVERY's deadLetterSink must be http:// or https://\n"
               "with a host; K_SINK_TIMEOUT is 0..86400 seconds.\n\n"
               "Exit status: 0 when stopped by SIGTERM or SIGINT; 2 for a bad setting (checked\n"
               "before anything starts, the message names the variable); 1 when it cannot go on.\n");
        return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 2;
    }
    static volatile sig_atomic_t stop;
    struct vsg_adapter_config cfg;
    struct vsg_error err = {0};
    struct vsg_ce_overrides ov;
    struct vsg_checkpoint_config cc;
    struct vsg_kube_config kcfg;
    struct vsg_kube_client *kc = NULL;
    struct vsg_checkpoint_store *store = NULL;
    struct vsg_http_server *hsrv = NULL, *msrv = NULL;
    struct metrics_setup ms;
    struct metrics_src msrc = {NULL, NULL};
    char *user = NULL, *pass = NULL, *dls = NULL;
    struct vsg_filter *filter = NULL;
    struct vsg_filter_watch *watch = NULL;
    enum vsg_filter_on_error on_error = VSG_FILTER_DELIVER;
    int rc = 2; /* Bad configuration, until it has all been checked. */

    vsg_log_level_from_env("vsphere-source-adapter");
    vsg_adapter_config_init(&cfg);
    vsg_ce_overrides_init(&ov);
    memset(&kcfg, 0, sizeof kcfg);
    cfg.logger = LG;

#define FAIL(...) do { VSG_LOG_ERROR(LG, __VA_ARGS__); goto out; } while (0)
    if (!(cfg.vc_url = env("VC_URL"))) FAIL("VC_URL is required");
    if (vsg_check_vcenter_url("VC_URL", cfg.vc_url, &err) != VSG_OK) FAIL("%s", err.msg);
    if (env("VC_INSECURE") && vsg_parse_bool(env("VC_INSECURE"), &cfg.insecure) != VSG_OK)
        FAIL("VC_INSECURE: invalid boolean \"%s\"", env("VC_INSECURE"));
    const char *sp = env("VC_SECRET_PATH") ? env("VC_SECRET_PATH") : "/var/bindings/vsphere";
    if (vsg_read_credentials(sp, NULL, NULL, &user, &pass, &err) != VSG_OK)
        FAIL("VC_SECRET_PATH: reading credentials: %s", err.msg);
    cfg.username = user;
    cfg.password = pass;
    cfg.ca_pem = env("VSPHERE_CA_CERTS");
    cfg.session_file = env("VSPHERE_SESSION_FILE");
    if (cfg.ca_pem && vsg_check_pem_certs("VSPHERE_CA_CERTS", cfg.ca_pem, strlen(cfg.ca_pem), NULL, &err) != VSG_OK)
        FAIL("%s", err.msg);
    if (!(cfg.sink = env("K_SINK"))) FAIL("K_SINK is required");
    if (vsg_check_http_url("K_SINK", cfg.sink, &err) != VSG_OK) FAIL("%s", err.msg);
    cfg.ns = env("NAMESPACE");
    /* The parsers' messages already start with the variable's name. */
    if (vsg_ce_overrides_parse(env("K_CE_OVERRIDES"), &ov, &err) != VSG_OK) FAIL("%s", err.msg);
    cfg.overrides = &ov;
    if (env("K_SINK_TIMEOUT")) {
        long long t;
        if (vsg_parse_int("K_SINK_TIMEOUT", env("K_SINK_TIMEOUT"), 0, VSG_SINK_TIMEOUT_MAX_S, "a number of seconds",
                          &t, &err) != VSG_OK)
            FAIL("%s", err.msg);
        cfg.sink_timeout_ms = (long)t * 1000;
    }
    if (vsg_checkpoint_config_parse(env("VSPHERE_CHECKPOINT_CONFIG"), &cc, &err) != VSG_OK)
        FAIL("%s", err.msg);
    cfg.max_age_ns = cc.max_age_ns;
    cfg.period_ns = cc.period_ns;
    if (vsg_parse_header_encoding("VSPHERE_CE_HEADER_ENCODING", env("VSPHERE_CE_HEADER_ENCODING"),
                                  &cfg.percent_header_values, &err) != VSG_OK ||
        vsg_parse_tracing_config(env("K_TRACING_CONFIG"), &cfg.trace_sample_rate, &err) != VSG_OK)
        FAIL("%s", err.msg);
    const char *enc = env("VSPHERE_PAYLOAD_ENCODING");
    if (!enc || strcasecmp(enc, "application/xml") == 0) cfg.json = 0;
    else if (strcasecmp(enc, "application/json") == 0) cfg.json = 1;
    else FAIL("VSPHERE_PAYLOAD_ENCODING: unsupported encoding \"%s\" (application/xml or application/json)", enc);
    if (env("VSPHERE_DELIVERY") && parse_delivery(env("VSPHERE_DELIVERY"), &cfg, &dls, &err) != VSG_OK)
        FAIL("%s", err.msg);
    cfg.dead_letter_sink = dls;
    if (env("VSPHERE_PAGE_SIZE")) {
        char *end;
        long n = strtol(env("VSPHERE_PAGE_SIZE"), &end, 10);
        if (*end || n < 1 || n > 1000) FAIL("VSPHERE_PAGE_SIZE: must be 1..1000, got \"%s\"", env("VSPHERE_PAGE_SIZE"));
        cfg.page_size = (int)n;
    }
    if (env("VSPHERE_WAIT")) {
        if (strcmp(env("VSPHERE_WAIT"), "poll") == 0) cfg.wait = VSG_ADAPTER_WAIT_POLL;
        else if (strcmp(env("VSPHERE_WAIT"), "updates") == 0) cfg.wait = VSG_ADAPTER_WAIT_UPDATES;
        else FAIL("VSPHERE_WAIT: \"poll\" or \"updates\", got \"%s\"", env("VSPHERE_WAIT"));
    }
    if (env("VSPHERE_BATCH_WAIT_MS")) {
        char *end;
        long n = strtol(env("VSPHERE_BATCH_WAIT_MS"), &end, 10);
        if (!*env("VSPHERE_BATCH_WAIT_MS") || *end || n < 0 || n > VSG_ADAPTER_BATCH_WAIT_MAX_MS)
            FAIL("VSPHERE_BATCH_WAIT_MS: must be 0..%d (milliseconds), got \"%s\"", VSG_ADAPTER_BATCH_WAIT_MAX_MS,
                 env("VSPHERE_BATCH_WAIT_MS"));
        cfg.batch_wait_ms = (int)n;
    }
    const char *cm = env("VSPHERE_KVSTORE_CONFIGMAP");
    if (!cm) FAIL("VSPHERE_KVSTORE_CONFIGMAP is required");
    long long health_port = 0;
    if (env("VSPHERE_HEALTH_PORT") &&
        vsg_parse_int("VSPHERE_HEALTH_PORT", env("VSPHERE_HEALTH_PORT"), 0, 65535, "a TCP port", &health_port,
                      &err) != VSG_OK)
        FAIL("%s", err.msg);
    if (vsg_filter_on_error_parse(env("VSPHERE_FILTER_ON_ERROR"), &on_error) != VSG_OK)
        FAIL("VSPHERE_FILTER_ON_ERROR: \"deliver\" or \"drop\", got \"%s\"", env("VSPHERE_FILTER_ON_ERROR"));
    struct vsg_lua_limits filter_limits = vsg_lua_limits_default(VSG_LUA_KIND_FILTER);
    if (env("VSPHERE_FILTER_LIMITS") &&
        vsg_lua_limits_parse("VSPHERE_FILTER_LIMITS", env("VSPHERE_FILTER_LIMITS"), &filter_limits, &err) != VSG_OK)
        FAIL("%s", err.msg);
    if (parse_metrics_config(env("K_METRICS_CONFIG"), &ms, &err) != VSG_OK) FAIL("%s", err.msg);

    if (vsg_kube_config_load(NULL, NULL, &kcfg, &err) != VSG_OK) FAIL("Kubernetes client config: %s", err.msg);
    if (!(kc = vsg_kube_client_new(&kcfg, &err))) FAIL("Kubernetes client: %s", err.msg);
    const char *ns = cfg.ns ? cfg.ns : vsg_kube_client_namespace(kc);
    if (!ns || !*ns) FAIL("NAMESPACE is required");
    rc = 1; /* Configured: what fails from here on is not the configuration. */
    vsg_adapter_install_signals(&stop);
    /* The Go adapter exits when the store cannot be set up; retry instead. */
    for (int64_t backoff = 1000; !(store = vsg_checkpoint_configmap_store_new(kc, ns, cm, &err));) {
        VSG_LOG_ERROR(LG, "checkpoint ConfigMap %s/%s: %s (retrying)", ns, cm, err.msg);
        for (int64_t t = 0; t < backoff && !stop; t += 100) {
            struct timespec ts = {0, 100000000L};
            nanosleep(&ts, NULL);
        }
        if (stop) goto out;
        backoff = backoff * 2 > 30000 ? 30000 : backoff * 2;
    }
    cfg.store = store;
    health.kc = kc;
    health.ns = ns;
    health.cm = cm;
    cfg.on_vcenter = on_vcenter;
    cfg.on_vcenter_ud = &health;
    if (env("VSPHERE_FILTER_CONFIGMAP")) {
        /* The filter: watched in the background; events wait for it. */
        struct vsg_filter_config fc;
        struct vsg_filter_watch_config wc;
        memset(&fc, 0, sizeof fc);
        fc.name = "vsgate.filter";
        fc.logger = LG;
        fc.on_error = on_error;
        fc.limits = filter_limits;
        fc.root = vsg_filter_default_root();
        if (!(filter = vsg_filter_new(&fc, &err))) FAIL("%s", err.msg);
        memset(&wc, 0, sizeof wc);
        wc.stage = filter;
        wc.logger = LG;
        wc.kube = &kcfg;
        wc.ns = ns;
        wc.configmap = env("VSPHERE_FILTER_CONFIGMAP");
        wc.key = env("VSPHERE_FILTER_KEY");
        /* Events go on the source: VSPHERE_SOURCE_NAME (the reconciler sets
         * it); NAME, the Knative contract's, is the pod's name there. */
        wc.source_name = env("VSPHERE_SOURCE_NAME") ? env("VSPHERE_SOURCE_NAME") : env("NAME");
        if (!(watch = vsg_filter_watch_start(&wc, &err))) FAIL("filter: %s", err.msg);
        cfg.filter = filter;
    }
    if (ms.port) {
        struct vsg_ce_metrics_opts mo = {.component = ms.component, .name = env("NAME"), .ns = ns,
                                         .resource_group = env("K_RESOURCE_GROUP")};
        if (!(msrc.ce = vsg_ce_metrics_new(&mo, &err))) FAIL("%s", err.msg);
        if (!(msrc.engine = vsg_adapter_metrics_new(filter))) FAIL("out of memory");
        cfg.ce_metrics = msrc.ce;
        cfg.metrics = msrc.engine;
    }
    {
        /* One server when health and metrics share an address and a port. */
        const char *haddr = env("VSPHERE_HEALTH_ADDR") ? env("VSPHERE_HEALTH_ADDR") : "0.0.0.0";
        int shared = ms.port && health_port > 0 && ms.port == (unsigned)health_port && strcmp(ms.addr, haddr) == 0;
        if (health_port > 0) hsrv = start_server(haddr, (unsigned)health_port, 1, shared ? &msrc : NULL);
        if (ms.port && !shared) msrv = start_server(ms.addr, ms.port, 0, &msrc);
    }
    {
        /* The vCenter URL as used (no user info: VC_URL may lack a scheme,
         * which vsg_url_redact needs), the sink redacted. */
        char *vc = NULL, sink[512];
        struct vsg_error e2 = {0};
        vsg_soap_clean_url(cfg.vc_url, &vc, &e2);
        vsg_url_redact(cfg.sink, sink, sizeof sink);
        VSG_LOG_INFO(LG, "starting adapter for %s, sink %s", vc ? vc : "vCenter", sink);
        vsg_free(vc);
    }
    rc = vsg_adapter_run(&cfg, &stop);
out:
    if (hsrv) vsg_http_server_stop(hsrv);
    vsg_http_server_free(hsrv);
    if (msrv) vsg_http_server_stop(msrv);
    vsg_http_server_free(msrv);
    vsg_ce_metrics_free(msrc.ce);
    vsg_adapter_metrics_free(msrc.engine);
    vsg_filter_watch_stop(watch);
    if (filter && rc == 0) vsg_filter_log_stats(filter);
    vsg_filter_free(filter);
#undef FAIL
    vsg_checkpoint_store_free(store);
    vsg_kube_client_free(kc);
    vsg_kube_config_cleanup(&kcfg);
    vsg_ce_overrides_cleanup(&ov);
    if (pass) memset(pass, 0, strlen(pass));
    vsg_free(user);
    vsg_free(pass);
    vsg_free(dls);
    return rc;
}

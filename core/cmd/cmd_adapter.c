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
 * VSPHERE_SESSION_FILE (where the vCenter session is kept so that a
 * restart after a kill logs it out: soap/session.h), see
 * cmd/filter_watch.h for what the service account then needs.
 */
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
#include "cmd/adapter.h"
#include "cmd/cmd.h"
#include "cmd/filter_stage.h"
#include "cmd/filter_watch.h"
#include "cmd/util.h"
#include "http/client.h"
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
               "  VSPHERE_FILTER_CONFIGMAP, VSPHERE_FILTER_KEY, VSPHERE_FILTER_ON_ERROR (ours).\n"
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
    if (vsg_filter_on_error_parse(env("VSPHERE_FILTER_ON_ERROR"), &on_error) != VSG_OK)
        FAIL("VSPHERE_FILTER_ON_ERROR: \"deliver\" or \"drop\", got \"%s\"", env("VSPHERE_FILTER_ON_ERROR"));

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
    if (env("VSPHERE_FILTER_CONFIGMAP")) {
        /* The filter: watched in the background; events wait for it. */
        struct vsg_filter_config fc;
        struct vsg_filter_watch_config wc;
        memset(&fc, 0, sizeof fc);
        fc.name = "vsgate.filter";
        fc.logger = LG;
        fc.on_error = on_error;
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

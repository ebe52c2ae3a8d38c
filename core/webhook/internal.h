/*
 * webhook/internal.h - what the files of the webhook share (not part of
 * its interface: webhook.h is).
 *
 * One struct vsg_webhook; its files, one job each:
 *   webhook.c    life cycle, the wake-ups and the manager thread;
 *   admission.c  the Lua admission states and the four handlers;
 *   configs.c    the Mutating/ValidatingWebhookConfiguration objects;
 *   secret.c     the serving certificates and Secret vsphere-webhook-certs;
 *   metrics.c    the Prometheus series (ours and Knative's).
 * Functions shared between them are named vsg__wh_*.
 */
#ifndef VSG_WEBHOOK_INTERNAL_H
#define VSG_WEBHOOK_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "http/server.h"
#include "kube/strmap.h"
#include "lua/script.h"
#include "webhook/certs.h"
#include "webhook/webhook.h"

#define LOGGER "vsgate.webhook"
#define MAX_BODY (3u * 1024 * 1024)
/* Idle keep-alive connections live longer than kube-apiserver's own 90 s
 * idle timeout, so that the apiserver closes them, never we: a connection
 * closed under a request the apiserver is writing fails that request (EOF,
 * and admission requests are not retried). */
#define IDLE_TIMEOUT_S 120
/* How long start waits for usable certificates (a replica that does not
 * lead waits for the leader to write them). */
#define START_CERTS_MS 60000
/* First retry after a failed pass (doubling up to the check period). */
#define RETRY_MIN_MS 1000

/* Metrics: the webhook's paths and what a request came to (ours). */
#define NPATHS 4

enum result { RES_ALLOWED, RES_DENIED, RES_ERROR, RES__N };

/* Bounds of the latency histograms (ours, Knative's): tables in metrics.c. */
#define NLAT 12
#define NKN 16

/* One row of Knative's request_count and request_latencies. */
struct kn_row {
    uint64_t count;            /* request_count. */
    uint64_t hist[NKN + 1];    /* request_latencies, per bucket. */
    double sum_ms;             /* Its sum. */
};

/* One Lua state and its override generation. */
struct slot {
    struct vsg_lua_script *script;
    uint64_t ovr_gen;     /* Overrides generation tried last. */
    int busy;
};

struct vsg_webhook {
    struct vsg_webhook_opts o;
    char *system_ns, *lua_root, *search_path, *addr, *url_base, *mode, *service;
    struct vsg_kube_client *client;      /* The manager's client (and start's, stop's). */
    struct vsg_kube_discovery *disco;    /* Resources of the bindings' subject kinds. */
    struct vsg_kube_informer *binf;      /* VSphereBindings, all namespaces. */
    struct vsg_kube_informer *nsinf;     /* Namespaces. */
    struct vsg_kube_informer *secinf;    /* Secret vsphere-webhook-certs. */
    struct vsg_http_server *srv;
    struct slot *slots;
    size_t nslots;
    pthread_mutex_t smu;                 /* Guards slots' busy flags. */
    pthread_cond_t scond;
    /* Certificates (cmu). */
    pthread_mutex_t cmu;
    pthread_cond_t ccond;
    struct vsg_certs certs;              /* In use. */
    int stopping, started, mgr_started;
    int kicked;                          /* Something changed: a pass now. */
    int hooked;                          /* Told of leadership changes. */
    pthread_t mgr;
    char *certs_why;                     /* Why the Secret was not usable, last
                                            logged (manager's). */
    char *skip_why;                      /* Why subject kinds were left out of
                                            the rules, last logged (manager's). */
    unsigned long n_requests, n_denied, n_errors, n_rotations;
    /* Metrics (mmu). */
    pthread_mutex_t mmu;
    uint64_t by_result[NPATHS][RES__N];  /* vsgate_webhook_requests_total. */
    uint64_t lat[NPATHS][NLAT + 1];      /* vsgate_webhook_request_duration_seconds. */
    double lat_sum[NPATHS];
    struct vsg__strmap kn_rows;          /* Knative's tag values joined by US (0x1f) -> struct kn_row. */
    /* The configurations (lua/webhook/configurations.lua), read once. */
    struct vsg_lua_script *conf_script;
    cJSON *conf_doc;                     /* What build() returned. */
    struct whconf *confs;                /* Its configurations (in conf_doc). */
    size_t nconfs;
    const cJSON *leader_fields;          /* In conf_doc. */
    const cJSON *base_rules;             /* The binding webhook's built-in rules (in conf_doc). */
};

static inline int same_str(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* admission.c */
void vsg__wh_refresh_slot(struct vsg_webhook *wh, struct slot *s, int first);
/* The VSphereBindings of the informer cache into a JSON array: the
 * vsg_kube_cache_fn of vsg__wh_bindings(). */
struct vsg__wh_collect {
    cJSON *arr; /* Copies of the objects. */
    int nomem;  /* A copy could not be made: arr is not whole. */
};
int vsg__wh_collect(void *ud, const cJSON *obj);
/* A new array of copies of the VSphereBindings in namespace `ns` (NULL:
 * all), or NULL out of memory: never a list with one missing. */
cJSON *vsg__wh_bindings(struct vsg_webhook *wh, const char *ns);
enum vsg_err vsg__wh_h_defaulting(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs);
enum vsg_err vsg__wh_h_validation(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs);
enum vsg_err vsg__wh_h_bindings(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs);
enum vsg_err vsg__wh_h_uninstall(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs);

/* metrics.c */
void vsg__wh_record(struct vsg_webhook *wh, int path, enum result res, const cJSON *req, int allowed, const struct timespec *t0);

/* configs.c */
enum vsg_err vsg__wh_sync_configs(struct vsg_webhook *wh, size_t *skipped);
enum vsg_err vsg__wh_load_configurations(struct vsg_webhook *wh, struct vsg_error *err);
void vsg__wh_delete_url_configs(struct vsg_webhook *wh);
void vsg__wh_log_changed(char **last, const char *why);

/* secret.c */
enum vsg_err vsg__wh_current_certs(struct vsg_webhook *wh, int lead, struct vsg_certs *out, struct vsg_error *err);
void vsg__wh_cert_pass(struct vsg_webhook *wh, int lead);

#endif

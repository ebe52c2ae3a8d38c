/*
 * webhook/metrics.c - the webhook's Prometheus series: ours
 * (vsgate_webhook_*) and Knative's (request_count, request_latencies) (see webhook.h and internal.h).
 */
#include "webhook/internal.h"

#include "base/log.h"
#include "base/mem.h"
#include "base/prom.h"

static const char *const path_names[NPATHS] = {"/defaulting", "/resource-validation", "/vspherebindings",
                                               "/uninstall"};
static const char *const result_names[RES__N] = {"allowed", "denied", "error"};
/* Request latency buckets (ours), seconds. */
static const double lat_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
_Static_assert(sizeof lat_buckets / sizeof lat_buckets[0] == NLAT, "NLAT");
/* Knative's request_latencies buckets (knative pkg webhook: Buckets125(1,
 * 100000)), milliseconds. */
static const double kn_buckets[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000};
_Static_assert(sizeof kn_buckets / sizeof kn_buckets[0] == NKN, "NKN");
/* Knative's tags, in the order its Prometheus exporter sorts them. */
static const char *const kn_tags[] = {"admission_allowed", "kind_group",         "kind_kind",
                                      "kind_version",      "request_operation",  "resource_group",
                                      "resource_namespace", "resource_resource", "resource_version"};
#define NKNTAGS (sizeof kn_tags / sizeof kn_tags[0])
/* Rows of Knative's request_count; beyond, resource_namespace "other". */
#define KN_ROWS_MAX 4096

/* ====================================================================
 * Metrics
 * ==================================================================== */

/* The Knative row of AdmissionRequest `req` answered `allowed`; NULL when
 * out of memory. Under mmu. */
static struct kn_row *kn_row_of(struct vsg_webhook *wh, const cJSON *req, int allowed)
{
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(req, "kind");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(req, "resource");
    const char *v[NKNTAGS] = {
        allowed ? "true" : "false",
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kind, "group")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kind, "kind")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kind, "version")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "operation")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "group")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "namespace")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "resource")),
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(res, "version")),
    };
    struct vsg_buf key;
    struct kn_row *row = NULL;
    vsg_buf_init(&key, 4096);
    for (int pass = 0; pass < 2 && !row; pass++) {
        vsg_buf_reset(&key);
        enum vsg_err rc = VSG_OK;
        for (size_t i = 0; i < NKNTAGS && rc == VSG_OK; i++) {
            const char *t = pass && i == 6 ? "other" : v[i] ? v[i] : "";
            if (i) rc = vsg_buf_putc(&key, '\x1f');
            for (; rc == VSG_OK && *t; t++) rc = vsg_buf_putc(&key, *t == '\x1f' ? ' ' : *t);
        }
        if (rc != VSG_OK) break;
        if ((row = vsg__strmap_get(&wh->kn_rows, key.data))) break;
        if (!pass && wh->kn_rows.len >= KN_ROWS_MAX) continue;
        if (!(row = vsg_calloc(1, sizeof *row))) break;
        if (vsg__strmap_put(&wh->kn_rows, key.data, row, NULL) != VSG_OK) {
            vsg_free(row);
            row = NULL;
            break;
        }
    }
    vsg_buf_cleanup(&key);
    return row;
}

/* Counts one request of `path` that came to `res`, since `t0`; with
 * `req` (an AdmissionRequest that was answered), Knative's series too. */
void vsg__wh_record(struct vsg_webhook *wh, int path, enum result res, const cJSON *req, int allowed,
                   const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
    pthread_mutex_lock(&wh->mmu);
    wh->by_result[path][res]++;
    wh->lat[path][vsg_prom_bucket(lat_buckets, NLAT, secs)]++;
    wh->lat_sum[path] += secs;
    struct kn_row *k = req ? kn_row_of(wh, req, allowed) : NULL;
    if (k) {
        /* Knative records whole milliseconds (Duration.Milliseconds()). */
        double ms = (double)(int64_t)(secs * 1000.0);
        k->count++;
        k->hist[vsg_prom_bucket(kn_buckets, NKN, ms)]++;
        k->sum_ms += ms;
    }
    pthread_mutex_unlock(&wh->mmu);
}

enum vsg_err vsg_webhook_metrics(struct vsg_webhook *wh, struct vsg_buf *o)
{
    enum vsg_err rc = VSG_OK;
    struct vsg_buf labels;
    vsg_buf_init(&labels, 8192);
#define P(...) do { if (rc == VSG_OK) rc = vsg_buf_printf(o, __VA_ARGS__); } while (0)
#define FAM(n, t, h) do { if (rc == VSG_OK) rc = vsg_prom_family(o, n, t, h); } while (0)
    pthread_mutex_lock(&wh->mmu);
    FAM("vsgate_webhook_requests_total", "counter", "Admission requests by path and result.");
    for (int p = 0; p < NPATHS; p++)
        for (int r = 0; r < RES__N; r++)
            P("vsgate_webhook_requests_total{path=\"%s\",result=\"%s\"} %llu\n", path_names[p], result_names[r],
              (unsigned long long)wh->by_result[p][r]);
    FAM("vsgate_webhook_request_duration_seconds", "histogram", "Admission request latency by path.");
    for (int p = 0; p < NPATHS && rc == VSG_OK; p++) {
        vsg_buf_reset(&labels);
        rc = vsg_prom_label(&labels, 0, "path", path_names[p]);
        if (rc == VSG_OK)
            rc = vsg_prom_histogram(o, "vsgate_webhook_request_duration_seconds", labels.data, lat_buckets, NLAT,
                                    wh->lat[p], wh->lat_sum[p]);
    }
    /* Knative's (knative pkg webhook), under the controller's component. */
    for (int fam = 0; fam < 2 && wh->kn_rows.len && rc == VSG_OK; fam++) {
        if (fam == 0) FAM(VSG_CTL_METRICS_COMPONENT "_request_count", "counter",
                          "The number of requests that are routed to webhook");
        else FAM(VSG_CTL_METRICS_COMPONENT "_request_latencies", "histogram", "The response time in milliseconds");
        for (size_t j = 0; j < wh->kn_rows.cap && rc == VSG_OK; j++) {
            const char *key = wh->kn_rows.slots[j].key;
            const struct kn_row *k = wh->kn_rows.slots[j].val;
            if (!key) continue;
            vsg_buf_reset(&labels);
            char v[1024];
            for (size_t i = 0; i < NKNTAGS && rc == VSG_OK; i++) {
                size_t n = strcspn(key, "\x1f");
                snprintf(v, sizeof v, "%.*s", (int)n, key);
                rc = vsg_prom_label(&labels, i > 0, kn_tags[i], v);
                key += key[n] ? n + 1 : n;
            }
            if (fam == 0)
                P(VSG_CTL_METRICS_COMPONENT "_request_count{%s} %llu\n", labels.data, (unsigned long long)k->count);
            else if (rc == VSG_OK)
                rc = vsg_prom_histogram(o, VSG_CTL_METRICS_COMPONENT "_request_latencies", labels.data, kn_buckets, NKN,
                                        k->hist, k->sum_ms);
        }
    }
    pthread_mutex_unlock(&wh->mmu);
#undef FAM
#undef P
    vsg_buf_cleanup(&labels);
    return rc;
}


/*
 * controller/metrics.c - readiness and liveness probes, and the
 * Prometheus series (vsgate's own and Knative's) (see controller.h and internal.h).
 */
#include "controller/internal.h"

#include "base/prom.h"
#include "base/vtime.h"

/* Latency histogram bucket bounds, in seconds. */
static const double buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
_Static_assert(sizeof buckets / sizeof buckets[0] == NBUCKETS, "NBUCKETS");

/* Knative's reconcile_latency buckets (knative pkg controller), in ms. */
static const double kbuckets[] = {10, 100, 1000, 10000, 30000, 60000};
_Static_assert(sizeof kbuckets / sizeof kbuckets[0] == NKBUCKETS, "NKBUCKETS");

static struct krow *krow_of(struct rec *r, int success, const char *ns)
{
    char key[NAME_MAX_LEN + 16];
    snprintf(key, sizeof key, "%s|%s", success ? "true" : "false", ns);
    struct krow *k = vsg__strmap_get(&r->krows, key);
    if (k) return k;
    if (r->krows.len >= KROWS_MAX) {
        snprintf(key, sizeof key, "%s|other", success ? "true" : "false");
        if ((k = vsg__strmap_get(&r->krows, key))) return k;
    }
    if (!(k = vsg_calloc(1, sizeof *k))) return NULL;
    if (vsg__strmap_put(&r->krows, key, k, NULL) != VSG_OK) {
        vsg_free(k);
        return NULL;
    }
    return k;
}

void vsg__ctl_observe(struct rec *r, const char *ns, enum outcome out, int finalize, double secs)
{
    pthread_mutex_lock(&r->mmu);
    /* Knative reports success "true" only when Reconcile returned no error;
     * a requeue is an error there. */
    struct krow *k = krow_of(r, out == OUT_DONE, ns);
    if (k) {
        double ms = secs * 1000.0;
        k->count++;
        k->hist[vsg_prom_bucket(kbuckets, NKBUCKETS, ms)]++;
        k->sum_ms += ms;
    }
    if (out == OUT_DONE) r->n_ok++;
    else if (out == OUT_REQUEUE) r->n_requeue++;
    else r->n_err++;
    if (finalize) r->n_finalize++;
    size_t b = 0;
    while (b < NBUCKETS && secs > buckets[b]) b++;
    r->hist[b]++;
    r->sum += secs;
    pthread_mutex_unlock(&r->mmu);
}

/* Names `finalizer` in metadata.finalizers of obj? */

/* ====================================================================
 * Probes and metrics
 * ==================================================================== */

/* Past twice its time limit, how much longer a reconcile call may take
 * before /healthz calls its worker stuck (API requests made from Lua are
 * outside the limit's clock checks). */
#define STUCK_SLACK_MS 30000

struct ready_check {
    int ok;              /* All synced so far. */
    struct vsg_error *why; /* Where to say which is not. */
};

static void check_synced(void *ud, struct vsg_kube_informer *inf)
{
    struct ready_check *c = ud;
    if (c->ok && !vsg_kube_informer_synced(inf)) {
        c->ok = 0;
        vsg_error_set(c->why, VSG_ERR_INVALIDSTATE, "informer for %s %s has not synced yet",
                      vsg_kube_informer_api_version(inf), vsg_kube_informer_kind(inf));
    }
}

enum vsg_err vsg_ctl_ready(struct vsg_ctl *ctl, struct vsg_error *why)
{
    struct ready_check c = {1, why};
    if (!ctl->started) return vsg_error_set(why, VSG_ERR_INVALIDSTATE, "not started");
    if (!vsg_kube_informer_synced(ctl->sysinf))
        return vsg_error_set(why, VSG_ERR_INVALIDSTATE, "ConfigMaps of %s not synced yet",
                             ctl->system_ns);
    vsg_kube_informers_each(ctl->informers, check_synced, &c);
    return c.ok ? VSG_OK : VSG_ERR_INVALIDSTATE;
}

enum vsg_err vsg_ctl_healthy(struct vsg_ctl *ctl, struct vsg_error *why)
{
    int64_t now = vsg_time_mono_ms();
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        int64_t since = atomic_load(&r->busy_since);
        uint32_t limit_ms;
        if (!atomic_load(&r->alive))
            return vsg_error_set(why, VSG_ERR_INVALIDSTATE, "worker of %s stopped", r->kind);
        /* A call ends within its time limit; twice that plus a little, and
         * the worker is stuck (in C, where no hook runs): say so, so that
         * the kubelet restarts the pod. */
        limit_ms = ctl->o.reconciler_limits.time_ms ? ctl->o.reconciler_limits.time_ms
                                                    : vsg_lua_limits_default(VSG_LUA_KIND_RECONCILER).time_ms;
        if (since != 0 && now - since > 2 * (int64_t)limit_ms + STUCK_SLACK_MS)
            return vsg_error_set(why, VSG_ERR_INVALIDSTATE,
                                 "worker of %s stuck in one reconcile for %lld ms (its limit is %u ms)",
                                 r->kind, (long long)(now - since), (unsigned)limit_ms);
    }
    return VSG_OK;
}

/* The series Knative's controllers publish (knative pkg controller and
 * its client-go request metrics), under the component the Go project's
 * controller ran as (VSG_CTL_METRICS_COMPONENT). */
static enum vsg_err knative_metrics(struct vsg_ctl *ctl, struct vsg_buf *o)
{
    enum vsg_err rc = VSG_OK;
    struct vsg_buf labels;
    vsg_buf_init(&labels, 4096);
#define C VSG_CTL_METRICS_COMPONENT
#define P(...) do { if (rc == VSG_OK) rc = vsg_buf_printf(o, __VA_ARGS__); } while (0)
#define FAM(n, t, h) do { if (rc == VSG_OK) rc = vsg_prom_family(o, C n, t, h); } while (0)
    FAM("_work_queue_depth", "gauge", "Depth of the work queue");
    for (size_t i = 0; i < ctl->nrecs && rc == VSG_OK; i++) {
        P(C "_work_queue_depth{");
        if (rc == VSG_OK) rc = vsg_prom_label(o, 0, "reconciler", ctl->recs[i].metrics_name);
        P("} %zu\n", vsg_kube_queue_len(ctl->recs[i].queue));
    }
    /* reconcile_count and reconcile_latency: one row per (reconciler, success, namespace). */
    for (int fam = 0; fam < 2 && rc == VSG_OK; fam++) {
        int header = 0;
        for (size_t i = 0; i < ctl->nrecs && rc == VSG_OK; i++) {
            struct rec *r = &ctl->recs[i];
            pthread_mutex_lock(&r->mmu);
            for (size_t j = 0; j < r->krows.cap && rc == VSG_OK; j++) {
                const char *key = r->krows.slots[j].key;
                const struct krow *k = r->krows.slots[j].val;
                if (!key) continue;
                if (!header) {
                    if (fam == 0) FAM("_reconcile_count", "counter", "Number of reconcile operations");
                    else FAM("_reconcile_latency", "histogram", "Latency of reconcile operations");
                    header = 1;
                }
                const char *bar = strchr(key, '|');
                char success[8];
                snprintf(success, sizeof success, "%.*s", (int)(bar - key), key);
                vsg_buf_reset(&labels);
                if (rc == VSG_OK) rc = vsg_prom_label(&labels, 0, "namespace_name", bar + 1);
                if (rc == VSG_OK) rc = vsg_prom_label(&labels, 1, "reconciler", r->metrics_name);
                if (rc == VSG_OK) rc = vsg_prom_label(&labels, 1, "success", success);
                if (fam == 0)
                    P(C "_reconcile_count{%s} %llu\n", labels.data, (unsigned long long)k->count);
                else if (rc == VSG_OK)
                    rc = vsg_prom_histogram(o, C "_reconcile_latency", labels.data, kbuckets, NKBUCKETS, k->hist,
                                            k->sum_ms);
            }
            pthread_mutex_unlock(&r->mmu);
        }
    }
    /* client-go's request metrics as knative pkg's ClientProvider views them:
     * by the tag `name` only, which nothing sets. */
    uint64_t lat[VSG_KUBE_LATENCY_BUCKETS + 1];
    for (size_t b = 0; b <= VSG_KUBE_LATENCY_BUCKETS; b++)
        lat[b] = atomic_load_explicit(&ctl->stats.latency[b], memory_order_relaxed);
    FAM("_client_latency", "histogram", "How long Kubernetes API requests take");
    if (rc == VSG_OK)
        rc = vsg_prom_histogram(o, C "_client_latency", "name=\"\"", vsg_kube_latency_bounds, VSG_KUBE_LATENCY_BUCKETS,
                                lat, (double)atomic_load_explicit(&ctl->stats.latency_ns, memory_order_relaxed) / 1e9);
    FAM("_client_results", "counter", "Total number of API requests (broken down by status code)");
    P(C "_client_results{name=\"\"} %lu\n", atomic_load(&ctl->stats.requests));
#undef FAM
#undef P
#undef C
    vsg_buf_cleanup(&labels);
    return rc;
}

enum vsg_err vsg_ctl_metrics(struct vsg_ctl *ctl, struct vsg_buf *o)
{
    enum vsg_err rc = VSG_OK;
#define P(...) do { if (rc == VSG_OK) rc = vsg_buf_printf(o, __VA_ARGS__); } while (0)
    P("# HELP vsgate_reconcile_total Reconciles by kind and result.\n"
      "# TYPE vsgate_reconcile_total counter\n");
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        pthread_mutex_lock(&r->mmu);
        P("vsgate_reconcile_total{kind=\"%s\",result=\"success\"} %lu\n", r->kind, r->n_ok);
        P("vsgate_reconcile_total{kind=\"%s\",result=\"requeue\"} %lu\n", r->kind, r->n_requeue);
        P("vsgate_reconcile_total{kind=\"%s\",result=\"error\"} %lu\n", r->kind, r->n_err);
        pthread_mutex_unlock(&r->mmu);
    }
    P("# HELP vsgate_reconcile_duration_seconds Reconcile latency by kind.\n"
      "# TYPE vsgate_reconcile_duration_seconds histogram\n");
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        unsigned long cum = 0;
        pthread_mutex_lock(&r->mmu);
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += r->hist[b];
            P("vsgate_reconcile_duration_seconds_bucket{kind=\"%s\",le=\"%g\"} %lu\n", r->kind,
              buckets[b], cum);
        }
        cum += r->hist[NBUCKETS];
        P("vsgate_reconcile_duration_seconds_bucket{kind=\"%s\",le=\"+Inf\"} %lu\n", r->kind, cum);
        P("vsgate_reconcile_duration_seconds_sum{kind=\"%s\"} %.6f\n", r->kind, r->sum);
        P("vsgate_reconcile_duration_seconds_count{kind=\"%s\"} %lu\n", r->kind, cum);
        pthread_mutex_unlock(&r->mmu);
    }
    P("# HELP vsgate_workqueue_depth Keys ready to reconcile.\n# TYPE vsgate_workqueue_depth gauge\n");
    for (size_t i = 0; i < ctl->nrecs; i++)
        P("vsgate_workqueue_depth{kind=\"%s\"} %zu\n", ctl->recs[i].kind,
          vsg_kube_queue_len(ctl->recs[i].queue));
    P("# HELP vsgate_workqueue_waiting Keys waiting for a delayed retry.\n"
      "# TYPE vsgate_workqueue_waiting gauge\n");
    for (size_t i = 0; i < ctl->nrecs; i++)
        P("vsgate_workqueue_waiting{kind=\"%s\"} %zu\n", ctl->recs[i].kind,
          vsg_kube_queue_waiting(ctl->recs[i].queue));
    P("# HELP vsgate_lua_reloads_total Lua override applications by result.\n"
      "# TYPE vsgate_lua_reloads_total counter\n");
    for (size_t i = 0; i < ctl->nrecs; i++) {
        struct rec *r = &ctl->recs[i];
        pthread_mutex_lock(&r->mmu);
        P("vsgate_lua_reloads_total{kind=\"%s\",result=\"success\"} %lu\n", r->kind, r->reload_ok);
        P("vsgate_lua_reloads_total{kind=\"%s\",result=\"error\"} %lu\n", r->kind, r->reload_err);
        pthread_mutex_unlock(&r->mmu);
    }
    P("# HELP vsgate_kube_requests_total Requests sent to the API server.\n"
      "# TYPE vsgate_kube_requests_total counter\nvsgate_kube_requests_total %lu\n",
      atomic_load(&ctl->stats.requests));
    P("# HELP vsgate_kube_api_errors_total Failed API requests by error.\n"
      "# TYPE vsgate_kube_api_errors_total counter\n");
    for (int c = 1; c < VSG_ERR__COUNT_; c++) {
        unsigned long n = atomic_load(&ctl->stats.errors[c]);
        if (n) P("vsgate_kube_api_errors_total{error=\"%s\"} %lu\n", vsg_errname((enum vsg_err)c), n);
    }
    P("# HELP vsgate_leader 1 while this replica leads.\n# TYPE vsgate_leader gauge\nvsgate_leader %d\n",
      leading(ctl));
#undef P
    if (rc == VSG_OK) rc = knative_metrics(ctl, o);
    return rc;
}


/*
 * adapter/adapter_metrics.c - the adapter engine's own series for /metrics
 * (vsgate_adapter_*); see adapter.h.
 */
#include <pthread.h>
#include <stdio.h>

#include "base/mem.h"
#include "base/prom.h"
#include "base/vtime.h"
#include "adapter/adapter.h"
#include "filter/filter_stage.h"

/* ReadNextEvents latency buckets, in seconds. */
static const double page_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
#define NPAGE (sizeof page_buckets / sizeof page_buckets[0])

static const char *const outcome_names[VSG_ADAPTER__OUTCOMES] = {"delivered", "dead_lettered", "dropped",
                                                                 "filtered", "undecodable"};

struct vsg_adapter_metrics {
    pthread_mutex_t mu;
    const struct vsg_filter *filter;      /* Borrowed, or NULL. */
    int vc_up;                            /* Logged in and reading. */
    uint64_t page_counts[NPAGE + 1];      /* Page latency histogram. */
    double page_sum;                      /* Seconds. */
    uint64_t events_read, vc_errors;
    uint64_t outcomes[VSG_ADAPTER__OUTCOMES];
    uint64_t saves_ok, saves_err;
    int saved;                            /* A checkpoint was saved. */
    struct vsg_time saved_event;          /* Its lastEventKeyTimestamp. */
    struct vsg_time saved_at;             /* When. */
};

struct vsg_adapter_metrics *vsg_adapter_metrics_new(const struct vsg_filter *filter)
{
    struct vsg_adapter_metrics *m = vsg_calloc(1, sizeof *m);
    if (!m) return NULL;
    pthread_mutex_init(&m->mu, NULL);
    m->filter = filter;
    return m;
}

void vsg_adapter_metrics_free(struct vsg_adapter_metrics *m)
{
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    vsg_free(m);
}

void vsg_adapter_metrics_vcenter(struct vsg_adapter_metrics *m, int up)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->vc_up = up != 0;
    pthread_mutex_unlock(&m->mu);
}

void vsg_adapter_metrics_vcenter_error(struct vsg_adapter_metrics *m)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->vc_errors++;
    pthread_mutex_unlock(&m->mu);
}

void vsg_adapter_metrics_page(struct vsg_adapter_metrics *m, double seconds, size_t events)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    m->page_counts[vsg_prom_bucket(page_buckets, NPAGE, seconds)]++;
    m->page_sum += seconds;
    m->events_read += events;
    pthread_mutex_unlock(&m->mu);
}

void vsg_adapter_metrics_event(struct vsg_adapter_metrics *m, enum vsg_adapter_outcome o)
{
    if (!m || o >= VSG_ADAPTER__OUTCOMES) return;
    pthread_mutex_lock(&m->mu);
    m->outcomes[o]++;
    pthread_mutex_unlock(&m->mu);
}

void vsg_adapter_metrics_checkpoint(struct vsg_adapter_metrics *m, int ok, struct vsg_time event_time)
{
    if (!m) return;
    pthread_mutex_lock(&m->mu);
    if (ok) {
        m->saves_ok++;
        m->saved = 1;
        m->saved_event = event_time;
        m->saved_at = vsg_time_now();
    } else {
        m->saves_err++;
    }
    pthread_mutex_unlock(&m->mu);
}

static double secs(struct vsg_time t)
{
    return (double)t.sec + t.nsec / 1e9;
}

enum vsg_err vsg_adapter_metrics_write(struct vsg_adapter_metrics *m, struct vsg_buf *o)
{
    enum vsg_err rc = VSG_OK;
#define P(...) do { if (rc == VSG_OK) rc = vsg_buf_printf(o, __VA_ARGS__); } while (0)
#define FAM(n, t, h) do { if (rc == VSG_OK) rc = vsg_prom_family(o, n, t, h); } while (0)
    pthread_mutex_lock(&m->mu);
    FAM("vsgate_adapter_vcenter_up", "gauge", "1 while the adapter is logged in to vCenter and reading events.");
    P("vsgate_adapter_vcenter_up %d\n", m->vc_up);
    FAM("vsgate_adapter_vcenter_page_duration_seconds", "histogram", "Duration of vCenter ReadNextEvents calls.");
    if (rc == VSG_OK)
        rc = vsg_prom_histogram(o, "vsgate_adapter_vcenter_page_duration_seconds", "", page_buckets, NPAGE,
                                m->page_counts, m->page_sum);
    FAM("vsgate_adapter_vcenter_events_read_total", "counter", "Events read from vCenter.");
    P("vsgate_adapter_vcenter_events_read_total %llu\n", (unsigned long long)m->events_read);
    FAM("vsgate_adapter_vcenter_errors_total", "counter", "Failed vCenter calls (each is retried).");
    P("vsgate_adapter_vcenter_errors_total %llu\n", (unsigned long long)m->vc_errors);
    FAM("vsgate_adapter_events_total", "counter", "Events by what became of them.");
    for (int i = 0; i < VSG_ADAPTER__OUTCOMES; i++)
        P("vsgate_adapter_events_total{outcome=\"%s\"} %llu\n", outcome_names[i], (unsigned long long)m->outcomes[i]);
    FAM("vsgate_adapter_checkpoint_saves_total", "counter", "Checkpoint saves by result.");
    P("vsgate_adapter_checkpoint_saves_total{result=\"success\"} %llu\n", (unsigned long long)m->saves_ok);
    P("vsgate_adapter_checkpoint_saves_total{result=\"error\"} %llu\n", (unsigned long long)m->saves_err);
    if (m->saved) {
        double age = secs(vsg_time_now()) - secs(m->saved_event);
        FAM("vsgate_adapter_checkpoint_age_seconds", "gauge",
            "Seconds since the event the saved checkpoint names was created in vCenter.");
        P("vsgate_adapter_checkpoint_age_seconds %.3f\n", age > 0 ? age : 0);
        FAM("vsgate_adapter_checkpoint_last_save_timestamp_seconds", "gauge",
            "When the checkpoint was last saved (Unix time).");
        P("vsgate_adapter_checkpoint_last_save_timestamp_seconds %.3f\n", secs(m->saved_at));
    }
    pthread_mutex_unlock(&m->mu);
    if (m->filter) {
        struct vsg_filter_stats st;
        vsg_filter_stats(m->filter, &st);
        FAM("vsgate_adapter_filter_events_total", "counter", "Events through the Lua filter by outcome.");
        P("vsgate_adapter_filter_events_total{outcome=\"kept\"} %llu\n", (unsigned long long)st.kept);
        P("vsgate_adapter_filter_events_total{outcome=\"changed\"} %llu\n", (unsigned long long)st.changed);
        P("vsgate_adapter_filter_events_total{outcome=\"dropped\"} %llu\n", (unsigned long long)st.dropped);
        P("vsgate_adapter_filter_events_total{outcome=\"fanout\"} %llu\n", (unsigned long long)st.fanout);
        P("vsgate_adapter_filter_events_total{outcome=\"error\"} %llu\n", (unsigned long long)st.errors);
        FAM("vsgate_adapter_filter_versions_total", "counter", "Filter versions put in use.");
        P("vsgate_adapter_filter_versions_total %llu\n", (unsigned long long)st.swaps);
    }
#undef P
#undef FAM
    return rc;
}

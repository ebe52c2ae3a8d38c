/*
 * cloudevents/metrics.h - the source metrics Knative's event sources
 * publish, counted by the sender: `<component>_event_count` (one per
 * event, with the sink's final answer) and `<component>_retry_event_count`
 * (one per attempt that failed and is tried again), as knative.dev/eventing's
 * adapter (v0.39) records them through OpenCensus and its Prometheus
 * exporter writes them: counters without `_total`, the tags event_source,
 * event_type, name, namespace_name, resource_group, response_code,
 * response_code_class, response_error and response_timeout as labels in
 * that (sorted) order, every label present ("" when the tag is unset).
 *
 * Provides: struct vsg_ce_metrics, vsg_ce_metrics_record() (thread-safe,
 * no allocation once a row exists) and vsg_ce_metrics_write() (the two
 * families in Prometheus text; a family without a sample is left out, as
 * the Go exporter does).
 * Uses: base/ (prom.h, buf.h, mem.h), pthreads.
 * Owns: copies of the option strings and of every row's event type and
 * source.
 *
 * Rows are keyed by (event type, event source, HTTP status, transport
 * error): a response gives response_code "503" and response_code_class
 * "5xx"; no response (connection refused, time-out, TLS) gives
 * response_code and response_code_class "", response_error the kind of
 * failure ("connection error", "timed out", "TLS error": a fixed text, so
 * neither the sink URL nor its credentials reach a label) and
 * response_timeout "true" or "false". The table is bounded: beyond
 * `max_rows` keys, events are counted with event_type and event_source
 * "other" (in at most VSG_CE_METRICS_OTHER_ROWS more rows, one per code);
 * what does not fit there either is only counted in
 * vsg_ce_metrics_lost().
 */
#ifndef VSG_CLOUDEVENTS_METRICS_H
#define VSG_CLOUDEVENTS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define VSG_CE_METRICS_MAX_ROWS 1024   /* Default bound on (type, source, code) rows. */
#define VSG_CE_METRICS_OTHER_ROWS 64   /* Rows of type "other", by code, beyond it. */
#define VSG_CE_METRICS_RESOURCE_GROUP "adapter.sources.knative.dev" /* K_RESOURCE_GROUP's default. */

struct vsg_ce_metrics_opts {
    const char *component;      /* Series prefix ("vspheresource"); characters
                                   outside [a-zA-Z0-9_] become '_'. Required. */
    const char *name;           /* Tag `name` ($NAME); NULL: "adapter", the
                                   Knative default. */
    const char *ns;             /* Tag `namespace_name` ($NAMESPACE); NULL: "". */
    const char *resource_group; /* Tag `resource_group` ($K_RESOURCE_GROUP);
                                   NULL: VSG_CE_METRICS_RESOURCE_GROUP. */
    size_t max_rows;            /* 0: VSG_CE_METRICS_MAX_ROWS. */
};

struct vsg_ce_metrics;

/* NULL with `err` set (VSG_ERR_INVAL without a component, VSG_ERR_NOMEM). */
struct vsg_ce_metrics *vsg_ce_metrics_new(const struct vsg_ce_metrics_opts *o, struct vsg_error *err);

/* NULL is a no-op. Not while another thread records or writes. */
void vsg_ce_metrics_free(struct vsg_ce_metrics *m);

/*
 * Counts one sink attempt of an event of `type` from `source`: into
 * retry_event_count when `retry` is nonzero (it failed and will be tried
 * again), else into event_count (the event's outcome at the sink). `rc`
 * and `status` as the HTTP client returned them: a status > 0 is a
 * response, whatever rc says. Any thread.
 */
void vsg_ce_metrics_record(struct vsg_ce_metrics *m, const char *type, const char *source, int retry,
                           enum vsg_err rc, long status);

/* Appends both families (Prometheus text) to `out`. Any thread. */
enum vsg_err vsg_ce_metrics_write(struct vsg_ce_metrics *m, struct vsg_buf *out);

/* Attempts counted nowhere because even the "other" rows were full. */
uint64_t vsg_ce_metrics_lost(struct vsg_ce_metrics *m);

#endif

/*
 * adapter/adapter.h - the adapter engine shared by `vsgate adapter` (env,
 * ConfigMap checkpoint) and `vsgate run` (flags, file checkpoint):
 * vCenter -> events -> CloudEvents sink, checkpointed.
 *
 * Provides: struct vsg_adapter_config (everything the engine needs, filled
 * by the two commands) and vsg_adapter_run(), which runs until `*stop`
 * becomes nonzero (a signal handler sets it) and then shuts down cleanly:
 * the event in flight is finished or left undelivered (never
 * checkpointed), the checkpoint is saved, the collector destroyed and the
 * session logged out.
 * Uses: soap/, vsphere/ (collector, decoder, encoders), cloudevents/
 * (sender), checkpoint/ (the store interface), filter/ (the Lua filter
 * stage and the record format), base/.
 * Owns: nothing of the config; the engine owns its session, collector and
 * sender for the duration of vsg_adapter_run().
 *
 * Failure policy (CONTRACTS §3-4, ours): vCenter errors never end the
 * process. A lost session (NotAuthenticated) is logged in again and the
 * collector re-created from the last delivered event; transport errors,
 * bad credentials and too many collectors are retried with capped
 * exponential backoff. The checkpoint only ever moves over events that
 * were delivered, dead-lettered or dropped by policy.
 */
#ifndef VSG_ADAPTER_H
#define VSG_ADAPTER_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "checkpoint/checkpoint.h"
#include "cloudevents/delivery.h"
#include "cloudevents/metrics.h"
#include "cloudevents/overrides.h"

struct vsg_filter;
struct vsg_adapter_metrics;

/* How the engine waits when vCenter has no new event. */
enum vsg_adapter_wait {
    VSG_ADAPTER_WAIT_UPDATES, /* WaitForUpdatesEx on latestPage (default, ours). */
    VSG_ADAPTER_WAIT_POLL     /* Sleep 1, 2, 4, 5, 5... s as the Go adapter. */
};

/* Default batch wait (ms) and its upper bound. */
#define VSG_ADAPTER_BATCH_WAIT_MS 20
#define VSG_ADAPTER_BATCH_WAIT_MAX_MS 1000

struct vsg_adapter_config {
    const char *vc_url;            /* VC_URL; https:// and /sdk defaulted. */
    int insecure;                  /* VC_INSECURE. */
    const char *ca_file;           /* PEM file trusted instead of the roots, or NULL. */
    const char *ca_pem;            /* caCerts: PEM trusted besides the roots, or NULL. */
    const char *session_file;      /* vCenter session kept there (soap/session.h), or NULL. */
    const char *username;          /* Used verbatim. */
    const char *password;          /* Used verbatim; never logged. */
    const char *sink;              /* K_SINK. */
    const char *dead_letter_sink;  /* delivery.deadLetterSink URL, or NULL. */
    struct vsg_ce_delivery delivery; /* Retry policy. */
    long sink_timeout_ms;          /* Per attempt; 0 = sender default. */
    const char *ns;                /* NAMESPACE, sent as Kn-Namespace; may be NULL. */
    const struct vsg_ce_overrides *overrides; /* K_CE_OVERRIDES, or NULL. */
    int percent_header_values;     /* ce-* values percent-encoded (VSPHERE_CE_HEADER_ENCODING
                                      percent); 0: raw, as the Go adapter sent them. */
    double trace_sample_rate;      /* Share of traceparents marked sampled (K_TRACING_CONFIG). */
    int json;                      /* Nonzero: application/json, else application/xml. */
    int64_t max_age_ns;            /* Replay window (0: no replay). */
    int64_t period_ns;             /* Checkpoint save period (> 0). */
    int page_size;                 /* Events per ReadNextEvents (1..1000). */
    enum vsg_adapter_wait wait;    /* Idle strategy. */
    int batch_wait_ms;             /* Updates mode: after a wake, wait this
                                      long (0..1000) before reading, so a
                                      burst is read in one page instead of
                                      one round trip per event. */
    struct vsg_checkpoint_store *store; /* Where the checkpoint lives (borrowed). */
    const char *logger;            /* Logger name, e.g. "vsgate.adapter". */
    struct vsg_filter *filter;     /* Lua filter stage (filter/filter_stage.h;
                                      borrowed), or NULL for none. Events
                                      wait until it has a version. */
    FILE *record;                  /* When set, each event is written here
                                      before the filter (filter/record.h). */
    /* Called on the engine's thread when vCenter's state changes: ok
     * (logged in and reading events) or the error that stops it (message
     * without secrets), then again whenever the error text changes. */
    void (*on_vcenter)(void *ud, int ok, const char *message);
    void *on_vcenter_ud;
    struct vsg_ce_metrics *ce_metrics;  /* Knative's event_count and retry_event_count
                                           (cloudevents/metrics.h; borrowed), or NULL. */
    struct vsg_adapter_metrics *metrics; /* The engine's own series (below; borrowed),
                                            or NULL. */
};

/* Fills the defaults: page size 100, period 10 s, max age 5 m, XML,
 * WaitForUpdatesEx with a 20 ms batch wait, default delivery policy. */
void vsg_adapter_config_init(struct vsg_adapter_config *cfg);

/* Runs until *stop is nonzero; returns 0 after a clean shutdown, nonzero
 * when the configuration is unusable (logged). */
int vsg_adapter_run(const struct vsg_adapter_config *cfg, volatile sig_atomic_t *stop);

/* Installs SIGTERM/SIGINT handlers that set *stop and cancel what the
 * engine is blocked in (a SOAP call: login, read, WaitForUpdatesEx; a
 * delivery or its backoff), so it stops within a fraction of a second; the
 * shutdown's own vCenter calls (DestroyCollector, Logout) then get 1 s
 * in all. */
void vsg_adapter_install_signals(volatile sig_atomic_t *stop);

/*
 * The adapter's own series (ours, beside Knative's source metrics), for
 * /metrics; made by the command and given to the engine in cfg->metrics.
 * The engine records into it on its thread; vsg_adapter_metrics_write()
 * may run on any thread meanwhile (a mutex, taken once per vCenter page,
 * checkpoint save and sent event).
 *   vsgate_adapter_vcenter_up                      1 while logged in and reading events
 *   vsgate_adapter_vcenter_page_duration_seconds   ReadNextEvents round trips (histogram)
 *   vsgate_adapter_vcenter_events_read_total       events vCenter returned
 *   vsgate_adapter_vcenter_errors_total            failed vCenter calls
 *   vsgate_adapter_events_total{outcome}           delivered, dead_lettered, dropped (the
 *                                                  sink gave up, no dead-letter sink took it),
 *                                                  filtered (the filter sent nothing),
 *                                                  undecodable
 *   vsgate_adapter_checkpoint_saves_total{result}  success, error
 *   vsgate_adapter_checkpoint_age_seconds          now - the saved checkpoint's event time
 *   vsgate_adapter_checkpoint_last_save_timestamp_seconds
 *   vsgate_adapter_filter_events_total{outcome}    kept, changed, dropped, fanout, error
 *   vsgate_adapter_filter_versions_total           filter versions put in use
 * (the filter series only with a filter).
 */
enum vsg_adapter_outcome {
    VSG_ADAPTER_DELIVERED,
    VSG_ADAPTER_DEAD_LETTERED,
    VSG_ADAPTER_DROPPED,
    VSG_ADAPTER_FILTERED,
    VSG_ADAPTER_UNDECODABLE,
    VSG_ADAPTER__OUTCOMES
};

/* `filter` (borrowed, may be NULL) must outlive the metrics' readers.
 * NULL when out of memory. */
struct vsg_adapter_metrics *vsg_adapter_metrics_new(const struct vsg_filter *filter);

/* NULL is a no-op. Not while a reader or the engine uses it. */
void vsg_adapter_metrics_free(struct vsg_adapter_metrics *m);

/* Appends the series in Prometheus text. */
enum vsg_err vsg_adapter_metrics_write(struct vsg_adapter_metrics *m, struct vsg_buf *out);

/* The engine's records (every one a no-op on NULL). */
void vsg_adapter_metrics_vcenter(struct vsg_adapter_metrics *m, int up);
void vsg_adapter_metrics_vcenter_error(struct vsg_adapter_metrics *m);
void vsg_adapter_metrics_page(struct vsg_adapter_metrics *m, double seconds, size_t events);
void vsg_adapter_metrics_event(struct vsg_adapter_metrics *m, enum vsg_adapter_outcome o);
void vsg_adapter_metrics_checkpoint(struct vsg_adapter_metrics *m, int ok, struct vsg_time event_time);

#endif

/*
 * cloudevents/sender.h - delivers CloudEvents to a sink (K_SINK) in HTTP
 * binary mode, with retries, backoff, a dead-letter sink and prompt
 * cancellation.
 *
 * Provides: struct vsg_ce_sender, vsg_ce_send() (returns only once the
 * event is delivered, dead-lettered or dropped by policy, or the sender
 * was cancelled), vsg_ce_sender_cancel() (async-signal-safe), counters.
 * Uses: http/client.h (one keep-alive libcurl handle), cloudevents/
 * event.h, overrides.h, delivery.h and metrics.h, base/ (logging under the logger
 * "vsgate.sender"), OpenSSL (base64 for knativeerrordata), eventfd.
 * Owns: the sender copies its options (URLs, namespace, overrides) and
 * owns its HTTP client. Events passed to vsg_ce_send() stay the caller's.
 *
 * Threads: vsg_ce_send() is for one thread at a time (the adapter sends
 * in order). vsg_ce_sender_cancel() and vsg_ce_sender_stats() may be
 * called from any thread; vsg_ce_sender_cancel() also from a signal
 * handler.
 *
 * Contract for checkpointing: vsg_ce_send() returns VSG_OK exactly when
 * the caller may move its checkpoint past the event (outcome DELIVERED,
 * DEAD_LETTERED or DROPPED; for the last two `err` says why it failed),
 * and VSG_ERR_CANCELLED (outcome CANCELLED) when it must not.
 *
 * Defaults (documented choices, see also delivery.h):
 *   per-attempt timeout 30 s (K_SINK_TIMEOUT; the Go adapter had none, but
 *   with retries a hung sink must end in a retry, not block forever);
 *   retry forever, exponential backoff from 1 s, each wait capped at 60 s;
 *   Retry-After on 429/503 is honoured (the wait is the larger of it and
 *   the backoff, capped at the same 60 s);
 *   knativeerrordata carries at most 1024 bytes of the response body
 *   (Knative's limit), base64-encoded.
 */
#ifndef VSG_CLOUDEVENTS_SENDER_H
#define VSG_CLOUDEVENTS_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "cloudevents/delivery.h"
#include "cloudevents/event.h"
#include "cloudevents/metrics.h"
#include "cloudevents/overrides.h"
#include "http/client.h"

#define VSG_CE_DEFAULT_TIMEOUT_MS 30000L    /* Per attempt, when unset. */
#define VSG_CE_DEFAULT_ERROR_DATA_MAX 1024u /* Response bytes in knativeerrordata. */

/* How vsg_ce_send() ended. */
enum vsg_ce_outcome {
    VSG_CE_DELIVERED,     /* The sink answered 2xx. */
    VSG_CE_DEAD_LETTERED, /* Given up on the sink; the dead-letter sink took it. */
    VSG_CE_DROPPED,       /* Given up, and no dead-letter sink took it. */
    VSG_CE_CANCELLED      /* The sender was cancelled first: do not checkpoint. */
};

/* Called at least once a second while vsg_ce_send() waits between retries,
 * on the sending thread: the engine saves its checkpoint there, so that
 * events delivered before an outage are not delivered again after a kill
 * during it. */
typedef void (*vsg_ce_waiting_fn)(void *ud);

/* Called after every HTTP attempt (for metrics); on the sending thread. */
typedef void (*vsg_ce_attempt_fn)(void *ud, const struct vsg_ce *ce, const char *url,
                                  int dead_letter, enum vsg_err rc, long status);

struct vsg_ce_sender_opts {
    const char *sink;                 /* Target URL (K_SINK); required. */
    const char *dead_letter_sink;     /* delivery.deadLetterSink URL, or NULL. */
    const char *ns;                   /* Kn-Namespace header value, or NULL. */
    long timeout_ms;                  /* Per attempt; 0: 30 s; < 0: none. */
    struct vsg_ce_delivery delivery;  /* Retry policy (vsg_ce_sender_opts_init
                                         sets the defaults). */
    const struct vsg_ce_overrides *overrides; /* K_CE_OVERRIDES (copied), or NULL. */
    const struct vsg_http_opts *http; /* TLS and client settings, or NULL. */
    size_t error_data_max;            /* 0: VSG_CE_DEFAULT_ERROR_DATA_MAX. */
    vsg_ce_attempt_fn on_attempt;     /* Optional per-attempt hook. */
    void *on_attempt_ud;              /* Its user data. */
    vsg_ce_waiting_fn on_waiting;     /* Optional hook while waiting to retry. */
    void *on_waiting_ud;              /* Its user data. */
    int percent_header_values;        /* Nonzero: ce-* values percent-encoded as the
                                         CloudEvents HTTP binding asks; 0 (default):
                                         raw, as the Go adapter sent them. */
    double trace_sample_rate;         /* Share of events whose traceparent is marked
                                         sampled (K_TRACING_CONFIG), 0..1. */
    struct vsg_ce_metrics *metrics;   /* Knative's event_count (each event's last
                                         answer from the sink) and retry_event_count
                                         (each sink attempt retried) go there
                                         (borrowed; outlives the sender), or NULL.
                                         Dead-letter attempts are not counted. */
};

/* Counters since the sender was made. */
struct vsg_ce_sender_stats {
    uint64_t sent;          /* Events the sink accepted (2xx). */
    uint64_t retried;       /* Retry attempts, sink and dead-letter sink. */
    uint64_t dead_lettered; /* Events the dead-letter sink accepted. */
    uint64_t dropped;       /* Events given up on without a dead-letter sink
                               (or that it refused too), and invalid events. */
    uint64_t attempts;      /* HTTP requests made, all destinations. */
};

struct vsg_ce_sender;

/* Zeroes `o` and sets the default delivery policy. */
void vsg_ce_sender_opts_init(struct vsg_ce_sender_opts *o);

/* Makes a sender; options are copied. NULL with `err` set on failure
 * (VSG_ERR_INVAL without a sink URL). */
struct vsg_ce_sender *vsg_ce_sender_new(const struct vsg_ce_sender_opts *o,
                                        struct vsg_error *err);

/* Frees the sender. Not while vsg_ce_send() runs. NULL is a no-op. */
void vsg_ce_sender_free(struct vsg_ce_sender *s);

/*
 * Sends `ce` (not modified; overrides are applied to a copy) and returns
 * only when it is delivered, dead-lettered, dropped by policy or the
 * sender is cancelled; `*outcome` says which. VSG_OK means "checkpoint
 * may pass it" (with `err` holding the failure for DEAD_LETTERED and
 * DROPPED), VSG_ERR_CANCELLED means it must not. An event that fails
 * vsg_ce_validate() is DROPPED at once.
 */
enum vsg_err vsg_ce_send(struct vsg_ce_sender *s, const struct vsg_ce *ce,
                         enum vsg_ce_outcome *outcome, struct vsg_error *err);

/* Makes a running vsg_ce_send() return CANCELLED promptly (a backoff
 * wait ends at once, a request in flight within about a second) and every
 * later call return it immediately. Async-signal-safe. */
void vsg_ce_sender_cancel(struct vsg_ce_sender *s);

/* Nonzero once vsg_ce_sender_cancel() was called. */
int vsg_ce_sender_cancelled(const struct vsg_ce_sender *s);

/* A snapshot of the counters. */
void vsg_ce_sender_stats(const struct vsg_ce_sender *s, struct vsg_ce_sender_stats *out);

/* The name of an outcome: "delivered", "dead-lettered", "dropped",
 * "cancelled". Static. */
const char *vsg_ce_outcome_name(enum vsg_ce_outcome o);

#endif

/*
 * cloudevents/delivery.h - the delivery policy of an event sender, with
 * Knative DeliverySpec semantics: retry count, linear or exponential
 * backoff from an ISO-8601 delay, and how a response is classified.
 *
 * Provides: struct vsg_ce_delivery (defaults by vsg_ce_delivery_init()),
 * vsg_ce_delivery_parse() for the spec's string fields (the delay read
 * by base/vtime.h's vsg_iso8601_duration_parse()), vsg_ce_backoff_ms() (the wait before each
 * retry), vsg_ce_retry_after_ms() (the Retry-After header) and
 * vsg_ce_classify() (delivered / retry / give up).
 * Uses: base/err.h, base/vtime.h. Owns nothing.
 *
 * The schedule, retry n = 1, 2, 3... (the n-th resend of an event):
 *   exponential: delay * 2^(n-1)      (1s, 2s, 4s, 8s... for PT1S)
 *   linear:      delay * (n-1)        (0s, 1s, 2s, 3s... for PT1S)
 * exactly Knative's formulas (its attempt counter starts at 0), each
 * capped at max_delay_ms (default 60 s; Knative has no cap, but with
 * unlimited retries an uncapped exponential would soon wait for days).
 */
#ifndef VSG_CLOUDEVENTS_DELIVERY_H
#define VSG_CLOUDEVENTS_DELIVERY_H

#include <stdint.h>

#include "base/err.h"

#define VSG_CE_DEFAULT_DELAY_MS 1000       /* backoffDelay when unset: PT1S. */
#define VSG_CE_DEFAULT_MAX_DELAY_MS 60000  /* Cap on any single wait. */
#define VSG_CE_RETRY_FOREVER (-1)          /* `retry` when delivery.retry is unset. */

enum vsg_ce_backoff {
    VSG_CE_BACKOFF_EXPONENTIAL, /* delay * 2^(n-1); the default. */
    VSG_CE_BACKOFF_LINEAR       /* delay * (n-1). */
};

struct vsg_ce_delivery {
    long retry;                 /* Retries after the first attempt (attempts =
                                   retry + 1), or VSG_CE_RETRY_FOREVER. */
    enum vsg_ce_backoff policy; /* Backoff policy. */
    int64_t delay_ms;           /* backoffDelay in milliseconds (>= 0). */
    int64_t max_delay_ms;       /* Cap on one wait, also on Retry-After. */
};

/* What to do after one attempt. */
enum vsg_ce_class {
    VSG_CE_CLASS_DELIVERED, /* 2xx: done. */
    VSG_CE_CLASS_RETRY,     /* 404, 408, 409, 429, 5xx, other non-4xx codes,
                               connection errors and time-outs. */
    VSG_CE_CLASS_FAIL       /* Other 4xx, or a local error that a retry
                               cannot fix (malformed URL): give up now. */
};

/* Sets the defaults: retry forever, exponential from 1 s, 60 s cap. */
void vsg_ce_delivery_init(struct vsg_ce_delivery *d);

/*
 * Fills `d` (defaults first) from the DeliverySpec strings; NULL or ""
 * leaves a field at its default. `retry`: a decimal integer >= 0.
 * `policy`: "exponential" or "linear" (case-insensitive). `delay`: an
 * ISO-8601 duration (PT0.2S, PT1S, PT1M, P1D). VSG_ERR_INVAL with a
 * message naming the field; `d` is untouched on error.
 */
enum vsg_err vsg_ce_delivery_parse(const char *retry, const char *policy, const char *delay,
                                   struct vsg_ce_delivery *d, struct vsg_error *err);

/* The wait before retry number `n` (1-based) under `d`, in ms. */
int64_t vsg_ce_backoff_ms(const struct vsg_ce_delivery *d, long n);

/*
 * The Retry-After header value `v` ("120" seconds, or an HTTP-date) as a
 * wait in ms from now (0 for a date in the past), or -1 when `v` is NULL,
 * empty or unparsable. Not capped here.
 */
int64_t vsg_ce_retry_after_ms(const char *v);

/* Classifies one attempt: `rc` is the transport result (VSG_OK when a
 * response arrived), `status` its HTTP status (0 if none). */
enum vsg_ce_class vsg_ce_classify(enum vsg_err rc, long status);

#endif

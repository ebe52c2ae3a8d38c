/*
 * cloudevents/sender.c - see sender.h.
 *
 * Cancellation: an atomic flag (read between steps), the same flag as
 * curl's cancel pointer (checked by its progress callback while a request
 * is in flight), and an eventfd that a backoff wait poll()s on, so
 * vsg_ce_sender_cancel() needs only a store and a write().
 */
#include "cloudevents/sender.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/url.h"
#include "base/vtime.h"

#define LOGGER "vsgate.sender"
#define RESP_BODY_MAX (64u * 1024) /* We only keep error bodies; cap them. */

struct vsg_ce_sender {
    char *sink;                       /* Target URL. */
    char *sink_safe;                  /* Target URL, user info redacted (vsg_url_redact). */
    char *dls;                        /* Dead-letter sink URL, or NULL. */
    char *dls_safe;                   /* The same, redacted. */
    char *ns;                         /* Kn-Namespace, or NULL. */
    long timeout_ms;                  /* Per attempt (0: none). */
    struct vsg_ce_delivery delivery;  /* Retry policy. */
    struct vsg_ce_overrides overrides; /* Copied overrides. */
    size_t error_data_max;            /* Body bytes in knativeerrordata. */
    vsg_ce_attempt_fn on_attempt;     /* Per-attempt hook, or NULL. */
    void *on_attempt_ud;              /* Its user data. */
    vsg_ce_waiting_fn on_waiting;     /* Hook while waiting to retry, or NULL. */
    void *on_waiting_ud;              /* Its user data. */
    int percent;                      /* ce-* values percent-encoded. */
    double trace_sample_rate;         /* Share of traceparents marked sampled. */
    struct vsg_ce_metrics *metrics;   /* Source metrics (borrowed), or NULL. */
    struct vsg_http_client *http;     /* Keep-alive client. */
    int efd;                          /* eventfd signalled by cancel. */
    atomic_int cancel_flag;           /* Nonzero once cancelled (curl polls it). */
    atomic_int cancelled;             /* Same, with cross-thread ordering. */
    atomic_uint_fast64_t sent;        /* Events the sink accepted. */
    atomic_uint_fast64_t retried;     /* Retry attempts (sink and DLS). */
    atomic_uint_fast64_t dead_lettered; /* Events the DLS accepted. */
    atomic_uint_fast64_t dropped;     /* Events given up on. */
    atomic_uint_fast64_t attempts;    /* HTTP requests made. */
};

/* The result of delivering to one destination. */
enum dest_result {
    DEST_DELIVERED, /* 2xx. */
    DEST_GAVE_UP,   /* Not retryable, or retries exhausted. */
    DEST_CANCELLED  /* Cancelled meanwhile. */
};

/* What the last attempt to a destination ended with. */
struct last_try {
    enum vsg_err rc;       /* Transport result. */
    long status;           /* HTTP status, 0 if none. */
    struct vsg_buf body;   /* Response body excerpt (error_data_max bytes). */
    struct vsg_error err;  /* Transport error detail. */
};

/* ====================================================================
 * Life cycle
 * ==================================================================== */

void vsg_ce_sender_opts_init(struct vsg_ce_sender_opts *o)
{
    memset(o, 0, sizeof *o);
    vsg_ce_delivery_init(&o->delivery);
}

struct vsg_ce_sender *vsg_ce_sender_new(const struct vsg_ce_sender_opts *o,
                                        struct vsg_error *err)
{
    struct vsg_ce_sender *s;
    struct vsg_http_opts hopts = {0};

    if (!o || !o->sink || !*o->sink) {
        vsg_error_set(err, VSG_ERR_INVAL, "CloudEvents sender: no sink URL (K_SINK)");
        return NULL;
    }
    if (!(s = vsg_calloc(1, sizeof *s))) goto nomem;
    s->efd = -1;
    vsg_ce_overrides_init(&s->overrides);
    if (!(s->sink = vsg_strdup(o->sink)) || !(s->sink_safe = vsg_url_redact_dup(o->sink))) goto nomem;
    if (o->dead_letter_sink && *o->dead_letter_sink &&
        (!(s->dls = vsg_strdup(o->dead_letter_sink)) ||
         !(s->dls_safe = vsg_url_redact_dup(o->dead_letter_sink))))
        goto nomem;
    if (o->ns && *o->ns && !(s->ns = vsg_strdup(o->ns))) goto nomem;
    s->timeout_ms = o->timeout_ms == 0 ? VSG_CE_DEFAULT_TIMEOUT_MS
                                       : (o->timeout_ms < 0 ? 0 : o->timeout_ms);
    s->delivery = o->delivery;
    s->error_data_max = o->error_data_max ? o->error_data_max : VSG_CE_DEFAULT_ERROR_DATA_MAX;
    s->percent = o->percent_header_values != 0;
    s->trace_sample_rate = o->trace_sample_rate < 0 ? 0 : o->trace_sample_rate > 1 ? 1 : o->trace_sample_rate;
    s->metrics = o->metrics;
    if (s->error_data_max > RESP_BODY_MAX) s->error_data_max = RESP_BODY_MAX;
    s->on_attempt = o->on_attempt;
    s->on_attempt_ud = o->on_attempt_ud;
    s->on_waiting = o->on_waiting;
    s->on_waiting_ud = o->on_waiting_ud;
    if (o->overrides && o->overrides->n_ext) {
        s->overrides.ext = vsg_calloc(o->overrides->n_ext, sizeof *s->overrides.ext);
        if (!s->overrides.ext) goto nomem;
        for (size_t i = 0; i < o->overrides->n_ext; i++) {
            s->overrides.n_ext = i + 1;
            if (!(s->overrides.ext[i].name = vsg_strdup(o->overrides->ext[i].name)) ||
                !(s->overrides.ext[i].value = vsg_strdup(o->overrides->ext[i].value)))
                goto nomem;
        }
    }
    if ((s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        vsg_error_set(err, VSG_ERR_IO, "CloudEvents sender: eventfd: %s", strerror(errno));
        goto fail;
    }
    if (o->http) hopts = *o->http;
    hopts.timeout_ms = s->timeout_ms;
    hopts.max_body = RESP_BODY_MAX;
    if (!(s->http = vsg_http_client_new(&hopts, err))) goto fail;
    return s;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "CloudEvents sender: out of memory");
fail:
    vsg_ce_sender_free(s);
    return NULL;
}

void vsg_ce_sender_free(struct vsg_ce_sender *s)
{
    if (!s) return;
    vsg_http_client_free(s->http);
    if (s->efd >= 0) close(s->efd);
    vsg_ce_overrides_cleanup(&s->overrides);
    vsg_free(s->sink);
    vsg_free(s->sink_safe);
    vsg_free(s->dls);
    vsg_free(s->dls_safe);
    vsg_free(s->ns);
    vsg_free(s);
}

void vsg_ce_sender_cancel(struct vsg_ce_sender *s)
{
    uint64_t one = 1;
    ssize_t w;

    atomic_store(&s->cancel_flag, 1);
    atomic_store(&s->cancelled, 1);
    do {
        w = write(s->efd, &one, sizeof one);
    } while (w < 0 && errno == EINTR);
}

int vsg_ce_sender_cancelled(const struct vsg_ce_sender *s)
{
    return atomic_load(&((struct vsg_ce_sender *)s)->cancelled);
}

void vsg_ce_sender_stats(const struct vsg_ce_sender *s, struct vsg_ce_sender_stats *out)
{
    struct vsg_ce_sender *m = (struct vsg_ce_sender *)s;
    out->sent = atomic_load(&m->sent);
    out->retried = atomic_load(&m->retried);
    out->dead_lettered = atomic_load(&m->dead_lettered);
    out->dropped = atomic_load(&m->dropped);
    out->attempts = atomic_load(&m->attempts);
}

const char *vsg_ce_outcome_name(enum vsg_ce_outcome o)
{
    switch (o) {
    case VSG_CE_DELIVERED: return "delivered";
    case VSG_CE_DEAD_LETTERED: return "dead-lettered";
    case VSG_CE_DROPPED: return "dropped";
    case VSG_CE_CANCELLED: return "cancelled";
    }
    return "unknown";
}

/* ====================================================================
 * Sending
 * ==================================================================== */

/* Waits `ms` milliseconds, calling on_waiting first and then every second;
 * returns nonzero if cancelled meanwhile. */
static int wait_ms(struct vsg_ce_sender *s, int64_t ms)
{
    int64_t deadline = vsg_time_mono_ms() + ms;

    for (;;) {
        if (atomic_load(&s->cancelled)) return 1;
        if (s->on_waiting) s->on_waiting(s->on_waiting_ud);
        int64_t left = deadline - vsg_time_mono_ms();
        if (left <= 0) return 0;
        struct pollfd p = {s->efd, POLLIN, 0};
        int r = poll(&p, 1, left > 1000 ? 1000 : (int)left);
        if (r > 0) return 1; /* Only cancel writes to the eventfd. */
        if (r < 0 && errno != EINTR) return atomic_load(&s->cancelled);
    }
}

/* One HTTP POST. Fills `last`. */
static void attempt(struct vsg_ce_sender *s, const char *url, const struct vsg_ce *ev,
                    const char *const *headers, int dead_letter, struct last_try *last,
                    char *retry_after, size_t ra_size)
{
    struct vsg_http_request req = {0};
    struct vsg_http_response resp;

    vsg_http_response_init(&resp);
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = ev->data ? ev->data : "";
    req.body_len = ev->data ? ev->data_len : 0;
    req.cancel = &s->cancel_flag;
    vsg_error_clear(&last->err);
    last->rc = vsg_http_do(s->http, &req, &resp, &last->err);
    last->status = resp.status;
    vsg_buf_reset(&last->body);
    if (resp.body.len)
        vsg_buf_append(&last->body, resp.body.data,
                       resp.body.len < s->error_data_max ? resp.body.len : s->error_data_max);
    size_t ral = strnlen(resp.retry_after, ra_size - 1);
    memcpy(retry_after, resp.retry_after, ral);
    retry_after[ral] = '\0';
    vsg_http_response_cleanup(&resp);
    atomic_fetch_add(&s->attempts, 1);
    if (s->on_attempt) s->on_attempt(s->on_attempt_ud, ev, url, dead_letter, last->rc, last->status);
}

/* Describes `last` for logs and errors: "HTTP 503" or the transport error. */
static void describe(const struct last_try *last, char *out, size_t outsz)
{
    if (last->rc == VSG_OK || last->status > 0)
        snprintf(out, outsz, "HTTP %ld", last->status);
    else
        snprintf(out, outsz, "%s", last->err.msg[0] ? last->err.msg : vsg_strerror(last->rc));
}

/*
 * A W3C traceparent for one event, as the Go adapter sends one with every
 * event: version 00, a random trace id and span id (this adapter starts
 * the trace), flags 01 for the sampled share (K_TRACING_CONFIG), else 00.
 */
static enum vsg_err traceparent(const struct vsg_ce_sender *s, char *out, size_t outsz)
{
    unsigned char id[24 + 4];
    static const char hex[] = "0123456789abcdef";
    if (RAND_bytes(id, (int)sizeof id) != 1) return VSG_ERR_INTERNAL;
    /* An all-zero trace or span id is invalid: vanishingly rare, mended. */
    id[15] |= 1;
    id[23] |= 1;
    uint32_t r = (uint32_t)id[24] << 24 | (uint32_t)id[25] << 16 | (uint32_t)id[26] << 8 | id[27];
    int sampled = s->trace_sample_rate > 0 && (double)r / 4294967296.0 < s->trace_sample_rate;
    if (outsz < 56) return VSG_ERR_TOOBIG;
    char *p = out;
    memcpy(p, "00-", 3), p += 3;
    for (int i = 0; i < 16; i++) *p++ = hex[id[i] >> 4], *p++ = hex[id[i] & 15];
    *p++ = '-';
    for (int i = 16; i < 24; i++) *p++ = hex[id[i] >> 4], *p++ = hex[id[i] & 15];
    memcpy(p, sampled ? "-01" : "-00", 4);
    return VSG_OK;
}

/* Sends `ev` to `url` until delivered, given up, or cancelled. */
static enum dest_result deliver(struct vsg_ce_sender *s, const char *url, const char *url_safe,
                                const struct vsg_ce *ev, int dead_letter, struct last_try *last,
                                struct vsg_error *err)
{
    struct vsg_ce_headers h;
    enum dest_result res = DEST_GAVE_UP;
    char ra[64], what[VSG_ERROR_MSG_MAX];
    long n = 0;

    char tp[64];
    vsg_ce_headers_init(&h);
    if (traceparent(s, tp, sizeof tp) != VSG_OK) {
        last->rc = VSG_ERR_INTERNAL;
        last->status = 0;
        snprintf(last->err.msg, sizeof last->err.msg, "no random bytes for the traceparent");
        goto done;
    }
    if (vsg_ce_binary_headers(ev, s->ns, s->percent, &h, err) != VSG_OK ||
        vsg_ce_headers_add(&h, "traceparent", tp) != VSG_OK ||
        /* Without a datacontenttype, stop curl from sending its form type. */
        (!ev->datacontenttype && vsg_ce_headers_add(&h, "Content-Type", "") != VSG_OK)) {
        last->rc = err ? err->code : VSG_ERR_INVAL;
        last->status = 0;
        snprintf(last->err.msg, sizeof last->err.msg, "%s", err ? err->msg : "encoding failed");
        goto done;
    }
    if (!ev->datacontenttype) {
        /* vsg_ce_headers_add wrote "Content-Type: "; curl wants "Content-Type:". */
        h.lines[h.n - 1][strlen("Content-Type:")] = '\0';
    }
    for (;;) {
        if (atomic_load(&s->cancelled)) {
            res = DEST_CANCELLED;
            goto done;
        }
        attempt(s, url, ev, (const char *const *)h.lines, dead_letter, last, ra, sizeof ra);
        if (atomic_load(&s->cancelled) && last->rc == VSG_ERR_CANCELLED) {
            res = DEST_CANCELLED;
            goto done;
        }
        enum vsg_ce_class cls = vsg_ce_classify(last->rc, last->status);
        int final = cls != VSG_CE_CLASS_RETRY ||
                    (s->delivery.retry != VSG_CE_RETRY_FOREVER && n >= s->delivery.retry);
        if (!dead_letter)
            vsg_ce_metrics_record(s->metrics, ev->type, ev->source, !final, last->rc, last->status);
        if (cls == VSG_CE_CLASS_DELIVERED) {
            res = DEST_DELIVERED;
            goto done;
        }
        describe(last, what, sizeof what);
        if (final) {
            VSG_LOGF_WARN(LOGGER,
                          ((const char *[]){"id", ev->id, "type", ev->type, "sink", url_safe,
                                            NULL}),
                          "%s gave up on event after %ld attempt(s): %s (%s)",
                          dead_letter ? "dead-letter delivery" : "delivery", n + 1, what,
                          cls == VSG_CE_CLASS_FAIL ? "not retryable" : "retries exhausted");
            res = DEST_GAVE_UP;
            goto done;
        }
        n++;
        int64_t wait = vsg_ce_backoff_ms(&s->delivery, n);
        if (last->status == 429 || last->status == 503) {
            int64_t r = vsg_ce_retry_after_ms(ra);
            if (r > 0) {
                int64_t cap = s->delivery.max_delay_ms > 0 ? s->delivery.max_delay_ms : r;
                if (r > cap) r = cap;
                if (r > wait) wait = r;
            }
        }
        VSG_LOGF_WARN(LOGGER,
                      ((const char *[]){"id", ev->id, "type", ev->type, "sink", url_safe, NULL}),
                      "%s failed: %s; retry %ld in %lld ms",
                      dead_letter ? "dead-letter delivery" : "delivery", what, n,
                      (long long)wait);
        atomic_fetch_add(&s->retried, 1);
        if (wait_ms(s, wait)) {
            res = DEST_CANCELLED;
            goto done;
        }
    }
done:
    vsg_ce_headers_cleanup(&h);
    return res;
}

/* Adds the Knative dead-letter extensions describing `last` to `ev`. */
static enum vsg_err add_error_exts(struct vsg_ce_sender *s, struct vsg_ce *ev,
                                   const struct last_try *last, struct vsg_error *err)
{
    char code[24];
    struct vsg_buf data;
    const char *body;
    size_t body_len;
    enum vsg_err rc;
    unsigned char *b64 = NULL;

    vsg_buf_init(&data, s->error_data_max + 256);
    /* Like Knative's dispatcher: no response means 500 and the error text. */
    if (last->status > 0) {
        snprintf(code, sizeof code, "%ld", last->status);
        body = last->body.data;
        body_len = last->body.len;
    } else {
        snprintf(code, sizeof code, "500");
        vsg_buf_printf(&data, "dispatch error: %s",
                       last->err.msg[0] ? last->err.msg : vsg_strerror(last->rc));
        body = data.data;
        body_len = data.len < s->error_data_max ? data.len : s->error_data_max;
    }
    if ((rc = vsg_ce_set_ext(ev, "knativeerrordest", s->sink_safe, err)) != VSG_OK ||
        (rc = vsg_ce_set_ext(ev, "knativeerrorcode", code, err)) != VSG_OK)
        goto done;
    if (body && body_len) {
        b64 = vsg_malloc(4 * ((body_len + 2) / 3) + 1);
        if (!b64) {
            rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
            goto done;
        }
        EVP_EncodeBlock(b64, (const unsigned char *)body, (int)body_len);
        rc = vsg_ce_set_ext(ev, "knativeerrordata", (const char *)b64, err);
    }
done:
    vsg_free(b64);
    vsg_buf_cleanup(&data);
    return rc;
}

enum vsg_err vsg_ce_send(struct vsg_ce_sender *s, const struct vsg_ce *ce,
                         enum vsg_ce_outcome *outcome, struct vsg_error *err)
{
    struct vsg_ce ev;
    struct last_try last, dlast;
    enum dest_result r;
    enum vsg_err rc = VSG_OK;
    char what[VSG_ERROR_MSG_MAX];

    vsg_ce_init(&ev);
    memset(&last, 0, sizeof last);
    memset(&dlast, 0, sizeof dlast);
    vsg_buf_init(&last.body, RESP_BODY_MAX);
    vsg_buf_init(&dlast.body, RESP_BODY_MAX);
    *outcome = VSG_CE_DROPPED;

    if (atomic_load(&s->cancelled)) goto cancelled;
    /* With overrides, work on a copy carrying them (they win over the
     * event's); without, send the caller's event as it is (the copy is
     * made only should it go to the dead-letter sink). */
    const struct vsg_ce *use = ce;
    if (s->overrides.n_ext > 0) {
        while ((rc = vsg_ce_copy(&ev, ce)) == VSG_ERR_NOMEM ||
               (rc = vsg_ce_overrides_apply(&s->overrides, &ev, err)) == VSG_ERR_NOMEM) {
            /* Memory pressure is transient: wait like a retryable failure. */
            VSG_LOG_ERROR(LOGGER, "out of memory preparing an event; retrying in 1 s");
            if (wait_ms(s, 1000)) goto cancelled;
        }
        use = &ev;
    }
    if (rc == VSG_OK) rc = vsg_ce_validate(use, err);
    if (rc != VSG_OK) {
        VSG_LOGF_ERROR(LOGGER, ((const char *[]){"id", ce->id, "type", ce->type, NULL}),
                       "dropping event that cannot be sent: %s", err ? err->msg : vsg_strerror(rc));
        atomic_fetch_add(&s->dropped, 1);
        *outcome = VSG_CE_DROPPED;
        rc = VSG_OK;
        goto done;
    }

    r = deliver(s, s->sink, s->sink_safe, use, 0, &last, err);
    if (r == DEST_CANCELLED) goto cancelled;
    if (r == DEST_DELIVERED) {
        atomic_fetch_add(&s->sent, 1);
        *outcome = VSG_CE_DELIVERED;
        goto done;
    }
    if (use == ce) {
        while (vsg_ce_copy(&ev, ce) == VSG_ERR_NOMEM) {
            VSG_LOG_ERROR(LOGGER, "out of memory preparing an event; retrying in 1 s");
            if (wait_ms(s, 1000)) goto cancelled;
        }
    }
    describe(&last, what, sizeof what);
    if (s->dls) {
        struct vsg_error e2;
        while (add_error_exts(s, &ev, &last, &e2) == VSG_ERR_NOMEM)
            if (wait_ms(s, 1000)) goto cancelled;
        r = deliver(s, s->dls, s->dls_safe, &ev, 1, &dlast, &e2);
        if (r == DEST_CANCELLED) goto cancelled;
        if (r == DEST_DELIVERED) {
            atomic_fetch_add(&s->dead_lettered, 1);
            *outcome = VSG_CE_DEAD_LETTERED;
            vsg_error_set(err, last.rc != VSG_OK && last.status <= 0 ? last.rc : VSG_ERR_HTTP,
                          "event %s dead-lettered: sink %s: %s", ev.id, s->sink_safe, what);
            VSG_LOGF_WARN(LOGGER,
                          ((const char *[]){"id", ev.id, "type", ev.type, "sink", s->sink_safe,
                                            NULL}),
                          "event sent to the dead-letter sink: %s", what);
            goto done;
        }
        char dwhat[VSG_ERROR_MSG_MAX];
        describe(&dlast, dwhat, sizeof dwhat);
        vsg_error_set(err, VSG_ERR_HTTP, "event %s dropped: sink %s: %s; dead-letter sink: %s",
                      ev.id, s->sink_safe, what, dwhat);
    } else {
        vsg_error_set(err, last.rc != VSG_OK && last.status <= 0 ? last.rc : VSG_ERR_HTTP,
                      "event %s dropped: sink %s: %s", ev.id, s->sink_safe, what);
    }
    VSG_LOGF_ERROR(LOGGER,
                   ((const char *[]){"id", ev.id, "type", ev.type, "sink", s->sink_safe, NULL}),
                   "event dropped: %s", err ? err->msg : what);
    atomic_fetch_add(&s->dropped, 1);
    *outcome = VSG_CE_DROPPED;
    goto done;

cancelled:
    *outcome = VSG_CE_CANCELLED;
    rc = vsg_error_set(err, VSG_ERR_CANCELLED, "sender cancelled before the event was delivered");
done:
    vsg_buf_cleanup(&last.body);
    vsg_buf_cleanup(&dlast.body);
    vsg_ce_cleanup(&ev);
    return rc;
}

/*
 * adapter/adapter.c - the adapter engine; see adapter.h.
 *
 * One thread, one loop:
 *
 *   connect (retry with backoff) -> load checkpoint -> begin time
 *   loop: ensure session + collector -> ReadNextEvents
 *         -> per event: decode -> CloudEvent -> send (blocks until
 *            delivered / dead-lettered / dropped) -> move checkpoint
 *         -> idle: WaitForUpdatesEx (or sleep) -> keep-alive
 *         -> every period: save the checkpoint if it moved
 *   stop: save checkpoint, destroy collector, logout.
 */
#include "adapter/adapter.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "cloudevents/event.h"
#include "cloudevents/sender.h"
#include "filter/filter_stage.h"
#include "filter/record.h"
#include "soap/session.h"
#include "vsphere/collector.h"
#include "vsphere/event.h"

#define LOGGER(cfg) ((cfg)->logger ? (cfg)->logger : "vsgate.adapter")

/* Backoff for vCenter errors: 1 s doubling to 30 s. */
#define VC_BACKOFF_MIN_MS 1000
#define VC_BACKOFF_MAX_MS 30000
/* WaitForUpdatesEx maxWaitSeconds: bounds how late a stop is noticed. */
#define WAIT_UPDATES_S 2
/* Largest payload of one event. */
#define MAX_PAYLOAD (8u * 1024 * 1024)

/* Time the vCenter calls of a shutdown (DestroyCollector, Logout) get in
 * all after a stop; an unresponsive server costs this once. */
#define SHUTDOWN_VC_MS 1000
/* Each API request of the last checkpoint save (a ConfigMap: get, then
 * update) gets this long after a stop: an unresponsive API server costs
 * at most twice this, and the stop still ends within 2 s. */
#define SHUTDOWN_STORE_REQUEST_MS 400

/* The process's sender and vCenter session, for the signal handler
 * (per-process singletons set while vsg_adapter_run() runs). */
static struct vsg_ce_sender *volatile running_sender;
static struct vsg_soap_session *volatile running_soap;
static volatile sig_atomic_t *signal_stop;

/* Aborts whatever blocks (a SOAP call, a delivery: both poll their cancel
 * flag) and then sets the stop flag, so that the engine, once it sees
 * the stop, finds the session already cancelled. Only stores and an
 * eventfd write(): async-signal-safe. */
static void on_signal(int sig)
{
    (void)sig;
    struct vsg_soap_session *soap = running_soap;
    if (soap) vsg_soap_cancel(soap);
    struct vsg_ce_sender *s = running_sender;
    if (s) vsg_ce_sender_cancel(s);
    if (signal_stop) *signal_stop = 1;
}

void vsg_adapter_install_signals(volatile sig_atomic_t *stop)
{
    signal_stop = stop;
    vsg_lua_set_interrupt(stop); /* A filter call in progress ends at once. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void vsg_adapter_config_init(struct vsg_adapter_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    vsg_ce_delivery_init(&cfg->delivery);
    cfg->page_size = 100;
    cfg->period_ns = VSG_CHECKPOINT_DEFAULT_PERIOD;
    cfg->max_age_ns = VSG_CHECKPOINT_DEFAULT_MAX_AGE;
    cfg->wait = VSG_ADAPTER_WAIT_UPDATES;
    cfg->batch_wait_ms = VSG_ADAPTER_BATCH_WAIT_MS;
}

/* Engine state for one vsg_adapter_run(). */
/* Events of a page are decoded and made CloudEvents this many at a time,
 * then delivered one by one: each loop keeps more of its code and data in
 * the caches than alternating does (callgrind's cache model: 12 % fewer
 * instruction and 9 % fewer data read misses per event), and the memory
 * held stays small whatever the page size. */
#define PREP_EVENTS 32

/* An event decoded and turned into its CloudEvent ahead of delivery. */
struct prepared {
    struct vsg_event ev; /* The decoded event (key only when not `ready`). */
    struct vsg_ce ce;    /* Its CloudEvent; reused from page to page, so
                            the attributes that repeat stay set. */
    int ready;           /* 0: decoding or building failed (logged), only
                            the checkpoint moves past it. */
};

struct engine {
    const struct vsg_adapter_config *cfg;  /* The configuration (borrowed). */
    volatile sig_atomic_t *stop;           /* Set by the signal handler. */
    struct vsg_soap_session *soap;         /* The vCenter session. */
    struct vsg_collector *collector;       /* Current collector, or NULL. */
    struct vsg_collector_seen seen;        /* Keys already read (de-dup). */
    struct vsg_ce_sender *sender;          /* The sink. */
    struct vsg_checkpoint cp;              /* In-memory checkpoint. */
    int have_event;                        /* An event moved `cp` this run. */
    int64_t saved_key;                     /* Key in the last saved checkpoint. */
    struct vsg_time saved_ts;              /* Its timestamp. */
    int64_t next_save_ms;                  /* Monotonic time of the next save. */
    struct vsg_time begin;                 /* Begin time of the first collector. */
    int64_t backoff_ms;                    /* Current vCenter error backoff. */
    int idle_steps;                        /* Poll mode: empty reads in a row. */
    struct vsg_buf payload;                /* Reused payload buffer. */
    struct prepared prep[PREP_EVENTS];     /* The events of a page being
                                              delivered, prepared ahead. */
    uint64_t n_events;                     /* Events handled (any outcome). */
    int filter_waiting;                    /* Logged that events wait for a filter. */
    int vc_state;                          /* Reported: 0 none yet, 1 ok, -1 failing. */
    char vc_msg[512];                      /* The failure reported last. */
};

/* Reports vCenter's state to cfg->on_vcenter when it changed. */
static void vc_report(struct engine *e, int ok, const char *msg)
{
    if (!*e->stop) vsg_adapter_metrics_vcenter(e->cfg->metrics, ok);
    if (!e->cfg->on_vcenter || *e->stop) return;
    if (ok) {
        if (e->vc_state == 1) return;
        e->vc_state = 1;
        e->vc_msg[0] = '\0';
        e->cfg->on_vcenter(e->cfg->on_vcenter_ud, 1, "");
        return;
    }
    if (e->vc_state == -1 && strcmp(e->vc_msg, msg) == 0) return;
    e->vc_state = -1;
    snprintf(e->vc_msg, sizeof e->vc_msg, "%s", msg);
    e->cfg->on_vcenter(e->cfg->on_vcenter_ud, 0, e->vc_msg);
}

/* Sleeps `ms`, waking early when stop is set. */
static void nap(struct engine *e, int64_t ms)
{
    int64_t end = vsg_time_mono_ms() + ms;
    while (!*e->stop) {
        int64_t left = end - vsg_time_mono_ms();
        if (left <= 0) break;
        if (left > 50) left = 50;
        struct timespec ts = {0, (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* The decimal text of `v` in buf (>= 21 bytes); no printf: it runs for
 * every event. */
static const char *key_text(int64_t v, char *buf, size_t size)
{
    char *p = buf + size;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    *--p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    return p;
}

/* Waits out the vCenter backoff and doubles it. */
static void vc_backoff(struct engine *e)
{
    if (e->backoff_ms < VC_BACKOFF_MIN_MS) e->backoff_ms = VC_BACKOFF_MIN_MS;
    nap(e, e->backoff_ms);
    e->backoff_ms *= 2;
    if (e->backoff_ms > VC_BACKOFF_MAX_MS) e->backoff_ms = VC_BACKOFF_MAX_MS;
}

static void drop_collector(struct engine *e)
{
    vsg_collector_destroy(e->collector);
    e->collector = NULL;
}

/* Saves the checkpoint if it moved since the last save. */
static void save_checkpoint(struct engine *e, int force_log)
{
    const char *lg = LOGGER(e->cfg);
    if (!e->have_event ||
        (e->cp.last_event_key == e->saved_key && vsg_time_cmp(e->cp.last_event_key_ts, e->saved_ts) == 0)) {
        if (force_log) VSG_LOG_DEBUG(lg, "skipping checkpoint: no new events since last checkpoint");
        return;
    }
    struct vsg_error err = {0};
    e->cp.created_ts = vsg_time_now();
    if (vsg_checkpoint_store_save(e->cfg->store, &e->cp, &err) != VSG_OK) {
        VSG_LOG_ERROR(lg, "could not save checkpoint (will retry): %s", err.msg);
        vsg_adapter_metrics_checkpoint(e->cfg->metrics, 0, e->cp.last_event_key_ts);
        return;
    }
    vsg_adapter_metrics_checkpoint(e->cfg->metrics, 1, e->cp.last_event_key_ts);
    e->saved_key = e->cp.last_event_key;
    e->saved_ts = e->cp.last_event_key_ts;
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)e->saved_key);
    VSG_LOGF_DEBUG(lg, ((const char *[]){"#lastEventKey", key, NULL}), "checkpoint saved");
}

static void maybe_save(struct engine *e)
{
    int64_t now = vsg_time_mono_ms();
    if (now < e->next_save_ms) return;
    e->next_save_ms = now + e->cfg->period_ns / 1000000;
    save_checkpoint(e, 1);
}

/* The sender waits to retry an event: what was delivered before it is
 * saved on the period all the same (a kill during a long sink outage
 * would deliver it again otherwise). */
static void on_sender_waiting(void *ud)
{
    maybe_save(ud);
}

/* Logs in (first time or again), retrying until it works or stop. */
static int ensure_session(struct engine *e)
{
    const char *lg = LOGGER(e->cfg);
    while (!*e->stop && !vsg_soap_logged_in(e->soap)) {
        struct vsg_error err = {0};
        if (vsg_soap_connect(e->soap, &err) == VSG_OK) {
            VSG_LOG_INFO(lg, "logged in to %s", vsg_soap_url(e->soap));
            e->backoff_ms = 0;
            return 1;
        }
        if (*e->stop) break; /* Cancelled by the stop: not a failure. */
        vsg_adapter_metrics_vcenter_error(e->cfg->metrics);
        VSG_LOG_ERROR(lg, "vCenter login failed (retrying in %lld ms): %s",
                      (long long)(e->backoff_ms ? e->backoff_ms : VC_BACKOFF_MIN_MS), err.msg);
        {
            char m[600];
            snprintf(m, sizeof m, "vCenter login failed: %s", err.msg);
            vc_report(e, 0, m);
        }
        vc_backoff(e);
    }
    return !*e->stop;
}

/* The begin time of a new collector: after the first, resume from the last
 * event handled (inclusive; de-dup drops what was seen). */
static struct vsg_time collector_begin(const struct engine *e)
{
    if (e->have_event && vsg_time_cmp(e->cp.last_event_key_ts, e->begin) > 0)
        return e->cp.last_event_key_ts;
    return e->begin;
}

static int ensure_collector(struct engine *e)
{
    if (e->collector && !vsg_collector_stale(e->collector)) return 1;
    if (e->collector) drop_collector(e);
    /* The collector's page size (filter maxCount) sizes only its latestPage;
     * reads take cfg->page_size events (ReadNextEvents' own maxCount). In
     * updates mode latestPage is only a "something changed" hint, yet every
     * WaitForUpdatesEx wake carries it whole (vcsim: once per event posted
     * since the last wait), so it holds one event (bench/: the adapter's
     * CPU and peak RSS). */
    int latest = e->cfg->wait == VSG_ADAPTER_WAIT_UPDATES ? 1 : e->cfg->page_size;
    struct vsg_collector_opts o = {collector_begin(e), latest, &e->seen};
    struct vsg_error err = {0};
    e->collector = vsg_collector_create(e->soap, &o, &err);
    if (!e->collector && *e->stop) return 0; /* Cancelled by the stop. */
    if (!e->collector) {
        vsg_adapter_metrics_vcenter_error(e->cfg->metrics);
        if (err.code == VSG_ERR_INVALIDSTATE)
            VSG_LOG_ERROR(LOGGER(e->cfg),
                          "vCenter refuses a new event collector (retrying): %s. vCenter limits "
                          "how many may be open; an adapter killed without stopping leaves its "
                          "session and its collector until the session expires (vCenter's "
                          "session timeout). List and end stale sessions of this user (govc "
                          "session.ls, govc session.rm KEY) or wait for them to expire",
                          err.msg);
        else
            VSG_LOG_ERROR(LOGGER(e->cfg), "could not create event collector (retrying): %s", err.msg);
        {
            char m[600];
            snprintf(m, sizeof m, "cannot create the event collector: %s", err.msg);
            vc_report(e, 0, m);
        }
        if (err.code == VSG_ERR_NOTAUTHENTICATED) {
            struct vsg_error e2 = {0};
            vsg_soap_logout(e->soap, &e2); /* marks the session dead */
        }
        vc_backoff(e);
        return 0;
    }
    /* Pages as lite trees, but for --record, which dumps event nodes. */
    vsg_collector_set_lite(e->collector, e->cfg->record == NULL);
    char b[VSG_TIME_RFC3339_BUFSZ];
    vsg_time_format_rfc3339(o.begin, VSG_TIME_NANO, b, sizeof b);
    VSG_LOGF_INFO(LOGGER(e->cfg), ((const char *[]){"beginTime", b, NULL}), "event collector created");
    return 1;
}

/* Reacts to a vCenter error of a collector call. */
static void on_vc_error(struct engine *e, const struct vsg_error *err)
{
    const char *lg = LOGGER(e->cfg);
    /* Stopping: the stop cancelled the call (vsg_soap_cancel()); the
     * shutdown destroys the collector and logs out. */
    if (*e->stop) return;
    vsg_adapter_metrics_vcenter_error(e->cfg->metrics);
    switch (err->code) {
    case VSG_ERR_NOTAUTHENTICATED: {
        VSG_LOG_WARN(lg, "vCenter session lost, logging in again: %s", err->msg);
        drop_collector(e);
        struct vsg_error e2 = {0};
        if (vsg_soap_relogin(e->soap, &e2) != VSG_OK) {
            VSG_LOG_ERROR(lg, "re-login failed (retrying): %s", e2.msg);
            vc_backoff(e);
        }
        break;
    }
    case VSG_ERR_NOTFOUND:
        VSG_LOG_WARN(lg, "event collector gone, creating a new one: %s", err->msg);
        drop_collector(e);
        break;
    default:
        VSG_LOG_ERROR(lg, "vCenter call failed (retrying in %lld ms): %s",
                      (long long)(e->backoff_ms ? e->backoff_ms : VC_BACKOFF_MIN_MS), err->msg);
        {
            char m[600];
            snprintf(m, sizeof m, "vCenter call failed: %s", err->msg);
            vc_report(e, 0, m);
        }
        drop_collector(e);
        vc_backoff(e);
        /* A transport failure may mean vCenter restarted: check the session. */
        struct vsg_error e2 = {0};
        struct vsg_time now;
        if (vsg_soap_current_time(e->soap, &now, &e2) == VSG_ERR_NOTAUTHENTICATED) {
            struct vsg_error e3 = {0};
            vsg_soap_relogin(e->soap, &e3);
        }
        break;
    }
}

/* Sets attribute `name` unless it already holds `value`. */
static enum vsg_err ce_keep(struct vsg_ce *ce, const char *name, const char *value,
                            struct vsg_error *err)
{
    const char *cur = vsg_ce_get(ce, name);
    if (cur && strcmp(cur, value) == 0) return VSG_OK;
    return vsg_ce_set(ce, name, value, err);
}

/* Builds the CloudEvent of a decoded event into `ce` (the engine's: what
 * repeats from event to event is only set when it changes). */
static enum vsg_err build_ce(struct engine *e, const struct vsg_event *ev, struct vsg_ce *ce,
                             struct vsg_error *err)
{
    char idbuf[32], tbuf[VSG_TIME_RFC3339_BUFSZ];
    const char *id = key_text(ev->key, idbuf, sizeof idbuf);
    struct vsg_buf type;
    enum vsg_err rc;
    const struct vsg_soap_service_content *sc = vsg_soap_service_content(e->soap);

    vsg_buf_init(&type, 4096);
    if ((rc = vsg_buf_puts(&type, "com.vmware.vsphere.")) != VSG_OK ||
        (rc = vsg_buf_puts(&type, ev->detail ? ev->detail : "")) != VSG_OK ||
        (rc = vsg_buf_puts(&type, ".v0")) != VSG_OK)
        goto done;
    if ((rc = vsg_time_format_rfc3339(ev->created, VSG_TIME_NANO, tbuf, sizeof tbuf)) != VSG_OK) {
        vsg_error_set(err, rc, "event %s: createdTime out of range", id);
        goto done;
    }
    if ((rc = vsg_ce_set(ce, "id", id, err)) != VSG_OK ||
        (rc = ce_keep(ce, "source", vsg_soap_url(e->soap), err)) != VSG_OK ||
        (rc = vsg_ce_set(ce, "type", type.data, err)) != VSG_OK ||
        (rc = vsg_ce_set(ce, "time", tbuf, err)) != VSG_OK ||
        (rc = ce_keep(ce, "datacontenttype", e->cfg->json ? "application/json" : "application/xml", err)) != VSG_OK ||
        (rc = ce_keep(ce, "eventclass", vsg_event_class_str(ev->eventclass), err)) != VSG_OK ||
        (rc = ce_keep(ce, "vsphereapiversion", sc && sc->api_version ? sc->api_version : "", err)) != VSG_OK)
        goto done;
    vsg_buf_reset(&e->payload);
    rc = e->cfg->json ? vsg_event_encode_json(ev, &e->payload) : vsg_event_encode_xml(ev, &e->payload);
    if (rc != VSG_OK) {
        vsg_error_set(err, rc, "event %s: payload encoding failed: %s", id, vsg_strerror(rc));
        goto done;
    }
    rc = vsg_ce_set_data(ce, e->payload.data, e->payload.len);
    if (rc != VSG_OK) vsg_error_set(err, rc, "event %s: out of memory", id);
done:
    vsg_buf_cleanup(&type);
    return rc;
}

/* ---- Filter stage and record (filter/filter_stage.h, filter/record.h) ------- */

/* Counts what became of one CloudEvent sent. */
static void count_outcome(struct engine *e, enum vsg_ce_outcome o)
{
    vsg_adapter_metrics_event(e->cfg->metrics, o == VSG_CE_DELIVERED       ? VSG_ADAPTER_DELIVERED
                                               : o == VSG_CE_DEAD_LETTERED ? VSG_ADAPTER_DEAD_LETTERED
                                                                           : VSG_ADAPTER_DROPPED);
}

/* Sends what the filter made of `ce` (swapping in a new filter version
 * first: between two events is the safe point). Returns 0 when cancelled:
 * then the event must not be checkpointed (a fan-out is sent again whole
 * after a restart; its ids are stable). Dropped by the filter or its error
 * policy is handled: the checkpoint moves. */
static int send_filtered(struct engine *e, const struct vsg_event *ev, const struct vsg_ce *ce)
{
    const char *lg = LOGGER(e->cfg);
    struct vsg_filter_result res;
    int ok = 1;

    vsg_filter_swap_pending(e->cfg->filter);
    vsg_filter_result_init(&res);
    enum vsg_err frc = vsg_filter_run(e->cfg->filter, ev, ce, &res);
    if (frc == VSG_ERR_CANCELLED) { /* Stopping: this event is read again next time. */
        vsg_filter_result_cleanup(&res);
        return 0;
    }
    if (frc == VSG_ERR_NOMEM)
        VSG_LOGF_ERROR(lg, ((const char *[]){"eventId", ce->id, NULL}), "filter: out of memory, event dropped");
    if (res.outcome == VSG_FILTER_DROPPED)
        VSG_LOGF_DEBUG(lg, ((const char *[]){"eventId", ce->id, NULL}), "event dropped by the filter");
    for (size_t i = 0; i < vsg_filter_result_count(&res); i++) {
        const struct vsg_ce *out = vsg_filter_result_event(&res, ce, i);
        enum vsg_ce_outcome outcome = VSG_CE_DROPPED;
        struct vsg_error err = {0};
        const char *id = out->id;
        if (vsg_ce_send(e->sender, out, &outcome, &err) != VSG_OK) {
            ok = 0;
            break;
        }
        count_outcome(e, outcome);
        if (outcome == VSG_CE_DEAD_LETTERED)
            VSG_LOGF_WARN(lg, ((const char *[]){"eventId", id, NULL}), "event sent to the dead-letter sink: %s", err.msg);
        else if (outcome == VSG_CE_DROPPED)
            VSG_LOGF_ERROR(lg, ((const char *[]){"eventId", id, NULL}), "event dropped: %s", err.msg);
        else
            VSG_LOGF_DEBUG(lg, ((const char *[]){"eventId", id, "eventType", out->type, NULL}), "event delivered");
    }
    if (vsg_filter_result_count(&res) == 0) vsg_adapter_metrics_event(e->cfg->metrics, VSG_ADAPTER_FILTERED);
    vsg_filter_result_cleanup(&res);
    return ok;
}

/* With a filter configured, events wait until a first version is in use
 * (a filter may redact: sending unfiltered events is not an option).
 * Returns 1 when events may flow. */
static int filter_gate(struct engine *e)
{
    struct vsg_filter *f = e->cfg->filter;
    if (!f) return 1;
    vsg_filter_swap_pending(f);
    if (vsg_filter_ready(f)) {
        if (e->filter_waiting) VSG_LOG_INFO(LOGGER(e->cfg), "filter loaded: reading events");
        e->filter_waiting = 0;
        return 1;
    }
    if (!e->filter_waiting)
        VSG_LOG_WARN(LOGGER(e->cfg), "no valid filter loaded yet: holding events back until one is");
    e->filter_waiting = 1;
    nap(e, 200);
    return 0;
}

/* ---- end of filter stage and record ------------------------------------ */

/* Decodes page event `ce_in` and builds its CloudEvent into `p`. Failures
 * are logged here; the event then only moves the checkpoint. */
static void prepare_event(struct engine *e, const struct vsg_collector_event *ce_in,
                          struct prepared *p)
{
    const char *lg = LOGGER(e->cfg);
    struct vsg_error err = {0};
    char keybuf[32];
    const char *key = key_text(ce_in->key, keybuf, sizeof keybuf);

    /* Texts point into the page, which outlives the prepared events. */
    static const struct vsg_event_limits lim = {VSG_EVENT_MAX_DEPTH, VSG_EVENT_MAX_TEXT,
                                                VSG_EVENT_MAX_NODES, 1};

    p->ready = 0;
    if (vsg_event_decode(ce_in->node, &lim, &p->ev, &err) != VSG_OK) {
        /* Nothing can be sent for it; it counts as dropped by policy. */
        VSG_LOGF_ERROR(lg, ((const char *[]){"#eventKey", key, "eventType", ce_in->type, NULL}),
                       "cannot decode event, dropping it: %s", err.msg);
        memset(&p->ev, 0, sizeof p->ev);
        p->ev.key = ce_in->key;
        return;
    }
    if (p->ev.warnings)
        VSG_LOGF_WARN(lg, ((const char *[]){"#eventKey", key, NULL}),
                      "event had %u value(s) that do not parse; sent as zero values", p->ev.warnings);
    if (build_ce(e, &p->ev, &p->ce, &err) != VSG_OK) {
        VSG_LOGF_ERROR(lg, ((const char *[]){"#eventKey", key, NULL}), "dropping event: %s", err.msg);
        return;
    }
    p->ready = 1;
}

/* Delivers prepared event `p` of page event `ce_in` and moves the
 * checkpoint past it. Returns 0 when the engine must stop (the event was
 * not delivered and must not be checkpointed). Releases p->ev. */
static int deliver_event(struct engine *e, const struct vsg_collector_event *ce_in,
                         struct prepared *p)
{
    const char *lg = LOGGER(e->cfg);
    struct vsg_event *ev = &p->ev;
    struct vsg_ce *ce = &p->ce;
    struct vsg_error err = {0};
    enum vsg_ce_outcome outcome = VSG_CE_DROPPED;
    char keybuf[32];
    const char *key = key_text(ce_in->key, keybuf, sizeof keybuf);
    int ok = 1;

    if (!p->ready) {
        vsg_adapter_metrics_event(e->cfg->metrics, VSG_ADAPTER_UNDECODABLE);
        goto advance;
    }
    if (e->cfg->record && vsg_record_write(e->cfg->record, ce_in->node, ev, ce, &err) != VSG_OK)
        VSG_LOGF_ERROR(lg, ((const char *[]){"#eventKey", key, NULL}), "cannot record event: %s", err.msg);
    if (e->cfg->filter) {
        if (!send_filtered(e, ev, ce)) {
            ok = 0;
            goto done;
        }
        goto advance;
    }
    if (vsg_ce_send(e->sender, ce, &outcome, &err) != VSG_OK) {
        /* Cancelled: stop without checkpointing this event. */
        ok = 0;
        goto done;
    }
    count_outcome(e, outcome);
    if (outcome == VSG_CE_DEAD_LETTERED)
        VSG_LOGF_WARN(lg, ((const char *[]){"#eventKey", key, NULL}), "event sent to the dead-letter sink: %s", err.msg);
    else if (outcome == VSG_CE_DROPPED)
        VSG_LOGF_ERROR(lg, ((const char *[]){"#eventKey", key, NULL}), "event dropped: %s", err.msg);
    else
        VSG_LOGF_DEBUG(lg, ((const char *[]){"#eventKey", key, "eventType", ev->detail, NULL}), "event delivered");
advance:
    {
        struct vsg_time ts = ev->class_name ? ev->created : e->cp.last_event_key_ts;
        if (vsg_checkpoint_set(&e->cp, vsg_soap_url(e->soap), ce_in->key,
                               ev->detail ? ev->detail : ce_in->type, ts, e->cp.created_ts) != VSG_OK) {
            VSG_LOG_ERROR(lg, "out of memory updating the checkpoint");
        } else {
            e->have_event = 1;
        }
        e->n_events++;
    }
done:
    vsg_event_cleanup(ev);
    return ok;
}

/* Handles the events of `page` in order, PREP_EVENTS at a time. Returns 0
 * when the engine must stop. */
static int handle_page(struct engine *e, const struct vsg_collector_page *page)
{
    for (size_t i = 0; i < page->count && !*e->stop;) {
        size_t n = page->count - i < PREP_EVENTS ? page->count - i : PREP_EVENTS, k;
        int ok = 1;
        for (k = 0; k < n; k++) prepare_event(e, &page->events[i + k], &e->prep[k]);
        for (k = 0; k < n && ok && !*e->stop; k++) {
            ok = deliver_event(e, &page->events[i + k], &e->prep[k]);
            maybe_save(e);
        }
        /* Stopping: what was prepared but not delivered is dropped here
         * (and read again after a restart). */
        for (; k < n; k++) vsg_event_cleanup(&e->prep[k].ev);
        if (!ok) return 0;
        i += n;
    }
    return 1;
}

/* Waits for new events when the collector is drained. */
static void idle(struct engine *e)
{
    if (e->cfg->wait == VSG_ADAPTER_WAIT_POLL) {
        /* The Go adapter's schedule: 1, 2, 4, 5, 5... s. */
        static const int64_t steps[] = {1000, 2000, 4000, 5000};
        int i = e->idle_steps < 3 ? e->idle_steps : 3;
        e->idle_steps++;
        nap(e, steps[i]);
        return;
    }
    int changed = 0;
    struct vsg_error err = {0};
    if (vsg_collector_wait(e->collector, WAIT_UPDATES_S, &changed, &err) != VSG_OK) {
        on_vc_error(e, &err);
        return;
    }
    /* vCenter wakes us at its first new event; events rarely come alone.
     * Letting the rest of a burst arrive first turns one ReadNextEvents
     * and one WaitForUpdatesEx round trip per event into one per burst
     * (bench/: most of the adapter's CPU per event), for a bounded delay. */
    if (changed && e->cfg->batch_wait_ms > 0) nap(e, e->cfg->batch_wait_ms);
}

/* Saves the begin time as the checkpoint (key 0, no type) when there was
 * none to resume from: a process killed before its first period would
 * otherwise start at vCenter's "now" again, and the events posted in
 * between would be lost (a crash loop shorter than the period loses some
 * on every restart). A failure is logged; the periodic saves go on. */
static void save_start(struct engine *e)
{
    struct vsg_error err = {0};
    if (vsg_checkpoint_set(&e->cp, vsg_soap_url(e->soap), 0, NULL, e->begin, vsg_time_now()) != VSG_OK ||
        vsg_checkpoint_store_save(e->cfg->store, &e->cp, &err) != VSG_OK) {
        vsg_adapter_metrics_checkpoint(e->cfg->metrics, 0, e->begin);
        VSG_LOG_ERROR(LOGGER(e->cfg), "could not save the starting position (will save on the period): %s",
                      err.msg[0] ? err.msg : "out of memory");
        return;
    }
    vsg_adapter_metrics_checkpoint(e->cfg->metrics, 1, e->begin);
    e->saved_key = e->cp.last_event_key;
    e->saved_ts = e->cp.last_event_key_ts;
}

/* Loads the checkpoint and computes the begin time; retries store and
 * vCenter errors until stop. */
static int start_position(struct engine *e)
{
    const char *lg = LOGGER(e->cfg);
    int found = 0;
    for (;;) {
        struct vsg_error err = {0};
        if (vsg_checkpoint_store_load(e->cfg->store, &e->cp, &found, &err) == VSG_OK) break;
        VSG_LOG_ERROR(lg, "could not read the checkpoint store (retrying): %s", err.msg);
        vc_backoff(e);
        if (*e->stop) return 0;
    }
    e->backoff_ms = 0;
    struct vsg_time vc_now;
    for (;;) {
        if (!ensure_session(e)) return 0;
        struct vsg_error err = {0};
        enum vsg_err rc = vsg_soap_current_time(e->soap, &vc_now, &err);
        if (rc == VSG_OK) break;
        on_vc_error(e, &err);
        if (*e->stop) return 0;
    }
    enum vsg_checkpoint_begin_from from =
        vsg_checkpoint_begin(found ? &e->cp : NULL, vc_now, e->cfg->max_age_ns, &e->begin);
    char b[VSG_TIME_RFC3339_BUFSZ];
    vsg_time_format_rfc3339(e->begin, VSG_TIME_NANO, b, sizeof b);
    if (e->cfg->max_age_ns == 0) VSG_LOG_INFO(lg, "disabling event replay: maxAge set to 0s");
    switch (from) {
    case VSG_CHECKPOINT_BEGIN_NOW:
        VSG_LOGF_INFO(lg, ((const char *[]){"beginTime", b, NULL}), "no checkpoint found: starting at vCenter's current time");
        break;
    case VSG_CHECKPOINT_BEGIN_CHECKPOINT:
        VSG_LOGF_INFO(lg, ((const char *[]){"beginTime", b, NULL}), "resuming from checkpoint");
        break;
    case VSG_CHECKPOINT_BEGIN_MAX_AGE:
        VSG_LOGF_WARN(lg, ((const char *[]){"beginTime", b, NULL}),
                      "checkpoint older than maxAge: starting at now - maxAge, potential data loss");
        break;
    case VSG_CHECKPOINT_BEGIN_FUTURE: {
        char c[VSG_TIME_RFC3339_BUFSZ];
        vsg_time_format_rfc3339(e->cp.last_event_key_ts, VSG_TIME_NANO, c, sizeof c);
        VSG_LOGF_WARN(lg, ((const char *[]){"beginTime", b, "checkpointTime", c, NULL}),
                      "checkpoint is later than vCenter's current time (a clock jump?): starting at "
                      "vCenter's current time instead");
        break;
    }
    }
    if (from == VSG_CHECKPOINT_BEGIN_NOW || from == VSG_CHECKPOINT_BEGIN_FUTURE) {
        save_start(e);
    } else if (found) {
        /* The replayed window starts at the checkpoint: keep it as saved. */
        e->saved_key = e->cp.last_event_key;
        e->saved_ts = e->cp.last_event_key_ts;
    }
    return 1;
}

int vsg_adapter_run(const struct vsg_adapter_config *cfg, volatile sig_atomic_t *stop)
{
    const char *lg = LOGGER(cfg);
    struct engine e;
    struct vsg_error err = {0};
    int rc = 1;

    memset(&e, 0, sizeof e);
    e.cfg = cfg;
    e.stop = stop;
    vsg_checkpoint_init(&e.cp);
    vsg_buf_init(&e.payload, MAX_PAYLOAD);
    for (size_t k = 0; k < PREP_EVENTS; k++) vsg_ce_init(&e.prep[k].ce);
    vsg_collector_seen_init(&e.seen, 0);
    if (!cfg->store || !cfg->sink || cfg->period_ns <= 0) {
        VSG_LOG_ERROR(lg, "adapter misconfigured: a sink, a checkpoint store and a positive period are required");
        goto out;
    }

    struct vsg_soap_opts so = {0};
    so.url = cfg->vc_url;
    so.username = cfg->username;
    so.password = cfg->password;
    so.insecure = cfg->insecure;
    so.ca_file = cfg->ca_file;
    so.extra_ca_pem = cfg->ca_pem;
    so.session_file = cfg->session_file;
    e.soap = vsg_soap_session_new(&so, &err);
    if (!e.soap) {
        VSG_LOG_ERROR(lg, "invalid vCenter settings: %s", err.msg);
        goto out;
    }
    running_soap = e.soap;
    if (*stop) vsg_soap_cancel(e.soap);

    struct vsg_ce_sender_opts sopt;
    vsg_ce_sender_opts_init(&sopt);
    sopt.sink = cfg->sink;
    sopt.dead_letter_sink = cfg->dead_letter_sink;
    sopt.ns = cfg->ns;
    sopt.timeout_ms = cfg->sink_timeout_ms;
    sopt.delivery = cfg->delivery;
    sopt.overrides = cfg->overrides;
    sopt.percent_header_values = cfg->percent_header_values;
    sopt.trace_sample_rate = cfg->trace_sample_rate;
    sopt.on_waiting = on_sender_waiting;
    sopt.metrics = cfg->ce_metrics;
    sopt.on_waiting_ud = &e;
    e.sender = vsg_ce_sender_new(&sopt, &err);
    if (!e.sender) {
        VSG_LOG_ERROR(lg, "invalid sink settings: %s", err.msg);
        goto out;
    }
    running_sender = e.sender;
    if (*stop) vsg_ce_sender_cancel(e.sender);

    if (!start_position(&e)) goto shutdown;
    e.next_save_ms = vsg_time_mono_ms() + cfg->period_ns / 1000000;

    while (!*stop) {
        if (!filter_gate(&e)) continue;
        if (!ensure_session(&e)) break;
        if (!ensure_collector(&e)) continue;
        struct vsg_collector_page *page = NULL;
        struct vsg_error rerr = {0};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (vsg_collector_read_next(e.collector, cfg->page_size, &page, &rerr) != VSG_OK) {
            on_vc_error(&e, &rerr);
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        vsg_adapter_metrics_page(cfg->metrics, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
                                 page->received);
        e.backoff_ms = 0;
        vc_report(&e, 1, NULL);
        size_t received = page->received;
        handle_page(&e, page);
        vsg_collector_page_free(page);
        /* A short page means vCenter had no more: in updates mode, wait
         * right away instead of asking again (a round trip per wake). Were
         * a server to cut a page short with more waiting, they are read
         * after the next wake, at most WAIT_UPDATES_S later: late, never
         * lost. */
        int drained = received == 0 ||
                      (cfg->wait == VSG_ADAPTER_WAIT_UPDATES && received < (size_t)cfg->page_size);
        if (drained) {
            maybe_save(&e);
            struct vsg_error kerr = {0};
            if (vsg_soap_keepalive(e.soap, vsg_time_mono_ms(), &kerr) != VSG_OK) on_vc_error(&e, &kerr);
            if (!*stop) idle(&e);
        }
        if (received) e.idle_steps = 0;
    }

shutdown:
    VSG_LOG_INFO(lg, "shutting down: saving checkpoint, destroying collector, logging out");
    if (*stop) vsg_checkpoint_store_set_timeout(cfg->store, SHUTDOWN_STORE_REQUEST_MS);
    save_checkpoint(&e, 0);
    {
        /* The stop cancelled the session; its last calls get SHUTDOWN_VC_MS
         * in all, at most half of it for the collector, so that the Logout
         * (which ends the session's collectors too) always gets a try. */
        int64_t vc_end = vsg_time_mono_ms() + SHUTDOWN_VC_MS;
        vsg_soap_wind_down(e.soap, SHUTDOWN_VC_MS / 2);
        drop_collector(&e);
        if (vsg_soap_logged_in(e.soap)) {
            struct vsg_error lerr = {0};
            vsg_soap_wind_down(e.soap, (long)(vc_end - vsg_time_mono_ms()));
            if (vsg_soap_logout(e.soap, &lerr) != VSG_OK) VSG_LOG_WARN(lg, "logout failed: %s", lerr.msg);
        }
    }
    {
        struct vsg_ce_sender_stats st;
        vsg_ce_sender_stats(e.sender, &st);
        char n[32], s1[32], s2[32], s3[32];
        snprintf(n, sizeof n, "%llu", (unsigned long long)e.n_events);
        snprintf(s1, sizeof s1, "%llu", (unsigned long long)st.sent);
        snprintf(s2, sizeof s2, "%llu", (unsigned long long)st.dead_lettered);
        snprintf(s3, sizeof s3, "%llu", (unsigned long long)st.dropped);
        VSG_LOGF_INFO(lg, ((const char *[]){"#events", n, "#sent", s1, "#deadLettered", s2, "#dropped", s3, NULL}),
                      "adapter stopped");
    }
    rc = 0;
out:
    /* The handler runs on this thread only (the threads the adapter starts
     * block its signals), so it cannot use them once they are freed. */
    running_sender = NULL;
    running_soap = NULL;
    vsg_ce_sender_free(e.sender);
    vsg_soap_session_free(e.soap);
    vsg_collector_seen_cleanup(&e.seen);
    vsg_checkpoint_cleanup(&e.cp);
    vsg_buf_cleanup(&e.payload);
    for (size_t k = 0; k < PREP_EVENTS; k++) vsg_ce_cleanup(&e.prep[k].ce);
    return rc;
}

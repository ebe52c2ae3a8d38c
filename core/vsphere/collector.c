/*
 * vsphere/collector.c - see collector.h.
 */
#include "vsphere/collector.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "soap/xml.h"

#define LOGGER "vsgate.collector"

/* Request bodies here are small. */
#define MAX_BODY ((size_t)64 * 1024)

/* A key this far below the largest seen one means vCenter's key counter
 * wrapped (it wraps near 2^31). */
#define KEY_WRAP_GAP (INT64_C(1) << 30)
/* WaitForUpdatesEx maxObjectUpdates. A real vCenter folds the changes of
 * one object into one update; vcsim queues one per event posted (each
 * with the whole latestPage) and hands the queue out 100 at a time on the
 * following waits. Past this many the waiter is recreated instead, which
 * drops the queue: a burst costs four small calls, not one parsed update
 * per event. */
#define WAIT_MAX_UPDATES 10

struct vsg_collector {
    struct vsg_soap_session *session; /* Borrowed; outlives the collector. */
    struct vsg_soap_moref moref;      /* The EventHistoryCollector. */
    struct vsg_collector_seen *seen;  /* Borrowed de-dup set, or NULL. */
    unsigned long generation;         /* Session login generation at creation. */
    int page_size;                    /* Filter maxCount. */
    struct vsg_soap_moref pc;         /* Private PropertyCollector of the waiter, or empty. */
    char *wait_version;               /* WaitForUpdatesEx version to pass back, or NULL. */
    int lite;                         /* Pages as lite trees (vsg_collector_set_lite). */
};

/* ====================================================================
 * Recently seen keys
 * ==================================================================== */

void vsg_collector_seen_init(struct vsg_collector_seen *w, size_t cap)
{
    w->keys = NULL;
    w->len = 0;
    w->cap = cap ? cap : VSG_COLLECTOR_SEEN_DEFAULT;
}

void vsg_collector_seen_cleanup(struct vsg_collector_seen *w)
{
    if (!w) return;
    vsg_free(w->keys);
    w->keys = NULL;
    w->created = NULL;
    w->len = 0;
}

void vsg_collector_seen_clear(struct vsg_collector_seen *w)
{
    w->len = 0;
}

/* Index of the first key >= `key` (binary search). */
static size_t lower_bound(const struct vsg_collector_seen *w, int64_t key)
{
    size_t lo = 0, hi = w->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->keys[mid] < key) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

int vsg_collector_seen_lookup(const struct vsg_collector_seen *w, int64_t key,
                              int64_t *created_ns)
{
    if (!w || w->len == 0) return 0;
    size_t i = lower_bound(w, key);
    if (i >= w->len || w->keys[i] != key) return 0;
    if (created_ns) *created_ns = w->created[i];
    return 1;
}

int vsg_collector_seen_has(const struct vsg_collector_seen *w, int64_t key)
{
    return vsg_collector_seen_lookup(w, key, NULL);
}

enum vsg_err vsg_collector_seen_mark(struct vsg_collector_seen *w, int64_t key)
{
    return vsg_collector_seen_mark_at(w, key, VSG_COLLECTOR_NO_TIME);
}

enum vsg_err vsg_collector_seen_mark_at(struct vsg_collector_seen *w, int64_t key,
                                        int64_t created_ns)
{
    if (w->len > 0 && key < w->keys[w->len - 1] - KEY_WRAP_GAP) {
        VSG_LOG_INFO(LOGGER, "event key %lld is far below %lld: keys wrapped, forgetting them",
                     (long long)key, (long long)w->keys[w->len - 1]);
        w->len = 0;
    }
    if (!w->keys) {
        w->keys = vsg_calloc(2 * w->cap, sizeof *w->keys);
        if (!w->keys) return VSG_ERR_NOMEM;
        w->created = w->keys + w->cap;
    }
    size_t pos = lower_bound(w, key);
    if (pos < w->len && w->keys[pos] == key) return VSG_OK;
    if (w->len == w->cap) {
        if (pos == 0) return VSG_OK; /* It would be the one dropped. */
        /* Drop entry 0: shift [1..pos) down one and insert at pos-1. */
        memmove(w->keys, w->keys + 1, (pos - 1) * sizeof *w->keys);
        memmove(w->created, w->created + 1, (pos - 1) * sizeof *w->created);
        w->keys[pos - 1] = key;
        w->created[pos - 1] = created_ns;
        return VSG_OK;
    }
    memmove(w->keys + pos + 1, w->keys + pos, (w->len - pos) * sizeof *w->keys);
    memmove(w->created + pos + 1, w->created + pos, (w->len - pos) * sizeof *w->created);
    w->keys[pos] = key;
    w->created[pos] = created_ns;
    w->len++;
    return VSG_OK;
}

/* The createdTime of event node `r` in ns since the epoch, or
 * VSG_COLLECTOR_NO_TIME when it has none that parses. */
static int64_t created_ns(xmlNodePtr r)
{
    xmlNodePtr n = vsg_soap_child(r, "createdTime");
    struct vsg_time t;
    char *s;
    enum vsg_err rc;

    if (!n) return VSG_COLLECTOR_NO_TIME;
    /* One text child, as vCenter writes it: read in place. */
    if (n->children && n->children == n->last && n->children->type == XML_TEXT_NODE &&
        n->children->content) {
        rc = vsg_time_parse_rfc3339((const char *)n->children->content, &t);
    } else {
        if (!(s = vsg_soap_text(n))) return VSG_COLLECTOR_NO_TIME;
        rc = vsg_time_parse_rfc3339(s, &t);
        vsg_free(s);
    }
    if (rc != VSG_OK) return VSG_COLLECTOR_NO_TIME;
    return vsg_time_diff_ns(t, (struct vsg_time){0, 0});
}

static void log_reset(int64_t key, int64_t was_ns, int64_t now_ns)
{
    char a[VSG_TIME_RFC3339_BUFSZ], b[VSG_TIME_RFC3339_BUFSZ];
    vsg_time_format_rfc3339(vsg_time_add_ns((struct vsg_time){0, 0}, was_ns), VSG_TIME_NANO, a, sizeof a);
    vsg_time_format_rfc3339(vsg_time_add_ns((struct vsg_time){0, 0}, now_ns), VSG_TIME_NANO, b, sizeof b);
    VSG_LOG_WARN(LOGGER,
                 "event key %lld came back with createdTime %s (it was %s): vCenter's event history "
                 "was reset (restart, restore or redeploy); starting a fresh history, its events "
                 "are delivered as new",
                 (long long)key, b, a);
}

/* ====================================================================
 * Create and destroy
 * ==================================================================== */

static int clamp_page(int n, int dflt)
{
    if (n <= 0) return dflt;
    return n > VSG_COLLECTOR_MAX_PAGE ? VSG_COLLECTOR_MAX_PAGE : n;
}

struct vsg_collector *vsg_collector_create(struct vsg_soap_session *s,
                                           const struct vsg_collector_opts *opts,
                                           struct vsg_error *err)
{
    const struct vsg_soap_service_content *sc = vsg_soap_service_content(s);
    struct vsg_collector *c = NULL;
    struct vsg_soap_result res;
    struct vsg_buf b;
    char ts[VSG_TIME_RFC3339_BUFSZ];
    enum vsg_err rc;

    vsg_soap_result_init(&res);
    vsg_buf_init(&b, MAX_BODY);
    if (!opts) {
        vsg_error_set(err, VSG_ERR_INVAL, "collector: no options");
        goto fail;
    }
    if (!sc || !vsg_soap_moref_valid(&sc->event_manager) ||
        !vsg_soap_moref_valid(&sc->root_folder)) {
        vsg_error_set(err, VSG_ERR_UNSUPPORTED,
                      "CreateCollectorForEvents: the server has no EventManager or root folder");
        goto fail;
    }
    if (vsg_time_format_rfc3339(opts->begin, VSG_TIME_NANO, ts, sizeof ts) != VSG_OK) {
        vsg_error_set(err, VSG_ERR_INVAL, "CreateCollectorForEvents: begin time out of range");
        goto fail;
    }
    c = vsg_calloc(1, sizeof *c);
    if (!c) goto nomem;
    c->session = s;
    c->seen = opts->seen;
    c->page_size = clamp_page(opts->page_size, VSG_COLLECTOR_DEFAULT_PAGE);
    if (vsg_soap_put_moref(&b, "_this", &sc->event_manager) != VSG_OK ||
        vsg_buf_puts(&b, "<filter><entity>") != VSG_OK ||
        vsg_soap_put_moref(&b, "entity", &sc->root_folder) != VSG_OK ||
        vsg_buf_puts(&b, "<recursion>all</recursion></entity><time>") != VSG_OK ||
        vsg_soap_put_text(&b, "beginTime", ts) != VSG_OK ||
        vsg_buf_printf(&b, "</time><maxCount>%d</maxCount></filter>", c->page_size) != VSG_OK)
        goto nomem;
    rc = vsg_soap_call(s, "CreateCollectorForEvents", b.data, &res, err);
    if (rc != VSG_OK) goto fail;
    if (!res.returnval) {
        vsg_error_set(err, VSG_ERR_PARSE, "CreateCollectorForEvents: empty response");
        goto fail;
    }
    rc = vsg_soap_moref_parse(res.returnval, &c->moref, err);
    if (rc != VSG_OK) {
        if (err) vsg_error_set(err, rc, "CreateCollectorForEvents: %s", err->msg);
        goto fail;
    }
    c->generation = vsg_soap_generation(s);
    VSG_LOG_DEBUG(LOGGER, "event collector created from %s, page size %d", ts, c->page_size);
    vsg_soap_result_cleanup(&res);
    vsg_buf_cleanup(&b);
    return c;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "CreateCollectorForEvents: out of memory");
fail:
    vsg_soap_result_cleanup(&res);
    vsg_buf_cleanup(&b);
    if (c) {
        vsg_soap_moref_cleanup(&c->moref);
        vsg_free(c);
    }
    return NULL;
}

/* Calls `method` with only `_this` = `obj`; for the Destroy* calls. */
static enum vsg_err call_this(struct vsg_soap_session *s, const char *method,
                              const struct vsg_soap_moref *obj, struct vsg_error *err)
{
    struct vsg_soap_result res;
    struct vsg_buf b;
    enum vsg_err rc;

    vsg_soap_result_init(&res);
    vsg_buf_init(&b, MAX_BODY);
    rc = vsg_soap_put_moref(&b, "_this", obj);
    if (rc == VSG_OK)
        rc = vsg_soap_call(s, method, b.data, &res, err);
    else
        vsg_error_set(err, rc, "%s: out of memory", method);
    vsg_soap_result_cleanup(&res);
    vsg_buf_cleanup(&b);
    return rc;
}

/* Logs the failure of a best-effort Destroy* call. */
static void log_destroy_failure(const char *what, enum vsg_err rc, const struct vsg_error *e)
{
    if (rc == VSG_ERR_NOTAUTHENTICATED || rc == VSG_ERR_NOTFOUND)
        VSG_LOG_INFO(LOGGER, "%s: already gone with its session (%s)", what, e->msg);
    else
        VSG_LOG_WARN(LOGGER, "%s failed (ignored): %s", what, e->msg);
}

/* Destroys the waiter's PropertyCollector (its filter goes with it). */
static void destroy_waiter(struct vsg_collector *c)
{
    struct vsg_error e;
    enum vsg_err rc;
    if (!vsg_soap_moref_valid(&c->pc)) return;
    vsg_error_clear(&e);
    rc = call_this(c->session, "DestroyPropertyCollector", &c->pc, &e);
    if (rc != VSG_OK) log_destroy_failure("DestroyPropertyCollector", rc, &e);
    vsg_soap_moref_cleanup(&c->pc);
    vsg_free(c->wait_version);
    c->wait_version = NULL;
}

void vsg_collector_destroy(struct vsg_collector *c)
{
    struct vsg_error e;
    enum vsg_err rc;

    if (!c) return;
    destroy_waiter(c);
    if (vsg_soap_moref_valid(&c->moref)) {
        vsg_error_clear(&e);
        rc = call_this(c->session, "DestroyCollector", &c->moref, &e);
        if (rc != VSG_OK) log_destroy_failure("DestroyCollector", rc, &e);
        else VSG_LOG_DEBUG(LOGGER, "event collector destroyed");
    }
    vsg_soap_moref_cleanup(&c->moref);
    vsg_free(c);
}

const char *vsg_collector_id(const struct vsg_collector *c)
{
    return c->moref.value;
}

int vsg_collector_page_size(const struct vsg_collector *c)
{
    return c->page_size;
}

int vsg_collector_stale(const struct vsg_collector *c)
{
    return c->generation != vsg_soap_generation(c->session);
}

/* ====================================================================
 * Reading
 * ==================================================================== */

void vsg_collector_set_lite(struct vsg_collector *c, int on)
{
    c->lite = on != 0;
}

void vsg_collector_page_free(struct vsg_collector_page *p)
{
    if (!p) return;
    if (p->doc) xmlFreeDoc(p->doc);
    vsg_soap_lite_free(p->lite);
    vsg_free(p->events);
    vsg_free(p);
}

/* Stable insertion sort by key: pages arrive (nearly) sorted, so this is
 * about linear, and equal keys keep their order. */
static void sort_events(struct vsg_collector_event *ev, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct vsg_collector_event x = ev[i];
        size_t j = i;
        while (j > 0 && ev[j - 1].key > x.key) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = x;
    }
}

enum vsg_err vsg_collector_read_next(struct vsg_collector *c, int max,
                                     struct vsg_collector_page **out, struct vsg_error *err)
{
    struct vsg_soap_result res;
    struct vsg_collector_page *p = NULL;
    struct vsg_buf b;
    enum vsg_err rc;
    size_t n = 0, kept = 0;

    *out = NULL;
    vsg_soap_result_init(&res);
    vsg_buf_init(&b, MAX_BODY);
    if (vsg_soap_put_moref(&b, "_this", &c->moref) != VSG_OK ||
        vsg_buf_printf(&b, "<maxCount>%d</maxCount>", clamp_page(max, c->page_size)) != VSG_OK)
        goto nomem;
    rc = c->lite ? vsg_soap_call_lite(c->session, "ReadNextEvents", b.data, &res, err)
                 : vsg_soap_call(c->session, "ReadNextEvents", b.data, &res, err);
    if (rc != VSG_OK) goto done;

    p = vsg_calloc(1, sizeof *p);
    if (!p) goto nomem;
    p->doc = res.doc;
    p->lite = res.lite;
    res.doc = NULL;
    res.lite = NULL;
    for (xmlNodePtr r = vsg_soap_child(res.response, "returnval"); r;
         r = vsg_soap_next(r, "returnval"))
        n++;
    p->received = n;
    p->events = vsg_calloc(n ? n : 1, sizeof *p->events);
    if (!p->events) goto nomem;

    for (xmlNodePtr r = vsg_soap_child(res.response, "returnval"); r;
         r = vsg_soap_next(r, "returnval")) {
        struct vsg_collector_event *ev = &p->events[kept];
        const char *type = vsg_soap_xsi_type(r);
        ev->node = r;
        ev->type = type ? type : "";
        if (vsg_soap_text_int64(vsg_soap_child(r, "key"), &ev->key) != VSG_OK) {
            p->invalid++;
            VSG_LOG_WARN(LOGGER, "dropping a %s event without a numeric key",
                         ev->type[0] ? ev->type : "(untyped)");
            continue;
        }
        kept++;
    }
    sort_events(p->events, kept);

    /* Drop duplicates (within the page, and against `seen`) in place. */
    size_t w = 0;
    for (size_t i = 0; i < kept; i++) {
        int64_t key = p->events[i].key, was;
        int64_t created = c->seen ? created_ns(p->events[i].node) : VSG_COLLECTOR_NO_TIME;
        int dup = w > 0 && p->events[w - 1].key == key;
        if (!dup && c->seen && vsg_collector_seen_lookup(c->seen, key, &was)) {
            if (was != VSG_COLLECTOR_NO_TIME && created != VSG_COLLECTOR_NO_TIME && was != created) {
                log_reset(key, was, created);
                vsg_collector_seen_clear(c->seen);
                p->resets++;
            } else {
                dup = 1;
            }
        }
        if (dup) {
            p->duplicates++;
            VSG_LOG_DEBUG(LOGGER, "skipping event %lld: already seen", (long long)key);
            continue;
        }
        if (c->seen && vsg_collector_seen_mark_at(c->seen, key, created) != VSG_OK) goto nomem;
        p->events[w++] = p->events[i];
    }
    p->count = w;
    *out = p;
    p = NULL;
    rc = VSG_OK;
    goto done;
nomem:
    rc = vsg_error_set(err, VSG_ERR_NOMEM, "ReadNextEvents: out of memory");
done:
    vsg_collector_page_free(p);
    vsg_soap_result_cleanup(&res);
    vsg_buf_cleanup(&b);
    return rc;
}

/* ====================================================================
 * Waiting for changes of latestPage
 * ==================================================================== */

/* Creates the private PropertyCollector and its filter on latestPage. */
static enum vsg_err setup_waiter(struct vsg_collector *c, struct vsg_error *err)
{
    const struct vsg_soap_service_content *sc = vsg_soap_service_content(c->session);
    struct vsg_soap_result res;
    struct vsg_buf b;
    enum vsg_err rc;

    vsg_soap_result_init(&res);
    vsg_buf_init(&b, MAX_BODY);
    if (!sc || !vsg_soap_moref_valid(&sc->property_collector)) {
        rc = vsg_error_set(err, VSG_ERR_UNSUPPORTED, "collector wait: no PropertyCollector");
        goto done;
    }
    if (vsg_soap_put_moref(&b, "_this", &sc->property_collector) != VSG_OK) goto nomem;
    rc = vsg_soap_call(c->session, "CreatePropertyCollector", b.data, &res, err);
    if (rc != VSG_OK) goto done;
    rc = vsg_soap_moref_parse(res.returnval, &c->pc, err);
    if (rc != VSG_OK) {
        if (err) vsg_error_set(err, rc, "CreatePropertyCollector: %s", err->msg);
        goto done;
    }
    vsg_soap_result_cleanup(&res);
    vsg_buf_reset(&b);
    if (vsg_soap_put_moref(&b, "_this", &c->pc) != VSG_OK ||
        vsg_buf_puts(&b, "<spec><propSet><type>") != VSG_OK ||
        vsg_soap_escape(&b, c->moref.type) != VSG_OK ||
        vsg_buf_puts(&b, "</type><pathSet>latestPage</pathSet></propSet><objectSet>") != VSG_OK ||
        vsg_soap_put_moref(&b, "obj", &c->moref) != VSG_OK ||
        vsg_buf_puts(&b, "</objectSet></spec><partialUpdates>false</partialUpdates>") != VSG_OK)
        goto nomem;
    rc = vsg_soap_call(c->session, "CreateFilter", b.data, &res, err);
    if (rc != VSG_OK) {
        destroy_waiter(c);
        goto done;
    }
    VSG_LOG_DEBUG(LOGGER, "watching the collector's latestPage");
    goto done;
nomem:
    rc = vsg_error_set(err, VSG_ERR_NOMEM, "collector wait: out of memory");
    destroy_waiter(c);
done:
    vsg_soap_result_cleanup(&res);
    vsg_buf_cleanup(&b);
    return rc;
}

enum vsg_err vsg_collector_wait(struct vsg_collector *c, int max_wait_s, int *changed,
                                struct vsg_error *err)
{
    struct vsg_soap_result res;
    struct vsg_buf b;
    enum vsg_err rc;
    char *version = NULL;

    *changed = 0;
    if (max_wait_s < 0) max_wait_s = 0;
    if (max_wait_s > 3600) max_wait_s = 3600;
    vsg_soap_result_init(&res);
    vsg_buf_init(&b, MAX_BODY);
    if (!vsg_soap_moref_valid(&c->pc) && (rc = setup_waiter(c, err)) != VSG_OK) goto done;
    if (vsg_soap_put_moref(&b, "_this", &c->pc) != VSG_OK ||
        (c->wait_version && vsg_soap_put_text(&b, "version", c->wait_version) != VSG_OK) ||
        vsg_buf_printf(&b, "<options><maxWaitSeconds>%d</maxWaitSeconds>"
                           "<maxObjectUpdates>%d</maxObjectUpdates></options>",
                       max_wait_s, WAIT_MAX_UPDATES) != VSG_OK) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "WaitForUpdatesEx: out of memory");
        goto done;
    }
    rc = vsg_soap_call_timeout(c->session, "WaitForUpdatesEx", b.data,
                               ((long)max_wait_s + 30) * 1000, &res, err);
    if (rc != VSG_OK) goto done;
    if (res.returnval) {
        rc = vsg_soap_child_text(res.returnval, "version", &version);
        if (rc == VSG_ERR_NOMEM) {
            vsg_error_set(err, rc, "WaitForUpdatesEx: out of memory");
            goto done;
        }
        if (rc == VSG_OK) {
            vsg_free(c->wait_version);
            c->wait_version = version;
            version = NULL;
        }
        rc = VSG_OK;
        *changed = 1;
        char *truncated = NULL;
        if (vsg_soap_child_text(res.returnval, "truncated", &truncated) == VSG_OK &&
            strcmp(truncated, "true") == 0) {
            /* More updates queued: all they say is "changed", known now. */
            VSG_LOG_DEBUG(LOGGER, "update set truncated: recreating the waiter");
            destroy_waiter(c);
        }
        vsg_free(truncated);
    }
done:
    vsg_free(version);
    vsg_soap_result_cleanup(&res);
    vsg_buf_cleanup(&b);
    return rc;
}

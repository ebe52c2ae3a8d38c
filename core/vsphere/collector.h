/*
 * vsphere/collector.h - an EventHistoryCollector over the whole inventory:
 * create it from a begin time, read pages of events sorted by key,
 * de-duplicate replays across re-creations, optionally wait for new
 * events without polling, destroy it.
 *
 * Provides: struct vsg_collector (CreateCollectorForEvents on the root
 * folder, recursion "all", time.beginTime, page size via the filter's
 * maxCount), vsg_collector_read_next() (ReadNextEvents) returning a
 * struct vsg_collector_page, vsg_collector_wait() (WaitForUpdatesEx on
 * the collector's latestPage through a private PropertyCollector), and
 * struct vsg_collector_seen, the bounded set of recently seen keys.
 * Uses: soap/session.h (calls, faults), soap/xml.h, base/.
 * Owns: a collector borrows its session (which must outlive it) and, if
 * given, a struct vsg_collector_seen (owned by the caller, so that it
 * survives collector re-creation). A page owns its xmlDoc and its array;
 * event nodes and type strings are borrowed from the page.
 *
 * De-duplication. After a session loss the engine logs in again and
 * creates a new collector from the checkpoint time, so events at or after
 * that time come again. vsg_collector_read_next() drops every event whose
 * key is in the `seen` set and adds the keys of the events it returns
 * (they count as seen when they are *read*, not when they are delivered;
 * an engine that wants "seen when delivered" passes seen = NULL and calls
 * vsg_collector_seen_has()/_mark() itself). The set keeps the `cap`
 * highest keys seen (default 4096, well above a 1000-event page):
 *   - a key in the set is a duplicate;
 *   - a key not in the set is new, even if it is older than everything in
 *     the set (vCenter may reveal an older key late; a false "new" only
 *     costs a duplicate delivery, a false "seen" would lose an event);
 *   - keys wrap at vCenter's maxEventId (~2^31): a key more than 2^30
 *     below the set's largest key clears the set;
 *   - the set remembers each key's createdTime: a key that comes back with
 *     another createdTime is a new event under a reused key, which means
 *     vCenter's event history was reset (a restart of a simulator, a
 *     database restore, a redeploy behind the same URL). The set is then
 *     cleared, the reset logged at warn level and counted in the page,
 *     and the event returned as new.
 * Keys are compared as numbers and never assumed contiguous.
 *
 * Session loss: calls fail with VSG_ERR_NOTAUTHENTICATED (relogin, then
 * create a new collector) or VSG_ERR_NOTFOUND (the collector is gone:
 * create a new one). vsg_collector_stale() says whether the session
 * logged in again since the collector was made.
 */
#ifndef VSG_VSPHERE_COLLECTOR_H
#define VSG_VSPHERE_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "base/err.h"
#include "base/vtime.h"
#include "soap/session.h"

/* Page size (filter maxCount) when none is given; the Go adapter read 100. */
#define VSG_COLLECTOR_DEFAULT_PAGE 100
/* vCenter's limit for a page and for ReadNextEvents' maxCount. */
#define VSG_COLLECTOR_MAX_PAGE 1000
/* Default capacity of a struct vsg_collector_seen. */
#define VSG_COLLECTOR_SEEN_DEFAULT 4096

/* ====================================================================
 * Recently seen keys
 * ==================================================================== */

/* The `cap` highest event keys seen, sorted, each with its createdTime.
 * Caller-allocated. */
struct vsg_collector_seen {
    int64_t *keys;    /* Ascending, `len` entries; owned; NULL until first mark. */
    int64_t *created; /* keys[i]'s createdTime in ns since the epoch, or
                         VSG_COLLECTOR_NO_TIME; same allocation as keys. */
    size_t len;       /* Keys held. */
    size_t cap;       /* The most keys held; fixed by init. */
};

/* "createdTime unknown": such an entry never signals a reset. */
#define VSG_COLLECTOR_NO_TIME INT64_MIN

/* Makes an empty set holding at most `cap` keys (0 means the default).
 * Allocates nothing yet. */
void vsg_collector_seen_init(struct vsg_collector_seen *w, size_t cap);

/* Frees the keys; `w` stays a valid empty set. NULL is a no-op. */
void vsg_collector_seen_cleanup(struct vsg_collector_seen *w);

/* Nonzero when `key` is in the set. */
int vsg_collector_seen_has(const struct vsg_collector_seen *w, int64_t key);

/* Nonzero when `key` is in the set; its createdTime (ns, or
 * VSG_COLLECTOR_NO_TIME) in *created_ns when not NULL. */
int vsg_collector_seen_lookup(const struct vsg_collector_seen *w, int64_t key,
                              int64_t *created_ns);

/* Adds `key` with createdTime VSG_COLLECTOR_NO_TIME; see _mark_at(). */
enum vsg_err vsg_collector_seen_mark(struct vsg_collector_seen *w, int64_t key);

/* Adds `key` created at `created_ns` (a no-op if present). When full, the
 * smallest key is dropped, or `key` itself if it is the smallest.
 * VSG_ERR_NOMEM. */
enum vsg_err vsg_collector_seen_mark_at(struct vsg_collector_seen *w, int64_t key,
                                        int64_t created_ns);

/* Forgets every key (the allocation is kept). */
void vsg_collector_seen_clear(struct vsg_collector_seen *w);

/* ====================================================================
 * Collector
 * ==================================================================== */

struct vsg_collector_opts {
    struct vsg_time begin;           /* filter time.beginTime (inclusive). */
    int page_size;                   /* filter maxCount: 0 means 100; clamped to 1..1000. */
    struct vsg_collector_seen *seen; /* De-dup set (borrowed) or NULL for none. */
};

/* One event of a page. */
struct vsg_collector_event {
    xmlNodePtr node;  /* The <returnval> element; borrowed from the page. */
    int64_t key;      /* Its <key>. */
    const char *type; /* Its xsi:type without prefix, e.g. "VmPoweredOnEvent";
                         borrowed from the page; "" when it has none. */
};

/* The result of one ReadNextEvents. */
struct vsg_soap_lite;

struct vsg_collector_page {
    xmlDocPtr doc;                      /* The response document; owned. */
    struct vsg_soap_lite *lite;         /* Or the response as a lite tree
                                           (vsg_collector_set_lite); owned. */
    struct vsg_collector_event *events; /* New events, ascending by key; owned. */
    size_t count;                       /* Entries in `events`. */
    size_t received;                    /* <returnval>s in the response (0: drained). */
    size_t duplicates;                  /* Dropped: key already seen. */
    size_t resets;                      /* Times a seen key came back with another
                                           createdTime (history reset, see above). */
    size_t invalid;                     /* Dropped (and logged): no numeric <key>. */
};

struct vsg_collector;

/*
 * Calls CreateCollectorForEvents on the session's EventManager with the
 * filter {entity: rootFolder, recursion all; time.beginTime = begin;
 * maxCount = page size}. The session must be logged in. NULL on failure
 * with `err` set (VSG_ERR_INVALIDSTATE: too many collectors exist).
 */
struct vsg_collector *vsg_collector_create(struct vsg_soap_session *s,
                                           const struct vsg_collector_opts *opts,
                                           struct vsg_error *err);

/* Calls DestroyPropertyCollector for the waiter (if any) and
 * DestroyCollector, logging failures (never fatal), then frees `c`. Safe
 * when the session is gone. NULL is a no-op. */
void vsg_collector_destroy(struct vsg_collector *c);

/*
 * Calls ReadNextEvents(maxCount = max, clamped to 1..1000; 0 means the
 * page size) and stores a new page in *out (free it with
 * vsg_collector_page_free()); on error *out is NULL. Events are sorted
 * by key, duplicates and events without a key dropped (see above). An
 * empty response gives a page with received == 0.
 */
enum vsg_err vsg_collector_read_next(struct vsg_collector *c, int max,
                                     struct vsg_collector_page **out,
                                     struct vsg_error *err);

/* On: pages are read as lite trees when the response allows it
 * (soap/xml.h, vsg_soap_parse_lite()), whose event nodes only support
 * reading node fields (the event decoder does); off (the default): as
 * documents, for callers that hand event nodes to libxml2 (xmlNodeDump). */
void vsg_collector_set_lite(struct vsg_collector *c, int on);

/* Frees a page and its document. NULL is a no-op. */
void vsg_collector_page_free(struct vsg_collector_page *p);

/*
 * Waits up to `max_wait_s` seconds (0..3600) for the collector's
 * latestPage to change (a new matching event), using WaitForUpdatesEx
 * with maxWaitSeconds and an HTTP time limit 30 s above it. *changed is
 * 1 when it changed, 0 on time-out. The first call sets up a private
 * PropertyCollector and filter and returns at once with *changed = 1
 * (the initial state), so call read_next until drained, then wait.
 */
enum vsg_err vsg_collector_wait(struct vsg_collector *c, int max_wait_s, int *changed,
                                struct vsg_error *err);

/* The collector's moref value (borrowed). It embeds the session key on
 * vCenter and vcsim: do not log it. */
const char *vsg_collector_id(const struct vsg_collector *c);

/* The page size given to the filter. */
int vsg_collector_page_size(const struct vsg_collector *c);

/* Nonzero when the session logged in again after `c` was created (so `c`
 * died with the old session). */
int vsg_collector_stale(const struct vsg_collector *c);

#endif

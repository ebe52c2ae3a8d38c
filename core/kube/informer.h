/*
 * kube/informer.h - informers: list + watch one kind into a cache and tell
 * handlers what changed; and a set of shared informers.
 *
 * Provides: struct vsg_kube_informer: a thread that lists the kind
 * (paged), then watches from the list's resourceVersion with bookmarks,
 * keeps a struct vsg_kube_cache up to date and calls the handlers for
 * every add, update and delete. It relists when the API server answers
 * 410 Gone (resourceVersion too old), reconnects with exponential backoff
 * (0.5 s .. 30 s) after errors, restarts the watch from the last seen
 * resourceVersion when the server ends it, and re-delivers every cached
 * object as an update every resync period. A relist delivers only what
 * changed (new, changed resourceVersion, gone).
 * struct vsg_kube_informers: informers shared by apiVersion, kind and
 * namespace, created and started on first use (vsg_kube_informers_ensure).
 * Uses: kube/client.h, kube/watch.h, kube/cache.h, kube/discovery.h,
 * base/, pthreads.
 * Owns: an informer owns its thread, client and cache. Objects handed to
 * handlers are borrowed for the call (the cache's, or the informer's).
 *
 * Handlers run on the informer's thread, one event at a time; they must
 * be quick (enqueue a key) and must not stop or free the informer.
 */
#ifndef VSG_KUBE_INFORMER_H
#define VSG_KUBE_INFORMER_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "kube/cache.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/discovery.h"

/* What happened to an object. A resync is an UPDATE whose old == obj. */
enum vsg_kube_event_type {
    VSG_KUBE_EVENT_ADD,    /* Created (or first seen). */
    VSG_KUBE_EVENT_UPDATE, /* Changed; `old` is the previous version. */
    VSG_KUBE_EVENT_DELETE  /* Deleted; `obj` is its last state. */
};

/* A handler; `old` is NULL for ADD. */
typedef void (*vsg_kube_handler_fn)(void *ud, enum vsg_kube_event_type type, const cJSON *obj,
                                    const cJSON *old);

struct vsg_kube_informer_opts {
    const char *name;           /* For log lines; NULL: the kind. */
    const char *api_version;    /* "v1", "apps/v1", ... */
    const char *kind;           /* "ConfigMap"; set on every cached object. */
    const char *resource;       /* Plural resource name, "configmaps". */
    const char *ns;             /* Namespace to watch; NULL or "": all (or a
                                   cluster-scoped kind). */
    const char *label_selector; /* Server-side label selector, or NULL. */
    const char *field_selector; /* Server-side field selector, or NULL. */
    int64_t resync_ms;          /* Resync period; 0: never. */
    int watch_timeout_s;        /* Server-side watch timeout; 0: 300 s
                                   (each watch picks 1x..2x of it). */
    int page_size;              /* List page size; 0: 500. */
    struct vsg_kube_stats *stats; /* Request counters, or NULL. */
};

struct vsg_kube_informer;

/* ====================================================================
 * One informer
 * ==================================================================== */

/* Makes an informer (not started) with its own client for `cfg`. NULL
 * with `err` set on failure. */
struct vsg_kube_informer *vsg_kube_informer_new(const struct vsg_kube_config *cfg,
                                                const struct vsg_kube_informer_opts *opts,
                                                struct vsg_error *err);

/* Stops (see stop) and frees. NULL is a no-op. */
void vsg_kube_informer_free(struct vsg_kube_informer *inf);

/* Adds a handler. On a started informer the handler is first called with
 * an ADD for every object already cached (from the calling thread). */
enum vsg_err vsg_kube_informer_add_handler(struct vsg_kube_informer *inf, vsg_kube_handler_fn fn,
                                           void *ud);

/* Starts the thread. VSG_ERR_INVALIDSTATE when already started. */
enum vsg_err vsg_kube_informer_start(struct vsg_kube_informer *inf, struct vsg_error *err);

/* Stops the thread (within about a second) and joins it. Idempotent. */
void vsg_kube_informer_stop(struct vsg_kube_informer *inf);

/* Tells the thread to stop without waiting for it (stop() joins it), so
 * that several informers wind down together. Idempotent. */
void vsg_kube_informer_cancel(struct vsg_kube_informer *inf);

/* Nonzero once the first list has been cached. */
int vsg_kube_informer_synced(struct vsg_kube_informer *inf);

/* Waits up to `timeout_ms` for the first list: VSG_OK, VSG_ERR_TIMEOUT. */
enum vsg_err vsg_kube_informer_wait_synced(struct vsg_kube_informer *inf, int64_t timeout_ms);

/* The cache (borrowed; lives as long as the informer). */
struct vsg_kube_cache *vsg_kube_informer_cache(struct vsg_kube_informer *inf);

/* The options' apiVersion, kind and namespace ("" for all) (borrowed). */
const char *vsg_kube_informer_api_version(const struct vsg_kube_informer *inf);
const char *vsg_kube_informer_kind(const struct vsg_kube_informer *inf);
const char *vsg_kube_informer_namespace(const struct vsg_kube_informer *inf);

/* Counters: lists done (the first and every relist), watches opened,
 * and the last resourceVersion seen (copied into buf). */
unsigned long vsg_kube_informer_lists(struct vsg_kube_informer *inf);
unsigned long vsg_kube_informer_watches(struct vsg_kube_informer *inf);
void vsg_kube_informer_last_rv(struct vsg_kube_informer *inf, char *buf, size_t bufsz);

/* Test hook: ends the current watch and starts the next from `rv` (a
 * too-old one forces the 410 Gone path). */
void vsg_kube_informer_restart_watch(struct vsg_kube_informer *inf, const char *rv);

/* ====================================================================
 * Shared informers
 * ==================================================================== */

struct vsg_kube_informers;

struct vsg_kube_informers_opts {
    int64_t resync_ms;            /* Resync period of every informer; 0: never. */
    int watch_timeout_s;          /* As in the informer options. */
    struct vsg_kube_stats *stats; /* Request counters, or NULL. */
};

/* A set for `cfg` (borrowed: keep it alive as long as the set) and `disco`
 * (borrowed, used to find resource names). NULL when out of memory. */
struct vsg_kube_informers *vsg_kube_informers_new(const struct vsg_kube_config *cfg,
                                                  struct vsg_kube_discovery *disco,
                                                  const struct vsg_kube_informers_opts *opts);

/* Stops every informer, then frees them and the set. NULL is a no-op. */
void vsg_kube_informers_free(struct vsg_kube_informers *set);

/* Stops every informer (joins their threads). */
void vsg_kube_informers_stop(struct vsg_kube_informers *set);

/*
 * The informer for `kind` of `api_version` in namespace `ns` (NULL: all),
 * created and started when missing. `resource` (NULL: ask discovery
 * through `c`, the calling thread's client). Thread-safe. Borrowed; lives
 * as long as the set.
 */
struct vsg_kube_informer *vsg_kube_informers_ensure(struct vsg_kube_informers *set,
                                                    struct vsg_kube_client *c,
                                                    const char *api_version, const char *kind,
                                                    const char *resource, const char *ns,
                                                    struct vsg_error *err);

/* The informer for that kind and namespace if there is one, else NULL. */
struct vsg_kube_informer *vsg_kube_informers_find(struct vsg_kube_informers *set,
                                                  const char *api_version, const char *kind,
                                                  const char *ns);

/* Calls `fn` for each informer (under the set's lock: no ensure inside). */
void vsg_kube_informers_each(struct vsg_kube_informers *set,
                             void (*fn)(void *ud, struct vsg_kube_informer *inf), void *ud);

#endif

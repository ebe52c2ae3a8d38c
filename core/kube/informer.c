/*
 * kube/informer.c - see informer.h.
 *
 * The thread's loop: list (when there is no resourceVersion to watch
 * from), then watch; a watch the server ended is reopened from the last
 * resourceVersion at once; 410 Gone (as an HTTP answer or an ERROR event)
 * means relist; any other failure waits the backoff first. Resyncs are
 * delivered between watches: each watch asks the server to end it no
 * later than the next resync is due.
 */
#include "kube/informer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "kube/strmap.h"
#include "kube/watch.h"

#define LOGGER "vsgate.informer"
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
#define RV_MAX 64

struct handler {
    vsg_kube_handler_fn fn; /* The callback. */
    void *ud;               /* Its user data. */
};

struct vsg_kube_informer {
    char *name, *api_version, *kind, *resource, *ns; /* Copies of the options. */
    char *label_selector, *field_selector;           /* Copies, or NULL. */
    int64_t resync_ms;                               /* Resync period or 0. */
    int watch_timeout_s;                             /* Server-side watch timeout. */
    int page_size;                                   /* List page size. */
    struct vsg_kube_client *client;                  /* The thread's client. */
    struct vsg_kube_cache *cache;                    /* The objects. */
    pthread_t thread;                                /* The loop. */
    int started;                                     /* The thread runs. */
    pthread_mutex_t mu;                              /* Guards the fields below. */
    pthread_cond_t cond;                             /* Signals sync and stop. */
    struct handler *handlers;                        /* Handlers. */
    size_t nhandlers;                                /* How many. */
    int synced;                                      /* First list cached. */
    int stopping;                                    /* stop() was called. */
    char forced_rv[RV_MAX];                          /* restart_watch()'s rv, or "". */
    atomic_int cancel;                               /* Ends the current request. */
    char rv[RV_MAX];                                 /* Last resourceVersion (thread's). */
    atomic_ulong lists, watches;                     /* Counters. */
    unsigned seed;                                   /* rand_r state (thread's). */
    /* Per-watch state (thread's): */
    int gone;                                        /* The watch saw 410. */
    int got_events;                                  /* The watch delivered something. */
};

/* ====================================================================
 * Life cycle
 * ==================================================================== */

static char *dup_or_null(const char *s)
{
    return s && *s ? vsg_strdup(s) : NULL;
}

struct vsg_kube_informer *vsg_kube_informer_new(const struct vsg_kube_config *cfg,
                                                const struct vsg_kube_informer_opts *o,
                                                struct vsg_error *err)
{
    struct vsg_kube_informer *inf;
    pthread_condattr_t ca;
    if (!o || !o->api_version || !o->kind || !o->resource) {
        vsg_error_set(err, VSG_ERR_INVAL, "informer: apiVersion, kind and resource are required");
        return NULL;
    }
    if (!(inf = vsg_calloc(1, sizeof *inf))) goto nomem;
    pthread_mutex_init(&inf->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&inf->cond, &ca);
    pthread_condattr_destroy(&ca);
    inf->resync_ms = o->resync_ms;
    inf->watch_timeout_s = o->watch_timeout_s > 0 ? o->watch_timeout_s : 300;
    inf->page_size = o->page_size > 0 ? o->page_size : 500;
    inf->seed = (unsigned)vsg_time_mono_ms() ^ (unsigned)(uintptr_t)inf;
    if (!(inf->name = vsg_strdup(o->name ? o->name : o->kind)) ||
        !(inf->api_version = vsg_strdup(o->api_version)) || !(inf->kind = vsg_strdup(o->kind)) ||
        !(inf->resource = vsg_strdup(o->resource)) || !(inf->ns = vsg_strdup(o->ns ? o->ns : "")))
        goto nomem;
    if ((o->label_selector && *o->label_selector && !(inf->label_selector = dup_or_null(o->label_selector))) ||
        (o->field_selector && *o->field_selector && !(inf->field_selector = dup_or_null(o->field_selector))))
        goto nomem;
    if (!(inf->cache = vsg_kube_cache_new())) goto nomem;
    if (!(inf->client = vsg_kube_client_new(cfg, err))) goto fail;
    vsg_kube_client_set_stats(inf->client, o->stats);
    return inf;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "informer: out of memory");
fail:
    vsg_kube_informer_free(inf);
    return NULL;
}

void vsg_kube_informer_free(struct vsg_kube_informer *inf)
{
    if (!inf) return;
    vsg_kube_informer_stop(inf);
    vsg_kube_client_free(inf->client);
    vsg_kube_cache_free(inf->cache);
    vsg_free(inf->handlers);
    vsg_free(inf->name);
    vsg_free(inf->api_version);
    vsg_free(inf->kind);
    vsg_free(inf->resource);
    vsg_free(inf->ns);
    vsg_free(inf->label_selector);
    vsg_free(inf->field_selector);
    pthread_cond_destroy(&inf->cond);
    pthread_mutex_destroy(&inf->mu);
    vsg_free(inf);
}

struct vsg_kube_cache *vsg_kube_informer_cache(struct vsg_kube_informer *inf)
{
    return inf->cache;
}

const char *vsg_kube_informer_api_version(const struct vsg_kube_informer *inf)
{
    return inf->api_version;
}

const char *vsg_kube_informer_kind(const struct vsg_kube_informer *inf)
{
    return inf->kind;
}

const char *vsg_kube_informer_namespace(const struct vsg_kube_informer *inf)
{
    return inf->ns;
}

unsigned long vsg_kube_informer_lists(struct vsg_kube_informer *inf)
{
    return atomic_load(&inf->lists);
}

unsigned long vsg_kube_informer_watches(struct vsg_kube_informer *inf)
{
    return atomic_load(&inf->watches);
}

void vsg_kube_informer_last_rv(struct vsg_kube_informer *inf, char *buf, size_t bufsz)
{
    pthread_mutex_lock(&inf->mu);
    snprintf(buf, bufsz, "%s", inf->rv);
    pthread_mutex_unlock(&inf->mu);
}

int vsg_kube_informer_synced(struct vsg_kube_informer *inf)
{
    pthread_mutex_lock(&inf->mu);
    int s = inf->synced;
    pthread_mutex_unlock(&inf->mu);
    return s;
}

/* Absolute CLOCK_MONOTONIC time `ms` from now. */
static struct timespec deadline_in(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

enum vsg_err vsg_kube_informer_wait_synced(struct vsg_kube_informer *inf, int64_t timeout_ms)
{
    struct timespec ts = deadline_in(timeout_ms);
    int s;
    pthread_mutex_lock(&inf->mu);
    while (!(s = inf->synced) && !inf->stopping)
        if (pthread_cond_timedwait(&inf->cond, &inf->mu, &ts) != 0) break;
    s = inf->synced;
    pthread_mutex_unlock(&inf->mu);
    return s ? VSG_OK : VSG_ERR_TIMEOUT;
}

/* ====================================================================
 * Handlers
 * ==================================================================== */

struct replay {
    struct handler h; /* The new handler. */
};

static int replay_one(void *ud, const cJSON *obj)
{
    struct replay *r = ud;
    r->h.fn(r->h.ud, VSG_KUBE_EVENT_ADD, obj, NULL);
    return 0;
}

enum vsg_err vsg_kube_informer_add_handler(struct vsg_kube_informer *inf, vsg_kube_handler_fn fn,
                                           void *ud)
{
    pthread_mutex_lock(&inf->mu);
    struct handler *n = vsg_realloc(inf->handlers, (inf->nhandlers + 1) * sizeof *n);
    if (!n) {
        pthread_mutex_unlock(&inf->mu);
        return VSG_ERR_NOMEM;
    }
    inf->handlers = n;
    inf->handlers[inf->nhandlers].fn = fn;
    inf->handlers[inf->nhandlers].ud = ud;
    inf->nhandlers++;
    int started = inf->started;
    pthread_mutex_unlock(&inf->mu);
    if (started) {
        struct replay r = {{fn, ud}};
        vsg_kube_cache_each(inf->cache, NULL, NULL, replay_one, &r);
    }
    return VSG_OK;
}

/* Calls every handler (thread's). */
static void deliver(struct vsg_kube_informer *inf, enum vsg_kube_event_type t, const cJSON *obj,
                    const cJSON *old)
{
    struct handler hs[16], *h = hs;
    size_t n;
    pthread_mutex_lock(&inf->mu);
    n = inf->nhandlers;
    if (n > sizeof hs / sizeof hs[0] && !(h = vsg_malloc(n * sizeof *h))) {
        h = hs;
        n = sizeof hs / sizeof hs[0]; /* Out of memory: the first ones. */
    }
    if (n) memcpy(h, inf->handlers, n * sizeof *h);
    pthread_mutex_unlock(&inf->mu);
    for (size_t i = 0; i < n; i++) h[i].fn(h[i].ud, t, obj, old);
    if (h != hs) vsg_free(h);
}

/* ====================================================================
 * The loop (the informer's thread)
 * ==================================================================== */

static int stopping(struct vsg_kube_informer *inf)
{
    pthread_mutex_lock(&inf->mu);
    int s = inf->stopping;
    pthread_mutex_unlock(&inf->mu);
    return s;
}

/* Sleeps `ms` or until stop: nonzero when stopping. */
static int nap(struct vsg_kube_informer *inf, int64_t ms)
{
    struct timespec ts = deadline_in(ms);
    pthread_mutex_lock(&inf->mu);
    while (!inf->stopping)
        if (pthread_cond_timedwait(&inf->cond, &inf->mu, &ts) != 0) break;
    int s = inf->stopping;
    pthread_mutex_unlock(&inf->mu);
    return s;
}

static void set_rv(struct vsg_kube_informer *inf, const char *rv)
{
    pthread_mutex_lock(&inf->mu);
    snprintf(inf->rv, sizeof inf->rv, "%s", rv ? rv : "");
    pthread_mutex_unlock(&inf->mu);
}

/* Makes `obj` carry the informer's apiVersion and kind (list items of
 * built-in types come without). VSG_ERR_NOMEM when it cannot. */
static enum vsg_err stamp(struct vsg_kube_informer *inf, cJSON *obj)
{
    if (!cJSON_HasObjectItem(obj, "apiVersion") &&
        !cJSON_AddStringToObject(obj, "apiVersion", inf->api_version))
        return VSG_ERR_NOMEM;
    if (!cJSON_HasObjectItem(obj, "kind") && !cJSON_AddStringToObject(obj, "kind", inf->kind))
        return VSG_ERR_NOMEM;
    return VSG_OK;
}

/* The collection path with `query` appended ("?..." parts). */
static enum vsg_err base_path(struct vsg_kube_informer *inf, struct vsg_buf *p)
{
    enum vsg_err rc = vsg_kube_path(p, inf->api_version, *inf->ns ? inf->ns : NULL, inf->resource,
                                    NULL, NULL);
    if (rc == VSG_OK) rc = vsg_buf_putc(p, '?');
    if (rc == VSG_OK && inf->label_selector) {
        rc = vsg_buf_puts(p, "labelSelector=");
        if (rc == VSG_OK) rc = vsg_http_escape(inf->label_selector, p);
        if (rc == VSG_OK) rc = vsg_buf_putc(p, '&');
    }
    if (rc == VSG_OK && inf->field_selector) {
        rc = vsg_buf_puts(p, "fieldSelector=");
        if (rc == VSG_OK) rc = vsg_http_escape(inf->field_selector, p);
        if (rc == VSG_OK) rc = vsg_buf_putc(p, '&');
    }
    return rc;
}

/* Lists everything (paged), replaces the cache and delivers the
 * differences. */
static enum vsg_err relist(struct vsg_kube_informer *inf, struct vsg_error *err)
{
    struct vsg__strmap seen;
    struct vsg_buf p, k;
    char cont[4096] = "", rv[RV_MAX] = "";
    enum vsg_err rc = VSG_OK;
    vsg__strmap_init(&seen);
    vsg_buf_init(&p, 16384);
    vsg_buf_init(&k, 1024);
    atomic_fetch_add(&inf->lists, 1);
    do {
        cJSON *list = NULL;
        vsg_buf_reset(&p);
        if ((rc = base_path(inf, &p)) != VSG_OK ||
            (rc = vsg_buf_printf(&p, "limit=%d", inf->page_size)) != VSG_OK) {
            vsg_error_set(err, rc, "informer %s: list path too long", inf->name);
            goto done;
        }
        if (*cont) {
            if ((rc = vsg_buf_puts(&p, "&continue=")) != VSG_OK ||
                (rc = vsg_http_escape(cont, &p)) != VSG_OK)
                goto done;
        }
        if ((rc = vsg_kube_get(inf->client, p.data, &list, err)) != VSG_OK) goto done;
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(list, "metadata");
        const cJSON *lrv = cJSON_GetObjectItemCaseSensitive(meta, "resourceVersion");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(meta, "continue");
        if (cJSON_IsString(lrv)) snprintf(rv, sizeof rv, "%s", lrv->valuestring);
        snprintf(cont, sizeof cont, "%s", cJSON_IsString(c) ? c->valuestring : "");
        cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
        cJSON *it;
        while (cJSON_IsArray(items) && (it = cJSON_DetachItemFromArray(items, 0)) != NULL) {
            cJSON *old = NULL;
            if (stamp(inf, it) != VSG_OK) {
                rc = vsg_error_set(err, VSG_ERR_NOMEM, "informer %s: out of memory", inf->name);
                cJSON_Delete(it);
                cJSON_Delete(list);
                goto done;
            }
            vsg_buf_reset(&k);
            if (vsg_kube_object_key(it, &k) != VSG_OK) {
                cJSON_Delete(it);
                continue;
            }
            if (vsg__strmap_put(&seen, k.data, (void *)1, NULL) != VSG_OK ||
                vsg_kube_cache_put(inf->cache, it, &old) != VSG_OK) {
                rc = vsg_error_set(err, VSG_ERR_NOMEM, "informer %s: out of memory", inf->name);
                cJSON_Delete(list);
                goto done;
            }
            const char *nrv = vsg_kube_meta_str(it, "resourceVersion");
            const char *orv = old ? vsg_kube_meta_str(old, "resourceVersion") : NULL;
            if (!old)
                deliver(inf, VSG_KUBE_EVENT_ADD, it, NULL);
            else if (!nrv || !orv || strcmp(nrv, orv) != 0)
                deliver(inf, VSG_KUBE_EVENT_UPDATE, it, old);
            cJSON_Delete(old);
        }
        cJSON_Delete(list);
    } while (*cont && !stopping(inf));

    /* What the list no longer has was deleted meanwhile. */
    char **keys = NULL;
    size_t n = 0;
    if (vsg_kube_cache_keys(inf->cache, &keys, &n) == VSG_OK) {
        for (size_t i = 0; i < n; i++) {
            cJSON *old = NULL;
            if (!vsg__strmap_has(&seen, keys[i]) &&
                vsg_kube_cache_remove(inf->cache, keys[i], &old) == VSG_OK) {
                deliver(inf, VSG_KUBE_EVENT_DELETE, old, old);
                cJSON_Delete(old);
            }
            vsg_free(keys[i]);
        }
        vsg_free(keys);
    }
    set_rv(inf, rv);
    pthread_mutex_lock(&inf->mu);
    if (!inf->synced) {
        inf->synced = 1;
        pthread_cond_broadcast(&inf->cond);
    }
    pthread_mutex_unlock(&inf->mu);
done:
    vsg__strmap_cleanup(&seen, NULL);
    vsg_buf_cleanup(&p);
    vsg_buf_cleanup(&k);
    return rc;
}

/* One watch event. */
static int on_event(void *ud, enum vsg_kube_watch_type t, cJSON **objp)
{
    struct vsg_kube_informer *inf = ud;
    cJSON *obj = *objp, *old = NULL;
    const char *rv = vsg_kube_meta_str(obj, "resourceVersion");
    struct vsg_buf k;

    switch (t) {
    case VSG_KUBE_WATCH_BOOKMARK:
        if (rv) set_rv(inf, rv);
        return 0;
    case VSG_KUBE_WATCH_ERROR: {
        int code = vsg_kube_watch_status(obj);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "message");
        if (code == 410) {
            inf->gone = 1;
            VSG_LOG_INFO(LOGGER, "%s: watch expired (%s); relisting", inf->name,
                         cJSON_IsString(m) ? m->valuestring : "410 Gone");
        } else {
            VSG_LOG_WARN(LOGGER, "%s: watch error %d: %s", inf->name, code,
                         cJSON_IsString(m) ? m->valuestring : "");
        }
        return 1;
    }
    default:
        break;
    }
    inf->got_events = 1;
    if (stamp(inf, obj) != VSG_OK) {
        /* The event is lost: a relist brings the cache back in step. */
        VSG_LOG_WARN(LOGGER, "%s: out of memory on a watch event; relisting", inf->name);
        inf->gone = 1;
        return 1;
    }
    vsg_buf_init(&k, 1024);
    if (vsg_kube_object_key(obj, &k) != VSG_OK) {
        vsg_buf_cleanup(&k);
        return 0;
    }
    if (rv) set_rv(inf, rv);
    if (t == VSG_KUBE_WATCH_DELETED) {
        (void)vsg_kube_cache_remove(inf->cache, k.data, &old);
        deliver(inf, VSG_KUBE_EVENT_DELETE, obj, old ? old : obj);
    } else {
        *objp = NULL; /* The cache takes it. */
        if (vsg_kube_cache_put(inf->cache, obj, &old) == VSG_OK)
            deliver(inf, old ? VSG_KUBE_EVENT_UPDATE : VSG_KUBE_EVENT_ADD, obj, old);
    }
    cJSON_Delete(old);
    vsg_buf_cleanup(&k);
    return 0;
}

static int on_body(void *ud, const char *data, size_t len)
{
    struct vsg_kube_watch_parser *p = ud;
    enum vsg_err rc = vsg_kube_watch_parser_feed(p, data, len);
    if (rc != VSG_OK && rc != VSG_ERR_CANCELLED) {
        struct vsg_kube_informer *inf = p->ud;
        VSG_LOG_WARN(LOGGER, "%s: %s", inf->name, p->err.msg);
    }
    return rc != VSG_OK;
}

/* Watches from inf->rv for at most `max_s` seconds. VSG_OK when the
 * server ended it, VSG_ERR_GONE for 410, VSG_ERR_CANCELLED when stopped
 * or restarted, other errors. */
static enum vsg_err watch(struct vsg_kube_informer *inf, int max_s, struct vsg_error *err)
{
    struct vsg_kube_watch_parser parser;
    struct vsg_buf p;
    char rv[RV_MAX];
    enum vsg_err rc;
    pthread_mutex_lock(&inf->mu);
    snprintf(rv, sizeof rv, "%s", inf->rv);
    pthread_mutex_unlock(&inf->mu);
    vsg_buf_init(&p, 16384);
    rc = base_path(inf, &p);
    if (rc == VSG_OK)
        rc = vsg_buf_printf(&p, "watch=1&allowWatchBookmarks=true&timeoutSeconds=%d", max_s);
    if (rc == VSG_OK && *rv) {
        rc = vsg_buf_puts(&p, "&resourceVersion=");
        if (rc == VSG_OK) rc = vsg_http_escape(rv, &p);
    }
    if (rc != VSG_OK) {
        vsg_buf_cleanup(&p);
        return vsg_error_set(err, rc, "informer %s: watch path too long", inf->name);
    }
    inf->gone = 0;
    inf->got_events = 0;
    atomic_fetch_add(&inf->watches, 1);
    vsg_kube_watch_parser_init(&parser, 0, on_event, inf);
    rc = vsg_kube_stream(inf->client, p.data, (long)(max_s + 30) * 1000, on_body, &parser,
                         &inf->cancel, err);
    if (inf->gone) rc = VSG_ERR_GONE;
    else if (rc == VSG_ERR_CANCELLED && !inf->cancel)
        rc = parser.err.code == VSG_ERR_CANCELLED ? VSG_ERR_HTTP : parser.err.code;
    vsg_kube_watch_parser_cleanup(&parser);
    vsg_buf_cleanup(&p);
    return rc;
}

/* Re-delivers every cached object as an update. */
static int resync_one(void *ud, const cJSON *obj)
{
    struct vsg_kube_informer *inf = ud;
    deliver(inf, VSG_KUBE_EVENT_UPDATE, obj, obj);
    return 0;
}

static void *run(void *arg)
{
    struct vsg_kube_informer *inf = arg;
    struct vsg_error err;
    int64_t backoff = BACKOFF_MIN_MS;
    int need_list = 1;
    int64_t next_resync = inf->resync_ms > 0 ? vsg_time_mono_ms() + inf->resync_ms : 0;

    while (!stopping(inf)) {
        enum vsg_err rc;
        if (need_list) {
            vsg_error_clear(&err);
            if ((rc = relist(inf, &err)) != VSG_OK) {
                if (stopping(inf)) break;
                VSG_LOG_WARN(LOGGER, "%s: list failed (retry in %lld ms): %s", inf->name,
                             (long long)backoff, err.msg);
                if (nap(inf, backoff)) break;
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            need_list = 0;
            backoff = BACKOFF_MIN_MS;
        }
        if (next_resync && vsg_time_mono_ms() >= next_resync) {
            vsg_kube_cache_each(inf->cache, NULL, NULL, resync_one, inf);
            next_resync = vsg_time_mono_ms() + inf->resync_ms;
        }
        /* 1x..2x the timeout, as client-go does, but never past the next
         * resync. */
        int max_s = inf->watch_timeout_s + (int)(rand_r(&inf->seed) % (unsigned)(inf->watch_timeout_s + 1));
        if (next_resync) {
            int64_t left = (next_resync - vsg_time_mono_ms() + 999) / 1000;
            if (left < max_s) max_s = left < 1 ? 1 : (int)left;
        }
        vsg_error_clear(&err);
        rc = watch(inf, max_s, &err);
        pthread_mutex_lock(&inf->mu);
        int stop = inf->stopping;
        if (inf->forced_rv[0]) {
            snprintf(inf->rv, sizeof inf->rv, "%s", inf->forced_rv);
            inf->forced_rv[0] = '\0';
            atomic_store(&inf->cancel, 0);
            rc = VSG_ERR_CANCELLED;
        }
        pthread_mutex_unlock(&inf->mu);
        if (stop) break;
        if (rc == VSG_OK || rc == VSG_ERR_CANCELLED || rc == VSG_ERR_TIMEOUT) {
            backoff = BACKOFF_MIN_MS;
            continue;
        }
        if (rc == VSG_ERR_GONE) {
            need_list = 1;
            continue;
        }
        if (inf->got_events) backoff = BACKOFF_MIN_MS;
        VSG_LOG_WARN(LOGGER, "%s: watch failed (retry in %lld ms): %s", inf->name,
                     (long long)backoff, err.msg[0] ? err.msg : vsg_strerror(rc));
        if (nap(inf, backoff)) break;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    return NULL;
}

enum vsg_err vsg_kube_informer_start(struct vsg_kube_informer *inf, struct vsg_error *err)
{
    pthread_mutex_lock(&inf->mu);
    if (inf->started) {
        pthread_mutex_unlock(&inf->mu);
        return vsg_error_set(err, VSG_ERR_INVALIDSTATE, "informer %s already started", inf->name);
    }
    inf->started = 1;
    pthread_mutex_unlock(&inf->mu);
    if (pthread_create(&inf->thread, NULL, run, inf) != 0) {
        pthread_mutex_lock(&inf->mu);
        inf->started = 0;
        pthread_mutex_unlock(&inf->mu);
        return vsg_error_set(err, VSG_ERR_NOMEM, "informer %s: cannot start a thread", inf->name);
    }
    return VSG_OK;
}

void vsg_kube_informer_stop(struct vsg_kube_informer *inf)
{
    pthread_mutex_lock(&inf->mu);
    int started = inf->started;
    inf->stopping = 1;
    atomic_store(&inf->cancel, 1);
    inf->started = 0;
    pthread_cond_broadcast(&inf->cond);
    pthread_mutex_unlock(&inf->mu);
    if (started) pthread_join(inf->thread, NULL);
}

void vsg_kube_informer_cancel(struct vsg_kube_informer *inf)
{
    pthread_mutex_lock(&inf->mu);
    inf->stopping = 1;
    atomic_store(&inf->cancel, 1);
    pthread_cond_broadcast(&inf->cond);
    pthread_mutex_unlock(&inf->mu);
}

void vsg_kube_informer_restart_watch(struct vsg_kube_informer *inf, const char *rv)
{
    pthread_mutex_lock(&inf->mu);
    snprintf(inf->forced_rv, sizeof inf->forced_rv, "%s", rv && *rv ? rv : "0");
    atomic_store(&inf->cancel, 1);
    pthread_mutex_unlock(&inf->mu);
}

/* ====================================================================
 * Shared informers
 * ==================================================================== */

struct vsg_kube_informers {
    const struct vsg_kube_config *cfg; /* Borrowed. */
    struct vsg_kube_discovery *disco;  /* Borrowed. */
    struct vsg_kube_informers_opts opts; /* Copy. */
    pthread_mutex_t mu;                /* Guards map. */
    struct vsg__strmap map;            /* "av|kind|ns" -> informer. */
};

struct vsg_kube_informers *vsg_kube_informers_new(const struct vsg_kube_config *cfg,
                                                  struct vsg_kube_discovery *disco,
                                                  const struct vsg_kube_informers_opts *opts)
{
    struct vsg_kube_informers *s = vsg_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cfg = cfg;
    s->disco = disco;
    if (opts) s->opts = *opts;
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

static void stop_one(void *ud, struct vsg_kube_informer *inf)
{
    (void)ud;
    vsg_kube_informer_cancel(inf);
}

static void join_one(void *ud, struct vsg_kube_informer *inf)
{
    (void)ud;
    vsg_kube_informer_stop(inf);
}

void vsg_kube_informers_stop(struct vsg_kube_informers *set)
{
    /* Signal all first, so they wind down together. */
    vsg_kube_informers_each(set, stop_one, NULL);
    vsg_kube_informers_each(set, join_one, NULL);
}

static void free_informer(void *p)
{
    vsg_kube_informer_free(p);
}

void vsg_kube_informers_free(struct vsg_kube_informers *set)
{
    if (!set) return;
    vsg_kube_informers_stop(set);
    vsg__strmap_cleanup(&set->map, free_informer);
    pthread_mutex_destroy(&set->mu);
    vsg_free(set);
}

void vsg_kube_informers_each(struct vsg_kube_informers *set,
                             void (*fn)(void *ud, struct vsg_kube_informer *inf), void *ud)
{
    pthread_mutex_lock(&set->mu);
    for (size_t i = 0; i < set->map.cap; i++)
        if (set->map.slots[i].key) fn(ud, set->map.slots[i].val);
    pthread_mutex_unlock(&set->mu);
}

static void set_key(char *buf, size_t n, const char *av, const char *kind, const char *ns)
{
    snprintf(buf, n, "%s|%s|%s", av, kind, ns ? ns : "");
}

struct vsg_kube_informer *vsg_kube_informers_find(struct vsg_kube_informers *set,
                                                  const char *api_version, const char *kind,
                                                  const char *ns)
{
    char key[512];
    set_key(key, sizeof key, api_version, kind, ns);
    pthread_mutex_lock(&set->mu);
    struct vsg_kube_informer *inf = vsg__strmap_get(&set->map, key);
    pthread_mutex_unlock(&set->mu);
    return inf;
}

struct vsg_kube_informer *vsg_kube_informers_ensure(struct vsg_kube_informers *set,
                                                    struct vsg_kube_client *c,
                                                    const char *api_version, const char *kind,
                                                    const char *resource, const char *ns,
                                                    struct vsg_error *err)
{
    struct vsg_kube_resource r;
    struct vsg_kube_informer *inf;
    char key[512], name[300];
    if (ns && !*ns) ns = NULL;
    if ((inf = vsg_kube_informers_find(set, api_version, kind, ns))) return inf;
    if (!resource || !*resource) {
        if (!set->disco) {
            vsg_error_set(err, VSG_ERR_INVAL, "informer for %s: no resource name", kind);
            return NULL;
        }
        if (vsg_kube_discovery_lookup(set->disco, c, api_version, kind, &r, err) != VSG_OK)
            return NULL;
        resource = r.resource;
    }
    snprintf(name, sizeof name, "%s%s%s", kind, ns ? "@" : "", ns ? ns : "");
    struct vsg_kube_informer_opts o = {
        .name = name,
        .api_version = api_version,
        .kind = kind,
        .resource = resource,
        .ns = ns,
        .resync_ms = set->opts.resync_ms,
        .watch_timeout_s = set->opts.watch_timeout_s,
        .stats = set->opts.stats,
    };
    set_key(key, sizeof key, api_version, kind, ns);
    pthread_mutex_lock(&set->mu);
    /* Someone may have made it meanwhile. */
    if ((inf = vsg__strmap_get(&set->map, key))) {
        pthread_mutex_unlock(&set->mu);
        return inf;
    }
    if (!(inf = vsg_kube_informer_new(set->cfg, &o, err))) goto fail;
    if (vsg__strmap_put(&set->map, key, inf, NULL) != VSG_OK) {
        vsg_error_set(err, VSG_ERR_NOMEM, "informer: out of memory");
        goto fail;
    }
    if (vsg_kube_informer_start(inf, err) != VSG_OK) {
        vsg__strmap_del(&set->map, key);
        goto fail;
    }
    pthread_mutex_unlock(&set->mu);
    return inf;
fail:
    pthread_mutex_unlock(&set->mu);
    vsg_kube_informer_free(inf);
    return NULL;
}

/*
 * kube/queue.c - see queue.h.
 *
 * Keys live in four places: `fifo` (ready, in order), `dirty` (queued or
 * to be re-queued: the de-dup set), `processing` (handed out), and
 * `waiting` (key -> due time, with a min-heap of (due, key) entries; a
 * heap entry whose due time no longer matches the map is stale and
 * skipped). `failures` holds the backoff counters.
 */
#include "kube/queue.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "base/vtime.h"
#include "kube/strmap.h"

/* One delayed add. */
struct due {
    int64_t at; /* Monotonic ms when the key is due. */
    char *key;  /* Owned copy of the key. */
};

struct vsg_kube_queue {
    pthread_mutex_t mu;            /* Guards everything below. */
    pthread_cond_t cond;           /* Signalled on add and shutdown. */
    int64_t base_ms, max_ms;       /* Backoff bounds. */
    size_t max_keys;               /* Distinct key limit. */
    char **fifo;                   /* Ring of ready keys (owned). */
    size_t head, count, cap;       /* Ring position, length, size. */
    struct vsg__strmap dirty;      /* Keys queued or to re-queue. */
    struct vsg__strmap processing; /* Keys handed out. */
    struct vsg__strmap waiting;    /* Key -> (int64_t *) due time. */
    struct due *heap;              /* Min-heap on `at`. */
    size_t nheap, capheap;         /* Its length and size. */
    struct vsg__strmap failures;   /* Key -> (uintptr_t) failure count. */
    int shutdown;                  /* Set by shutdown(). */
};

struct vsg_kube_queue *vsg_kube_queue_new(const struct vsg_kube_queue_opts *opts)
{
    struct vsg_kube_queue *q = vsg_calloc(1, sizeof *q);
    pthread_condattr_t ca;
    if (!q) return NULL;
    q->base_ms = opts && opts->base_delay_ms > 0 ? opts->base_delay_ms : VSG_KUBE_QUEUE_BASE_DELAY_MS;
    q->max_ms = opts && opts->max_delay_ms > 0 ? opts->max_delay_ms : VSG_KUBE_QUEUE_MAX_DELAY_MS;
    q->max_keys = opts && opts->max_keys > 0 ? opts->max_keys : 1000000;
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    return q;
}

void vsg_kube_queue_free(struct vsg_kube_queue *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->count; i++) vsg_free(q->fifo[(q->head + i) % q->cap]);
    vsg_free(q->fifo);
    for (size_t i = 0; i < q->nheap; i++) vsg_free(q->heap[i].key);
    vsg_free(q->heap);
    vsg__strmap_cleanup(&q->dirty, NULL);
    vsg__strmap_cleanup(&q->processing, NULL);
    vsg__strmap_cleanup(&q->waiting, vsg_free);
    vsg__strmap_cleanup(&q->failures, NULL);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->mu);
    vsg_free(q);
}

/* ====================================================================
 * Internals (q->mu held)
 * ==================================================================== */

static enum vsg_err fifo_push(struct vsg_kube_queue *q, const char *key)
{
    if (q->count == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 16;
        char **n = vsg_calloc(ncap, sizeof *n);
        if (!n) return VSG_ERR_NOMEM;
        for (size_t i = 0; i < q->count; i++) n[i] = q->fifo[(q->head + i) % q->cap];
        vsg_free(q->fifo);
        q->fifo = n;
        q->cap = ncap;
        q->head = 0;
    }
    char *k = vsg_strdup(key);
    if (!k) return VSG_ERR_NOMEM;
    q->fifo[(q->head + q->count) % q->cap] = k;
    q->count++;
    return VSG_OK;
}

/* Distinct keys held, roughly (a key may be in two sets). */
static size_t held(const struct vsg_kube_queue *q)
{
    return q->dirty.len + q->processing.len + q->waiting.len;
}

/* client-go's Add. */
static enum vsg_err add_locked(struct vsg_kube_queue *q, const char *key)
{
    enum vsg_err rc;
    if (vsg__strmap_has(&q->dirty, key)) return VSG_OK;
    if (held(q) >= q->max_keys) return VSG_ERR_TOOBIG;
    if ((rc = vsg__strmap_put(&q->dirty, key, (void *)1, NULL)) != VSG_OK) return rc;
    if (vsg__strmap_has(&q->processing, key)) return VSG_OK;
    if ((rc = fifo_push(q, key)) != VSG_OK) {
        vsg__strmap_del(&q->dirty, key);
        return rc;
    }
    pthread_cond_signal(&q->cond);
    return VSG_OK;
}

static void heap_up(struct due *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].at <= h[i].at) break;
        struct due t = h[p];
        h[p] = h[i];
        h[i] = t;
        i = p;
    }
}

static void heap_down(struct due *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].at < h[m].at) m = l;
        if (r < n && h[r].at < h[m].at) m = r;
        if (m == i) break;
        struct due t = h[m];
        h[m] = h[i];
        h[i] = t;
        i = m;
    }
}

static enum vsg_err wait_locked(struct vsg_kube_queue *q, const char *key, int64_t at)
{
    int64_t *cur = vsg__strmap_get(&q->waiting, key);
    enum vsg_err rc;
    if (cur && *cur <= at) return VSG_OK;
    if (!cur && held(q) >= q->max_keys) return VSG_ERR_TOOBIG;
    if (q->nheap == q->capheap) {
        size_t nc = q->capheap ? q->capheap * 2 : 16;
        struct due *n = vsg_realloc(q->heap, nc * sizeof *n);
        if (!n) return VSG_ERR_NOMEM;
        q->heap = n;
        q->capheap = nc;
    }
    char *k = vsg_strdup(key);
    if (!k) return VSG_ERR_NOMEM;
    if (cur) {
        *cur = at;
    } else {
        int64_t *v = vsg_malloc(sizeof *v);
        if (!v) {
            vsg_free(k);
            return VSG_ERR_NOMEM;
        }
        *v = at;
        if ((rc = vsg__strmap_put(&q->waiting, key, v, NULL)) != VSG_OK) {
            vsg_free(v);
            vsg_free(k);
            return rc;
        }
    }
    q->heap[q->nheap].at = at;
    q->heap[q->nheap].key = k;
    heap_up(q->heap, q->nheap++);
    /* A getter may be sleeping until a later due time. */
    pthread_cond_broadcast(&q->cond);
    return VSG_OK;
}

/* Moves every due key into the queue; returns the next due time, or -1. */
static int64_t promote_due(struct vsg_kube_queue *q)
{
    int64_t now = vsg_time_mono_ms();
    while (q->nheap > 0) {
        struct due top = q->heap[0];
        int64_t *cur = vsg__strmap_get(&q->waiting, top.key);
        if (cur && *cur == top.at && top.at > now) return top.at;
        q->heap[0] = q->heap[--q->nheap];
        heap_down(q->heap, q->nheap, 0);
        if (cur && *cur == top.at) {
            vsg_free(vsg__strmap_del(&q->waiting, top.key));
            /* On failure (out of memory, full) the key is dropped: the
             * next resync brings it back. */
            (void)add_locked(q, top.key);
        }
        vsg_free(top.key);
    }
    return -1;
}

/* ====================================================================
 * API
 * ==================================================================== */

enum vsg_err vsg_kube_queue_add(struct vsg_kube_queue *q, const char *key)
{
    enum vsg_err rc;
    pthread_mutex_lock(&q->mu);
    rc = q->shutdown ? VSG_ERR_CANCELLED : add_locked(q, key);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

enum vsg_err vsg_kube_queue_add_after(struct vsg_kube_queue *q, const char *key,
                                      int64_t delay_ms)
{
    enum vsg_err rc;
    if (delay_ms <= 0) return vsg_kube_queue_add(q, key);
    pthread_mutex_lock(&q->mu);
    rc = q->shutdown ? VSG_ERR_CANCELLED : wait_locked(q, key, vsg_time_mono_ms() + delay_ms);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

enum vsg_err vsg_kube_queue_add_rate_limited(struct vsg_kube_queue *q, const char *key,
                                             int64_t *delay_ms)
{
    enum vsg_err rc;
    pthread_mutex_lock(&q->mu);
    uintptr_t n = (uintptr_t)vsg__strmap_get(&q->failures, key);
    int64_t d = q->base_ms;
    for (uintptr_t i = 0; i < n && d < q->max_ms; i++) d *= 2;
    if (d > q->max_ms) d = q->max_ms;
    if (delay_ms) *delay_ms = d;
    if (q->shutdown) {
        rc = VSG_ERR_CANCELLED;
    } else {
        rc = vsg__strmap_put(&q->failures, key, (void *)(n + 1), NULL);
        if (rc == VSG_OK) rc = wait_locked(q, key, vsg_time_mono_ms() + d);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void vsg_kube_queue_forget(struct vsg_kube_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    vsg__strmap_del(&q->failures, key);
    pthread_mutex_unlock(&q->mu);
}

unsigned vsg_kube_queue_failures(struct vsg_kube_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    uintptr_t n = (uintptr_t)vsg__strmap_get(&q->failures, key);
    pthread_mutex_unlock(&q->mu);
    return (unsigned)n;
}

enum vsg_err vsg_kube_queue_get(struct vsg_kube_queue *q, int64_t timeout_ms, char **key)
{
    int64_t deadline = timeout_ms >= 0 ? vsg_time_mono_ms() + timeout_ms : -1;
    enum vsg_err rc = VSG_OK;
    *key = NULL;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        if (q->shutdown) {
            rc = VSG_ERR_CANCELLED;
            break;
        }
        int64_t next = promote_due(q);
        if (q->count > 0) {
            char *k = q->fifo[q->head];
            q->head = (q->head + 1) % q->cap;
            q->count--;
            if ((rc = vsg__strmap_put(&q->processing, k, (void *)1, NULL)) != VSG_OK) {
                /* Put it back at the front and report. */
                q->head = (q->head + q->cap - 1) % q->cap;
                q->count++;
                break;
            }
            vsg__strmap_del(&q->dirty, k);
            *key = k;
            break;
        }
        int64_t now = vsg_time_mono_ms();
        if (deadline >= 0 && now >= deadline) {
            rc = VSG_ERR_TIMEOUT;
            break;
        }
        int64_t until = deadline;
        if (next >= 0 && (until < 0 || next < until)) until = next;
        if (until < 0) {
            pthread_cond_wait(&q->cond, &q->mu);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t d = until - now;
            ts.tv_sec += (time_t)(d / 1000);
            ts.tv_nsec += (long)(d % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&q->cond, &q->mu, &ts);
        }
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void vsg_kube_queue_done(struct vsg_kube_queue *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    vsg__strmap_del(&q->processing, key);
    if (vsg__strmap_has(&q->dirty, key) && !q->shutdown) {
        if (fifo_push(q, key) == VSG_OK)
            pthread_cond_signal(&q->cond);
        else
            vsg__strmap_del(&q->dirty, key);
    }
    pthread_mutex_unlock(&q->mu);
}

size_t vsg_kube_queue_len(struct vsg_kube_queue *q)
{
    pthread_mutex_lock(&q->mu);
    (void)promote_due(q);
    size_t n = q->count;
    pthread_mutex_unlock(&q->mu);
    return n;
}

size_t vsg_kube_queue_waiting(struct vsg_kube_queue *q)
{
    pthread_mutex_lock(&q->mu);
    (void)promote_due(q);
    size_t n = q->waiting.len;
    pthread_mutex_unlock(&q->mu);
    return n;
}

void vsg_kube_queue_shutdown(struct vsg_kube_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->shutdown = 1;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

/*
 * kube/queue.h - the controller's work queue (client-go's
 * RateLimitingInterface, in C).
 *
 * Provides: struct vsg_kube_queue: a FIFO of string keys ("ns/name") with
 *  - de-duplication: a key waiting in the queue is not added twice;
 *  - a "processing" set: a key handed out by get() is not handed out
 *    again before done(); adding it meanwhile marks it dirty, and done()
 *    puts it back, so one key never runs twice at once and no change is
 *    lost;
 *  - delayed adds (add_after): the key joins the queue when its time has
 *    come; a key already waiting keeps the earlier of the two times;
 *  - per-key exponential backoff (add_rate_limited): base * 2^failures,
 *    capped (client-go's defaults: 5 ms .. 1000 s); forget() resets it.
 * Uses: base/, pthreads, kube/strmap.h.
 * Owns: the queue copies every key given to it; get() hands the caller an
 * owned copy (vsg_free()).
 *
 * Thread-safe: any thread may add; any number of workers may get/done.
 */
#ifndef VSG_KUBE_QUEUE_H
#define VSG_KUBE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* client-go's DefaultControllerRateLimiter item backoff. */
#define VSG_KUBE_QUEUE_BASE_DELAY_MS 5
#define VSG_KUBE_QUEUE_MAX_DELAY_MS (1000 * 1000)

struct vsg_kube_queue_opts {
    int64_t base_delay_ms; /* First backoff; 0 means 5 ms. */
    int64_t max_delay_ms;  /* Largest backoff; 0 means 1000 s. */
    size_t max_keys;       /* Most distinct keys held (queued, waiting or
                              processing); 0 means 1,000,000. Adds past it
                              fail with VSG_ERR_TOOBIG. */
};

struct vsg_kube_queue;

/* A new queue; `opts` may be NULL for the defaults. NULL when out of
 * memory. */
struct vsg_kube_queue *vsg_kube_queue_new(const struct vsg_kube_queue_opts *opts);

/* Frees the queue and every key in it. NULL is a no-op. No thread may be
 * using it. */
void vsg_kube_queue_free(struct vsg_kube_queue *q);

/* Adds `key` now (no-op when already queued; see above when processing).
 * VSG_ERR_CANCELLED after shutdown. */
enum vsg_err vsg_kube_queue_add(struct vsg_kube_queue *q, const char *key);

/* Adds `key` after `delay_ms` (now when <= 0). */
enum vsg_err vsg_kube_queue_add_after(struct vsg_kube_queue *q, const char *key,
                                      int64_t delay_ms);

/* Adds `key` after its backoff, then doubles its backoff. When `delay_ms`
 * is not NULL it receives the delay used. */
enum vsg_err vsg_kube_queue_add_rate_limited(struct vsg_kube_queue *q, const char *key,
                                             int64_t *delay_ms);

/* Resets the backoff of `key` (after a success). */
void vsg_kube_queue_forget(struct vsg_kube_queue *q, const char *key);

/* How many times `key` was added rate-limited since the last forget. */
unsigned vsg_kube_queue_failures(struct vsg_kube_queue *q, const char *key);

/*
 * Waits up to `timeout_ms` (< 0: forever) for a key and hands it out in
 * *key (owned by the caller; call done() with it when finished). Returns
 * VSG_ERR_TIMEOUT when none came in time, VSG_ERR_CANCELLED once the
 * queue is shut down (keys still queued are not handed out then).
 */
enum vsg_err vsg_kube_queue_get(struct vsg_kube_queue *q, int64_t timeout_ms, char **key);

/* Marks `key` (from get()) as finished; re-queues it when it was added
 * while processing. */
void vsg_kube_queue_done(struct vsg_kube_queue *q, const char *key);

/* Keys ready to be handed out now. */
size_t vsg_kube_queue_len(struct vsg_kube_queue *q);

/* Keys waiting for their delay. */
size_t vsg_kube_queue_waiting(struct vsg_kube_queue *q);

/* Wakes every waiting get() with VSG_ERR_CANCELLED, now and later. */
void vsg_kube_queue_shutdown(struct vsg_kube_queue *q);

#endif

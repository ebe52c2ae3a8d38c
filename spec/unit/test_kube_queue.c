/*
 * test_kube_queue.c - the controller work queue (kube/queue.h): de-dup,
 * the processing set (a key never handed out twice at once, re-queued
 * when added while processing), FIFO order, delayed adds (earliest wins),
 * per-key exponential backoff 5 ms .. cap with forget, timeouts, shutdown
 * waking a blocked getter, and many threads adding at once.
 */
#include "check.h"

#include <pthread.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/vtime.h"
#include "kube/queue.h"

static char *get_now(struct vsg_kube_queue *q)
{
    char *k = NULL;
    enum vsg_err rc = vsg_kube_queue_get(q, 0, &k);
    return rc == VSG_OK ? k : NULL;
}

static void test_dedup_fifo(void)
{
    struct vsg_kube_queue *q = vsg_kube_queue_new(NULL);
    CHECK(q != NULL);
    CHECK_INT(vsg_kube_queue_add(q, "ns/a"), VSG_OK);
    CHECK_INT(vsg_kube_queue_add(q, "ns/b"), VSG_OK);
    CHECK_INT(vsg_kube_queue_add(q, "ns/a"), VSG_OK);
    CHECK_INT(vsg_kube_queue_len(q), 2);
    char *k = get_now(q);
    CHECK_STR(k, "ns/a");
    char *k2 = get_now(q);
    CHECK_STR(k2, "ns/b");
    CHECK(get_now(q) == NULL);
    vsg_kube_queue_done(q, k);
    vsg_kube_queue_done(q, k2);
    vsg_free(k);
    vsg_free(k2);
    CHECK_INT(vsg_kube_queue_len(q), 0);
    vsg_kube_queue_free(q);
}

static void test_processing(void)
{
    struct vsg_kube_queue *q = vsg_kube_queue_new(NULL);
    CHECK_INT(vsg_kube_queue_add(q, "k"), VSG_OK);
    char *k = get_now(q);
    CHECK_STR(k, "k");
    /* Added while processing: not handed out again until done. */
    CHECK_INT(vsg_kube_queue_add(q, "k"), VSG_OK);
    CHECK_INT(vsg_kube_queue_add(q, "k"), VSG_OK);
    CHECK(get_now(q) == NULL);
    CHECK_INT(vsg_kube_queue_len(q), 0);
    vsg_kube_queue_done(q, k);
    vsg_free(k);
    CHECK_INT(vsg_kube_queue_len(q), 1);
    k = get_now(q);
    CHECK_STR(k, "k");
    vsg_kube_queue_done(q, k);
    vsg_free(k);
    /* Done without a new add: gone. */
    CHECK(get_now(q) == NULL);
    vsg_kube_queue_free(q);
}

static void test_delayed(void)
{
    struct vsg_kube_queue *q = vsg_kube_queue_new(NULL);
    char *k = NULL;
    CHECK_INT(vsg_kube_queue_add_after(q, "late", 150), VSG_OK);
    CHECK_INT(vsg_kube_queue_add_after(q, "soon", 50), VSG_OK);
    CHECK_INT(vsg_kube_queue_len(q), 0);
    CHECK_INT(vsg_kube_queue_waiting(q), 2);
    /* Earlier time wins for a key already waiting; a later one does not move it. */
    CHECK_INT(vsg_kube_queue_add_after(q, "late", 100), VSG_OK);
    CHECK_INT(vsg_kube_queue_add_after(q, "soon", 5000), VSG_OK);
    CHECK_INT(vsg_kube_queue_waiting(q), 2);
    int64_t t0 = vsg_time_mono_ms();
    CHECK_INT(vsg_kube_queue_get(q, 2000, &k), VSG_OK);
    int64_t dt = vsg_time_mono_ms() - t0;
    CHECK_STR(k, "soon");
    CHECK(dt >= 40 && dt < 1000);
    vsg_kube_queue_done(q, k);
    vsg_free(k);
    CHECK_INT(vsg_kube_queue_get(q, 2000, &k), VSG_OK);
    dt = vsg_time_mono_ms() - t0;
    CHECK_STR(k, "late");
    CHECK(dt >= 90 && dt < 1500);
    vsg_kube_queue_done(q, k);
    vsg_free(k);
    /* A delayed add of a key queued now waits on its own: handed out now,
     * queued again when due (as client-go does). */
    CHECK_INT(vsg_kube_queue_add(q, "x"), VSG_OK);
    CHECK_INT(vsg_kube_queue_add_after(q, "x", 30), VSG_OK);
    k = get_now(q);
    CHECK_STR(k, "x");
    vsg_kube_queue_done(q, k);
    vsg_free(k);
    usleep(60 * 1000);
    /* The waiting copy came due and was queued again (client-go does the same). */
    CHECK_INT(vsg_kube_queue_len(q), 1);
    CHECK_INT(vsg_kube_queue_add_after(q, "zero", 0), VSG_OK);
    CHECK_INT(vsg_kube_queue_len(q), 2);
    vsg_kube_queue_free(q);
}

static void test_backoff(void)
{
    struct vsg_kube_queue_opts o = {.base_delay_ms = 5, .max_delay_ms = 1000 * 1000};
    struct vsg_kube_queue *q = vsg_kube_queue_new(&o);
    int64_t d = -1;
    int64_t want[] = {5, 10, 20, 40, 80, 160};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK_INT(vsg_kube_queue_add_rate_limited(q, "k", &d), VSG_OK);
        CHECK_INT(d, want[i]);
    }
    CHECK_INT(vsg_kube_queue_failures(q, "k"), 6);
    CHECK_INT(vsg_kube_queue_failures(q, "other"), 0);
    /* Capped. */
    for (int i = 0; i < 40; i++) CHECK_INT(vsg_kube_queue_add_rate_limited(q, "k", &d), VSG_OK);
    CHECK_INT(d, 1000 * 1000);
    vsg_kube_queue_forget(q, "k");
    CHECK_INT(vsg_kube_queue_failures(q, "k"), 0);
    vsg_kube_queue_free(q);
    q = vsg_kube_queue_new(&o);
    CHECK_INT(vsg_kube_queue_add_rate_limited(q, "k2", &d), VSG_OK);
    CHECK_INT(d, 5);
    /* The first retry of k2 arrives after ~5 ms. */
    char *k = NULL;
    CHECK_INT(vsg_kube_queue_get(q, 1000, &k), VSG_OK);
    CHECK_STR(k, "k2");
    vsg_kube_queue_done(q, k);
    vsg_free(k);
    vsg_kube_queue_free(q);
}

static void test_timeout(void)
{
    struct vsg_kube_queue *q = vsg_kube_queue_new(NULL);
    char *k = NULL;
    int64_t t0 = vsg_time_mono_ms();
    CHECK_INT(vsg_kube_queue_get(q, 80, &k), VSG_ERR_TIMEOUT);
    CHECK(vsg_time_mono_ms() - t0 >= 70);
    CHECK(k == NULL);
    vsg_kube_queue_free(q);
}

struct getter {
    struct vsg_kube_queue *q; /* The queue. */
    enum vsg_err rc;          /* What get returned. */
};

static void *blocked_get(void *arg)
{
    struct getter *g = arg;
    char *k = NULL;
    g->rc = vsg_kube_queue_get(g->q, -1, &k);
    vsg_free(k);
    return NULL;
}

static void test_shutdown(void)
{
    struct vsg_kube_queue *q = vsg_kube_queue_new(NULL);
    struct getter g = {q, VSG_OK};
    pthread_t t;
    pthread_create(&t, NULL, blocked_get, &g);
    usleep(50 * 1000);
    vsg_kube_queue_shutdown(q);
    pthread_join(t, NULL);
    CHECK_INT(g.rc, VSG_ERR_CANCELLED);
    CHECK_INT(vsg_kube_queue_add(q, "k"), VSG_ERR_CANCELLED);
    vsg_kube_queue_free(q);
}

static void *adder(void *arg)
{
    struct vsg_kube_queue *q = arg;
    char key[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "ns/k%d", i % 100);
        vsg_kube_queue_add(q, key);
    }
    return NULL;
}

static void test_threads(void)
{
    struct vsg_kube_queue *q = vsg_kube_queue_new(NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, adder, q);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    CHECK_INT(vsg_kube_queue_len(q), 100);
    vsg_kube_queue_free(q);
}

static void test_limit(void)
{
    struct vsg_kube_queue_opts o = {.max_keys = 2};
    struct vsg_kube_queue *q = vsg_kube_queue_new(&o);
    CHECK_INT(vsg_kube_queue_add(q, "a"), VSG_OK);
    CHECK_INT(vsg_kube_queue_add(q, "b"), VSG_OK);
    CHECK_INT(vsg_kube_queue_add(q, "c"), VSG_ERR_TOOBIG);
    CHECK_INT(vsg_kube_queue_add(q, "a"), VSG_OK);
    vsg_kube_queue_free(q);
}

TEST_LIST = {
    {"dedup_fifo", test_dedup_fifo},
    {"processing", test_processing},
    {"delayed", test_delayed},
    {"backoff", test_backoff},
    {"timeout", test_timeout},
    {"shutdown", test_shutdown},
    {"threads", test_threads},
    {"limit", test_limit},
    {NULL, NULL},
};
TEST_MAIN()

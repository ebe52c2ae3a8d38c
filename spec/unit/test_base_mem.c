/*
 * test_base_mem.c - unit tests for base/mem.h, including failure injection.
 */
#include "check.h"

#include <pthread.h>
#include <stdint.h>

#include "base/mem.h"

static void test_basic(void)
{
    char *p = vsg_malloc(16), *q;
    unsigned char *z;

    CHECK(p != NULL);
    memcpy(p, "hello", 6);
    q = vsg_realloc(p, 4096);
    CHECK(q != NULL);
    CHECK_STR(q, "hello");
    vsg_free(q);

    z = vsg_calloc(10, 10);
    CHECK(z != NULL);
    for (int i = 0; i < 100; i++) CHECK_INT(z[i], 0);
    vsg_free(z);

    /* Zero sizes still give a real pointer, so NULL always means failure. */
    p = vsg_malloc(0);
    CHECK(p != NULL);
    vsg_free(p);
    p = vsg_calloc(0, 8);
    CHECK(p != NULL);
    vsg_free(p);
    p = vsg_realloc(NULL, 0);
    CHECK(p != NULL);
    vsg_free(p);

    vsg_free(NULL);
}

static void test_calloc_overflow(void)
{
    void *p = vsg_calloc(SIZE_MAX / 2, 4);
    CHECK(p == NULL);
    vsg_free(p);
}

static void test_strdup(void)
{
    char *s = vsg_strdup("vsgate");

    CHECK_STR(s, "vsgate");
    vsg_free(s);
    s = vsg_strdup("");
    CHECK_STR(s, "");
    vsg_free(s);
    CHECK(vsg_strdup(NULL) == NULL);

    s = vsg_strndup("abcdef", 3);
    CHECK_STR(s, "abc");
    vsg_free(s);
    s = vsg_strndup("ab\0cd", 5);
    CHECK_STR(s, "ab");
    vsg_free(s);
    s = vsg_strndup("abc", 100);
    CHECK_STR(s, "abc");
    vsg_free(s);
    s = vsg_strndup("abc", 0);
    CHECK_STR(s, "");
    vsg_free(s);
    CHECK(vsg_strndup(NULL, 4) == NULL);
}

static void test_fail_next(void)
{
    void *p;

    vsg_mem_fail_after(0);
    CHECK(vsg_malloc(1) == NULL);
    CHECK(vsg_calloc(1, 1) == NULL);
    CHECK(vsg_realloc(NULL, 1) == NULL);
    CHECK(vsg_strdup("x") == NULL);
    CHECK(vsg_strndup("x", 1) == NULL);
    CHECK_INT(vsg_mem_injected_failures(), 5);
    vsg_mem_fail_after(-1);
    CHECK_INT(vsg_mem_injected_failures(), 5); /* Disarming keeps it. */
    p = vsg_malloc(1);
    CHECK(p != NULL);
    vsg_free(p);
    CHECK_INT(vsg_mem_injected_failures(), 5);
    vsg_mem_fail_after(3); /* Arming resets it. */
    CHECK_INT(vsg_mem_injected_failures(), 0);
    vsg_mem_fail_after(-1);
}

static void test_fail_after_n(void)
{
    void *a, *b, *c;

    vsg_mem_fail_after(2);
    a = vsg_malloc(8);
    b = vsg_strdup("two");
    c = vsg_malloc(8);
    vsg_mem_fail_after(-1);
    CHECK(a != NULL);
    CHECK(b != NULL);
    CHECK(c == NULL);
    vsg_free(a);
    vsg_free(b);
}

static void test_failed_realloc_keeps_block(void)
{
    char *p = vsg_strdup("keep me"), *q;

    CHECK(p != NULL);
    vsg_mem_fail_after(0);
    q = vsg_realloc(p, 1 << 20);
    vsg_mem_fail_after(-1);
    CHECK(q == NULL);
    CHECK_STR(p, "keep me");
    vsg_free(p);
}

/* Several threads allocate while the hook is armed: exactly the allowed
 * number succeed (the counter is atomic). */
enum { THREADS = 4, PER_THREAD = 500, ALLOWED = 777 };

static void *alloc_worker(void *arg)
{
    long *ok = arg;

    for (int i = 0; i < PER_THREAD; i++) {
        void *p = vsg_malloc(32);
        if (p != NULL) (*ok)++;
        vsg_free(p);
    }
    return NULL;
}

static void test_fail_after_threads(void)
{
    pthread_t t[THREADS];
    long ok[THREADS] = {0}, total = 0;

    vsg_mem_fail_after(ALLOWED);
    for (int i = 0; i < THREADS; i++)
        CHECK_INT(pthread_create(&t[i], NULL, alloc_worker, &ok[i]), 0);
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    vsg_mem_fail_after(-1);
    for (int i = 0; i < THREADS; i++) total += ok[i];
    CHECK_INT(total, ALLOWED);
}

TEST_LIST = {
    {"basic", test_basic},
    {"calloc_overflow", test_calloc_overflow},
    {"strdup", test_strdup},
    {"fail_next", test_fail_next},
    {"fail_after_n", test_fail_after_n},
    {"failed_realloc_keeps_block", test_failed_realloc_keeps_block},
    {"fail_after_threads", test_fail_after_threads},
    {NULL, NULL},
};

TEST_MAIN()

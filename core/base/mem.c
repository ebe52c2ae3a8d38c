/*
 * mem.c - allocation wrappers with a failure-injection hook.
 */
#include "base/mem.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Set when an allocation by cJSON failed on this thread (see
 * vsg_mem_cjson_failed()). */
static _Thread_local int cjson_oom;

void vsg_mem_cjson_reset(void)
{
    cjson_oom = 0;
}

int vsg_mem_cjson_failed(void)
{
    return cjson_oom;
}

#ifdef VSG_MEM_CJSON_HOOKS
#include <cjson/cJSON.h>

/* cJSON allocates through these wrappers in every program that links
 * vsg_base (vsgate, the tests), so vsg_mem_fail_after() reaches its
 * allocations too. Installed before main() runs: cJSON's hooks are
 * process-wide and must not change while anything is parsed. libvsgate
 * compiles this file without VSG_MEM_CJSON_HOOKS: a library must not
 * change the hooks of the application that loads it. */
static void *cjson_malloc(size_t size)
{
    void *p = vsg_malloc(size);
    if (p == NULL) cjson_oom = 1;
    return p;
}

static void cjson_free(void *p)
{
    vsg_free(p);
}

__attribute__((constructor)) static void install_cjson_hooks(void)
{
    cJSON_Hooks hooks = {cjson_malloc, cjson_free};
    cJSON_InitHooks(&hooks);
}
#endif

/* Per-process test hook state (the one deliberate global of this file):
 * -1 means disarmed; n >= 0 means n more allocations succeed. */
static atomic_long fail_remaining = -1;
/* Allocations refused by injection since the hook was last armed. */
static atomic_long fail_injected = 0;

void vsg_mem_fail_after(long n)
{
    if (n < 0) {
        atomic_store(&fail_remaining, -1);
        return;
    }
    atomic_store(&fail_injected, 0);
    atomic_store(&fail_remaining, n);
}

long vsg_mem_injected_failures(void)
{
    return atomic_load(&fail_injected);
}

/* Returns nonzero when this allocation must fail by injection. */
static int inject_failure(void)
{
    long r = atomic_load_explicit(&fail_remaining, memory_order_relaxed);

    if (r < 0) return 0; /* The common, disarmed case. */
    while (r > 0) {
        if (atomic_compare_exchange_weak(&fail_remaining, &r, r - 1))
            return 0;
    }
    if (r < 0) return 0; /* Disarmed meanwhile. */
    atomic_fetch_add(&fail_injected, 1);
    return 1;
}

void *vsg_malloc(size_t size)
{
    if (inject_failure()) return NULL;
    return malloc(size ? size : 1);
}

void *vsg_calloc(size_t n, size_t size)
{
    if (inject_failure()) return NULL;
    if (n == 0 || size == 0) n = size = 1;
    if (n > SIZE_MAX / size) return NULL;
    return calloc(n, size);
}

void *vsg_realloc(void *p, size_t size)
{
    if (inject_failure()) return NULL;
    return realloc(p, size ? size : 1);
}

void vsg_free(void *p)
{
    free(p);
}

char *vsg_strndup(const char *s, size_t n)
{
    char *copy;

    if (s == NULL) return NULL;
    n = strnlen(s, n);
    if (n == SIZE_MAX) return NULL;
    copy = vsg_malloc(n + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *vsg_strdup(const char *s)
{
    if (s == NULL) return NULL;
    return vsg_strndup(s, strlen(s));
}

/*
 * mem.h - the allocation wrappers every vsgate module uses.
 *
 * Provides: vsg_malloc(), vsg_calloc(), vsg_realloc(), vsg_free(),
 * vsg_strdup(), vsg_strndup(), and a failure-injection test hook
 * (vsg_mem_fail_after(), vsg_mem_injected_failures()).
 * Uses: the C library allocator and C11 atomics; nothing else of ours.
 * Owns: nothing. Every pointer returned here is owned by the caller and
 * released with vsg_free().
 *
 * The wrappers return NULL on failure and never abort: callers turn NULL
 * into VSG_ERR_NOMEM. A zero size is treated as one byte, so NULL always
 * means failure. The test hook costs one relaxed atomic load per call
 * while disarmed.
 *
 * In programs that link vsg_base, cJSON allocates through vsg_malloc() and
 * vsg_free() too (cJSON_InitHooks() before main()), so the failure hook
 * covers every cJSON_Parse/Create/Add/Print; libvsgate leaves cJSON's
 * hooks alone.
 */
#ifndef VSG_BASE_MEM_H
#define VSG_BASE_MEM_H

#include <stddef.h>

/* ====================================================================
 * Allocation
 * ==================================================================== */

/* malloc(size), or NULL. Owned by the caller (vsg_free). */
void *vsg_malloc(size_t size);

/* Zeroed array of n*size bytes, or NULL (also when n*size overflows). */
void *vsg_calloc(size_t n, size_t size);

/* Resizes `p` (may be NULL) to `size` bytes. On failure returns NULL and
 * leaves `p` untouched and still owned by the caller. */
void *vsg_realloc(void *p, size_t size);

/* Releases memory from any of these functions. NULL is a no-op. */
void vsg_free(void *p);

/* Copy of the NUL-terminated `s`, or NULL (also when `s` is NULL). */
char *vsg_strdup(const char *s);

/* Copy of at most `n` bytes of `s` (stopping at a NUL), always
 * NUL-terminated, or NULL (also when `s` is NULL). */
char *vsg_strndup(const char *s, size_t n);

/* cJSON answers NULL both for bad JSON and for an allocation that failed.
 * Call vsg_mem_cjson_reset() before a cJSON_Parse...() and, when it gives
 * NULL, vsg_mem_cjson_failed() tells which: nonzero when an allocation by
 * cJSON failed on this thread since the reset (VSG_ERR_NOMEM, not a parse
 * error). Always 0 in libvsgate, which leaves cJSON's allocator alone. */
void vsg_mem_cjson_reset(void);
int vsg_mem_cjson_failed(void);

/* ====================================================================
 * Failure injection (tests only)
 * ==================================================================== */

/*
 * Arms the failing allocator: the next `n` allocations (malloc, calloc,
 * realloc, strdup, strndup) succeed and every one after them fails, so
 * n == 0 makes the very next allocation fail. Arming resets the
 * vsg_mem_injected_failures() count. A negative `n` disarms the hook and
 * keeps the count, so a test can disarm first and then look. The state is
 * process-wide and atomic (safe, though not deterministic, across
 * threads).
 */
void vsg_mem_fail_after(long n);

/* How many allocations failed by injection since vsg_mem_fail_after(). */
long vsg_mem_injected_failures(void);

#endif

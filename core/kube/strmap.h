/*
 * kube/strmap.h - a small string-keyed hash map, internal to core/kube/
 * and the controller (queue sets, cache indexes, tracker, discovery).
 *
 * Provides: struct vsg__strmap (open addressing, linear probing, deletion
 * by backward shift, so iteration by slot index sees every live entry
 * once) with get/put/del and slot iteration.
 * Uses: base/mem.h. Not thread-safe: the owner locks.
 * Owns: the map owns a copy of every key; values are the caller's (the
 * map never frees them; vsg__strmap_cleanup() takes an optional function
 * that is called on each value).
 */
#ifndef VSG_KUBE_STRMAP_H
#define VSG_KUBE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct vsg__strmap_slot {
    char *key;     /* Owned copy of the key, or NULL for an empty slot. */
    uint64_t hash; /* Its hash. */
    void *val;     /* The value (borrowed by the map). */
};

struct vsg__strmap {
    struct vsg__strmap_slot *slots; /* cap slots, NULL while empty. */
    size_t cap;                     /* Slot count, a power of two or 0. */
    size_t len;                     /* Live entries. */
};

/* A zeroed struct is a valid empty map; this zeroes it. */
void vsg__strmap_init(struct vsg__strmap *m);

/* Frees the keys (and, when `free_val` is set, calls it on each value),
 * leaving an empty map. */
void vsg__strmap_cleanup(struct vsg__strmap *m, void (*free_val)(void *));

/* The value of `key`, or NULL when absent (store non-NULL values to tell
 * them apart). */
void *vsg__strmap_get(const struct vsg__strmap *m, const char *key);

/* Nonzero when `key` is present. */
int vsg__strmap_has(const struct vsg__strmap *m, const char *key);

/* Sets `key` to `val`. When the key was present its old value is put in
 * *old (if old is not NULL) and the key is kept; otherwise *old is NULL.
 * VSG_ERR_NOMEM leaves the map unchanged. */
enum vsg_err vsg__strmap_put(struct vsg__strmap *m, const char *key, void *val,
                             void **old);

/* Removes `key`; returns its value (NULL when absent). */
void *vsg__strmap_del(struct vsg__strmap *m, const char *key);

/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].key) ...
 * (no changes to the map while iterating). */

#endif

/*
 * kube/strmap.c - see strmap.h.
 */
#include "kube/strmap.h"

#include <string.h>

#include "base/mem.h"

/* FNV-1a 64 of a NUL-terminated string. */
static uint64_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

void vsg__strmap_init(struct vsg__strmap *m)
{
    memset(m, 0, sizeof *m);
}

void vsg__strmap_cleanup(struct vsg__strmap *m, void (*free_val)(void *))
{
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        vsg_free(m->slots[i].key);
        if (free_val) free_val(m->slots[i].val);
    }
    vsg_free(m->slots);
    memset(m, 0, sizeof *m);
}

/* The slot holding `key`, or the empty slot where it would go. */
static size_t find(const struct vsg__strmap *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    while (m->slots[i].key) {
        if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0) return i;
        i = (i + 1) & mask;
    }
    return i;
}

void *vsg__strmap_get(const struct vsg__strmap *m, const char *key)
{
    if (!m->len) return NULL;
    size_t i = find(m, key, hash_str(key));
    return m->slots[i].key ? m->slots[i].val : NULL;
}

int vsg__strmap_has(const struct vsg__strmap *m, const char *key)
{
    if (!m->len) return 0;
    return m->slots[find(m, key, hash_str(key))].key != NULL;
}

/* Grows the table to `cap` slots, rehashing. */
static enum vsg_err grow(struct vsg__strmap *m, size_t cap)
{
    struct vsg__strmap_slot *s = vsg_calloc(cap, sizeof *s);
    if (!s) return VSG_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        size_t j = (size_t)m->slots[i].hash & (cap - 1);
        while (s[j].key) j = (j + 1) & (cap - 1);
        s[j] = m->slots[i];
    }
    vsg_free(m->slots);
    m->slots = s;
    m->cap = cap;
    return VSG_OK;
}

enum vsg_err vsg__strmap_put(struct vsg__strmap *m, const char *key, void *val,
                             void **old)
{
    uint64_t h = hash_str(key);
    if (old) *old = NULL;
    if ((m->len + 1) * 4 > m->cap * 3) {
        enum vsg_err rc = grow(m, m->cap ? m->cap * 2 : 16);
        if (rc != VSG_OK) return rc;
    }
    size_t i = find(m, key, h);
    if (m->slots[i].key) {
        if (old) *old = m->slots[i].val;
        m->slots[i].val = val;
        return VSG_OK;
    }
    char *k = vsg_strdup(key);
    if (!k) return VSG_ERR_NOMEM;
    m->slots[i].key = k;
    m->slots[i].hash = h;
    m->slots[i].val = val;
    m->len++;
    return VSG_OK;
}

void *vsg__strmap_del(struct vsg__strmap *m, const char *key)
{
    if (!m->len) return NULL;
    size_t mask = m->cap - 1, i = find(m, key, hash_str(key));
    if (!m->slots[i].key) return NULL;
    void *val = m->slots[i].val;
    vsg_free(m->slots[i].key);
    m->slots[i].key = NULL;
    m->len--;
    /* Backward shift: move later entries of the run into the hole when
     * their home slot is not between the hole and them. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].key) break;
        size_t home = (size_t)m->slots[j].hash & mask;
        int between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (between) continue;
        m->slots[i] = m->slots[j];
        m->slots[j].key = NULL;
        i = j;
    }
    return val;
}

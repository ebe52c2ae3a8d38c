/*
 * kube/cache.h - the informer cache: Kubernetes objects of one kind held
 * in memory, indexed by namespace/name, by controller owner (uid) and by
 * label; and label selectors.
 *
 * Provides: struct vsg_kube_cache (thread-safe: one writer, the informer,
 * any number of readers), object keys ("ns/name", or "name" for
 * cluster-scoped objects), struct vsg_kube_selector (Kubernetes label
 * selector syntax: a=b, a==b, a!=b, a, !a, a in (x,y), a notin (x)).
 * Uses: cJSON, base/, kube/strmap.h, pthreads.
 * Owns: the cache owns the objects put in it. get() returns a deep copy
 * the caller owns (cJSON_Delete). The each*() callbacks borrow objects
 * while the cache is locked: they must not call the cache.
 */
#ifndef VSG_KUBE_CACHE_H
#define VSG_KUBE_CACHE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"

struct vsg_kube_cache;

/* ====================================================================
 * Object helpers
 * ==================================================================== */

/* metadata.<field> of `obj` when it is a string, else NULL (borrowed). */
const char *vsg_kube_meta_str(const cJSON *obj, const char *field);

/* Appends the key of `obj` to `out`: "ns/name", or "name" without a
 * namespace. VSG_ERR_INVAL when it has no metadata.name. */
enum vsg_err vsg_kube_object_key(const cJSON *obj, struct vsg_buf *out);

/* The uid of the controller ownerReference of `obj` (controller: true),
 * or NULL (borrowed). With `kind` not NULL only a reference of that kind
 * counts; with `group` not NULL, only one whose apiVersion has that group
 * ("" for the core group). */
const cJSON *vsg_kube_controller_ref(const cJSON *obj, const char *group, const char *kind);

/* ====================================================================
 * Label selectors
 * ==================================================================== */

struct vsg_kube_selector;

/* Parses `text` ("" or NULL selects everything) with kube/selector.h's
 * grammar (labels.Parse's). NULL with `err` set (VSG_ERR_PARSE with
 * labels.Parse's wording) or VSG_ERR_NOMEM. */
struct vsg_kube_selector *vsg_kube_selector_parse(const char *text, struct vsg_error *err);

/* The selector of LabelSelector object `sel` (matchLabels and
 * matchExpressions; NULL or {} selects everything). NULL with `err` set:
 * VSG_ERR_PARSE for an expression without a key or with an operator other
 * than In, NotIn, Exists, DoesNotExist; VSG_ERR_NOMEM. */
struct vsg_kube_selector *vsg_kube_selector_from_object(const cJSON *sel, struct vsg_error *err);

void vsg_kube_selector_free(struct vsg_kube_selector *s);

/* Nonzero when the labels of `obj` (metadata.labels) match. */
int vsg_kube_selector_match(const struct vsg_kube_selector *s, const cJSON *obj);

/* ====================================================================
 * The cache
 * ==================================================================== */

/* An empty cache, or NULL when out of memory. */
struct vsg_kube_cache *vsg_kube_cache_new(void);

/* Frees the cache and its objects. NULL is a no-op. */
void vsg_kube_cache_free(struct vsg_kube_cache *c);

/* Stores `obj` (taken, also on failure) under its key. The object it
 * replaces, if any, goes to *old (caller's; cJSON_Delete), else NULL. */
enum vsg_err vsg_kube_cache_put(struct vsg_kube_cache *c, cJSON *obj, cJSON **old);

/* Removes the object with `key`; it goes to *old (caller's), or *old is
 * NULL and VSG_ERR_NOTFOUND is returned. */
enum vsg_err vsg_kube_cache_remove(struct vsg_kube_cache *c, const char *key, cJSON **old);

/* A deep copy of the object ns/name (ns NULL or "" for cluster-scoped),
 * or NULL when absent (or out of memory). */
cJSON *vsg_kube_cache_get(struct vsg_kube_cache *c, const char *ns, const char *name);

/* The compact JSON text of ns/name (vsg_free), or NULL when absent. */
char *vsg_kube_cache_get_text(struct vsg_kube_cache *c, const char *ns, const char *name);

/* Number of objects. */
size_t vsg_kube_cache_len(struct vsg_kube_cache *c);

/* Called per object; return nonzero to stop. The object is borrowed and
 * the cache is locked during the call. */
typedef int (*vsg_kube_cache_fn)(void *ud, const cJSON *obj);

/* Every object in namespace `ns` (NULL: all) that `sel` (NULL: any)
 * selects. Uses the label index when `sel` has an equality term. */
void vsg_kube_cache_each(struct vsg_kube_cache *c, const char *ns,
                         const struct vsg_kube_selector *sel, vsg_kube_cache_fn fn, void *ud);

/* Every object whose controller ownerReference has uid `uid`. */
void vsg_kube_cache_each_owned(struct vsg_kube_cache *c, const char *uid, vsg_kube_cache_fn fn,
                               void *ud);

/* Every object with label key=value. */
void vsg_kube_cache_each_label(struct vsg_kube_cache *c, const char *key, const char *value,
                               vsg_kube_cache_fn fn, void *ud);

/* A snapshot of every key: *keys is an array of *n owned strings; free
 * each and the array with vsg_free(). */
enum vsg_err vsg_kube_cache_keys(struct vsg_kube_cache *c, char ***keys, size_t *n);

#endif

/*
 * kube/discovery.h - which resource (plural) serves a kind, from the API
 * server's discovery documents (/api/v1, /apis/<group>/<version>).
 *
 * Provides: struct vsg_kube_discovery, a thread-safe cache of discovery
 * answers per group/version, refreshed when a kind is missing from it (at
 * most once per VSG_KUBE_DISCOVERY_REFRESH_MS per group/version), and
 * vsg_kube_discovery_add() to seed names a caller already knows.
 * Uses: kube/client.h, kube/strmap.h, cJSON, base/, pthreads.
 * Owns: the cache owns its entries; lookups copy into the caller's struct.
 */
#ifndef VSG_KUBE_DISCOVERY_H
#define VSG_KUBE_DISCOVERY_H

#include "base/err.h"
#include "kube/client.h"

/* Shortest interval between two fetches of one group/version. */
#define VSG_KUBE_DISCOVERY_REFRESH_MS 2000

/* What discovery says about a kind. */
struct vsg_kube_resource {
    char resource[128]; /* Plural resource name, e.g. "deployments". */
    int namespaced;     /* Nonzero for namespaced kinds. */
};

struct vsg_kube_discovery;

/* An empty cache, or NULL when out of memory. */
struct vsg_kube_discovery *vsg_kube_discovery_new(void);

/* Frees it. NULL is a no-op. */
void vsg_kube_discovery_free(struct vsg_kube_discovery *d);

/* Records that `kind` of `api_version` is served as `resource`. */
enum vsg_err vsg_kube_discovery_add(struct vsg_kube_discovery *d, const char *api_version,
                                    const char *kind, const char *resource, int namespaced);

/*
 * Fills `out` for `kind` of `api_version` ("v1", "apps/v1"), asking the
 * API server through `c` (the caller's thread's client) on a miss.
 * VSG_ERR_NOTFOUND when the group/version does not serve that kind (or
 * does not exist); the client's errors otherwise.
 */
enum vsg_err vsg_kube_discovery_lookup(struct vsg_kube_discovery *d, struct vsg_kube_client *c,
                                       const char *api_version, const char *kind,
                                       struct vsg_kube_resource *out, struct vsg_error *err);

#endif

/*
 * kube/lua_kube.h - the Lua binding of core/kube: the vsg.kube library
 * (reconcilers read and write Kubernetes objects) and vsg.hash.
 *
 * Provides: vsg_kube_lua_open() and vsg_hash_lua_open(), the openers that
 * cmd/ registers with vsg_lua_add_library() (or config.libs) as "kube"
 * and "hash"; vsg_kube_lua_bind(), which tells a state which client,
 * discovery cache and informers its vsg.kube calls use; and
 * vsg_kube_lua_push_error() for the error tables.
 * Uses: lua/host.h, lua/json.h, kube/client.h, kube/discovery.h,
 * kube/informer.h, kube/cache.h, OpenSSL (EVP digests), base/.
 * Owns: nothing; the bound environment is borrowed and must outlive every
 * call made through the state (unbind with NULL).
 *
 * vsg.kube (allowed in the RECONCILE and FINALIZE contexts only; anywhere
 * else it raises "vsg.kube.get is not allowed in ..."):
 *   get(apiVersion, kind, namespace, name)         -> obj | nil, err
 *   list(apiVersion, kind, namespace[, {labelSelector=, fieldSelector=}])
 *                                                  -> array | nil, err
 *     (labelSelector: selector text, or a LabelSelector table
 *     {matchLabels=, matchExpressions=}, written as text by
 *     kube/selector.h)
 *   create(obj) / update(obj) / update_status(obj) -> obj | nil, err
 *   patch(apiVersion, kind, namespace, name, patch[, "merge"|"json"|"strategic"])
 *                                                  -> obj | nil, err
 *   delete(apiVersion, kind, namespace, name[, {propagationPolicy=}])
 *                                                  -> true | nil, err
 *   event(obj, "Normal"|"Warning", reason, message) -> true | nil, err
 * `namespace` is nil (or "" or vsg.null) for cluster-scoped kinds and, in
 * list, for all namespaces. get and list read the informer cache when a
 * synced informer watches that kind (cluster-wide, or in that namespace),
 * otherwise they ask the API server; writes always go to the API server.
 * Resource names come from discovery. Objects are converted through
 * vsg.json (exact integers, vsg.null, arrays marked). A patch given as a
 * table is JSON-encoded; a string is sent as is.
 * err = {code = "NotFound"|"AlreadyExists"|"Conflict"|"Invalid"|
 * "Forbidden"|"Unauthorized"|"Gone"|"BadRequest"|"TooManyRequests"|
 * "InternalError"|"ServiceUnavailable"|"Timeout"|"Transport"|"Unknown",
 * message = "...", status = 404 (0 when no answer), reason = the Status
 * reason or "", retryable = bool}, with __tostring "<code>: <message>".
 * Misuse (wrong argument types, an object without apiVersion/kind/name, a
 * write after this replica lost leadership) raises.
 *
 * vsg.hash (every context): md5(s) and sha256(s) -> lower-case hex.
 */
#ifndef VSG_KUBE_LUA_KUBE_H
#define VSG_KUBE_LUA_KUBE_H

#include <lua.h>

#include "base/err.h"
#include "kube/client.h"
#include "kube/discovery.h"
#include "kube/informer.h"
#include "lua/host.h"

/* What a state's vsg.kube calls use. */
struct vsg_kube_lua_env {
    struct vsg_kube_client *client;       /* The state's thread's client. */
    struct vsg_kube_discovery *disco;     /* Resource names (required). */
    struct vsg_kube_informers *informers; /* Cached reads, or NULL: always GET. */
    const char *component;                /* Event source; NULL: "vsgate". */
    int (*may_write)(void *ud);           /* NULL, or returns 0 when writes
                                             must stop (lost leadership). */
    void *ud;                             /* For may_write. */
};

/* Binds `env` (borrowed; NULL unbinds) to state `s`. VSG_ERR_NOMEM. */
enum vsg_err vsg_kube_lua_bind(struct vsg_lua *s, const struct vsg_kube_lua_env *env,
                               struct vsg_error *err);

/* [-0, +1, m] Opener of vsg.kube (for vsg_lua_add_library). */
int vsg_kube_lua_open(lua_State *L);

/* [-0, +1, m] Opener of vsg.hash. */
int vsg_hash_lua_open(lua_State *L);

/* [-0, +1, m] Pushes an err table (see above) for `code` with the Status
 * `reason` ("" or NULL when none), HTTP `status` and `message`. */
void vsg_kube_lua_push_error(lua_State *L, enum vsg_err code, const char *reason, long status,
                             const char *message);

#endif

/*
 * webhook/whrules.h - the rules of the binding webhook
 * (vspherebindings.webhook.vsphere.sources.tanzu.vmware.com): which
 * resources the API server sends to /vspherebindings. As psbinding does
 * (upstream.md §6.3), they follow the kinds the live VSphereBindings
 * target.
 *
 * Provides: vsg_whrules_build(): from the base rules (the built-in
 * PodSpecable kinds, as lua/webhook/configurations.lua writes them from
 * lua/lib/podspecable.lua: the policy is Lua's, the merging is here) and
 * the VSphereBindings (a JSON array of objects), the `rules` array of the
 * webhook: the base resources always (so that a binding's first subject
 * never waits for the rules to be written), plus the resource of every
 * binding's spec.subject (apiVersion and kind, resolved by the caller,
 * e.g. through discovery). One rule per group and version, operations
 * CREATE and UPDATE, scope Namespaced; rules and resources sorted, so the
 * same bindings always give the same JSON. A subject kind that does not
 * resolve, or is cluster-scoped, is left out (and counted); it comes in
 * at a later build once it resolves.
 * Uses: kube/discovery.h (struct vsg_kube_resource), cJSON, base/.
 * Owns: the returned array belongs to the caller (cJSON_Delete()).
 */
#ifndef VSG_WHRULES_H
#define VSG_WHRULES_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "kube/discovery.h"

/* Resolves `kind` of `api_version` to its resource: VSG_OK and *out
 * filled, or an error (VSG_ERR_NOTFOUND: not served) with `err` set. */
typedef enum vsg_err (*vsg_whrules_resolve_fn)(void *ud, const char *api_version, const char *kind,
                                              struct vsg_kube_resource *out,
                                              struct vsg_error *err);

/*
 * The rules for `base` (an array of rules, each of one group and version)
 * and `bindings` (a JSON array; NULL or empty: the base kinds only). *skipped (may be NULL) gets how many distinct subject
 * kinds were left out, and `why` (may be NULL) the reason of the first.
 * NULL when out of memory.
 */
cJSON *vsg_whrules_build(const cJSON *base, const cJSON *bindings, vsg_whrules_resolve_fn resolve,
                         void *ud, size_t *skipped, struct vsg_error *why);

#endif

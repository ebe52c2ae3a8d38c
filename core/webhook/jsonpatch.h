/*
 * webhook/jsonpatch.h - an RFC 6902 JSON Patch from the difference of two JSON
 * documents (the admission webhook's answer: the object before and after
 * the Lua handler).
 *
 * Provides: vsg_jsonpatch_diff(). Objects are compared key by key (keys
 * only in `after`: add; only in `before`: remove; in both: recursively);
 * arrays element-wise when both have the same length, otherwise replaced
 * wholesale; scalars and values of different types: replace. Paths are
 * JSON pointers with '~' -> "~0" and '/' -> "~1". Numbers compare by value.
 * Uses: cJSON, base/.
 * Owns: the returned array belongs to the caller (cJSON_Delete()).
 */
#ifndef VSG_JSONPATCH_H
#define VSG_JSONPATCH_H

#include <cjson/cJSON.h>

#include "base/err.h"

/* The patch turning `before` into `after`, as a new cJSON array ([] when
 * they are equal). NULL when out of memory. */
cJSON *vsg_jsonpatch_diff(const cJSON *before, const cJSON *after);

/* Applies `patch` (add/remove/replace only, as made by the diff) to `doc`
 * in place. VSG_ERR_INVAL for a path that does not resolve. For tests. */
enum vsg_err vsg_jsonpatch_apply(cJSON **doc, const cJSON *patch);

#endif

/*
 * kube/selector.h - Kubernetes label selector syntax ("app=web,tier in (a,b),
 * !legacy") to and from a LabelSelector object, for `binding create
 * --subject-selector` and `binding describe`, for the informer cache's
 * selectors (kube/cache.h parses with it) and for the LabelSelector
 * objects Lua passes to vsg.kube.list: the one reading and writing of the
 * syntax.
 *
 * Provides: vsg_selector_parse() (what k8s.io/apimachinery's
 * metav1.ParseToLabelSelector builds: `=`/`==` into matchLabels, `!=` as
 * NotIn with one value, `in`/`notin` with their values deduplicated and
 * sorted, `key` Exists, `!key` DoesNotExist, requirements sorted by key)
 * and vsg_selector_text() (the reverse, for a labelSelector query).
 * Uses: cJSON, base/buf.h. Owns: the returned object is the caller's.
 */
#ifndef VSG_KUBE_SELECTOR_H
#define VSG_KUBE_SELECTOR_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"

/* The LabelSelector for `text` ({} when empty), or NULL with `msg` set to
 * the parse error, labels.Parse's wording (or "out of memory"). */
cJSON *vsg_selector_parse(const char *text, char *msg, size_t msgsz);

/* Appends `sel` in selector syntax to `out`. */
enum vsg_err vsg_selector_text(const cJSON *sel, struct vsg_buf *out);

#endif

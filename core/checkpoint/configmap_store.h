/*
 * checkpoint/configmap_store.h - the checkpoint kept in a Kubernetes
 * ConfigMap under key `checkpoint` (CONTRACTS §4, upstream §5.3/§5.9).
 *
 * Provides: vsg_checkpoint_configmap_store_new(), a struct
 * vsg_checkpoint_store on ConfigMap <namespace>/<name>.
 * Uses: checkpoint/checkpoint.h, kube/client.h, base/.
 * Owns: the store copies the names; the kube client is borrowed and must
 * outlive the store (and is only used from the store's thread). Free with
 * vsg_checkpoint_store_free().
 *
 * Behaviour, next to the Go kvstore's:
 * - new: GET the ConfigMap; if it is missing, CREATE an empty one (no owner
 *   references, no data), as Go's Init does. A create that races with
 *   another (AlreadyExists) is fine. Other failures are errors.
 * - load: GET and decode data.checkpoint. A missing key, missing ConfigMap
 *   or unusable JSON is "no checkpoint" with the Go warning.
 * - save: GET, set data.checkpoint, PUT with the resourceVersion just read;
 *   a 409 Conflict (someone changed it in between) re-reads and tries again,
 *   up to VSG_CHECKPOINT_CM_ATTEMPTS times. A ConfigMap deleted meanwhile is
 *   re-created with the checkpoint. Unlike Go, which replaced the whole
 *   .data with its in-memory copy from start-up, every other key of .data
 *   (and binaryData, labels, annotations) is kept as the server has it, so
 *   edits made by others are never reverted.
 */
#ifndef VSG_CHECKPOINT_CONFIGMAP_STORE_H
#define VSG_CHECKPOINT_CONFIGMAP_STORE_H

#include "base/err.h"
#include "checkpoint/checkpoint.h"
#include "kube/client.h"

/* The key under .data that holds the checkpoint JSON. */
#define VSG_CHECKPOINT_CM_KEY "checkpoint"
/* How many GET+PUT rounds a save tries before giving up on conflicts. */
#define VSG_CHECKPOINT_CM_ATTEMPTS 5

/* Makes the store and runs the Go Init step (GET, CREATE if missing).
 * `kc` is borrowed. NULL on error with `err` set (NOTFOUND for a missing
 * namespace, FORBIDDEN without RBAC, ...). */
struct vsg_checkpoint_store *vsg_checkpoint_configmap_store_new(struct vsg_kube_client *kc,
                                                                const char *ns,
                                                                const char *name,
                                                                struct vsg_error *err);

#endif

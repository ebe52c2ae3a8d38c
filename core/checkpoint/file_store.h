/*
 * checkpoint/file_store.h - the checkpoint kept in a local file (standalone
 * mode, `vsgate run`; CONTRACTS §4 "ours").
 *
 * Provides: vsg_checkpoint_file_store_new(), a struct vsg_checkpoint_store
 * whose file holds exactly the JSON the ConfigMap store keeps under
 * data.checkpoint (no trailing newline).
 * Uses: checkpoint/checkpoint.h and base/ only (no Kubernetes).
 * Owns: the store owns a copy of the path; free it with
 * vsg_checkpoint_store_free().
 *
 * Saving is atomic and durable: the JSON goes to a temporary file in the
 * same folder, which is fsync'd, renamed over the target, and then the
 * folder is fsync'd. A reader therefore sees the old or the new
 * checkpoint, never a torn one. A missing file is "no checkpoint" (logged
 * at info); an unreadable-as-JSON file is "no checkpoint" with the Go
 * warning, and the next save replaces it.
 */
#ifndef VSG_CHECKPOINT_FILE_STORE_H
#define VSG_CHECKPOINT_FILE_STORE_H

#include "base/err.h"
#include "checkpoint/checkpoint.h"

/* Makes a store for the file at `path`. Its folder must exist
 * (VSG_ERR_IO otherwise); the file need not. NULL on error with `err` set. */
struct vsg_checkpoint_store *vsg_checkpoint_file_store_new(const char *path,
                                                           struct vsg_error *err);

#endif

/*
 * checkpoint/checkpoint.h - the adapter's replay position: the checkpoint
 * record, its JSON form, the begin-time rule, VSPHERE_CHECKPOINT_CONFIG,
 * and the store interface.
 *
 * Provides: struct vsg_checkpoint with init/cleanup/set; byte-exact JSON
 * encoding as the Go adapter writes it (vsg_checkpoint_encode()) and
 * tolerant decoding (vsg_checkpoint_decode()); vsg_checkpoint_begin() (where
 * the event history collector starts); vsg_checkpoint_config_parse();
 * struct vsg_checkpoint_store, a vtable with load/save/free, and its
 * dispatchers. The implementations live in file_store.h (base/ only) and
 * configmap_store.h (uses kube/).
 * Uses: base/ (time, buffers, errors), cJSON (decoding only).
 * Owns: a struct vsg_checkpoint owns its strings until
 * vsg_checkpoint_cleanup(). A store owns its own state until
 * vsg_checkpoint_store_free().
 *
 * The JSON (CONTRACTS.md §4, upstream §5.9) is compact, keys in this order:
 *   {"vCenter":"https://vc/sdk","lastEventKey":42,
 *    "lastEventType":"VmPoweredOffEvent",
 *    "lastEventKeyTimestamp":"2026-03-21T08:40:39.553822Z",
 *    "createdTimestamp":"2026-03-21T08:40:45.1Z"}
 * (on one line), times in Go's RFC3339Nano (UTC, fraction trimmed of
 * trailing zeros, no fraction when zero), strings escaped as Go's
 * json.Marshal does (<, >, & as \u003c \u003e \u0026, U+2028/U+2029
 * escaped, invalid UTF-8 as \ufffd; \b and \f short as since Go 1.22).
 */
#ifndef VSG_CHECKPOINT_CHECKPOINT_H
#define VSG_CHECKPOINT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/vtime.h"

/* Go's zero time.Time, 0001-01-01T00:00:00Z, in Unix seconds: a checkpoint
 * whose lastEventKeyTimestamp is this is "no checkpoint". */
#define VSG_CHECKPOINT_ZERO_SEC INT64_C(-62135596800)

/* Defaults of VSPHERE_CHECKPOINT_CONFIG (Go's CheckpointDefaultAge/Period). */
#define VSG_CHECKPOINT_DEFAULT_MAX_AGE (5 * VSG_MINUTE)
#define VSG_CHECKPOINT_DEFAULT_PERIOD (10 * VSG_SECOND)

/* Largest checkpoint JSON a store reads or writes, in bytes. */
#define VSG_CHECKPOINT_MAX_JSON (64u * 1024)

struct vsg_checkpoint {
    char *vcenter;                      /* SDK URL of the vCenter ("https://vc/sdk"), owned, may be NULL (written as ""). */
    int64_t last_event_key;             /* Key of the last event delivered (an int32 in vSphere and Go). */
    char *last_event_type;              /* Its type detail ("VmPoweredOffEvent" or an eventTypeId), owned, may be NULL. */
    struct vsg_time last_event_key_ts;  /* Its createdTime: where a restart replays from. */
    struct vsg_time created_ts;         /* When this checkpoint was made. */
};

/* How vsg_checkpoint_begin() chose the begin time (for the log line). */
enum vsg_checkpoint_begin_from {
    VSG_CHECKPOINT_BEGIN_NOW,        /* No checkpoint: vCenter's now, no replay. */
    VSG_CHECKPOINT_BEGIN_CHECKPOINT, /* The checkpoint's lastEventKeyTimestamp. */
    VSG_CHECKPOINT_BEGIN_MAX_AGE,    /* now - maxAge: events in between may be lost
                                        (Go warns "potential data loss"). */
    VSG_CHECKPOINT_BEGIN_FUTURE      /* The checkpoint is after vCenter's now (a
                                        clock jump): now, as if it were now. Go
                                        began there and delivered nothing. */
};

/* VSPHERE_CHECKPOINT_CONFIG, parsed. */
struct vsg_checkpoint_config {
    int64_t max_age_ns; /* Replay window; 0 disables replay. */
    int64_t period_ns;  /* How often the checkpoint is saved; never 0. */
};

/* ====================================================================
 * The record
 * ==================================================================== */

/* Makes `cp` empty: NULL strings, key 0, both times Go's zero time. */
void vsg_checkpoint_init(struct vsg_checkpoint *cp);

/* Frees the strings and re-inits `cp`. NULL is a no-op. */
void vsg_checkpoint_cleanup(struct vsg_checkpoint *cp);

/* Replaces the contents of `cp` with copies of the arguments (strings may
 * be NULL). VSG_ERR_NOMEM leaves `cp` unchanged. */
enum vsg_err vsg_checkpoint_set(struct vsg_checkpoint *cp, const char *vcenter, int64_t key,
                                const char *type, struct vsg_time key_ts,
                                struct vsg_time created_ts);

/* Nonzero when `ts` is Go's zero time (0001-01-01T00:00:00Z). */
int vsg_checkpoint_time_is_zero(struct vsg_time ts);

/* ====================================================================
 * JSON
 * ==================================================================== */

/* Appends the JSON of `cp` to `out` exactly as the Go adapter writes it.
 * VSG_ERR_RANGE for a time outside years 0000..9999. */
enum vsg_err vsg_checkpoint_encode(const struct vsg_checkpoint *cp, struct vsg_buf *out);

/*
 * Decodes `len` bytes of checkpoint JSON into `cp` (which it first cleans
 * up), leniently as Go's json.Unmarshal: unknown keys are ignored, keys
 * match case-insensitively, a member of the wrong type is left at its zero
 * value, and only lastEventKeyTimestamp is required, so a hand-written
 * {"lastEventKeyTimestamp":"2026-03-21T08:40:39Z"} is a checkpoint.
 * Returns VSG_OK when `cp` holds a usable checkpoint; VSG_ERR_PARSE (with
 * the reason in `err`) for text that is not JSON or a timestamp that is
 * not RFC 3339; VSG_ERR_NOTFOUND for JSON without a (non-zero)
 * lastEventKeyTimestamp; VSG_ERR_NOMEM. On error `cp` is left empty.
 * Callers treat PARSE and NOTFOUND alike: "no checkpoint" plus a warning.
 */
enum vsg_err vsg_checkpoint_decode(const char *json, size_t len, struct vsg_checkpoint *cp,
                                   struct vsg_error *err);

/* ====================================================================
 * Where to begin, and how often to save
 * ==================================================================== */

/*
 * The history collector's begin time (CONTRACTS §3, upstream §5.4): with
 * no checkpoint (`cp` NULL or its lastEventKeyTimestamp Go's zero time)
 * `vc_now`; otherwise max(checkpoint ts, vc_now - max_age_ns), compared in
 * whole Unix seconds as Go did (begin = now - maxAge only when its second
 * is later than the checkpoint's second). So with max_age_ns 0 and a
 * checkpoint, begin is effectively vc_now. Returns which case applied.
 */
enum vsg_checkpoint_begin_from vsg_checkpoint_begin(const struct vsg_checkpoint *cp,
                                                    struct vsg_time vc_now, int64_t max_age_ns,
                                                    struct vsg_time *begin);

/*
 * Parses VSPHERE_CHECKPOINT_CONFIG, e.g. {"maxAge":"5m0s","period":"10s"},
 * as Go's CheckpointConfig.UnmarshalJSON + newCheckpointConfig: values are
 * Go duration strings (numbers are an error), a missing, null or empty
 * maxAge is 5m and period 10s, a negative one is "invalid checkpoint time
 * interval", and period 0 becomes 10s; maxAge 0 stays 0 (no replay).
 * NULL, "" and JSON null give the defaults (ours: Go rejected ""). On error
 * (VSG_ERR_PARSE for bad JSON or duration, VSG_ERR_INVAL for the wrong type
 * or a negative value) `out` is untouched.
 */
enum vsg_err vsg_checkpoint_config_parse(const char *json, struct vsg_checkpoint_config *out,
                                         struct vsg_error *err);

/* ====================================================================
 * Store interface
 * ==================================================================== */

struct vsg_checkpoint_store;

/* What an implementation provides. */
struct vsg_checkpoint_store_ops {
    const char *kind; /* "configmap" or "file", for messages. */
    /* Reads the checkpoint: *found 0 with VSG_OK when there is none (or it is
     * unusable; the store logs a warning then). */
    enum vsg_err (*load)(struct vsg_checkpoint_store *s, struct vsg_checkpoint *cp, int *found,
                         struct vsg_error *err);
    /* Persists `cp` durably. */
    enum vsg_err (*save)(struct vsg_checkpoint_store *s, const struct vsg_checkpoint *cp,
                         struct vsg_error *err);
    /* Frees the store (never called with NULL). */
    void (*free)(struct vsg_checkpoint_store *s);
    /* Optional: bounds each later request of load/save to `ms` (a last save
     * while stopping must not wait out an unresponsive API server). */
    void (*set_timeout)(struct vsg_checkpoint_store *s, long ms);
};

/* The common head of every store; implementations embed it first. */
struct vsg_checkpoint_store {
    const struct vsg_checkpoint_store_ops *ops; /* The implementation. */
};

/* Loads the stored checkpoint into `cp` (cleaned up first). *found is 1
 * when there is a usable one, 0 when there is none or it is unreadable as
 * a checkpoint (then a warning "could not retrieve checkpoint
 * configuration" is logged, as in Go). Errors are about reaching the
 * store (I/O, API server), not about its contents. */
enum vsg_err vsg_checkpoint_store_load(struct vsg_checkpoint_store *s, struct vsg_checkpoint *cp,
                                       int *found, struct vsg_error *err);

/* Saves `cp`. */
enum vsg_err vsg_checkpoint_store_save(struct vsg_checkpoint_store *s,
                                       const struct vsg_checkpoint *cp, struct vsg_error *err);

/* Bounds each later store request to `ms` where the store makes requests
 * (the ConfigMap store); a no-op otherwise. */
void vsg_checkpoint_store_set_timeout(struct vsg_checkpoint_store *s, long ms);

/* Frees `s`. NULL is a no-op. */
void vsg_checkpoint_store_free(struct vsg_checkpoint_store *s);

/* For implementations: decodes stored text `json` (NULL: nothing stored)
 * into `cp`, setting *found and logging the warning when it is unusable.
 * `where` names the place in the log line. Only NOMEM is an error. */
enum vsg_err vsg__checkpoint_load_text(const char *json, size_t len, const char *where,
                                       struct vsg_checkpoint *cp, int *found,
                                       struct vsg_error *err);

#endif

/*
 * filter/filter_stage.h - the adapter's Lua filter stage (CONTRACTS §6):
 * each event goes through the source's filter script before delivery.
 *
 * Provides: struct vsg_filter (the stage: the script version in use, the
 * error policy, counters, and a pending-version slot for hot reload),
 * struct vsg_filter_version (one compiled and checked script version,
 * made by vsg_filter_compile() on any thread), vsg_filter_run() (one event
 * through the version in use, giving the CloudEvents to send), and the
 * built-in sample event of the dry run.
 * Uses: lua/ (host, script, json), vsphere/event.h, cloudevents/event.h,
 * filter/filter_value.h, base/. Its own module (filter/) because it joins the Lua host
 * with the vSphere and CloudEvents models (DESIGN.md floors).
 * Owns: a stage owns its version in use and the pending one; a version
 * owns its Lua states; a result owns its CloudEvents.
 *
 * The script. The source's text defines a global function
 * `filter(event)` (or returns a table with one). `event` is
 *   { id, source, type, time, datacontenttype, [subject, dataschema,]
 *     extensions = { eventclass = ..., vsphereapiversion = ..., ... },
 *     data = <the payload as Lua values, see filter/filter_value.h> }
 * and every field is built lazily, on its first read (or on pairs(event),
 * which builds them all), so a filter that only looks at the type pays for
 * one string, and one that never reads event.data never pays for the
 * payload's tables. rawget/next see only the fields read so far (and
 * vsg.json.encode(event) too: call pairs(event) first); an event table
 * kept after its call answers nil for fields it never read. The script
 * returns:
 *   - the event (the same table or a new one, possibly changed): sent;
 *   - nil or false: dropped (the checkpoint still moves past it);
 *   - an array of events: each is sent, in order (fan-out). An element
 *     whose id is still the original id gets "<id>-<n>" (n = its 1-based
 *     position), so every event sent has a stable, unique id across
 *     replays; an id the script set itself is kept. Elements that are
 *     false are skipped; an empty table drops the event.
 * What is sent is built from the returned table: id, source and type must
 * be non-empty strings; time, when set, an RFC 3339 string; subject and
 * dataschema optional strings; specversion, when set, "1.0"; extensions
 * a table of valid CloudEvents attribute names (a-z, 0-9) to strings,
 * integers or booleans (nil/vsg.null removes one); any other top-level
 * key is an error (extensions go in event.extensions). K_CE_OVERRIDES are
 * applied by the sender afterwards. The payload:
 *   - data never read, or read and left unchanged (compared value by value
 *     with the tree): the original payload bytes (re-encoded only if
 *     datacontenttype switched between JSON and XML);
 *   - the event's own data table, changed: encoded as datacontenttype says
 *     (application/json or application/xml, which must be the one) from
 *     the Lua values, with the original tree as the type template
 *     (filter/filter_value.h): fields left alone keep their exact Go encoding;
 *   - another table (one that replaces event.data as a whole): encoded
 *     from the Lua values alone (generic: keys sorted);
 *   - a string: sent as is (any datacontenttype);
 *   - nil or vsg.null (assigned): no payload.
 * An event returned untouched (the fields it read unchanged, data unchanged)
 * is sent as the original CloudEvent itself: nothing is rebuilt or copied.
 *
 * Errors. A script error, a limit (instructions, memory, time) or a
 * returned value that cannot be sent fails the event's filtering as a
 * whole; the stage's policy then delivers the original event unchanged
 * (VSG_FILTER_DELIVER, the default) or drops it (VSG_FILTER_DROP). Either
 * way it is counted and logged with the event id and the error
 * (chunk:line). The state stays usable; the next event runs normally.
 *
 * Hot reload. vsg_filter_compile() builds a version in fresh states and
 * checks it: the main chunk runs, the entry function exists, and a dry run
 * on a built-in sample event (a VmPoweredOnEvent) succeeds within the
 * limits and returns something sendable. The dry run uses a separate,
 * throw-away state, so the version put in use has not seen any event.
 * Any thread may compile and hand the version to vsg_filter_offer(); the
 * thread that runs events picks it up with vsg_filter_swap_pending() at a
 * safe point (between two events). A Lua state is only ever used by one
 * thread at a time: a candidate by its compiler until it is offered, then
 * by the event thread.
 */
#ifndef VSG_FILTER_STAGE_H
#define VSG_FILTER_STAGE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "cloudevents/event.h"
#include "lua/host.h"
#include "lua/script.h"
#include "vsphere/event.h"

/* What happens to an event whose filtering failed. */
enum vsg_filter_on_error {
    VSG_FILTER_DELIVER, /* Send the original event unchanged (default). */
    VSG_FILTER_DROP     /* Drop it (the checkpoint still moves). */
};

/* Most events one call may fan out to. */
#define VSG_FILTER_MAX_FANOUT 1000

/* How to build (and run) versions; strings are copied where kept. */
struct vsg_filter_config {
    const char *name;              /* Logger name of the scripts' vsg.log
                                      and print ("vsgate.filter"). */
    const char *logger;            /* Logger of the stage's own lines
                                      ("vsgate.adapter"). */
    const char *root;              /* vsgate's install root (lua/, plugins/
                                      for require), or NULL. */
    const char *search_path;       /* Overrides root's path, or NULL. */
    struct vsg_lua_limits limits;  /* Per call; zero fields: the FILTER
                                      defaults (16 MiB, 1e6 instructions,
                                      1 s). */
    enum vsg_filter_on_error on_error; /* The error policy. */
};

/* Outcome of one event. */
enum vsg_filter_outcome {
    VSG_FILTER_KEPT,    /* One event, identical to the original. */
    VSG_FILTER_CHANGED, /* One event, attributes or payload changed. */
    VSG_FILTER_DROPPED, /* Nothing to send. */
    VSG_FILTER_FANOUT,  /* An array was returned: n events. */
    VSG_FILTER_ERROR    /* Failed; the policy decided what is in ces. */
};

/* Counters of a stage (monotonic). */
struct vsg_filter_stats {
    uint64_t events;  /* Events run through a version. */
    uint64_t kept;    /* KEPT outcomes. */
    uint64_t changed; /* CHANGED outcomes. */
    uint64_t dropped; /* DROPPED outcomes. */
    uint64_t fanout;  /* FANOUT outcomes. */
    uint64_t errors;  /* ERROR outcomes (script, limit, bad value). */
    uint64_t swaps;   /* Versions put in use. */
    uint64_t resets;  /* States rebuilt after a memory limit failure. */
};

/* What one event became. Send vsg_filter_result_event(r, ce, i) for i
 * below vsg_filter_result_count(r): either the events built from what the
 * script returned, or (`original`) the CloudEvent given to the run itself,
 * when the script returned the event untouched (the common case of a
 * filter that only decides; nothing is copied) or the error policy
 * delivers it. */
struct vsg_filter_result {
    enum vsg_filter_outcome outcome; /* See above. */
    int original;                    /* Send the given CloudEvent as is
                                        (ces is then empty). */
    struct vsg_ce *ces;              /* The events built, in order; owned. */
    size_t n;                        /* How many. */
    size_t cap;                      /* Slots allocated. */
    int read_data;                   /* The script read event.data. */
    struct vsg_error error;          /* ERROR: what failed (chunk:line). */
};

/* How many events to send. */
static inline size_t vsg_filter_result_count(const struct vsg_filter_result *r)
{
    return r->original ? 1 : r->n;
}

/* The i-th event to send; `ce` is the CloudEvent given to the run. */
static inline const struct vsg_ce *vsg_filter_result_event(const struct vsg_filter_result *r,
                                                           const struct vsg_ce *ce, size_t i)
{
    return r->original ? ce : &r->ces[i];
}

struct vsg_filter;
struct vsg_filter_version;

/* ====================================================================
 * Versions
 * ==================================================================== */

/*
 * Compiles `main` (chunk name = main->name, e.g. "filter.lua") with the
 * `nmodules` requirable `modules` into a new version and checks it (see
 * the top of this file). `label` (copied; may be NULL) names the version
 * in logs, e.g. "ConfigMap ns/x resourceVersion 123". NULL on failure,
 * with `err` holding the first problem (chunk:line), prefixed with
 * "dry run on a sample VmPoweredOnEvent: " when the dry run failed.
 */
struct vsg_filter_version *vsg_filter_compile(const struct vsg_filter_config *cfg,
                                              const struct vsg_lua_source *main,
                                              const struct vsg_lua_source *modules,
                                              size_t nmodules, const char *label,
                                              struct vsg_error *err);

/* Frees a version (its states). NULL is a no-op. */
void vsg_filter_version_free(struct vsg_filter_version *v);

/* The label given at compile time ("" when none; borrowed). */
const char *vsg_filter_version_label(const struct vsg_filter_version *v);

/* The hash of its sources (16 hex digits; borrowed). */
const char *vsg_filter_version_hash(const struct vsg_filter_version *v);

/* Bytes its Lua state holds now. */
size_t vsg_filter_version_memory(const struct vsg_filter_version *v);

/* ====================================================================
 * The stage
 * ==================================================================== */

/* A stage with no version yet (`cfg` copied). NULL and VSG_ERR_NOMEM. */
struct vsg_filter *vsg_filter_new(const struct vsg_filter_config *cfg,
                                  struct vsg_error *err);

/* Frees the stage, its versions and the pending one. NULL is a no-op.
 * No other thread may be offering at the same time. */
void vsg_filter_free(struct vsg_filter *f);

/* The configuration (strings owned by the stage). */
const struct vsg_filter_config *vsg_filter_config(const struct vsg_filter *f);

/*
 * Any thread: makes `v` (taken over) the pending version, replacing (and
 * freeing) an earlier one that was not picked up yet.
 */
void vsg_filter_offer(struct vsg_filter *f, struct vsg_filter_version *v);

/*
 * The event thread, between two events: puts the pending version in use,
 * if any (freeing the old one) and returns 1; 0 when nothing was pending.
 * Costs one atomic load when nothing is pending.
 */
int vsg_filter_swap_pending(struct vsg_filter *f);

/* The event thread: 1 when a version is in use. */
int vsg_filter_ready(const struct vsg_filter *f);

/* The event thread: the version in use, or NULL (borrowed). */
const struct vsg_filter_version *vsg_filter_current(const struct vsg_filter *f);

/* Any thread: a snapshot of the counters. */
void vsg_filter_stats(const struct vsg_filter *f, struct vsg_filter_stats *out);

/* Logs the failures held back (see vsg_filter_run) and the counters at info
 * ("filter stopped"); after the engine ran. */
void vsg_filter_log_stats(struct vsg_filter *f);

/* "deliver" or "drop" (spec.filter.onError); NULL or "" is deliver.
 * VSG_ERR_INVAL otherwise. */
enum vsg_err vsg_filter_on_error_parse(const char *s, enum vsg_filter_on_error *out);

/* ====================================================================
 * Running
 * ==================================================================== */

void vsg_filter_result_init(struct vsg_filter_result *r);
/* Frees the events of `r` and empties it (init state). */
void vsg_filter_result_cleanup(struct vsg_filter_result *r);

/*
 * The event thread: runs event `ev` (decoded), whose CloudEvent without a
 * filter would be `ce` (attributes and payload), through the version in
 * use, and fills `res` (initialised; its old content is replaced) with
 * what to send. Applies the error policy, counts, and logs failures: at
 * most 5 lines a minute, one per failing event; the failures past those are
 * counted and written as one summary line (how many, the last error) at the
 * first event after the minute, or by vsg_filter_log_stats(). Returns
 * VSG_ERR_CANCELLED (res: ERROR, no events) when the call was interrupted
 * because the process is stopping (vsg_lua_set_interrupt): the event must
 * be neither sent nor checkpointed. Else returns VSG_OK, or
 * VSG_ERR_INVALIDSTATE when no version is in use (res then says: send `ce`,
 * outcome KEPT).
 */
enum vsg_err vsg_filter_run(struct vsg_filter *f, const struct vsg_event *ev,
                            const struct vsg_ce *ce, struct vsg_filter_result *res);

/*
 * The same for a version directly, without policy, counters or logs:
 * errors come back as outcome ERROR with res->error set and no events.
 * For `vsgate filter test`, the dry run and tests.
 */
enum vsg_err vsg_filter_version_run(struct vsg_filter_version *v,
                                    const struct vsg_event *ev,
                                    const struct vsg_ce *ce,
                                    struct vsg_filter_result *res);

/* ====================================================================
 * The sample event
 * ==================================================================== */

/* Decodes the built-in sample VmPoweredOnEvent and builds its CloudEvent
 * (JSON payload). Clean up both with vsg_event_cleanup()/vsg_ce_cleanup(). */
enum vsg_err vsg_filter_sample(struct vsg_event *ev, struct vsg_ce *ce,
                               struct vsg_error *err);

/*
 * The CloudEvent the adapter makes of event `ev` when there is no filter
 * (CONTRACTS §3): id, source, type, time, datacontenttype, the extensions
 * eventclass and vsphereapiversion, and the JSON (`json` nonzero) or XML
 * payload, into `ce` (initialised). For `vsgate filter test` and tests.
 */
enum vsg_err vsg_filter_build_ce(const struct vsg_event *ev, const char *source,
                                 const char *api_version, int json, struct vsg_ce *ce,
                                 struct vsg_error *err);

#endif

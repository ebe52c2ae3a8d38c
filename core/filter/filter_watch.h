/*
 * filter/filter_watch.h - hot reload of a source's filter: a background
 * thread that watches where the script lives, compiles and checks every
 * change (vsg_filter_compile()) and offers the good ones to the stage,
 * which swaps them in between two events.
 *
 * Provides: struct vsg_filter_watch, started for a file (`vsgate run
 * --filter FILE`: polled every second by inode, size, mtime and ctime) or
 * for a ConfigMap (`vsgate adapter`, VSPHERE_FILTER_CONFIGMAP: list +
 * watch through the Kubernetes API with resourceVersion, bookmarks,
 * reconnect with capped backoff, relist on 410 Gone).
 * Uses: filter/filter_stage.h, kube/ (client, watch, Events), base/.
 * Owns: the watcher owns its thread and its Kubernetes client; the stage
 * and the configuration strings are borrowed until vsg_filter_watch_stop().
 *
 * ConfigMap layout: the key (default filter.lua) holds the script; every
 * other key ending in ".lua" is a module it may require under the key's
 * name without ".lua" (`helpers.lua` -> require "helpers"); other keys are
 * ignored. An unchanged script (same text, e.g. after a relist) is not
 * compiled again.
 *
 * What is reported: a rejected version (syntax, runtime error while
 * loading, no filter function, failed dry run) is logged with its error
 * (chunk:line) and, in ConfigMap mode, recorded as a Kubernetes Event of
 * type Warning, reason FilterInvalid, on the VSphereSource $NAME (kind
 * VSphereSource, apiVersion sources.tanzu.vmware.com/v1alpha1) - or on the
 * ConfigMap when no source name is known; the previous version keeps
 * running. A deleted ConfigMap, a missing key or a missing file keeps the
 * last good version running and is reported once (reason FilterMissing):
 * only the controller knows whether the source still references the
 * filter, and it restarts the adapter without VSPHERE_FILTER_CONFIGMAP
 * when it does not. A good version is logged and recorded as a Normal
 * Event, reason FilterUpdated.
 *
 * Kubernetes permissions the adapter's service account needs (the
 * controller's RBAC, CONTRACTS §2): list and watch on configmaps in its
 * namespace, create (and patch) on events.
 */
#ifndef VSG_FILTER_WATCH_H
#define VSG_FILTER_WATCH_H

#include <cjson/cJSON.h>

#include "base/err.h"
#include "filter/filter_stage.h"
#include "kube/config.h"

/* Where the filter lives and where its versions go. Exactly one of
 * `file` and `configmap` is set. */
struct vsg_filter_watch_config {
    struct vsg_filter *stage;           /* Versions are offered here. */
    const char *logger;                 /* Logger name ("vsgate.adapter"). */
    /* File mode. */
    const char *file;                   /* The script's path. */
    int poll_ms;                        /* Check period; 0: 1000. */
    /* ConfigMap mode. */
    const struct vsg_kube_config *kube; /* API server access (copied). */
    const char *ns;                     /* The ConfigMap's namespace. */
    const char *configmap;              /* Its name. */
    const char *key;                    /* The script's key; NULL: filter.lua. */
    const char *source_name;            /* The VSphereSource Events are
                                           about ($NAME), or NULL. */
};

struct vsg_filter_watch;

/*
 * Starts watching. File mode first loads the file synchronously and fails
 * (NULL, `err` = the compile error) when that version is rejected, so a
 * broken filter stops `vsgate run` at start; the accepted version is
 * offered (the caller swaps it in). ConfigMap mode loads in the
 * background: until a first version is accepted the stage has none (the
 * engine holds events back). NULL with `err` on setup failures.
 */
struct vsg_filter_watch *vsg_filter_watch_start(const struct vsg_filter_watch_config *cfg,
                                                struct vsg_error *err);

/* Stops the thread (interrupting a watch request) and frees the watcher.
 * NULL is a no-op. */
void vsg_filter_watch_stop(struct vsg_filter_watch *w);

/* Versions accepted (offered) so far; any thread. */
unsigned long vsg_filter_watch_accepted(const struct vsg_filter_watch *w);

/* ====================================================================
 * A filter ConfigMap's sources
 * ==================================================================== */

/* Most modules a ConfigMap may bring. */
#define VSG_FILTER_MAX_MODULES 64

/* The script and the modules a filter ConfigMap's data holds (see the
 * layout above). The texts are borrowed from the data. */
struct vsg_filter_cm_sources {
    struct vsg_lua_source main;                          /* data[key]. */
    struct vsg_lua_source mods[VSG_FILTER_MAX_MODULES];  /* Other *.lua keys. */
    char *names[VSG_FILTER_MAX_MODULES];                 /* Their names (owned). */
    size_t n;                                            /* How many. */
    int truncated;                                       /* More were ignored. */
};

/*
 * Reads `data` (the ConfigMap's data object) into `s`: 1 when it has a
 * string `key` (NULL: filter.lua), 0 when not (nothing to free). The one
 * reading of the layout, for the adapter's watcher and the controller's
 * FilterReady check (vsg.filter.check), so both judge the same sources.
 * VSG_ERR_NOMEM in `err` (and -1) when a name cannot be copied.
 */
int vsg_filter_cm_sources_read(struct vsg_filter_cm_sources *s, const cJSON *data,
                               const char *key, struct vsg_error *err);

/* Frees what vsg_filter_cm_sources_read() allocated. */
void vsg_filter_cm_sources_cleanup(struct vsg_filter_cm_sources *s);

/* An FNV-1a hash of the sources (names and texts): equal sources, equal
 * hash. */
uint64_t vsg_filter_sources_hash(const struct vsg_lua_source *main,
                                 const struct vsg_lua_source *mods, size_t n);

/* [-0, +1, m] Opens vsg.filter for the controller's Lua (filter_check.c):
 * check(data [, key]) -> true | nil, why: whether the adapter will accept
 * the filter of a ConfigMap whose data is `data`, judged by the same code
 * (sources read by vsg_filter_cm_sources_read, vsg_filter_compile with the
 * default filter limits). Verdicts are cached by source hash. */
int vsg_filter_lua_open(lua_State *L);

/*
 * vsgate's install root for `require` (the folder holding lua/ and
 * plugins/): $VSGATE_ROOT, else the installed share/vsgate, else the
 * source tree of a development build; NULL when none has plugins/.
 */
const char *vsg_filter_default_root(void);

/*
 * The `require` search path for a filter file in folder `dir` (may be
 * NULL): <dir>/?.lua;<dir>/?/init.lua, then <root>/lua and <root>/plugins
 * (both ?.lua and ?/init.lua) when `root` is set. Owned by the caller
 * (vsg_free); NULL when out of memory.
 */
char *vsg_filter_search_path(const char *dir, const char *root);

#endif

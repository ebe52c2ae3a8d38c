/*
 * controller/internal.h - what the files of the controller share (not
 * part of its interface: controller.h is).
 *
 * The controller is one struct vsg_ctl holding one struct rec per
 * reconciler module. Its files, one job each:
 *   controller.c  life cycle (new, start, stop, free) and module loading;
 *   overrides.c   the system namespace's ConfigMaps: Lua overrides,
 *                 config-logging, config-observability;
 *   tracker.c     enqueueing from informers and ctx.track();
 *   reconcile.c   one reconcile and the worker thread around it;
 *   leadership.c  leader election callbacks and hooks;
 *   metrics.c     readiness, liveness and the Prometheus series.
 * Functions shared between them are named vsg__ctl_*.
 */
#ifndef VSG_CONTROLLER_INTERNAL_H
#define VSG_CONTROLLER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <lua.h>

#include "base/mem.h"
#include "controller/controller.h"
#include "kube/informer.h"
#include "kube/leader.h"
#include "kube/lua_kube.h"
#include "kube/queue.h"
#include "kube/strmap.h"
#include "lua/script.h"

#define LOGGER "vsgate.controller"
#define NAME_MAX_LEN 253
/* Bounds of the latency histogram (seconds) and of Knative's
 * reconcile_latency (ms): the tables are in metrics.c. */
#define NBUCKETS 12
#define NKBUCKETS 6
/* Rows of Knative's reconcile_count per reconciler: (success, namespace)
 * pairs; beyond, namespace_name "other". */
#define KROWS_MAX 2048

/* One row of Knative's reconcile_count and reconcile_latency. */
struct krow {
    uint64_t count;                  /* reconcile_count. */
    uint64_t hist[NKBUCKETS + 1];    /* reconcile_latency, per bucket. */
    double sum_ms;                   /* Its sum. */
};

struct vsg_ctl;

/* A watch the module declared. */
struct watch_decl {
    char *api_version, *kind, *resource; /* What to watch (resource may be NULL). */
    int owned, tracker;                  /* How its events enqueue. */
};

/* The tracker's handler data for one kind. */
struct tracked_kind {
    struct rec *rec;  /* The reconciler. */
    char group[128];  /* The kind's group ("" for core). */
    char kind[128];   /* The kind. */
};

/* One reconciler module and its worker. */
struct rec {
    struct vsg_ctl *ctl;              /* The controller. */
    char *module;                     /* "vspheresource". */
    char *api_version, *kind, *resource, *group; /* The reconciled kind. */
    char *finalizer;                  /* Finalizer name, or NULL. */
    struct watch_decl *watches;       /* Declared watches. */
    size_t nwatches;                  /* How many. */
    char *driver;                     /* The main chunk's text. */
    char chunkname[64];               /* Its chunk name. */
    struct vsg_lua_script *script;    /* The Lua code in use. */
    struct vsg_kube_client *client;   /* The worker's client. */
    struct vsg_kube_lua_env env;      /* vsg.kube's environment. */
    struct vsg_kube_queue *queue;     /* Keys to reconcile. */
    struct vsg_kube_informer *primary; /* The reconciled kind's informer. */
    pthread_t worker;                        /* The worker thread. */
    int started;                      /* The worker runs. */
    atomic_int alive;                 /* Cleared if the worker died. */
    _Atomic int_least64_t busy_since; /* Monotonic ms the Lua call in progress
                                         started, 0 when none: /healthz fails
                                         when one outlives its limit. */
    uint64_t ovr_seen;                /* Overrides generation applied. */
    /* Tracker (tmu guards refs, bykey, kinds). */
    pthread_mutex_t tmu;
    struct vsg__strmap refs;          /* "group|kind|ns|name" -> strmap of keys. */
    struct vsg__strmap bykey;         /* key -> strmap of refs. */
    struct vsg__strmap kinds;         /* "av|kind" -> struct tracked_kind *. */
    const char *cur_key;              /* Key being reconciled (worker's). */
    /* Metrics (mmu). */
    pthread_mutex_t mmu;
    char *metrics_name;               /* Knative's `reconciler` tag. */
    struct vsg__strmap krows;         /* "true|<ns>", "false|<ns>" -> struct krow. */
    unsigned long n_ok, n_err, n_requeue, n_finalize;
    unsigned long hist[NBUCKETS + 1];
    double sum;
    unsigned long reload_ok, reload_err;
};

/* The overrides ConfigMap, as last seen (omu). */
struct overrides {
    uint64_t gen;                 /* Bumped on every change. */
    struct vsg_lua_source *mods;  /* Module sources (names and texts owned). */
    size_t n;                     /* How many. */
    char uid[64];                 /* The ConfigMap's uid ("" when absent). */
    char rv[64];                  /* Its resourceVersion. */
};

struct vsg_ctl {
    struct vsg_ctl_opts o;                 /* Options (strings are the copies below). */
    char *system_ns, *lua_root, *search_path, *lease_name, *overrides_name;
    char *logging_cm, *observability_cm, *leader_election_cm; /* Config map names. */
    char *identity;                        /* Copy or NULL. */
    struct vsg_kube_stats stats;           /* API request counters. */
    struct vsg_kube_discovery *disco;      /* Resource names. */
    struct vsg_kube_informers *informers;  /* Shared informers. */
    struct vsg_kube_informer *sysinf;      /* ConfigMaps of the system namespace. */
    struct vsg_kube_client *client;        /* Main thread's client. */
    struct vsg_kube_leader *leader;        /* Elector, or NULL. */
    struct rec *recs;                      /* One per module. */
    size_t nrecs;                          /* How many. */
    pthread_mutex_t mu;                    /* Guards stopping; with cond. */
    pthread_cond_t cond;                   /* Wakes workers (leadership, stop). */
    int stopping;                          /* vsg_ctl_stop() began. */
    int started;                           /* vsg_ctl_start() ran. */
    pthread_mutex_t omu;                   /* Guards ovr. */
    struct overrides ovr;                  /* The overrides ConfigMap. */
    pthread_mutex_t cmu;                   /* Guards the config strings. */
    char *logging_config, *metrics_config; /* JSON of the data maps, or "". */
    pthread_mutex_t hmu;                   /* Guards hooks; held while they run. */
    struct {
        vsg_ctl_leader_fn fn;              /* Told of leadership changes. */
        void *ud;                          /* Its data. */
    } hooks[VSG_CTL_MAX_HOOKS];
    size_t nhooks;                         /* How many. */
};

static inline char *xdup(const char *s)
{
    return s ? vsg_strdup(s) : NULL;
}

static inline int is_stopping(struct vsg_ctl *ctl)
{
    pthread_mutex_lock(&ctl->mu);
    int s = ctl->stopping;
    pthread_mutex_unlock(&ctl->mu);
    return s;
}

static inline int leading(struct vsg_ctl *ctl)
{
    return !ctl->leader || vsg_kube_leader_is_leader(ctl->leader);
}

/* The group of an apiVersion into buf ("" for "v1"). */
static inline void group_of(const char *av, char *buf, size_t n)
{
    const char *slash = strchr(av, '/');
    snprintf(buf, n, "%.*s", slash ? (int)(slash - av) : 0, av);
}

/* How one reconcile ended. */
enum outcome { OUT_DONE, OUT_REQUEUE, OUT_ERROR };

/* controller.c */
enum vsg_err vsg__ctl_load_script(struct rec *r, const struct vsg_lua_source *mods, size_t n,
                                  struct vsg_error *err);

/* overrides.c (system namespace informer; apply_overrides: worker) */
void vsg__ctl_on_system_cm(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old);
void vsg__ctl_initial_overrides(struct vsg_ctl *ctl);
void vsg__ctl_apply_overrides(struct rec *r);
void vsg__ctl_report_override(struct rec *r, const char *uid, const char *msg);

/* tracker.c (informer threads; lua_track and untrack_all: worker) */
void vsg__ctl_enqueue(struct rec *r, const char *key);
void vsg__ctl_on_primary(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old);
void vsg__ctl_on_owned(void *ud, enum vsg_kube_event_type t, const cJSON *obj, const cJSON *old);
enum vsg_err vsg__ctl_track_kind(struct rec *r, const char *av, const char *kind,
                                 const char *resource, struct vsg_error *err);
int vsg__ctl_lua_track(lua_State *L);
void vsg__ctl_untrack_all(struct rec *r, const char *key);
void vsg__ctl_free_strmap(void *p);

/* reconcile.c */
void *vsg__ctl_worker(void *arg);

/* leadership.c (elector thread) */
void vsg__ctl_on_lead(void *ud);
void vsg__ctl_on_unlead(void *ud);

/* metrics.c (worker) */
void vsg__ctl_observe(struct rec *r, const char *ns, enum outcome out, int finalize, double secs);

#endif

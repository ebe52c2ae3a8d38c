/*
 * controller/controller.h - the controller: one generic reconcile driver run for
 * each Lua reconciler module, plus the shared machinery around it.
 *
 * Provides: struct vsg_ctl. For each module name ("vspheresource") it
 * loads `require "reconcilers.<name>"` into its own sandboxed state (kind
 * RECONCILER, with vsg.kube and vsg.hash), reads the module table
 * (apiVersion, kind, resource, watches, finalizer, reconcile, finalize),
 * and runs one worker thread that takes keys from its work queue and
 * calls reconcile(ctx, obj) (or finalize) on the cached object. Informers
 * feed the queues: the primary kind enqueues itself, `owned` watches
 * enqueue their controller owner of the module's kind, `tracker` watches
 * and ctx.track() enqueue the objects that tracked them. Leader election
 * (optional) gates the workers. The ConfigMap of Lua overrides in the
 * system namespace is applied between two reconciles (build, check,
 * swap, or keep the old code and report). Metrics in Prometheus text.
 * Uses: kube/ (client, informers, queue, leader, discovery, lua_kube),
 * lua/ (host, script), filter/ (vsg.filter for the reconcilers), base/,
 * pthreads.
 * Owns: the controller owns every thread, client, informer, queue and Lua
 * state it makes; the kube config given in the options is borrowed and
 * must outlive the controller.
 *
 * The Lua contract, and the ConfigMap of overrides, are described in
 * cmd_controller.c's help text and the README.
 */
#ifndef VSG_CONTROLLER_H
#define VSG_CONTROLLER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "kube/config.h"
#include "lua/script.h"

/* Name of the ConfigMap of Lua module overrides in the system namespace. */
#define VSG_CTL_OVERRIDES_CONFIGMAP "vsgate-lua-overrides"
/* Lease name of the controller's leader election. */
#define VSG_CTL_LEASE_NAME "vsgate-controller"
/* The prefix of the series Knative's controller machinery publishes
 * (<component>_reconcile_count, ...): the Go project's controller ran as
 * sharedmain component "vsphere-source-webhook", which knative pkg's
 * Prometheus exporter turns into this. */
#define VSG_CTL_METRICS_COMPONENT "vsphere_source_webhook"
/* What `vsgate controller` reconciles when --reconcilers is not given: everything the
 * release ships (deploy/system/600-controller.yaml passes no flag). */
#define VSG_CTL_DEFAULT_RECONCILERS "vspheresource,vspherebinding"

struct vsg_ctl_opts {
    const struct vsg_kube_config *cfg; /* API server (borrowed). */
    const char *system_ns;             /* Namespace of the Lease and the
                                          config maps. */
    const char *lua_root;              /* Folder holding reconcilers/ and
                                          lib/ (vsgate's lua/). */
    const char *extra_path;            /* More ';'-separated require
                                          templates (plugins), or NULL. */
    const char *const *modules;        /* Reconciler names, e.g.
                                          "vspheresource". */
    size_t nmodules;                   /* How many. */
    int leader_elect;                  /* Nonzero: only the leader reconciles. */
    const char *lease_name;            /* NULL: VSG_CTL_LEASE_NAME. */
    const char *identity;              /* Holder identity; NULL: made up. */
    const char *overrides_name;        /* NULL: VSG_CTL_OVERRIDES_CONFIGMAP. */
    int64_t resync_ms;                 /* Informer resync period; 0: 10 h. */
    const char *adapter_image;         /* ctx.config.adapter_image. */
    const char *metrics_domain;        /* ctx.config.metrics_domain. */
    const char *binding_selection_mode; /* ctx.config.binding_selection_mode:
                                          "exclusion" (NULL or "") or
                                          "inclusion" (borrowed). */
    const char *logging_cm;            /* NULL: "config-logging". */
    void (*on_logging)(const char *json); /* Called with config-logging's data as JSON
                                          ("{}" when it is gone) at start and on
                                          every change, or NULL. */
    const char *observability_cm;      /* NULL: "config-observability". */
    const char *leader_election_cm;    /* NULL: "config-leader-election". */
    struct vsg_lua_limits reconciler_limits; /* Of each reconcile call; zero
                                          fields: the RECONCILER defaults. */
    struct vsg_lua_limits filter_max;  /* ctx.config.filter_max: the most a
                                          source's filter may ask for. */
};

struct vsg_ctl;

/* Loads every module (a missing or broken one is an error naming it)
 * and makes the machinery, without starting anything or (except to read
 * the overrides ConfigMap once) talking to the API server. */
struct vsg_ctl *vsg_ctl_new(const struct vsg_ctl_opts *opts, struct vsg_error *err);

/* Starts informers, leader election and the workers. */
enum vsg_err vsg_ctl_start(struct vsg_ctl *ctl, struct vsg_error *err);

/* Tells the informers to stop, stops the workers (a running reconcile
 * ends at its next vsg.kube write, which raises from then on; the next
 * leader does it again), then gives up the lease, then joins the
 * informers. Idempotent. */
void vsg_ctl_stop(struct vsg_ctl *ctl);

/* Stops and frees. NULL is a no-op. */
void vsg_ctl_free(struct vsg_ctl *ctl);

/* VSG_OK once every informer has synced (readiness); else why not. */
enum vsg_err vsg_ctl_ready(struct vsg_ctl *ctl, struct vsg_error *why);

/* VSG_OK while every worker runs (liveness). */
enum vsg_err vsg_ctl_healthy(struct vsg_ctl *ctl, struct vsg_error *why);

/* A copy of the Lua overrides in effect (the webhook's workers apply the
 * same ones): *gen bumps on every change; *mods (n entries, names and
 * texts owned) is freed with vsg_ctl_free_sources(). VSG_ERR_NOMEM. */
enum vsg_err vsg_ctl_overrides(struct vsg_ctl *ctl, uint64_t *gen, struct vsg_lua_source **mods,
                               size_t *n);

/* The generation of the overrides in effect (cheap; see above). */
uint64_t vsg_ctl_overrides_gen(struct vsg_ctl *ctl);

/* Frees sources returned by vsg_ctl_overrides(). */
void vsg_ctl_free_sources(struct vsg_lua_source *mods, size_t n);

/* Nonzero while this replica leads (always without leader election): the
 * webhook's certificate manager writes only then. */
int vsg_ctl_leading(struct vsg_ctl *ctl);

/* A function told of leadership changes: `leading` 1 when this replica
 * became the leader, 0 when it stopped leading. It runs on the elector's
 * thread (or the caller of vsg_ctl_stop()) and must be quick. */
typedef void (*vsg_ctl_leader_fn)(void *ud, int leading);

/* Adds a leadership hook (at most VSG_CTL_MAX_HOOKS). VSG_ERR_NOMEM when
 * full. */
#define VSG_CTL_MAX_HOOKS 4
enum vsg_err vsg_ctl_add_leader_hook(struct vsg_ctl *ctl, vsg_ctl_leader_fn fn, void *ud);

/* Removes it; once this returns, no call of it runs or will run. */
void vsg_ctl_remove_leader_hook(struct vsg_ctl *ctl, vsg_ctl_leader_fn fn, void *ud);

/* Appends the metrics in Prometheus text format to `out`: vsgate's
 * (vsgate_reconcile_total, ...) and Knative's under
 * VSG_CTL_METRICS_COMPONENT: work_queue_depth{reconciler},
 * reconcile_count and reconcile_latency (ms){namespace_name, reconciler,
 * success}, client_latency (s) and client_results{name=""}. The
 * `reconciler` tag is the module's `metrics_name` (the Go controller's
 * work queue names), else the module name. */
enum vsg_err vsg_ctl_metrics(struct vsg_ctl *ctl, struct vsg_buf *out);

#endif

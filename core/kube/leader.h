/*
 * kube/leader.h - leader election with a coordination.k8s.io/v1 Lease
 * (client-go's leaderelection, LeaseLock).
 *
 * Provides: struct vsg_kube_leader: a thread that tries to acquire the
 * Lease <ns>/<name> every retry period (with jitter) while another
 * holder's lease is fresh, renews it every retry period once it holds
 * it, and gives leadership up - at once, calling on_stop - when it could
 * not renew for the renew deadline (which is shorter than the lease
 * duration, so a new leader cannot start before the old one stopped).
 * Freshness of another holder is judged by when this elector saw the
 * record change (its own clock), not by the timestamps in it. After
 * losing, the elector goes on as a candidate. stop(release=1) hands the
 * lease back (holderIdentity "") so a peer takes over without waiting.
 * Also: vsg_kube_leader_config_from_configmap() reads Knative's
 * config-leader-election (lease-duration, renew-deadline, retry-period as
 * Go durations; the camelCase spellings leaseDuration, renewDeadline,
 * retryPeriod are accepted too; "buckets" is ignored: one Lease).
 * Uses: kube/client.h, cJSON, base/, pthreads.
 * Owns: the elector owns its thread, client and copies of its strings.
 */
#ifndef VSG_KUBE_LEADER_H
#define VSG_KUBE_LEADER_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "kube/client.h"
#include "kube/config.h"

/* Knative's (and client-go's usual) defaults. */
#define VSG_KUBE_LEASE_DURATION_MS 15000
#define VSG_KUBE_RENEW_DEADLINE_MS 10000
#define VSG_KUBE_RETRY_PERIOD_MS 2000

struct vsg_kube_leader_opts {
    const char *ns;            /* Namespace of the Lease. */
    const char *name;          /* Lease name. */
    const char *identity;      /* holderIdentity; NULL: vsg_kube_leader_make_identity(). */
    int64_t lease_ms;          /* Lease duration; 0: default. */
    int64_t renew_deadline_ms; /* Give up after failing to renew this long; 0: default. */
    int64_t retry_ms;          /* Between two attempts; 0: default. */
    void (*on_start)(void *ud); /* Became leader (elector thread). */
    void (*on_stop)(void *ud);  /* Stopped being leader (elector thread, or
                                   the caller of stop()). */
    void *ud;                  /* For the callbacks. */
    struct vsg_kube_stats *stats; /* Request counters, or NULL. */
};

struct vsg_kube_leader;

/* Reads lease-duration, renew-deadline and retry-period from the data of a
 * config-leader-election ConfigMap (`cm` may be NULL: defaults) into the
 * three fields of `o`. VSG_ERR_INVAL naming the key for a value that is
 * not a positive Go duration, or when renewDeadline >= leaseDuration or
 * retryPeriod >= renewDeadline. */
enum vsg_err vsg_kube_leader_config_from_configmap(const cJSON *cm, struct vsg_kube_leader_opts *o,
                                                   struct vsg_error *err);

/* "<hostname>_<pid>_<8 random hex digits>" into buf. */
void vsg_kube_leader_make_identity(char *buf, size_t bufsz);

/* Makes an elector with its own client for `cfg`. NULL with `err` set. */
struct vsg_kube_leader *vsg_kube_leader_new(const struct vsg_kube_config *cfg,
                                            const struct vsg_kube_leader_opts *opts,
                                            struct vsg_error *err);

/* Starts the election thread. */
enum vsg_err vsg_kube_leader_start(struct vsg_kube_leader *le, struct vsg_error *err);

/* Nonzero while this elector leads (an atomic read; cheap). */
int vsg_kube_leader_is_leader(const struct vsg_kube_leader *le);

/* Stops the thread; when leading, calls on_stop and, with `release`,
 * gives the lease back. Idempotent. */
void vsg_kube_leader_stop(struct vsg_kube_leader *le, int release);

/* Stops (releasing) and frees. NULL is a no-op. */
void vsg_kube_leader_free(struct vsg_kube_leader *le);

/* The holder identity (borrowed). */
const char *vsg_kube_leader_identity(const struct vsg_kube_leader *le);

/* How many times this elector became leader. */
unsigned long vsg_kube_leader_terms(const struct vsg_kube_leader *le);

#endif

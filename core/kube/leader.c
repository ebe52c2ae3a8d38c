/*
 * kube/leader.c - see leader.h.
 */
#include "kube/leader.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"

#define LOGGER "vsgate.leader"

struct vsg_kube_leader {
    struct vsg_kube_leader_opts o; /* Options; strings point at the copies. */
    char *ns, *name, *identity;    /* Copies. */
    struct vsg_kube_client *client; /* The elector's client. */
    pthread_t thread;              /* The election loop. */
    int started;                   /* The thread runs. */
    pthread_mutex_t mu;            /* Guards stopping and the condvar. */
    pthread_cond_t cond;           /* Wakes naps at stop. */
    int stopping;                  /* stop() was called. */
    atomic_int leading;            /* This elector leads. */
    atomic_ulong terms;            /* Times it became leader. */
    unsigned seed;                 /* rand_r state. */
    /* What the elector last saw of the record (thread's): */
    char obs_holder[256];          /* holderIdentity. */
    char obs_renew[64];            /* renewTime. */
    char obs_rv[64];               /* resourceVersion. */
    int64_t obs_lease_ms;          /* leaseDurationSeconds, in ms. */
    int64_t obs_at;                /* Monotonic ms when it last changed. */
};

/* ====================================================================
 * Configuration
 * ==================================================================== */

/* Reads data[key] (Knative's kebab-case name) or data[alt] (camelCase). */
static enum vsg_err duration_key(const cJSON *data, const char *key, const char *alt, int64_t *ms,
                                 struct vsg_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(data, key);
    if (!cJSON_IsString(v) || !*v->valuestring) {
        v = cJSON_GetObjectItemCaseSensitive(data, alt);
        key = alt;
    }
    int64_t ns;
    if (!cJSON_IsString(v) || !*v->valuestring) return VSG_OK;
    if (vsg_duration_parse(v->valuestring, &ns) != VSG_OK || ns <= 0)
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "config-leader-election: %s: \"%s\" is not a positive duration", key,
                             v->valuestring);
    *ms = ns / VSG_MILLISECOND;
    return VSG_OK;
}

enum vsg_err vsg_kube_leader_config_from_configmap(const cJSON *cm, struct vsg_kube_leader_opts *o,
                                                   struct vsg_error *err)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(cm, "data");
    int64_t lease = VSG_KUBE_LEASE_DURATION_MS, renew = VSG_KUBE_RENEW_DEADLINE_MS,
            retry = VSG_KUBE_RETRY_PERIOD_MS;
    enum vsg_err rc;
    if ((rc = duration_key(data, "lease-duration", "leaseDuration", &lease, err)) != VSG_OK ||
        (rc = duration_key(data, "renew-deadline", "renewDeadline", &renew, err)) != VSG_OK ||
        (rc = duration_key(data, "retry-period", "retryPeriod", &retry, err)) != VSG_OK)
        return rc;
    if (renew >= lease)
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "config-leader-election: renewDeadline must be shorter than leaseDuration");
    if (retry >= renew)
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "config-leader-election: retryPeriod must be shorter than renewDeadline");
    if (lease < 1000)
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "config-leader-election: leaseDuration must be at least 1s");
    o->lease_ms = lease;
    o->renew_deadline_ms = renew;
    o->retry_ms = retry;
    return VSG_OK;
}

void vsg_kube_leader_make_identity(char *buf, size_t bufsz)
{
    char host[128] = "";
    unsigned char r[4] = {0};
    if (gethostname(host, sizeof host - 1) != 0 || !*host) snprintf(host, sizeof host, "vsgate");
    if (RAND_bytes(r, sizeof r) != 1) {
        unsigned v = (unsigned)vsg_time_mono_ms() ^ (unsigned)getpid();
        memcpy(r, &v, sizeof r);
    }
    snprintf(buf, bufsz, "%s_%ld_%02x%02x%02x%02x", host, (long)getpid(), r[0], r[1], r[2], r[3]);
}

/* ====================================================================
 * Life cycle
 * ==================================================================== */

struct vsg_kube_leader *vsg_kube_leader_new(const struct vsg_kube_config *cfg,
                                            const struct vsg_kube_leader_opts *opts,
                                            struct vsg_error *err)
{
    struct vsg_kube_leader *le;
    pthread_condattr_t ca;
    char id[300];
    if (!opts || !opts->ns || !opts->name) {
        vsg_error_set(err, VSG_ERR_INVAL, "leader election: the Lease namespace and name are required");
        return NULL;
    }
    if (!(le = vsg_calloc(1, sizeof *le))) goto nomem;
    pthread_mutex_init(&le->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&le->cond, &ca);
    pthread_condattr_destroy(&ca);
    le->o = *opts;
    if (!le->o.lease_ms) le->o.lease_ms = VSG_KUBE_LEASE_DURATION_MS;
    if (!le->o.renew_deadline_ms) le->o.renew_deadline_ms = VSG_KUBE_RENEW_DEADLINE_MS;
    if (!le->o.retry_ms) le->o.retry_ms = VSG_KUBE_RETRY_PERIOD_MS;
    if (opts->identity)
        snprintf(id, sizeof id, "%s", opts->identity);
    else
        vsg_kube_leader_make_identity(id, sizeof id);
    if (!(le->ns = vsg_strdup(opts->ns)) || !(le->name = vsg_strdup(opts->name)) ||
        !(le->identity = vsg_strdup(id)))
        goto nomem;
    le->o.ns = le->ns;
    le->o.name = le->name;
    le->o.identity = le->identity;
    le->seed = (unsigned)vsg_time_mono_ms() ^ (unsigned)getpid();
    if (!(le->client = vsg_kube_client_new(cfg, err))) goto fail;
    vsg_kube_client_set_stats(le->client, opts->stats);
    return le;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "leader election: out of memory");
fail:
    vsg_kube_leader_free(le);
    return NULL;
}

void vsg_kube_leader_free(struct vsg_kube_leader *le)
{
    if (!le) return;
    vsg_kube_leader_stop(le, 1);
    vsg_kube_client_free(le->client);
    vsg_free(le->ns);
    vsg_free(le->name);
    vsg_free(le->identity);
    pthread_cond_destroy(&le->cond);
    pthread_mutex_destroy(&le->mu);
    vsg_free(le);
}

int vsg_kube_leader_is_leader(const struct vsg_kube_leader *le)
{
    return atomic_load(&((struct vsg_kube_leader *)le)->leading);
}

const char *vsg_kube_leader_identity(const struct vsg_kube_leader *le)
{
    return le->identity;
}

unsigned long vsg_kube_leader_terms(const struct vsg_kube_leader *le)
{
    return atomic_load(&((struct vsg_kube_leader *)le)->terms);
}

/* ====================================================================
 * The Lease
 * ==================================================================== */

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Writes spec fields for us holding the lease now. */
static int fill_spec(struct vsg_kube_leader *le, cJSON *spec, int acquired, long transitions)
{
    char now[VSG_TIME_RFC3339_BUFSZ];
    if (vsg_time_format_rfc3339(vsg_time_now(), VSG_TIME_MICRO, now, sizeof now) != VSG_OK) return -1;
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "holderIdentity");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "leaseDurationSeconds");
    cJSON_DeleteItemFromObjectCaseSensitive(spec, "renewTime");
    if (!cJSON_AddStringToObject(spec, "holderIdentity", le->identity) ||
        !cJSON_AddNumberToObject(spec, "leaseDurationSeconds",
                                 (double)((le->o.lease_ms + 999) / 1000)) ||
        !cJSON_AddStringToObject(spec, "renewTime", now))
        return -1;
    if (acquired) {
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "acquireTime");
        cJSON_DeleteItemFromObjectCaseSensitive(spec, "leaseTransitions");
        if (!cJSON_AddStringToObject(spec, "acquireTime", now) ||
            !cJSON_AddNumberToObject(spec, "leaseTransitions", (double)transitions))
            return -1;
    }
    return 0;
}

/* One try (client-go's tryAcquireOrRenew): 1 when we hold the lease
 * after it, 0 when someone else does or the write lost a race, -1 on an
 * API error. */
static int try_acquire_or_renew(struct vsg_kube_leader *le, long timeout_ms)
{
    struct vsg_buf p;
    struct vsg_error err;
    cJSON *lease = NULL, *out = NULL;
    int result = -1;
    enum vsg_err rc;
    vsg_buf_init(&p, 2048);
    if (vsg_kube_path(&p, "coordination.k8s.io/v1", le->ns, "leases", le->name, NULL) != VSG_OK)
        goto done;
    struct vsg_kube_request get = {.method = "GET", .path = p.data, .timeout_ms = timeout_ms};
    rc = vsg_kube_request(le->client, &get, &lease, &err);
    if (rc == VSG_ERR_NOTFOUND) {
        cJSON *spec;
        vsg_buf_reset(&p);
        if (vsg_kube_path(&p, "coordination.k8s.io/v1", le->ns, "leases", NULL, NULL) != VSG_OK ||
            !(lease = cJSON_CreateObject()))
            goto done;
        cJSON *meta = cJSON_AddObjectToObject(lease, "metadata");
        if (!meta || !cJSON_AddStringToObject(lease, "apiVersion", "coordination.k8s.io/v1") ||
            !cJSON_AddStringToObject(lease, "kind", "Lease") ||
            !cJSON_AddStringToObject(meta, "name", le->name) ||
            !cJSON_AddStringToObject(meta, "namespace", le->ns) ||
            !(spec = cJSON_AddObjectToObject(lease, "spec")) || fill_spec(le, spec, 1, 0) != 0)
            goto done;
        struct vsg_kube_request cr = {.method = "POST", .path = p.data, .body = lease,
                                      .timeout_ms = timeout_ms};
        rc = vsg_kube_request(le->client, &cr, NULL, &err);
        if (rc == VSG_OK) result = 1;
        else if (rc == VSG_ERR_CONFLICT) result = 0; /* Someone else made it first. */
        else VSG_LOG_WARN(LOGGER, "creating Lease %s/%s: %s", le->ns, le->name, err.msg);
        goto done;
    }
    if (rc != VSG_OK) {
        VSG_LOG_WARN(LOGGER, "reading Lease %s/%s: %s", le->ns, le->name, err.msg);
        goto done;
    }
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(lease, "spec");
    if (!spec && !(spec = cJSON_AddObjectToObject(lease, "spec"))) goto done;
    const char *holder = str_of(spec, "holderIdentity");
    const char *renew = str_of(spec, "renewTime");
    const char *rv = str_of(cJSON_GetObjectItemCaseSensitive(lease, "metadata"), "resourceVersion");
    const cJSON *lds = cJSON_GetObjectItemCaseSensitive(spec, "leaseDurationSeconds");
    int64_t now = vsg_time_mono_ms();
    if (strcmp(holder, le->obs_holder) != 0 || strcmp(renew, le->obs_renew) != 0 ||
        strcmp(rv, le->obs_rv) != 0 || le->obs_at == 0) {
        snprintf(le->obs_holder, sizeof le->obs_holder, "%s", holder);
        snprintf(le->obs_renew, sizeof le->obs_renew, "%s", renew);
        snprintf(le->obs_rv, sizeof le->obs_rv, "%s", rv);
        le->obs_lease_ms = cJSON_IsNumber(lds) ? (int64_t)lds->valuedouble * 1000 : le->o.lease_ms;
        le->obs_at = now;
    }
    int mine = strcmp(holder, le->identity) == 0;
    if (*holder && !mine && now < le->obs_at + le->obs_lease_ms) {
        result = 0; /* Someone else holds a fresh lease. */
        goto done;
    }
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions");
    long transitions = cJSON_IsNumber(tr) ? (long)tr->valuedouble : 0;
    if (fill_spec(le, spec, !mine, mine ? transitions : transitions + 1) != 0) goto done;
    struct vsg_kube_request up = {.method = "PUT", .path = p.data, .body = lease,
                                  .timeout_ms = timeout_ms};
    rc = vsg_kube_request(le->client, &up, &out, &err);
    if (rc == VSG_OK) {
        /* What we wrote is what we saw last. */
        snprintf(le->obs_holder, sizeof le->obs_holder, "%s", le->identity);
        snprintf(le->obs_renew, sizeof le->obs_renew, "%s", str_of(cJSON_GetObjectItemCaseSensitive(out, "spec"), "renewTime"));
        snprintf(le->obs_rv, sizeof le->obs_rv, "%s",
                 str_of(cJSON_GetObjectItemCaseSensitive(out, "metadata"), "resourceVersion"));
        le->obs_at = vsg_time_mono_ms();
        result = 1;
    } else if (rc == VSG_ERR_CONFLICT) {
        result = 0;
    } else {
        VSG_LOG_WARN(LOGGER, "updating Lease %s/%s: %s", le->ns, le->name, err.msg);
    }
done:
    cJSON_Delete(lease);
    cJSON_Delete(out);
    vsg_buf_cleanup(&p);
    return result;
}

/* Gives the lease back if we hold it: holderIdentity "", 1 s duration. */
static void release(struct vsg_kube_leader *le)
{
    struct vsg_buf p;
    struct vsg_error err;
    cJSON *lease = NULL;
    vsg_buf_init(&p, 2048);
    if (vsg_kube_path(&p, "coordination.k8s.io/v1", le->ns, "leases", le->name, NULL) == VSG_OK &&
        vsg_kube_get(le->client, p.data, &lease, &err) == VSG_OK) {
        cJSON *spec = cJSON_GetObjectItemCaseSensitive(lease, "spec");
        if (spec && strcmp(str_of(spec, "holderIdentity"), le->identity) == 0) {
            cJSON *empty = cJSON_CreateString("");
            int ok = empty && cJSON_ReplaceItemInObjectCaseSensitive(spec, "holderIdentity", empty);
            if (!ok) cJSON_Delete(empty);
            cJSON_DeleteItemFromObjectCaseSensitive(spec, "leaseDurationSeconds");
            ok = ok && cJSON_AddNumberToObject(spec, "leaseDurationSeconds", 1);
            /* Half-released (out of memory) is not sent: the Lease then
             * expires by itself. */
            if (!ok)
                VSG_LOG_WARN(LOGGER, "releasing Lease %s/%s: out of memory", le->ns, le->name);
            else if (vsg_kube_update(le->client, p.data, lease, NULL, &err) != VSG_OK)
                VSG_LOG_WARN(LOGGER, "releasing Lease %s/%s: %s", le->ns, le->name, err.msg);
            else
                VSG_LOG_INFO(LOGGER, "released Lease %s/%s", le->ns, le->name);
        }
    }
    cJSON_Delete(lease);
    vsg_buf_cleanup(&p);
}

/* ====================================================================
 * The loop
 * ==================================================================== */

static int nap(struct vsg_kube_leader *le, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&le->mu);
    while (!le->stopping)
        if (pthread_cond_timedwait(&le->cond, &le->mu, &ts) != 0) break;
    int s = le->stopping;
    pthread_mutex_unlock(&le->mu);
    return s;
}

static int is_stopping(struct vsg_kube_leader *le)
{
    pthread_mutex_lock(&le->mu);
    int s = le->stopping;
    pthread_mutex_unlock(&le->mu);
    return s;
}

/* Steps down: the flag first, so readers stop at once. */
static void lose(struct vsg_kube_leader *le, const char *why)
{
    if (!atomic_exchange(&le->leading, 0)) return;
    VSG_LOG_WARN(LOGGER, "%s: no longer the leader of Lease %s/%s: %s", le->identity, le->ns,
                 le->name, why);
    if (le->o.on_stop) le->o.on_stop(le->o.ud);
}

static void *run(void *arg)
{
    struct vsg_kube_leader *le = arg;
    while (!is_stopping(le)) {
        /* Candidate: try every retry period, with up to 20% jitter. */
        int64_t jitter = le->o.retry_ms / 5 ? (int64_t)(rand_r(&le->seed) % (unsigned)(le->o.retry_ms / 5)) : 0;
        if (try_acquire_or_renew(le, (long)le->o.retry_ms) != 1) {
            if (nap(le, le->o.retry_ms + jitter)) break;
            continue;
        }
        atomic_store(&le->leading, 1);
        atomic_fetch_add(&le->terms, 1);
        VSG_LOG_INFO(LOGGER, "%s: became the leader of Lease %s/%s", le->identity, le->ns, le->name);
        if (le->o.on_start) le->o.on_start(le->o.ud);
        /* Leader: renew every retry period until the deadline passes. */
        int64_t last = vsg_time_mono_ms();
        while (!nap(le, le->o.retry_ms)) {
            int64_t left = le->o.renew_deadline_ms - (vsg_time_mono_ms() - last);
            int r = left > 0 ? try_acquire_or_renew(le, (long)(left < 200 ? 200 : left)) : -1;
            if (r == 1) {
                last = vsg_time_mono_ms();
                continue;
            }
            if (r == 0) {
                lose(le, "another holder has the lease");
                break;
            }
            if (vsg_time_mono_ms() - last >= le->o.renew_deadline_ms) {
                lose(le, "could not renew within the renew deadline");
                break;
            }
        }
    }
    return NULL;
}

enum vsg_err vsg_kube_leader_start(struct vsg_kube_leader *le, struct vsg_error *err)
{
    pthread_mutex_lock(&le->mu);
    if (le->started) {
        pthread_mutex_unlock(&le->mu);
        return vsg_error_set(err, VSG_ERR_INVALIDSTATE, "leader election already started");
    }
    le->started = 1;
    pthread_mutex_unlock(&le->mu);
    if (pthread_create(&le->thread, NULL, run, le) != 0) {
        le->started = 0;
        return vsg_error_set(err, VSG_ERR_NOMEM, "leader election: cannot start a thread");
    }
    return VSG_OK;
}

void vsg_kube_leader_stop(struct vsg_kube_leader *le, int rel)
{
    pthread_mutex_lock(&le->mu);
    int started = le->started;
    le->stopping = 1;
    le->started = 0;
    pthread_cond_broadcast(&le->cond);
    pthread_mutex_unlock(&le->mu);
    if (started) pthread_join(le->thread, NULL);
    if (atomic_load(&le->leading)) {
        lose(le, "stopping");
        if (rel) release(le);
    }
}

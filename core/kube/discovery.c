/*
 * kube/discovery.c - see discovery.h.
 */
#include "kube/discovery.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "base/vtime.h"
#include "kube/strmap.h"

/* One group/version: kind -> struct vsg_kube_resource *. */
struct gv {
    struct vsg__strmap kinds; /* Kind -> resource (owned). */
    int64_t fetched_ms;       /* Monotonic ms of the last fetch, 0: never. */
    int fetching;             /* A thread is fetching it now. */
};

struct vsg_kube_discovery {
    pthread_mutex_t mu;     /* Guards gvs. */
    pthread_cond_t fetched; /* Broadcast when a fetch ends. */
    struct vsg__strmap gvs; /* apiVersion -> struct gv *. */
};

static void gv_free(void *p)
{
    struct gv *g = p;
    if (!g) return;
    vsg__strmap_cleanup(&g->kinds, vsg_free);
    vsg_free(g);
}

struct vsg_kube_discovery *vsg_kube_discovery_new(void)
{
    struct vsg_kube_discovery *d = vsg_calloc(1, sizeof *d);
    if (d) {
        pthread_mutex_init(&d->mu, NULL);
        pthread_cond_init(&d->fetched, NULL);
    }
    return d;
}

void vsg_kube_discovery_free(struct vsg_kube_discovery *d)
{
    if (!d) return;
    vsg__strmap_cleanup(&d->gvs, gv_free);
    pthread_cond_destroy(&d->fetched);
    pthread_mutex_destroy(&d->mu);
    vsg_free(d);
}

/* The gv entry for `av`, made when missing (d->mu held). */
static struct gv *gv_of(struct vsg_kube_discovery *d, const char *av)
{
    struct gv *g = vsg__strmap_get(&d->gvs, av);
    if (g) return g;
    if (!(g = vsg_calloc(1, sizeof *g))) return NULL;
    if (vsg__strmap_put(&d->gvs, av, g, NULL) != VSG_OK) {
        vsg_free(g);
        return NULL;
    }
    return g;
}

static enum vsg_err put_kind(struct gv *g, const char *kind, const char *resource, int namespaced)
{
    struct vsg_kube_resource *r = vsg_calloc(1, sizeof *r);
    void *old;
    if (!r) return VSG_ERR_NOMEM;
    snprintf(r->resource, sizeof r->resource, "%s", resource);
    r->namespaced = namespaced;
    if (vsg__strmap_put(&g->kinds, kind, r, &old) != VSG_OK) {
        vsg_free(r);
        return VSG_ERR_NOMEM;
    }
    vsg_free(old);
    return VSG_OK;
}

enum vsg_err vsg_kube_discovery_add(struct vsg_kube_discovery *d, const char *api_version,
                                    const char *kind, const char *resource, int namespaced)
{
    enum vsg_err rc = VSG_ERR_NOMEM;
    pthread_mutex_lock(&d->mu);
    struct gv *g = gv_of(d, api_version);
    if (g) rc = put_kind(g, kind, resource, namespaced);
    pthread_mutex_unlock(&d->mu);
    return rc;
}

/* Copies kind's entry into out: 1 when found (d->mu held). */
static int find(struct vsg_kube_discovery *d, const char *av, const char *kind,
                struct vsg_kube_resource *out)
{
    struct gv *g = vsg__strmap_get(&d->gvs, av);
    struct vsg_kube_resource *r = g ? vsg__strmap_get(&g->kinds, kind) : NULL;
    if (r) *out = *r;
    return r != NULL;
}

enum vsg_err vsg_kube_discovery_lookup(struct vsg_kube_discovery *d, struct vsg_kube_client *c,
                                       const char *api_version, const char *kind,
                                       struct vsg_kube_resource *out, struct vsg_error *err)
{
    struct vsg_buf p;
    cJSON *doc = NULL;
    enum vsg_err rc;
    int fetch;

    if (!api_version || !*api_version || !kind || !*kind)
        return vsg_error_set(err, VSG_ERR_INVAL, "discovery: apiVersion and kind are required");
    pthread_mutex_lock(&d->mu);
    if (find(d, api_version, kind, out)) {
        pthread_mutex_unlock(&d->mu);
        return VSG_OK;
    }
    struct gv *g = gv_of(d, api_version);
    /* Another thread is fetching this group/version: its answer is the one
     * to read (a miss now would be a kind that exists reported missing). */
    if (g && g->fetching) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 35;
        while (g->fetching && pthread_cond_timedwait(&d->fetched, &d->mu, &until) == 0) {
        }
        if (find(d, api_version, kind, out)) {
            pthread_mutex_unlock(&d->mu);
            return VSG_OK;
        }
    }
    int64_t now = vsg_time_mono_ms();
    fetch = g && !g->fetching && (g->fetched_ms == 0 || now - g->fetched_ms >= VSG_KUBE_DISCOVERY_REFRESH_MS);
    if (fetch) {
        g->fetched_ms = now;
        g->fetching = 1;
    }
    pthread_mutex_unlock(&d->mu);
    if (!g) return vsg_error_set(err, VSG_ERR_NOMEM, "discovery: out of memory");
    if (!fetch) goto missing;

    vsg_buf_init(&p, 1024);
    rc = vsg_buf_printf(&p, "%s/%s", strchr(api_version, '/') ? "/apis" : "/api", api_version);
    if (rc == VSG_OK) rc = vsg_kube_get(c, p.data, &doc, err);
    vsg_buf_cleanup(&p);
    if (rc != VSG_OK) {
        pthread_mutex_lock(&d->mu);
        g->fetching = 0;
        pthread_cond_broadcast(&d->fetched);
        pthread_mutex_unlock(&d->mu);
        if (rc == VSG_ERR_NOTFOUND) goto missing;
        return rc;
    }

    pthread_mutex_lock(&d->mu);
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(doc, "resources")) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "name");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(r, "kind");
        if (!cJSON_IsString(n) || !cJSON_IsString(k) || strchr(n->valuestring, '/')) continue;
        if (put_kind(g, k->valuestring, n->valuestring,
                     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "namespaced"))) != VSG_OK)
            break;
    }
    int found = find(d, api_version, kind, out);
    g->fetching = 0;
    pthread_cond_broadcast(&d->fetched);
    pthread_mutex_unlock(&d->mu);
    cJSON_Delete(doc);
    if (found) return VSG_OK;
missing:
    pthread_mutex_lock(&d->mu);
    int again = find(d, api_version, kind, out);
    pthread_mutex_unlock(&d->mu);
    if (again) return VSG_OK;
    return vsg_error_set(err, VSG_ERR_NOTFOUND, "the server does not serve kind %s of %s",
                         kind, api_version);
}

/*
 * cloudevents/metrics.c - see metrics.h.
 *
 * The rows live in one array allocated up front (max_rows regular ones,
 * then the "other" ones), in the order first seen, which is also the
 * order they are written in; an open-addressing index of row numbers
 * finds them. A record is one hash of the type and source, one probe
 * (usually) and two increments, under a mutex.
 */
#include "cloudevents/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "base/prom.h"

struct row {
    char *type, *source; /* Owned; both NULL in an "other" row. */
    long status;         /* HTTP status, or 0 for no response. */
    int rc;              /* enum vsg_err when status is 0. */
    uint64_t hash;       /* Of the key. */
    uint64_t events;     /* event_count. */
    uint64_t retries;    /* retry_event_count. */
};

struct vsg_ce_metrics {
    pthread_mutex_t mu;
    char *component, *name, *ns, *group; /* Owned copies. */
    struct row *rows;                    /* max_rows + VSG_CE_METRICS_OTHER_ROWS. */
    size_t max_rows, n_rows, n_other;    /* Bound, regular rows used, other rows used. */
    uint32_t *index;                     /* Row number + 1, or 0; `mask` + 1 slots. */
    size_t mask;
    uint64_t lost;                       /* Attempts that found no row. */
};

struct vsg_ce_metrics *vsg_ce_metrics_new(const struct vsg_ce_metrics_opts *o, struct vsg_error *err)
{
    struct vsg_ce_metrics *m;
    if (!o || !o->component || !*o->component) {
        vsg_error_set(err, VSG_ERR_INVAL, "source metrics: no component");
        return NULL;
    }
    if (!(m = vsg_calloc(1, sizeof *m))) goto nomem;
    pthread_mutex_init(&m->mu, NULL);
    m->max_rows = o->max_rows ? o->max_rows : VSG_CE_METRICS_MAX_ROWS;
    size_t total = m->max_rows + VSG_CE_METRICS_OTHER_ROWS, slots = 16;
    while (slots < 2 * total) slots *= 2;
    m->mask = slots - 1;
    if (!(m->component = vsg_strdup(o->component)) || !(m->name = vsg_strdup(o->name ? o->name : "adapter")) ||
        !(m->ns = vsg_strdup(o->ns ? o->ns : "")) ||
        !(m->group = vsg_strdup(o->resource_group ? o->resource_group : VSG_CE_METRICS_RESOURCE_GROUP)) ||
        !(m->rows = vsg_calloc(total, sizeof *m->rows)) || !(m->index = vsg_calloc(slots, sizeof *m->index)))
        goto nomem;
    for (char *p = m->component; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            *p = '_';
    return m;
nomem:
    vsg_ce_metrics_free(m);
    vsg_error_set(err, VSG_ERR_NOMEM, "source metrics: out of memory");
    return NULL;
}

void vsg_ce_metrics_free(struct vsg_ce_metrics *m)
{
    if (!m) return;
    if (m->rows) {
        for (size_t i = 0; i < m->max_rows + VSG_CE_METRICS_OTHER_ROWS; i++) {
            vsg_free(m->rows[i].type);
            vsg_free(m->rows[i].source);
        }
    }
    vsg_free(m->rows);
    vsg_free(m->index);
    vsg_free(m->component);
    vsg_free(m->name);
    vsg_free(m->ns);
    vsg_free(m->group);
    pthread_mutex_destroy(&m->mu);
    vsg_free(m);
}

/* FNV-1a over the key; the type and source end at their NUL, so "ab"+"c"
 * and "a"+"bc" differ. */
static uint64_t key_hash(const char *type, const char *source, long status, int rc)
{
    uint64_t h = 1469598103934665603ULL;
    const char *parts[2] = {type, source};
    for (int k = 0; k < 2; k++) {
        const unsigned char *p = (const unsigned char *)(parts[k] ? parts[k] : "");
        do {
            h ^= *p;
            h *= 1099511628211ULL;
        } while (*p++);
        if (!parts[k]) h ^= 0xff, h *= 1099511628211ULL; /* "other" differs from "". */
    }
    uint64_t tail[2] = {(uint64_t)status, (uint64_t)rc};
    for (int k = 0; k < 2; k++) {
        for (int b = 0; b < 8; b++) {
            h ^= (tail[k] >> (8 * b)) & 0xff;
            h *= 1099511628211ULL;
        }
    }
    return h;
}

static int same(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

/* The row of the key, made when missing; NULL when there is no room.
 * `type` and `source` both NULL look up (or make) an "other" row, else
 * both are strings. Under mu. */
static struct row *find(struct vsg_ce_metrics *m, const char *type, const char *source, long status, int rc)
{
    uint64_t h = key_hash(type, source, status, rc);
    size_t i = (size_t)h & m->mask;
    for (; m->index[i]; i = (i + 1) & m->mask) {
        struct row *r = &m->rows[m->index[i] - 1];
        if (r->hash == h && r->status == status && r->rc == rc && same(r->type, type) && same(r->source, source))
            return r;
    }
    size_t at;
    if (type) {
        if (m->n_rows == m->max_rows) return NULL;
        at = m->n_rows;
    } else {
        if (m->n_other == VSG_CE_METRICS_OTHER_ROWS) return NULL;
        at = m->max_rows + m->n_other;
    }
    struct row *r = &m->rows[at];
    if (type && (!(r->type = vsg_strdup(type)) || !(r->source = vsg_strdup(source)))) {
        vsg_free(r->type);
        vsg_free(r->source);
        r->type = r->source = NULL;
        return NULL;
    }
    r->status = status;
    r->rc = rc;
    r->hash = h;
    m->index[i] = (uint32_t)at + 1;
    if (type) m->n_rows++;
    else m->n_other++;
    return r;
}

void vsg_ce_metrics_record(struct vsg_ce_metrics *m, const char *type, const char *source, int retry,
                           enum vsg_err rc, long status)
{
    if (!m) return;
    if (status > 0) rc = VSG_OK;
    else status = 0;
    pthread_mutex_lock(&m->mu);
    struct row *r = find(m, type ? type : "", source ? source : "", status, (int)rc);
    if (!r) r = find(m, NULL, NULL, status, (int)rc);
    if (!r) m->lost++;
    else if (retry) r->retries++;
    else r->events++;
    pthread_mutex_unlock(&m->mu);
}

uint64_t vsg_ce_metrics_lost(struct vsg_ce_metrics *m)
{
    pthread_mutex_lock(&m->mu);
    uint64_t n = m->lost;
    pthread_mutex_unlock(&m->mu);
    return n;
}

/* One sample line of `family` for row `r` with value `v`. */
static enum vsg_err write_row(struct vsg_ce_metrics *m, struct vsg_buf *o, const char *family, const struct row *r,
                              uint64_t v)
{
    char code[24] = "", cls[24] = "";
    const char *error = "", *timeout = "";
    if (r->status > 0) {
        snprintf(code, sizeof code, "%ld", r->status);
        snprintf(cls, sizeof cls, "%ldxx", r->status / 100);
    } else {
        error = vsg_strerror((enum vsg_err)r->rc);
        timeout = r->rc == VSG_ERR_TIMEOUT ? "true" : "false";
    }
    enum vsg_err rc = vsg_buf_printf(o, "%s_%s{", m->component, family);
    if (rc == VSG_OK) rc = vsg_prom_label(o, 0, "event_source", r->type ? r->source : "other");
    if (rc == VSG_OK) rc = vsg_prom_label(o, 1, "event_type", r->type ? r->type : "other");
    if (rc == VSG_OK) rc = vsg_prom_label(o, 1, "name", m->name);
    if (rc == VSG_OK) rc = vsg_prom_label(o, 1, "namespace_name", m->ns);
    if (rc == VSG_OK) rc = vsg_prom_label(o, 1, "resource_group", m->group);
    if (rc == VSG_OK) rc = vsg_prom_label(o, 1, "response_code", code);
    if (rc == VSG_OK) rc = vsg_prom_label(o, 1, "response_code_class", cls);
    if (rc == VSG_OK) rc = vsg_prom_label(o, 1, "response_error", error);
    if (rc == VSG_OK) rc = vsg_prom_label(o, 1, "response_timeout", timeout);
    if (rc == VSG_OK) rc = vsg_buf_printf(o, "} %llu\n", (unsigned long long)v);
    return rc;
}

enum vsg_err vsg_ce_metrics_write(struct vsg_ce_metrics *m, struct vsg_buf *o)
{
    static const struct {
        const char *family, *help;
    } fams[2] = {{"event_count", "Number of events sent"}, {"retry_event_count", "Number of retry events sent"}};
    enum vsg_err rc = VSG_OK;
    char name[256];
    pthread_mutex_lock(&m->mu);
    for (int f = 0; f < 2 && rc == VSG_OK; f++) {
        int header = 0;
        for (size_t k = 0; k < m->n_rows + m->n_other && rc == VSG_OK; k++) {
            const struct row *r = &m->rows[k < m->n_rows ? k : m->max_rows + (k - m->n_rows)];
            uint64_t v = f ? r->retries : r->events;
            if (!v) continue;
            if (!header) {
                snprintf(name, sizeof name, "%s_%s", m->component, fams[f].family);
                rc = vsg_prom_family(o, name, "counter", fams[f].help);
                header = 1;
            }
            if (rc == VSG_OK) rc = write_row(m, o, fams[f].family, r, v);
        }
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

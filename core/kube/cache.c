/*
 * kube/cache.c - see cache.h.
 *
 * Each object is one struct entry, found by key in `byname`; the owner
 * and label indexes map "uid" and "key=value" to sets (arrays) of
 * entries.
 */
#include "kube/cache.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "kube/selector.h"
#include "kube/strmap.h"

/* Largest object key ("ns/name"). */
#define KEY_MAX 1024

struct entry {
    char *key;       /* "ns/name" or "name". */
    char *ns;        /* Namespace, or NULL. */
    cJSON *obj;      /* The object (owned). */
    char *owner;     /* Controller owner uid, or NULL. */
    char **labels;   /* "key=value" strings (owned). */
    size_t nlabels;  /* How many. */
};

/* A set of entries (index bucket). */
struct eset {
    struct entry **v; /* The entries (borrowed). */
    size_t n, cap;    /* Length and size. */
};

struct vsg_kube_cache {
    pthread_mutex_t mu;         /* Guards everything below. */
    struct vsg__strmap byname;  /* key -> struct entry *. */
    struct vsg__strmap byowner; /* uid -> struct eset *. */
    struct vsg__strmap bylabel; /* "k=v" -> struct eset *. */
};

/* ====================================================================
 * Object helpers
 * ==================================================================== */

const char *vsg_kube_meta_str(const cJSON *obj, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), field);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

enum vsg_err vsg_kube_object_key(const cJSON *obj, struct vsg_buf *out)
{
    const char *ns = vsg_kube_meta_str(obj, "namespace");
    const char *name = vsg_kube_meta_str(obj, "name");
    if (!name || !*name) return VSG_ERR_INVAL;
    if (ns && *ns) return vsg_buf_printf(out, "%s/%s", ns, name);
    return vsg_buf_puts(out, name);
}

/* Nonzero when apiVersion `av` has group `group` ("" = core). */
static int group_is(const char *av, const char *group)
{
    const char *slash = strchr(av, '/');
    if (!slash) return *group == '\0';
    return strlen(group) == (size_t)(slash - av) && strncmp(av, group, (size_t)(slash - av)) == 0;
}

const cJSON *vsg_kube_controller_ref(const cJSON *obj, const char *group, const char *kind)
{
    const cJSON *refs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "ownerReferences");
    const cJSON *r;
    cJSON_ArrayForEach(r, refs) {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "controller"))) continue;
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(r, "kind");
        const cJSON *av = cJSON_GetObjectItemCaseSensitive(r, "apiVersion");
        if (kind && (!cJSON_IsString(k) || strcmp(k->valuestring, kind) != 0)) continue;
        if (group && (!cJSON_IsString(av) || !group_is(av->valuestring, group))) continue;
        return r;
    }
    return NULL;
}

/* ====================================================================
 * Label selectors
 * ==================================================================== */

enum sel_op { OP_EQ, OP_EXISTS, OP_NOTEXISTS, OP_IN, OP_NOTIN };

struct req {
    char *key;       /* The label key. */
    enum sel_op op;  /* The operator. */
    char **values;   /* Values (EQ: one; IN/NOTIN: the set). */
    size_t nvalues;  /* How many. */
};

struct vsg_kube_selector {
    struct req *reqs; /* Requirements, all must hold. */
    size_t n;         /* How many. */
};

void vsg_kube_selector_free(struct vsg_kube_selector *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        vsg_free(s->reqs[i].key);
        for (size_t j = 0; j < s->reqs[i].nvalues; j++) vsg_free(s->reqs[i].values[j]);
        vsg_free(s->reqs[i].values);
    }
    vsg_free(s->reqs);
    vsg_free(s);
}

static int add_value(struct req *r, const char *v)
{
    char *d = vsg_strdup(v ? v : "");
    char **n = d ? vsg_realloc(r->values, (r->nvalues + 1) * sizeof *n) : NULL;
    if (!n) {
        vsg_free(d);
        return -1;
    }
    r->values = n;
    r->values[r->nvalues++] = d;
    return 0;
}

/* A new requirement on `key` in s, or NULL out of memory. */
static struct req *add_req(struct vsg_kube_selector *s, const char *key, enum sel_op op)
{
    struct req *nr = vsg_realloc(s->reqs, (s->n + 1) * sizeof *nr);
    if (!nr) return NULL;
    s->reqs = nr;
    struct req *r = &s->reqs[s->n];
    memset(r, 0, sizeof *r);
    if (!(r->key = vsg_strdup(key ? key : ""))) return NULL;
    r->op = op;
    s->n++;
    return r;
}

struct vsg_kube_selector *vsg_kube_selector_from_object(const cJSON *sel, struct vsg_error *err)
{
    struct vsg_kube_selector *s = vsg_calloc(1, sizeof *s);
    const cJSON *l, *e, *v;
    if (!s) goto nomem;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(sel, "matchLabels")) {
        struct req *r = add_req(s, l->string, OP_EQ);
        if (!r || add_value(r, cJSON_GetStringValue(l)) != 0) goto nomem;
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions")) {
        const char *key = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "key"));
        const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "operator"));
        enum sel_op o;
        if (!key || !op) goto bad;
        if (strcmp(op, "In") == 0) o = OP_IN;
        else if (strcmp(op, "NotIn") == 0) o = OP_NOTIN;
        else if (strcmp(op, "Exists") == 0) o = OP_EXISTS;
        else if (strcmp(op, "DoesNotExist") == 0) o = OP_NOTEXISTS;
        else goto bad;
        struct req *r = add_req(s, key, o);
        if (!r) goto nomem;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(e, "values"))
            if (add_value(r, cJSON_GetStringValue(v)) != 0) goto nomem;
    }
    return s;
bad:
    vsg_error_set(err, VSG_ERR_PARSE, "label selector: matchExpressions need a key and an operator "
                                      "In, NotIn, Exists or DoesNotExist");
    vsg_kube_selector_free(s);
    return NULL;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "label selector: out of memory");
    vsg_kube_selector_free(s);
    return NULL;
}

struct vsg_kube_selector *vsg_kube_selector_parse(const char *text, struct vsg_error *err)
{
    char msg[256];
    cJSON *o = vsg_selector_parse(text ? text : "", msg, sizeof msg);
    if (!o) {
        if (strcmp(msg, "out of memory") == 0)
            vsg_error_set(err, VSG_ERR_NOMEM, "label selector: out of memory");
        else vsg_error_set(err, VSG_ERR_PARSE, "label selector \"%s\": %s", text, msg);
        return NULL;
    }
    struct vsg_kube_selector *s = vsg_kube_selector_from_object(o, err);
    cJSON_Delete(o);
    return s;
}

int vsg_kube_selector_match(const struct vsg_kube_selector *s, const cJSON *obj)
{
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(obj, "metadata"), "labels");
    if (!s) return 1;
    for (size_t i = 0; i < s->n; i++) {
        const struct req *r = &s->reqs[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, r->key);
        const char *val = cJSON_IsString(v) ? v->valuestring : NULL;
        int in = 0;
        switch (r->op) {
        case OP_EXISTS:
            if (!val) return 0;
            break;
        case OP_NOTEXISTS:
            if (val) return 0;
            break;
        case OP_EQ:
            if (!val || strcmp(val, r->values[0]) != 0) return 0;
            break;
        case OP_IN:
        case OP_NOTIN:
            for (size_t j = 0; val && j < r->nvalues; j++)
                if (strcmp(val, r->values[j]) == 0) in = 1;
            if (r->op == OP_IN && !in) return 0;
            if (r->op == OP_NOTIN && in) return 0;
            break;
        }
    }
    return 1;
}

/* ====================================================================
 * Entries and indexes (c->mu held)
 * ==================================================================== */

static void entry_free(struct entry *e)
{
    if (!e) return;
    vsg_free(e->key);
    vsg_free(e->ns);
    cJSON_Delete(e->obj);
    vsg_free(e->owner);
    for (size_t i = 0; i < e->nlabels; i++) vsg_free(e->labels[i]);
    vsg_free(e->labels);
    vsg_free(e);
}

static void eset_free(void *p)
{
    struct eset *s = p;
    if (!s) return;
    vsg_free(s->v);
    vsg_free(s);
}

static enum vsg_err index_add(struct vsg__strmap *m, const char *k, struct entry *e)
{
    struct eset *s = vsg__strmap_get(m, k);
    if (!s) {
        if (!(s = vsg_calloc(1, sizeof *s))) return VSG_ERR_NOMEM;
        if (vsg__strmap_put(m, k, s, NULL) != VSG_OK) {
            vsg_free(s);
            return VSG_ERR_NOMEM;
        }
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 4;
        struct entry **v = vsg_realloc(s->v, nc * sizeof *v);
        if (!v) return VSG_ERR_NOMEM;
        s->v = v;
        s->cap = nc;
    }
    s->v[s->n++] = e;
    return VSG_OK;
}

static void index_del(struct vsg__strmap *m, const char *k, struct entry *e)
{
    struct eset *s = vsg__strmap_get(m, k);
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i] != e) continue;
        s->v[i] = s->v[--s->n];
        break;
    }
    if (s->n == 0) eset_free(vsg__strmap_del(m, k));
}

static void unindex(struct vsg_kube_cache *c, struct entry *e)
{
    if (e->owner) index_del(&c->byowner, e->owner, e);
    for (size_t i = 0; i < e->nlabels; i++) index_del(&c->bylabel, e->labels[i], e);
}

/* Fills the index fields of `e` from its object and indexes it. On
 * failure the entry is left unindexed (partially filled fields are
 * freed with it). */
static enum vsg_err index_entry(struct vsg_kube_cache *c, struct entry *e)
{
    const cJSON *ref = vsg_kube_controller_ref(e->obj, NULL, NULL);
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(ref, "uid");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(e->obj, "metadata"), "labels");
    const cJSON *l;
    size_t n = 0;
    if (cJSON_IsString(uid) && !(e->owner = vsg_strdup(uid->valuestring))) return VSG_ERR_NOMEM;
    cJSON_ArrayForEach(l, labels) n++;
    if (n && !(e->labels = vsg_calloc(n, sizeof *e->labels))) return VSG_ERR_NOMEM;
    cJSON_ArrayForEach(l, labels) {
        struct vsg_buf b;
        if (!cJSON_IsString(l) || !l->string) continue;
        vsg_buf_init(&b, KEY_MAX * 2);
        if (vsg_buf_printf(&b, "%s=%s", l->string, l->valuestring) != VSG_OK) {
            vsg_buf_cleanup(&b);
            continue; /* Over-long labels are just not indexed. */
        }
        e->labels[e->nlabels++] = vsg_buf_steal(&b);
        vsg_buf_cleanup(&b);
        if (!e->labels[e->nlabels - 1]) {
            e->nlabels--;
            return VSG_ERR_NOMEM;
        }
    }
    if (e->owner && index_add(&c->byowner, e->owner, e) != VSG_OK) goto nomem;
    for (size_t i = 0; i < e->nlabels; i++)
        if (index_add(&c->bylabel, e->labels[i], e) != VSG_OK) goto nomem;
    return VSG_OK;
nomem:
    unindex(c, e);
    return VSG_ERR_NOMEM;
}

/* ====================================================================
 * The cache
 * ==================================================================== */

struct vsg_kube_cache *vsg_kube_cache_new(void)
{
    struct vsg_kube_cache *c = vsg_calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

static void entry_free_v(void *p)
{
    entry_free(p);
}

void vsg_kube_cache_free(struct vsg_kube_cache *c)
{
    if (!c) return;
    vsg__strmap_cleanup(&c->byowner, eset_free);
    vsg__strmap_cleanup(&c->bylabel, eset_free);
    vsg__strmap_cleanup(&c->byname, entry_free_v);
    pthread_mutex_destroy(&c->mu);
    vsg_free(c);
}

enum vsg_err vsg_kube_cache_put(struct vsg_kube_cache *c, cJSON *obj, cJSON **old)
{
    struct vsg_buf k;
    struct entry *e = NULL, *prev;
    enum vsg_err rc;
    const char *ns = vsg_kube_meta_str(obj, "namespace");
    *old = NULL;
    vsg_buf_init(&k, KEY_MAX);
    if ((rc = vsg_kube_object_key(obj, &k)) != VSG_OK) {
        cJSON_Delete(obj);
        goto done;
    }
    rc = VSG_ERR_NOMEM;
    if (!(e = vsg_calloc(1, sizeof *e))) {
        cJSON_Delete(obj);
        goto done;
    }
    e->obj = obj;
    if (!(e->key = vsg_strdup(k.data)) || (ns && *ns && !(e->ns = vsg_strdup(ns)))) goto fail;
    pthread_mutex_lock(&c->mu);
    prev = vsg__strmap_get(&c->byname, e->key);
    if ((rc = index_entry(c, e)) == VSG_OK &&
        (rc = vsg__strmap_put(&c->byname, e->key, e, NULL)) != VSG_OK)
        unindex(c, e);
    if (rc == VSG_OK && prev) {
        unindex(c, prev);
        *old = prev->obj;
        prev->obj = NULL;
        entry_free(prev);
    }
    pthread_mutex_unlock(&c->mu);
    if (rc != VSG_OK) goto fail;
    goto done;
fail:
    entry_free(e);
done:
    vsg_buf_cleanup(&k);
    return rc;
}

enum vsg_err vsg_kube_cache_remove(struct vsg_kube_cache *c, const char *key, cJSON **old)
{
    pthread_mutex_lock(&c->mu);
    struct entry *e = vsg__strmap_del(&c->byname, key);
    if (e) unindex(c, e);
    pthread_mutex_unlock(&c->mu);
    *old = NULL;
    if (!e) return VSG_ERR_NOTFOUND;
    *old = e->obj;
    e->obj = NULL;
    entry_free(e);
    return VSG_OK;
}

/* The entry for ns/name (c->mu held). */
static struct entry *lookup(struct vsg_kube_cache *c, const char *ns, const char *name)
{
    char key[KEY_MAX];
    if (!name) return NULL;
    int n = ns && *ns ? snprintf(key, sizeof key, "%s/%s", ns, name)
                      : snprintf(key, sizeof key, "%s", name);
    if (n < 0 || (size_t)n >= sizeof key) return NULL;
    return vsg__strmap_get(&c->byname, key);
}

cJSON *vsg_kube_cache_get(struct vsg_kube_cache *c, const char *ns, const char *name)
{
    cJSON *o = NULL;
    pthread_mutex_lock(&c->mu);
    struct entry *e = lookup(c, ns, name);
    if (e) o = cJSON_Duplicate(e->obj, 1);
    pthread_mutex_unlock(&c->mu);
    return o;
}

char *vsg_kube_cache_get_text(struct vsg_kube_cache *c, const char *ns, const char *name)
{
    char *t = NULL, *out = NULL;
    pthread_mutex_lock(&c->mu);
    struct entry *e = lookup(c, ns, name);
    if (e) t = cJSON_PrintUnformatted(e->obj);
    pthread_mutex_unlock(&c->mu);
    if (t) {
        out = vsg_strdup(t);
        cJSON_free(t);
    }
    return out;
}

size_t vsg_kube_cache_len(struct vsg_kube_cache *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->byname.len;
    pthread_mutex_unlock(&c->mu);
    return n;
}

static int ns_is(const struct entry *e, const char *ns)
{
    if (!ns) return 1;
    return e->ns ? strcmp(e->ns, ns) == 0 : *ns == '\0';
}

void vsg_kube_cache_each(struct vsg_kube_cache *c, const char *ns,
                         const struct vsg_kube_selector *sel, vsg_kube_cache_fn fn, void *ud)
{
    pthread_mutex_lock(&c->mu);
    /* An equality term narrows the walk to one label bucket. */
    const struct req *eq = NULL;
    for (size_t i = 0; sel && i < sel->n && !eq; i++)
        if (sel->reqs[i].op == OP_EQ) eq = &sel->reqs[i];
    if (eq) {
        struct vsg_buf k;
        vsg_buf_init(&k, KEY_MAX * 2);
        if (vsg_buf_printf(&k, "%s=%s", eq->key, eq->values[0]) == VSG_OK) {
            struct eset *s = vsg__strmap_get(&c->bylabel, k.data);
            for (size_t i = 0; s && i < s->n; i++)
                if (ns_is(s->v[i], ns) && vsg_kube_selector_match(sel, s->v[i]->obj) &&
                    fn(ud, s->v[i]->obj))
                    break;
        }
        vsg_buf_cleanup(&k);
    } else {
        for (size_t i = 0; i < c->byname.cap; i++) {
            struct entry *e = c->byname.slots[i].key ? c->byname.slots[i].val : NULL;
            if (!e || !ns_is(e, ns) || !vsg_kube_selector_match(sel, e->obj)) continue;
            if (fn(ud, e->obj)) break;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static void each_in(struct vsg_kube_cache *c, struct vsg__strmap *m, const char *k,
                    vsg_kube_cache_fn fn, void *ud)
{
    pthread_mutex_lock(&c->mu);
    struct eset *s = vsg__strmap_get(m, k);
    for (size_t i = 0; s && i < s->n; i++)
        if (fn(ud, s->v[i]->obj)) break;
    pthread_mutex_unlock(&c->mu);
}

void vsg_kube_cache_each_owned(struct vsg_kube_cache *c, const char *uid, vsg_kube_cache_fn fn,
                               void *ud)
{
    each_in(c, &c->byowner, uid, fn, ud);
}

void vsg_kube_cache_each_label(struct vsg_kube_cache *c, const char *key, const char *value,
                               vsg_kube_cache_fn fn, void *ud)
{
    struct vsg_buf k;
    vsg_buf_init(&k, KEY_MAX * 2);
    if (vsg_buf_printf(&k, "%s=%s", key, value) == VSG_OK) each_in(c, &c->bylabel, k.data, fn, ud);
    vsg_buf_cleanup(&k);
}

enum vsg_err vsg_kube_cache_keys(struct vsg_kube_cache *c, char ***keys, size_t *n)
{
    enum vsg_err rc = VSG_OK;
    *keys = NULL;
    *n = 0;
    pthread_mutex_lock(&c->mu);
    char **v = vsg_calloc(c->byname.len + 1, sizeof *v);
    size_t m = 0;
    if (!v) rc = VSG_ERR_NOMEM;
    for (size_t i = 0; v && i < c->byname.cap; i++) {
        if (!c->byname.slots[i].key) continue;
        if (!(v[m] = vsg_strdup(c->byname.slots[i].key))) {
            rc = VSG_ERR_NOMEM;
            break;
        }
        m++;
    }
    pthread_mutex_unlock(&c->mu);
    if (rc != VSG_OK) {
        for (size_t i = 0; i < m; i++) vsg_free(v[i]);
        vsg_free(v);
        return rc;
    }
    *keys = v;
    *n = m;
    return VSG_OK;
}

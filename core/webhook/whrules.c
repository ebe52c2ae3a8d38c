/*
 * webhook/whrules.c - see whrules.h.
 */
#include "webhook/whrules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

/* One resource the webhook must see. */
struct ent {
    char group[128];    /* API group ("" for core). */
    char version[64];   /* Version. */
    char resource[128]; /* Plural resource name. */
};

/* A subject kind seen already ("apiVersion|kind"). */
struct seen {
    char *key;
};

struct set {
    struct ent *v;
    size_t n, cap;
    struct seen *seen;
    size_t nseen, capseen;
};

static int add_ent(struct set *s, const struct ent *e)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].group, e->group) == 0 && strcmp(s->v[i].version, e->version) == 0 &&
            strcmp(s->v[i].resource, e->resource) == 0)
            return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct ent *v = vsg_realloc(s->v, cap * sizeof *v);
        if (!v) return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = *e;
    return 0;
}

/* 1 when key was seen before; else records it (0), -1 out of memory. */
static int seen_before(struct set *s, const char *key)
{
    for (size_t i = 0; i < s->nseen; i++)
        if (strcmp(s->seen[i].key, key) == 0) return 1;
    if (s->nseen == s->capseen) {
        size_t cap = s->capseen ? s->capseen * 2 : 8;
        struct seen *v = vsg_realloc(s->seen, cap * sizeof *v);
        if (!v) return -1;
        s->seen = v;
        s->capseen = cap;
    }
    if (!(s->seen[s->nseen].key = vsg_strdup(key))) return -1;
    s->nseen++;
    return 0;
}

static int cmp_ent(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    int c = strcmp(x->group, y->group);
    if (!c) c = strcmp(x->version, y->version);
    if (!c) c = strcmp(x->resource, y->resource);
    return c;
}

static const char *str_at(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* Adds the subject kind of binding `b`; 0, or -1 out of memory. */
static int add_subject(struct set *s, const cJSON *b, vsg_whrules_resolve_fn resolve, void *ud,
                       size_t *skipped, struct vsg_error *why)
{
    const cJSON *subject = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "spec"),
                                                            "subject");
    const char *av = str_at(subject, "apiVersion"), *kind = str_at(subject, "kind");
    char key[512];
    struct vsg_kube_resource r;
    struct vsg_error err;
    struct ent e;
    if (!av || !*av || !kind || !*kind) return 0; /* Invalid: matches nothing. */
    snprintf(key, sizeof key, "%s|%s", av, kind);
    int seen = seen_before(s, key);
    if (seen) return seen < 0 ? -1 : 0;
    const char *slash = strrchr(av, '/');
    const char *version = slash ? slash + 1 : av;
    size_t glen = slash ? (size_t)(slash - av) : 0;
    if (glen >= sizeof e.group || strlen(version) >= sizeof e.version || !*version) {
        if ((*skipped)++ == 0 && why)
            vsg_error_set(why, VSG_ERR_INVAL, "subject apiVersion \"%s\" is not valid", av);
        return 0;
    }
    vsg_error_clear(&err);
    memset(&r, 0, sizeof r);
    enum vsg_err rc = resolve(ud, av, kind, &r, &err);
    if (rc == VSG_ERR_NOMEM) return -1;
    if (rc != VSG_OK || !r.resource[0] || !r.namespaced) {
        if ((*skipped)++ == 0 && why) {
            if (rc != VSG_OK)
                vsg_error_set(why, rc, "subject kind %s of %s: %s", kind, av, err.msg);
            else
                vsg_error_set(why, VSG_ERR_INVAL, "subject kind %s of %s is not namespaced", kind, av);
        }
        return 0;
    }
    memset(&e, 0, sizeof e);
    memcpy(e.group, av, glen);
    snprintf(e.version, sizeof e.version, "%s", version);
    snprintf(e.resource, sizeof e.resource, "%s", r.resource);
    return add_ent(s, &e);
}

/* Adds the resources of base rule `r` (one group and version, as
 * webhook.configurations writes them); 0, or -1 out of memory. A rule
 * of another shape is not one of ours and is left out. */
static int add_base(struct set *s, const cJSON *r)
{
    const char *g = cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "apiGroups"), 0));
    const char *v =
        cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "apiVersions"), 0));
    const cJSON *res;
    struct ent e;
    if (!g || !v || strlen(g) >= sizeof e.group || strlen(v) >= sizeof e.version) return 0;
    cJSON_ArrayForEach(res, cJSON_GetObjectItemCaseSensitive(r, "resources")) {
        const char *name = cJSON_GetStringValue(res);
        if (!name || strlen(name) >= sizeof e.resource) continue;
        memset(&e, 0, sizeof e);
        memcpy(e.group, g, strlen(g));
        memcpy(e.version, v, strlen(v));
        memcpy(e.resource, name, strlen(name));
        if (add_ent(s, &e) != 0) return -1;
    }
    return 0;
}

static cJSON *str_array(const char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *s = cJSON_CreateString(v[i]);
        if (!s || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* Adds `item` to `o` as `key`; frees it when it cannot (cJSON leaves an
 * item it could not add to the caller). 0 when not added. */
static int add_owned(cJSON *o, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(o, key, item)) return 1;
    cJSON_Delete(item);
    return 0;
}

/* The rule for entries [from, to) (one group and version). */
static cJSON *rule_of(const struct ent *v, size_t from, size_t to)
{
    static const char *const ops[] = {"CREATE", "UPDATE"};
    const char *g = v[from].group, *ver = v[from].version;
    cJSON *r = cJSON_CreateObject(), *res = cJSON_CreateArray();
    int ok = r && res;
    for (size_t i = from; ok && i < to; i++) {
        cJSON *s = cJSON_CreateString(v[i].resource);
        if (!s || !cJSON_AddItemToArray(res, s)) {
            cJSON_Delete(s);
            ok = 0;
        }
    }
    if (ok && add_owned(r, "apiGroups", str_array(&g, 1)) &&
        add_owned(r, "apiVersions", str_array(&ver, 1)) &&
        add_owned(r, "operations", str_array(ops, 2)) &&
        cJSON_AddItemToObject(r, "resources", res)) {
        res = NULL;
        if (cJSON_AddStringToObject(r, "scope", "Namespaced")) return r;
    }
    cJSON_Delete(res);
    cJSON_Delete(r);
    return NULL;
}

cJSON *vsg_whrules_build(const cJSON *base, const cJSON *bindings, vsg_whrules_resolve_fn resolve,
                         void *ud, size_t *skipped, struct vsg_error *why)
{
    struct set s;
    cJSON *rules = NULL;
    const cJSON *b;
    size_t nskip = 0;
    memset(&s, 0, sizeof s);
    if (why) vsg_error_clear(why);
    cJSON_ArrayForEach(b, base)
        if (add_base(&s, b) != 0) goto done;
    cJSON_ArrayForEach(b, bindings)
        if (add_subject(&s, b, resolve, ud, &nskip, why) != 0) goto done;
    qsort(s.v, s.n, sizeof *s.v, cmp_ent);
    if (!(rules = cJSON_CreateArray())) goto done;
    for (size_t i = 0, j; i < s.n; i = j) {
        for (j = i + 1; j < s.n && strcmp(s.v[j].group, s.v[i].group) == 0 &&
                        strcmp(s.v[j].version, s.v[i].version) == 0;
             j++)
            ;
        cJSON *r = rule_of(s.v, i, j);
        if (!r || !cJSON_AddItemToArray(rules, r)) {
            cJSON_Delete(r);
            cJSON_Delete(rules);
            rules = NULL;
            goto done;
        }
    }
    if (skipped) *skipped = nskip;
done:
    for (size_t i = 0; i < s.nseen; i++) vsg_free(s.seen[i].key);
    vsg_free(s.seen);
    vsg_free(s.v);
    return rules;
}

/*
 * test_kube_cache.c - the informer cache (kube/cache.h), label selectors,
 * the string map behind them (kube/strmap.h) and the watch stream parser
 * (kube/watch.h).
 *
 * Checks: put/replace/remove keep the namespace/name, owner-uid and label
 * indexes right (including when labels and owners change); get returns a
 * deep copy; each() filters by namespace and selector; selector syntax
 * (=, ==, !=, exists, !exists, in, notin; bad input rejected); the map
 * survives growth and deletions (backward shift); the parser handles
 * events split at every byte, several per chunk, CRLF, blank lines,
 * BOOKMARK and ERROR 410 events, and rejects junk and over-long lines.
 */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "kube/cache.h"
#include "kube/strmap.h"
#include "kube/watch.h"

static cJSON *obj(const char *json)
{
    cJSON *o = cJSON_Parse(json);
    if (!o) abort();
    return o;
}

static int count_cb(void *ud, const cJSON *o)
{
    (void)o;
    (*(int *)ud)++;
    return 0;
}

static int count_each(struct vsg_kube_cache *c, const char *ns, const char *sel)
{
    struct vsg_error e;
    struct vsg_kube_selector *s = sel ? vsg_kube_selector_parse(sel, &e) : NULL;
    int n = 0;
    vsg_kube_cache_each(c, ns, s, count_cb, &n);
    vsg_kube_selector_free(s);
    return n;
}

static int count_owned(struct vsg_kube_cache *c, const char *uid)
{
    int n = 0;
    vsg_kube_cache_each_owned(c, uid, count_cb, &n);
    return n;
}

static int count_label(struct vsg_kube_cache *c, const char *k, const char *v)
{
    int n = 0;
    vsg_kube_cache_each_label(c, k, v, count_cb, &n);
    return n;
}

static void test_indexes(void)
{
    struct vsg_kube_cache *c = vsg_kube_cache_new();
    cJSON *old = NULL;
    CHECK_INT(vsg_kube_cache_put(c, obj("{\"metadata\":{\"name\":\"a\",\"namespace\":\"n1\","
                                        "\"resourceVersion\":\"1\",\"labels\":{\"app\":\"x\",\"tier\":\"web\"},"
                                        "\"ownerReferences\":[{\"uid\":\"u1\",\"kind\":\"VSphereSource\","
                                        "\"apiVersion\":\"sources.tanzu.vmware.com/v1alpha1\",\"controller\":true}]}}"),
                                 &old), VSG_OK);
    CHECK(old == NULL);
    CHECK_INT(vsg_kube_cache_put(c, obj("{\"metadata\":{\"name\":\"b\",\"namespace\":\"n1\","
                                        "\"labels\":{\"app\":\"y\"},\"ownerReferences\":[{\"uid\":\"u2\"},"
                                        "{\"uid\":\"u1\",\"controller\":true}]}}"), &old), VSG_OK);
    CHECK_INT(vsg_kube_cache_put(c, obj("{\"metadata\":{\"name\":\"a\",\"namespace\":\"n2\","
                                        "\"labels\":{\"app\":\"x\"}}}"), &old), VSG_OK);
    CHECK_INT(vsg_kube_cache_put(c, obj("{\"metadata\":{\"name\":\"cluster-thing\"}}"), &old), VSG_OK);
    CHECK_INT(vsg_kube_cache_put(c, obj("{\"metadata\":{\"namespace\":\"n1\"}}"), &old), VSG_ERR_INVAL);
    CHECK_INT(vsg_kube_cache_len(c), 4);

    cJSON *g = vsg_kube_cache_get(c, "n1", "a");
    CHECK(g != NULL);
    CHECK_STR(vsg_kube_meta_str(g, "resourceVersion"), "1");
    cJSON_Delete(g);
    CHECK(vsg_kube_cache_get(c, "n3", "a") == NULL);
    g = vsg_kube_cache_get(c, NULL, "cluster-thing");
    CHECK(g != NULL);
    cJSON_Delete(g);
    char *t = vsg_kube_cache_get_text(c, "n2", "a");
    CHECK_STR(t, "{\"metadata\":{\"name\":\"a\",\"namespace\":\"n2\",\"labels\":{\"app\":\"x\"}}}");
    vsg_free(t);

    CHECK_INT(count_owned(c, "u1"), 2);
    CHECK_INT(count_owned(c, "u2"), 0); /* Not the controller reference. */
    CHECK_INT(count_label(c, "app", "x"), 2);
    CHECK_INT(count_each(c, NULL, NULL), 4);
    CHECK_INT(count_each(c, "n1", NULL), 2);
    CHECK_INT(count_each(c, "", NULL), 1);
    CHECK_INT(count_each(c, "n1", "app=x"), 1);
    CHECK_INT(count_each(c, NULL, "app=x,tier"), 1);
    CHECK_INT(count_each(c, NULL, "app in (x, y)"), 3);
    CHECK_INT(count_each(c, NULL, "!app"), 1);

    /* Replacing moves the object between index buckets. */
    CHECK_INT(vsg_kube_cache_put(c, obj("{\"metadata\":{\"name\":\"a\",\"namespace\":\"n1\","
                                        "\"resourceVersion\":\"2\",\"labels\":{\"app\":\"z\"}}}"), &old), VSG_OK);
    CHECK(old != NULL);
    CHECK_STR(vsg_kube_meta_str(old, "resourceVersion"), "1");
    cJSON_Delete(old);
    CHECK_INT(count_owned(c, "u1"), 1);
    CHECK_INT(count_label(c, "app", "x"), 1);
    CHECK_INT(count_label(c, "app", "z"), 1);
    CHECK_INT(count_label(c, "tier", "web"), 0);

    CHECK_INT(vsg_kube_cache_remove(c, "n1/b", &old), VSG_OK);
    CHECK_STR(vsg_kube_meta_str(old, "name"), "b");
    cJSON_Delete(old);
    CHECK_INT(vsg_kube_cache_remove(c, "n1/b", &old), VSG_ERR_NOTFOUND);
    CHECK(old == NULL);
    CHECK_INT(count_owned(c, "u1"), 0);
    CHECK_INT(count_label(c, "app", "y"), 0);

    char **keys;
    size_t n;
    CHECK_INT(vsg_kube_cache_keys(c, &keys, &n), VSG_OK);
    CHECK_INT(n, 3);
    for (size_t i = 0; i < n; i++) vsg_free(keys[i]);
    vsg_free(keys);
    vsg_kube_cache_free(c);
}

static void test_controller_ref(void)
{
    cJSON *o = obj("{\"metadata\":{\"name\":\"d\",\"ownerReferences\":["
                   "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"uid\":\"r\",\"controller\":false},"
                   "{\"apiVersion\":\"sources.tanzu.vmware.com/v1alpha1\",\"kind\":\"VSphereSource\","
                   "\"name\":\"src\",\"uid\":\"s\",\"controller\":true}]}}");
    CHECK(vsg_kube_controller_ref(o, "sources.tanzu.vmware.com", "VSphereSource") != NULL);
    CHECK(vsg_kube_controller_ref(o, NULL, NULL) != NULL);
    CHECK(vsg_kube_controller_ref(o, "apps", NULL) == NULL);
    CHECK(vsg_kube_controller_ref(o, NULL, "ReplicaSet") == NULL);
    CHECK(vsg_kube_controller_ref(o, "", "VSphereSource") == NULL);
    cJSON_Delete(o);
}

static void test_selectors(void)
{
    struct vsg_error e;
    cJSON *o = obj("{\"metadata\":{\"labels\":{\"a\":\"1\",\"b\":\"2\",\"x.io/c\":\"3\"}}}");
    const char *yes[] = {"", "a", "a=1", "a==1", "a!=2", "b in (1,2)", "b notin (1, 3)",
                         "!zz", "x.io/c=3", " a = 1 , b=2 ", "zz!=1", NULL};
    const char *no[] = {"zz", "a=2", "a!=1", "b in (1)", "b notin (2)", "!a", "a=1,b=3", NULL};
    const char *bad[] = {"a=1,", "=1", "a in 1", "a in (1", "a b", ",", NULL};
    for (int i = 0; yes[i]; i++) {
        struct vsg_kube_selector *s = vsg_kube_selector_parse(yes[i], &e);
        CHECK(s != NULL);
        if (!vsg_kube_selector_match(s, o)) CHECK_STR(yes[i], "(should match)");
        vsg_kube_selector_free(s);
    }
    for (int i = 0; no[i]; i++) {
        struct vsg_kube_selector *s = vsg_kube_selector_parse(no[i], &e);
        CHECK(s != NULL);
        if (vsg_kube_selector_match(s, o)) CHECK_STR(no[i], "(should not match)");
        vsg_kube_selector_free(s);
    }
    for (int i = 0; bad[i]; i++) {
        struct vsg_kube_selector *s = vsg_kube_selector_parse(bad[i], &e);
        if (s) CHECK_STR(bad[i], "(should be rejected)");
        CHECK_INT(e.code, VSG_ERR_PARSE);
    }
    cJSON_Delete(o);
}

static void test_strmap(void)
{
    struct vsg__strmap m;
    char k[32];
    vsg__strmap_init(&m);
    for (intptr_t i = 1; i <= 5000; i++) {
        snprintf(k, sizeof k, "key-%ld", (long)i);
        CHECK_INT(vsg__strmap_put(&m, k, (void *)i, NULL), VSG_OK);
    }
    CHECK_INT(m.len, 5000);
    for (intptr_t i = 1; i <= 5000; i += 2) {
        snprintf(k, sizeof k, "key-%ld", (long)i);
        CHECK((intptr_t)vsg__strmap_del(&m, k) == i);
    }
    CHECK_INT(m.len, 2500);
    for (intptr_t i = 1; i <= 5000; i++) {
        snprintf(k, sizeof k, "key-%ld", (long)i);
        CHECK_INT(vsg__strmap_has(&m, k), i % 2 == 0);
        if (i % 2 == 0) CHECK((intptr_t)vsg__strmap_get(&m, k) == i);
    }
    void *old;
    CHECK_INT(vsg__strmap_put(&m, "key-2", (void *)7, &old), VSG_OK);
    CHECK((intptr_t)old == 2);
    size_t live = 0;
    for (size_t i = 0; i < m.cap; i++) live += m.slots[i].key != NULL;
    CHECK_INT(live, 2500);
    vsg__strmap_cleanup(&m, NULL);
}

/* ---- watch parser ---- */

struct seen {
    int n;                  /* Events. */
    char types[16][16];     /* Their types. */
    char names[16][64];     /* metadata.name or resourceVersion. */
    int codes[16];          /* Status code for ERROR. */
    int stop_at;            /* Return nonzero at this event (1-based), 0: never. */
};

static int on_ev(void *ud, enum vsg_kube_watch_type t, cJSON **o)
{
    struct seen *s = ud;
    if (s->n < 16) {
        snprintf(s->types[s->n], 16, "%s", vsg_kube_watch_type_name(t));
        const char *nm = vsg_kube_meta_str(*o, "name");
        if (!nm) nm = vsg_kube_meta_str(*o, "resourceVersion");
        snprintf(s->names[s->n], 64, "%s", nm ? nm : "");
        s->codes[s->n] = t == VSG_KUBE_WATCH_ERROR ? vsg_kube_watch_status(*o) : 0;
        if (s->n == 0) {
            /* Take the object: the parser must not free it then. */
            cJSON *mine = *o;
            *o = NULL;
            cJSON_Delete(mine);
        }
    }
    s->n++;
    return s->stop_at && s->n == s->stop_at;
}

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"6\"},\"data\":{\"k\":\"line\\nbreak\"}}}\r\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":{\"resourceVersion\":\"9\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"10\"}}}\n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
    "\"message\":\"too old resource version: 1 (5)\",\"reason\":\"Expired\",\"code\":410}}\n";

static void check_stream(const struct seen *s)
{
    CHECK_INT(s->n, 5);
    CHECK_STR(s->types[0], "ADDED");
    CHECK_STR(s->names[0], "a");
    CHECK_STR(s->types[1], "MODIFIED");
    CHECK_STR(s->types[2], "BOOKMARK");
    CHECK_STR(s->names[2], "9");
    CHECK_STR(s->types[3], "DELETED");
    CHECK_STR(s->types[4], "ERROR");
    CHECK_INT(s->codes[4], 410);
}

static void test_watch_chunks(void)
{
    size_t len = sizeof stream - 1;
    /* Whole, then split at every byte, then one byte at a time. */
    for (size_t cut = 0; cut <= len; cut++) {
        struct vsg_kube_watch_parser p;
        struct seen s = {0};
        vsg_kube_watch_parser_init(&p, 0, on_ev, &s);
        CHECK_INT(vsg_kube_watch_parser_feed(&p, stream, cut), VSG_OK);
        CHECK_INT(vsg_kube_watch_parser_feed(&p, stream + cut, len - cut), VSG_OK);
        CHECK_INT(vsg_kube_watch_parser_pending(&p), 0);
        check_stream(&s);
        vsg_kube_watch_parser_cleanup(&p);
    }
    struct vsg_kube_watch_parser p;
    struct seen s = {0};
    vsg_kube_watch_parser_init(&p, 0, on_ev, &s);
    for (size_t i = 0; i < len; i++) CHECK_INT(vsg_kube_watch_parser_feed(&p, stream + i, 1), VSG_OK);
    check_stream(&s);
    /* A partial line stays pending. */
    CHECK_INT(vsg_kube_watch_parser_feed(&p, "{\"type\":\"ADD", 12), VSG_OK);
    CHECK_INT(vsg_kube_watch_parser_pending(&p), 12);
    vsg_kube_watch_parser_cleanup(&p);
}

static void test_watch_errors(void)
{
    struct vsg_kube_watch_parser p;
    struct seen s = {0};
    vsg_kube_watch_parser_init(&p, 0, on_ev, &s);
    CHECK_INT(vsg_kube_watch_parser_feed(&p, "not json\n", 9), VSG_ERR_PARSE);
    vsg_kube_watch_parser_cleanup(&p);

    /* A bad line in a chunk that has no NUL: the message quotes only the
     * line, not the bytes after it (the chunk is not a C string). */
    {
        char *chunk = malloc(12);
        CHECK(chunk != NULL);
        memcpy(chunk, "bad\nrest-no", 12);
        vsg_kube_watch_parser_init(&p, 0, on_ev, &s);
        CHECK_INT(vsg_kube_watch_parser_feed(&p, chunk, 12), VSG_ERR_PARSE);
        CHECK(strstr(p.err.msg, "bad") != NULL);
        CHECK(strstr(p.err.msg, "rest") == NULL);
        vsg_kube_watch_parser_cleanup(&p);
        free(chunk);
    }

    vsg_kube_watch_parser_init(&p, 0, on_ev, &s);
    const char *u = "{\"type\":\"WHAT\",\"object\":{}}\n";
    CHECK_INT(vsg_kube_watch_parser_feed(&p, u, strlen(u)), VSG_ERR_PARSE);
    vsg_kube_watch_parser_cleanup(&p);

    vsg_kube_watch_parser_init(&p, 0, on_ev, &s);
    const char *no = "{\"type\":\"ADDED\"}\n";
    CHECK_INT(vsg_kube_watch_parser_feed(&p, no, strlen(no)), VSG_ERR_PARSE);
    vsg_kube_watch_parser_cleanup(&p);

    vsg_kube_watch_parser_init(&p, 64, on_ev, &s);
    char big[200];
    memset(big, 'x', sizeof big);
    CHECK_INT(vsg_kube_watch_parser_feed(&p, big, sizeof big), VSG_ERR_TOOBIG);
    vsg_kube_watch_parser_cleanup(&p);

    /* The callback stops the stream. */
    struct seen s2 = {0};
    s2.stop_at = 2;
    vsg_kube_watch_parser_init(&p, 0, on_ev, &s2);
    CHECK_INT(vsg_kube_watch_parser_feed(&p, stream, sizeof stream - 1), VSG_ERR_CANCELLED);
    CHECK_INT(s2.n, 2);
    vsg_kube_watch_parser_cleanup(&p);
}

TEST_LIST = {
    {"indexes", test_indexes},
    {"controller_ref", test_controller_ref},
    {"selectors", test_selectors},
    {"strmap", test_strmap},
    {"watch_chunks", test_watch_chunks},
    {"watch_errors", test_watch_errors},
    {NULL, NULL},
};
TEST_MAIN()

/*
 * test_whrules.c - unit tests for webhook/whrules.h: the binding webhook's
 * rules follow the kinds the bindings target (the base rules always, here
 * a fixture shaped like the built-in PodSpecable kinds, whose real list is
 * lua/lib/podspecable.lua and is checked by spec/lua and spec/tools;
 * others added and dropped with their bindings), resource names
 * come from the resolver, unresolvable and cluster-scoped kinds are left
 * out and counted, the output is the same whatever the order of the
 * bindings, and out-of-memory is reported, never half a result.
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "webhook/whrules.h"

/* What the fake discovery knows. */
static const struct {
    const char *av, *kind, *resource;
    int namespaced;
} served[] = {
    {"apps/v1", "Deployment", "deployments", 1},
    {"batch/v1", "Job", "jobs", 1},
    {"example.com/v1", "Widget", "widgets", 1},
    {"example.com/v1", "Mouse", "mice", 1},
    {"example.com/v2", "Widget", "widgets", 1},
    {"other.io/v1beta1", "Gadget", "gadgets", 1},
    {"example.com/v1", "ClusterWidget", "clusterwidgets", 0},
    {"v1", "ReplicationController", "replicationcontrollers", 1},
};

static int calls;

static enum vsg_err resolve(void *ud, const char *av, const char *kind, struct vsg_kube_resource *out,
                            struct vsg_error *err)
{
    (void)ud;
    calls++;
    for (size_t i = 0; i < sizeof served / sizeof served[0]; i++)
        if (strcmp(served[i].av, av) == 0 && strcmp(served[i].kind, kind) == 0) {
            snprintf(out->resource, sizeof out->resource, "%s", served[i].resource);
            out->namespaced = served[i].namespaced;
            return VSG_OK;
        }
    return vsg_error_set(err, VSG_ERR_NOTFOUND, "the server does not serve kind %s of %s", kind, av);
}

/* A JSON array of bindings, one per "apiVersion|kind" argument. */
static cJSON *bindings(const char *const *subjects, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        char av[128], json[512];
        const char *bar = strchr(subjects[i], '|');
        snprintf(av, sizeof av, "%.*s", (int)(bar - subjects[i]), subjects[i]);
        snprintf(json, sizeof json,
                 "{\"apiVersion\":\"sources.tanzu.vmware.com/v1alpha1\",\"kind\":\"VSphereBinding\","
                 "\"metadata\":{\"name\":\"b%zu\",\"namespace\":\"ns\"},\"spec\":{\"subject\":"
                 "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"name\":\"x\"}}}",
                 i, av, bar + 1);
        cJSON_AddItemToArray(a, cJSON_Parse(json));
    }
    return a;
}

#define OPS "\"operations\":[\"CREATE\",\"UPDATE\"]"
#define SCOPE "\"scope\":\"Namespaced\""
#define R_APPS "{\"apiGroups\":[\"apps\"],\"apiVersions\":[\"v1\"]," OPS \
               ",\"resources\":[\"daemonsets\",\"deployments\",\"replicasets\",\"statefulsets\"]," SCOPE "}"
#define R_BATCH "{\"apiGroups\":[\"batch\"],\"apiVersions\":[\"v1\"]," OPS ",\"resources\":[\"jobs\"]," SCOPE "}"
#define R_KSVC "{\"apiGroups\":[\"serving.knative.dev\"],\"apiVersions\":[\"v1\"]," OPS \
               ",\"resources\":[\"configurations\",\"services\"]," SCOPE "}"

/* The base rules the tests merge into (parsed once). */
static cJSON *base_rules;

static void free_base(void)
{
    cJSON_Delete(base_rules);
}

static cJSON *base(void)
{
    if (!base_rules) {
        base_rules = cJSON_Parse("[" R_APPS "," R_BATCH "," R_KSVC "]");
        atexit(free_base);
    }
    CHECK(base_rules != NULL);
    return base_rules;
}

/* The rules as compact text. */
static char *rules_text(const char *const *subjects, size_t n, size_t *skipped, struct vsg_error *why)
{
    cJSON *b = bindings(subjects, n);
    cJSON *r = vsg_whrules_build(base(), b, resolve, NULL, skipped, why);
    CHECK(r != NULL);
    char *t = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    cJSON_Delete(b);
    return t;
}

static void test_builtin_only(void)
{
    size_t skipped = 99;
    struct vsg_error why;
    char *t = rules_text(NULL, 0, &skipped, &why);
    CHECK_STR(t, "[" R_APPS "," R_BATCH "," R_KSVC "]");
    CHECK_INT(skipped, 0);
    cJSON_free(t);
    /* NULL bindings is the same. */
    cJSON *r = vsg_whrules_build(base(), NULL, resolve, NULL, NULL, NULL);
    CHECK(r != NULL);
    t = cJSON_PrintUnformatted(r);
    CHECK_STR(t, "[" R_APPS "," R_BATCH "," R_KSVC "]");
    cJSON_free(t);
    cJSON_Delete(r);
}

static void test_builtin_kinds_add_nothing(void)
{
    static const char *const s[] = {"apps/v1|Deployment", "batch/v1|Job", "apps/v1|Deployment"};
    char *t = rules_text(s, 3, NULL, NULL);
    CHECK_STR(t, "[" R_APPS "," R_BATCH "," R_KSVC "]");
    cJSON_free(t);
}

static void test_crd_kinds_added(void)
{
    static const char *const s[] = {"example.com/v1|Widget", "example.com/v1|Mouse",
                                    "example.com/v1|Widget", "other.io/v1beta1|Gadget",
                                    "example.com/v2|Widget", "v1|ReplicationController"};
    size_t skipped = 99;
    calls = 0;
    char *t = rules_text(s, 6, &skipped, NULL);
    /* Sorted by group then version; the core group is "". */
    CHECK_STR(t, "[{\"apiGroups\":[\"\"],\"apiVersions\":[\"v1\"]," OPS
                 ",\"resources\":[\"replicationcontrollers\"]," SCOPE "},"
                 R_APPS "," R_BATCH ","
                 "{\"apiGroups\":[\"example.com\"],\"apiVersions\":[\"v1\"]," OPS
                 ",\"resources\":[\"mice\",\"widgets\"]," SCOPE "},"
                 "{\"apiGroups\":[\"example.com\"],\"apiVersions\":[\"v2\"]," OPS
                 ",\"resources\":[\"widgets\"]," SCOPE "},"
                 "{\"apiGroups\":[\"other.io\"],\"apiVersions\":[\"v1beta1\"]," OPS
                 ",\"resources\":[\"gadgets\"]," SCOPE "},"
                 R_KSVC "]");
    CHECK_INT(skipped, 0);
    CHECK_INT(calls, 5); /* Each distinct kind resolved once. */
    cJSON_free(t);
}

static void test_order_does_not_matter(void)
{
    static const char *const a[] = {"example.com/v1|Widget", "other.io/v1beta1|Gadget", "apps/v1|Deployment"};
    static const char *const b[] = {"apps/v1|Deployment", "other.io/v1beta1|Gadget", "example.com/v1|Widget"};
    char *ta = rules_text(a, 3, NULL, NULL), *tb = rules_text(b, 3, NULL, NULL);
    CHECK_STR(ta, tb);
    cJSON_free(ta);
    cJSON_free(tb);
}

static void test_removed_with_the_binding(void)
{
    static const char *const with[] = {"example.com/v1|Widget", "apps/v1|Deployment"};
    char *t1 = rules_text(with, 2, NULL, NULL), *t2 = rules_text(with + 1, 1, NULL, NULL);
    CHECK(strstr(t1, "widgets") != NULL);
    CHECK(strstr(t2, "widgets") == NULL);
    CHECK_STR(t2, "[" R_APPS "," R_BATCH "," R_KSVC "]");
    cJSON_free(t1);
    cJSON_free(t2);
}

static void test_unresolved_and_cluster_scoped_left_out(void)
{
    static const char *const s[] = {"example.com/v1|Nothing", "example.com/v1|ClusterWidget",
                                    "example.com/v1|Nothing", "example.com/v1|Widget"};
    size_t skipped = 0;
    struct vsg_error why;
    char *t = rules_text(s, 4, &skipped, &why);
    CHECK(strstr(t, "widgets") != NULL);
    CHECK(strstr(t, "clusterwidgets") == NULL);
    CHECK(strstr(t, "Nothing") == NULL);
    CHECK_INT(skipped, 2);
    CHECK_INT(why.code, VSG_ERR_NOTFOUND);
    CHECK(strstr(why.msg, "Nothing") != NULL);
    cJSON_free(t);
}

static void test_invalid_subjects_ignored(void)
{
    cJSON *b = cJSON_Parse("[{\"spec\":{}},{\"spec\":{\"subject\":{\"kind\":\"Widget\"}}},"
                           "{\"spec\":{\"subject\":{\"apiVersion\":\"example.com/\",\"kind\":\"Widget\"}}},"
                           "{\"spec\":{\"subject\":{\"apiVersion\":7,\"kind\":\"Widget\"}}},"
                           "{\"metadata\":{}}, 3, null]");
    size_t skipped = 0;
    struct vsg_error why;
    cJSON *r = vsg_whrules_build(base(), b, resolve, NULL, &skipped, &why);
    CHECK(r != NULL);
    char *t = cJSON_PrintUnformatted(r);
    CHECK_STR(t, "[" R_APPS "," R_BATCH "," R_KSVC "]");
    CHECK_INT(skipped, 1); /* "example.com/" has no version. */
    CHECK_INT(why.code, VSG_ERR_INVAL);
    cJSON_free(t);
    cJSON_Delete(r);
    cJSON_Delete(b);
}

static void test_out_of_memory(void)
{
    static const char *const s[] = {"example.com/v1|Widget", "other.io/v1beta1|Gadget",
                                    "example.com/v1|Mouse"};
    cJSON *b = bindings(s, 3);
    int ok_seen = 0;
    for (long n = 0; n < 400 && !ok_seen; n++) {
        vsg_mem_fail_after(n);
        cJSON *r = vsg_whrules_build(base(), b, resolve, NULL, NULL, NULL);
        vsg_mem_fail_after(-1);
        if (r) {
            char *t = cJSON_PrintUnformatted(r);
            CHECK(strstr(t, "gadgets") && strstr(t, "mice") && strstr(t, "widgets"));
            cJSON_free(t);
            ok_seen = 1;
        }
        cJSON_Delete(r);
    }
    CHECK(ok_seen);
    cJSON_Delete(b);
}

TEST_LIST = {
    {"builtin_only", test_builtin_only},
    {"builtin_kinds_add_nothing", test_builtin_kinds_add_nothing},
    {"crd_kinds_added", test_crd_kinds_added},
    {"order_does_not_matter", test_order_does_not_matter},
    {"removed_with_the_binding", test_removed_with_the_binding},
    {"unresolved_and_cluster_scoped_left_out", test_unresolved_and_cluster_scoped_left_out},
    {"invalid_subjects_ignored", test_invalid_subjects_ignored},
    {"out_of_memory", test_out_of_memory},
    {NULL, NULL},
};

TEST_MAIN()

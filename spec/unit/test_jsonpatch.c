/*
 * test_jsonpatch.c - unit tests for webhook/jsonpatch.h (the admission
 * webhook's JSON Patch) and webhook/certs.h: applying the diff of two documents
 * to the first gives the second, on hand-made and random pairs; pointer
 * escaping; certificates generated, checked and rejected.
 */
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "webhook/certs.h"
#include "webhook/jsonpatch.h"
#include "webhook/webhook.h"

/* diff(a, b) applied to a equals b; returns the number of ops. */
static int roundtrip(const char *a_text, const char *b_text)
{
    cJSON *a = cJSON_Parse(a_text), *b = cJSON_Parse(b_text);
    CHECK(a && b);
    cJSON *ops = vsg_jsonpatch_diff(a, b);
    CHECK(ops != NULL);
    int n = cJSON_GetArraySize(ops);
    CHECK_INT(vsg_jsonpatch_apply(&a, ops), VSG_OK);
    if (!cJSON_Compare(a, b, 1)) {
        char *t = cJSON_PrintUnformatted(ops);
        fprintf(stderr, "patch %s did not turn %s into %s\n", t, a_text, b_text);
        cJSON_free(t);
        CHECK(0);
    }
    cJSON_Delete(ops);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return n;
}

static void test_equal_is_empty(void)
{
    CHECK_INT(roundtrip("{\"a\":[1,2,{\"b\":null}],\"c\":true}", "{\"c\":true,\"a\":[1,2,{\"b\":null}]}"), 0);
    CHECK_INT(roundtrip("[]", "[]"), 0);
    CHECK_INT(roundtrip("1", "1.0"), 0);
}

static void test_hand_made(void)
{
    CHECK_INT(roundtrip("{\"a\":1}", "{\"a\":2}"), 1);
    CHECK_INT(roundtrip("{\"a\":1}", "{}"), 1);
    CHECK_INT(roundtrip("{}", "{\"a\":{\"b\":[1]}}"), 1);
    CHECK_INT(roundtrip("{\"a\":[1,2]}", "{\"a\":[1,2,3]}"), 1);
    CHECK_INT(roundtrip("{\"a\":[1,2]}", "{\"a\":[1,3]}"), 1);
    CHECK_INT(roundtrip("{\"a\":\"x\"}", "{\"a\":{\"x\":1}}"), 1);
    CHECK_INT(roundtrip("{\"a\":true}", "{\"a\":false}"), 1);
    CHECK_INT(roundtrip("{\"a\":null}", "{\"a\":0}"), 1);
    CHECK_INT(roundtrip("[1]", "{\"0\":1}"), 1);
    roundtrip("{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\",\"env\":[{\"name\":\"X\"}]}]}}}}",
              "{\"spec\":{\"template\":{\"spec\":{\"volumes\":[{\"name\":\"vsphere-binding\"}],\"containers\":[{\"name\":\"a\",\"env\":[{\"name\":\"VC_URL\",\"value\":\"u\"}]},{\"name\":\"b\",\"env\":[{\"name\":\"X\"},{\"name\":\"VC_URL\"}]}]}}}}");
}

static void test_pointer_escaping(void)
{
    cJSON *a = cJSON_Parse("{\"metadata\":{\"labels\":{}}}");
    cJSON *b = cJSON_Parse("{\"metadata\":{\"labels\":{\"bindings.knative.dev/include\":\"true\",\"a~b\":\"1\"}}}");
    cJSON *ops = vsg_jsonpatch_diff(a, b);
    char *t = cJSON_PrintUnformatted(ops);
    CHECK(strstr(t, "\"/metadata/labels/bindings.knative.dev~1include\"") != NULL);
    CHECK(strstr(t, "\"/metadata/labels/a~0b\"") != NULL);
    CHECK_INT(vsg_jsonpatch_apply(&a, ops), VSG_OK);
    CHECK(cJSON_Compare(a, b, 1));
    cJSON_free(t);
    cJSON_Delete(ops);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/* A random JSON value of bounded depth; keys from a small alphabet (with
 * '/' and '~') so that pairs share structure. */
static cJSON *rnd(unsigned *seed, int depth)
{
    static const char *const keys[] = {"a", "b", "c/d", "e~f", "~1", "/", "g"};
    int k = rand_r(seed) % (depth > 0 ? 7 : 4);
    switch (k) {
    case 0: return cJSON_CreateNumber(rand_r(seed) % 5);
    case 1: return cJSON_CreateString(keys[rand_r(seed) % 7]);
    case 2: return cJSON_CreateBool(rand_r(seed) % 2);
    case 3: return cJSON_CreateNull();
    case 4:
    case 5: {
        cJSON *o = cJSON_CreateObject();
        int n = rand_r(seed) % 4;
        for (int i = 0; i < n; i++) {
            const char *key = keys[rand_r(seed) % 7];
            if (cJSON_GetObjectItemCaseSensitive(o, key)) continue;
            cJSON_AddItemToObject(o, key, rnd(seed, depth - 1));
        }
        return o;
    }
    default: {
        cJSON *arr = cJSON_CreateArray();
        int n = rand_r(seed) % 4;
        for (int i = 0; i < n; i++) cJSON_AddItemToArray(arr, rnd(seed, depth - 1));
        return arr;
    }
    }
}

/* Mutates a copy a little, so pairs are close (the interesting case). */
static void mutate(unsigned *seed, cJSON *v, int depth)
{
    cJSON *it;
    if (!(cJSON_IsObject(v) || cJSON_IsArray(v))) return;
    int i = 0;
    cJSON_ArrayForEach(it, v) {
        int r = rand_r(seed) % 6;
        if (r == 0) {
            cJSON *n = rnd(seed, depth);
            if (cJSON_IsObject(v)) cJSON_ReplaceItemInObjectCaseSensitive(v, it->string, n);
            else cJSON_ReplaceItemInArray(v, i, n);
            break;
        }
        if (r == 1) mutate(seed, it, depth - 1);
        i++;
    }
    if (rand_r(seed) % 4 == 0) {
        if (cJSON_IsArray(v)) cJSON_AddItemToArray(v, rnd(seed, depth));
        else if (!cJSON_GetObjectItemCaseSensitive(v, "new")) cJSON_AddItemToObject(v, "new", rnd(seed, depth));
    }
}

static void test_random_pairs(void)
{
    unsigned seed = 12345;
    for (int i = 0; i < 3000; i++) {
        cJSON *a = rnd(&seed, 4);
        cJSON *b = rand_r(&seed) % 3 ? cJSON_Duplicate(a, 1) : rnd(&seed, 4);
        mutate(&seed, b, 3);
        char *ta = cJSON_PrintUnformatted(a), *tb = cJSON_PrintUnformatted(b);
        roundtrip(ta, tb);
        cJSON_free(ta);
        cJSON_free(tb);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
}

static void test_certs(void)
{
    static const char *const dns[] = {"vsphere-source-webhook", "vsphere-source-webhook.vmware-sources.svc",
                                      "localhost"};
    static const char *const ips[] = {"127.0.0.1"};
    struct vsg_certs_names n = {"vsphere-source-webhook.vmware-sources.svc", dns, 3, ips, 1};
    struct vsg_certs c, other;
    struct vsg_error err;
    int64_t at = 0, now = (int64_t)time(NULL);
    CHECK_INT(vsg_certs_generate(&n, 3600, &c, &err), VSG_OK);
    CHECK(strstr(c.key_pem, "BEGIN PRIVATE KEY") != NULL);
    CHECK_INT(vsg_certs_check(&c, &n, now, &at, &err), VSG_OK);
    CHECK(at > now + 2300 && at < now + 2500);
    /* Less than a third left: rotate. */
    CHECK_INT(vsg_certs_check(&c, &n, now + 2500, NULL, &err), VSG_ERR_TIMEOUT);
    CHECK_INT(vsg_certs_check(&c, &n, now + 4000, NULL, &err), VSG_ERR_TIMEOUT);
    /* now 0: the lifetime is not checked (replicas that only read the
     * Secret serve a set due for rotation until it expires). */
    CHECK_INT(vsg_certs_check(&c, &n, 0, NULL, &err), VSG_OK);
    int64_t exp = vsg_certs_expiry(&c);
    CHECK(exp >= now + 3599 && exp <= now + 3601);
    /* A name it does not carry. */
    static const char *const more[] = {"elsewhere.example"};
    struct vsg_certs_names n2 = {"x", more, 1, NULL, 0};
    CHECK_INT(vsg_certs_check(&c, &n2, now, NULL, &err), VSG_ERR_INVAL);
    /* A key of another set. */
    CHECK_INT(vsg_certs_generate(&n, 3600, &other, &err), VSG_OK);
    char *k = c.key_pem;
    c.key_pem = other.key_pem;
    CHECK_INT(vsg_certs_check(&c, &n, now, NULL, &err), VSG_ERR_TLS);
    c.key_pem = k;
    char *ca = c.ca_pem;
    c.ca_pem = other.ca_pem;
    CHECK_INT(vsg_certs_check(&c, &n, now, NULL, &err), VSG_ERR_TLS);
    c.ca_pem = ca;
    vsg_certs_cleanup(&other);
    /* Base64 both ways. */
    char *b64 = vsg_base64_encode(c.ca_pem, strlen(c.ca_pem));
    size_t len = 0;
    char *back = vsg_base64_decode(b64, &len);
    CHECK(back && len == strlen(c.ca_pem) && strcmp(back, c.ca_pem) == 0);
    vsg_free(b64);
    vsg_free(back);
    CHECK(vsg_base64_decode("abc", NULL) == NULL);
    vsg_certs_cleanup(&c);
    memset(&c, 0, sizeof c);
    CHECK_INT(vsg_certs_check(&c, &n, now, NULL, &err), VSG_ERR_TLS);
    CHECK_INT(vsg_certs_check(&c, &n, 0, NULL, &err), VSG_ERR_TLS);
    CHECK_INT(vsg_certs_expiry(&c), 0);
}

/* The webhooks' reading of an AdmissionReview (webhook/webhook_review.c). */
static void test_review_decode(void)
{
    static const char ok[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u\",\"operation\":"
        "\"UPDATE\",\"name\":\"n\",\"namespace\":\"ns\",\"object\":{\"a\":1},"
        "\"oldObject\":[],\"dryRun\":true}}";
    static const char beta[] = "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"request\":{\"uid\":\"u\"}}";
    struct vsg_webhook_review r;

    CHECK_INT(vsg_webhook_review_decode(ok, sizeof ok - 1, 1, &r), VSG_OK);
    CHECK_STR(r.uid, "u");
    CHECK_STR(r.operation, "UPDATE");
    CHECK_STR(r.name, "n");
    CHECK_STR(r.ns, "ns");
    CHECK(cJSON_IsObject(r.object) && r.old == NULL && r.dry_run == 1);
    vsg_webhook_review_cleanup(&r);
    /* v1 only for the admission routes; the uninstall route needs a uid. */
    CHECK_INT(vsg_webhook_review_decode(beta, sizeof beta - 1, 1, &r), VSG_ERR_PARSE);
    CHECK(r.root == NULL);
    CHECK_INT(vsg_webhook_review_decode(beta, sizeof beta - 1, 0, &r), VSG_OK);
    vsg_webhook_review_cleanup(&r);
    CHECK_INT(vsg_webhook_review_decode("{\"request\":{}}", 14, 0, &r), VSG_ERR_PARSE);
    CHECK_INT(vsg_webhook_review_decode("{", 1, 0, &r), VSG_ERR_PARSE);
    /* A number beyond a double's range (cJSON: infinity, written back as
     * null, so a patch would change it): refused, as Go's encoding/json
     * refuses it. Found by fuzz_admission_review. */
    static const char huge[] =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{\"uid\":\"u\",\"object\":"
        "{\"spec\":{\"checkpoint\":{\"maxAgeSeconds\":1.5e888}}}}}";
    CHECK_INT(vsg_webhook_review_decode(huge, sizeof huge - 1, 1, &r), VSG_ERR_PARSE);
    CHECK(r.root == NULL);
    /* Out of memory is not a bad request. */
    int nomem = 0, done = 0;
    for (long n = 0; n < 200 && !done; n++) {
        vsg_mem_fail_after(n);
        enum vsg_err rc = vsg_webhook_review_decode(ok, sizeof ok - 1, 1, &r);
        vsg_mem_fail_after(-1);
        CHECK(rc == VSG_OK || rc == VSG_ERR_NOMEM);
        nomem += rc == VSG_ERR_NOMEM;
        done = rc == VSG_OK;
        vsg_webhook_review_cleanup(&r);
    }
    CHECK(done && nomem > 0);
}

TEST_LIST = {
    {"equal_is_empty", test_equal_is_empty},
    {"hand_made", test_hand_made},
    {"pointer_escaping", test_pointer_escaping},
    {"random_pairs", test_random_pairs},
    {"certs", test_certs},
    {"review_decode", test_review_decode},
    {NULL, NULL},
};

TEST_MAIN()

/*
 * test_kube_client.c - unit tests for kube/client.h against a scripted local
 * HTTP server: requests as sent (method, path, headers, body), Status
 * errors and reasons, token file rotation, paths, Events; and the
 * ConfigMap checkpoint store's init/load/save including 409 retries.
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "checkpoint/configmap_store.h"
#include "http/client.h"
#include "kube/client.h"
#include "kube/discovery.h"
#include "test_kube_fake.h"

/* A client for the fake server with `token` (may be NULL). */
static struct vsg_kube_client *fake_client(const char *token)
{
    struct vsg_kube_config cfg = {0};
    struct vsg_error e;
    cfg.server = fake.url;
    cfg.ns = "team-a";
    cfg.token = (char *)token;
    struct vsg_kube_client *c = vsg_kube_client_new(&cfg, &e);
    if (!c) fprintf(stderr, "  client: %s\n", e.msg);
    return c;
}

#define LONG64 "core.PodTemplateSpec{ObjectMeta:v1.ObjectMeta{Name:\\\"\\\", Labels:{}}} "
#define ST(code, reason, msg)                                                         \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\"," \
    "\"message\":\"" msg "\",\"reason\":\"" reason "\",\"code\":" #code "}"

/* ---- requests ----------------------------------------------------------- */

static void test_get_and_headers(void)
{
    struct vsg_kube_client *c = fake_client("tok-123");
    struct vsg_error e;
    cJSON *out = NULL;
    CHECK(c != NULL);
    fake_reset();
    fake_push(200, "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\"},\"data\":{\"a\":\"b\"}}");
    CHECK_INT(vsg_kube_configmap_get(c, "team-a", "cm", &out, &e), VSG_OK);
    CHECK(out != NULL);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "data"), "a")->valuestring, "b");
    CHECK_INT(fake.nreqs, 1);
    CHECK_STR(fake.reqs[0].method, "GET");
    CHECK_STR(fake.reqs[0].target, "/api/v1/namespaces/team-a/configmaps/cm");
    CHECK(fake_has_header(0, "Authorization: Bearer tok-123"));
    CHECK(fake_has_header(0, "Accept: application/json"));
    CHECK(fake.reqs[0].body == NULL);
    CHECK_INT(vsg_kube_last_status(c), 200);
    CHECK_STR(vsg_kube_last_reason(c), "");
    CHECK_STR(vsg_kube_client_namespace(c), "team-a");
    cJSON_Delete(out);

    /* No token: no Authorization header. */
    vsg_kube_client_free(c);
    c = fake_client(NULL);
    fake_reset();
    fake_push(200, "{}");
    CHECK_INT(vsg_kube_get(c, "/version", NULL, &e), VSG_OK);
    CHECK(strstr(fake.reqs[0].headers, "Authorization") == NULL);
    vsg_kube_client_free(c);
}

static void test_bodies_and_content_types(void)
{
    struct vsg_kube_client *c = fake_client(NULL);
    struct vsg_error e;
    cJSON *out = NULL;
    fake_reset();
    /* Create: apiVersion/kind added, POST to the collection. */
    cJSON *cm = cJSON_Parse("{\"metadata\":{\"name\":\"x\"},\"data\":{\"k\":\"v\"}}");
    fake_push(201, "{\"metadata\":{\"name\":\"x\",\"resourceVersion\":\"7\"}}");
    CHECK_INT(vsg_kube_configmap_create(c, "ns1", cm, &out, &e), VSG_OK);
    CHECK_STR(fake.reqs[0].method, "POST");
    CHECK_STR(fake.reqs[0].target, "/api/v1/namespaces/ns1/configmaps");
    CHECK(fake_has_header(0, "Content-Type: application/json"));
    CHECK_STR(fake.reqs[0].body, "{\"metadata\":{\"name\":\"x\"},\"data\":{\"k\":\"v\"},"
                                 "\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(out, "metadata"), "resourceVersion")->valuestring,
              "7");
    cJSON_Delete(out);

    /* Update: PUT to the named object. */
    fake_push(200, "{}");
    CHECK_INT(vsg_kube_configmap_update(c, "ns1", cm, NULL, &e), VSG_OK);
    CHECK_STR(fake.reqs[1].method, "PUT");
    CHECK_STR(fake.reqs[1].target, "/api/v1/namespaces/ns1/configmaps/x");
    cJSON_Delete(cm);

    /* Merge and JSON patches carry their content types. */
    fake_push(200, "{}");
    CHECK_INT(vsg_kube_patch(c, "/apis/apps/v1/namespaces/n/deployments/d", VSG_KUBE_CT_MERGE_PATCH,
                             "{\"spec\":{\"replicas\":1}}", NULL, &e),
              VSG_OK);
    CHECK_STR(fake.reqs[2].method, "PATCH");
    CHECK(fake_has_header(2, "Content-Type: application/merge-patch+json"));
    CHECK_STR(fake.reqs[2].body, "{\"spec\":{\"replicas\":1}}");
    fake_push(200, "{}");
    CHECK_INT(vsg_kube_patch(c, "/x", VSG_KUBE_CT_JSON_PATCH, "[]", NULL, &e), VSG_OK);
    CHECK(fake_has_header(3, "Content-Type: application/json-patch+json"));

    /* DELETE; an update without a name is refused locally. */
    fake_push(200, "{\"kind\":\"Status\",\"status\":\"Success\"}");
    CHECK_INT(vsg_kube_delete(c, "/api/v1/namespaces/n", &e), VSG_OK);
    CHECK_STR(fake.reqs[4].method, "DELETE");
    cJSON *noname = cJSON_Parse("{\"metadata\":{}}");
    CHECK_INT(vsg_kube_configmap_update(c, "ns1", noname, NULL, &e), VSG_ERR_INVAL);
    cJSON_Delete(noname);
    CHECK_INT(fake.nreqs, 5);

    /* A 2xx body that is not JSON. */
    fake_push(200, "<html>");
    CHECK_INT(vsg_kube_get(c, "/x", &out, &e), VSG_ERR_PARSE);
    CHECK(out == NULL);
    /* A relative path is refused. */
    CHECK_INT(vsg_kube_get(c, "x", &out, &e), VSG_ERR_INVAL);
    vsg_kube_client_free(c);
}

/* One row of the status mapping table. */
struct status_row {
    int status;          /* HTTP status the server answers. */
    const char *body;    /* Its body. */
    enum vsg_err want;   /* Expected error. */
    const char *reason;  /* Expected last reason. */
    const char *needle;  /* Expected in the message. */
};

static void test_status_errors(void)
{
    static const struct status_row rows[] = {
        {404, ST(404, "NotFound", "configmaps \\\"cm\\\" not found"), VSG_ERR_NOTFOUND, "NotFound",
         "GET /p: 404 NotFound: configmaps \"cm\" not found"},
        {409, ST(409, "AlreadyExists", "configmaps \\\"cm\\\" already exists"), VSG_ERR_CONFLICT,
         "AlreadyExists", "already exists"},
        {409,
         ST(409, "Conflict",
            "Operation cannot be fulfilled on configmaps \\\"cm\\\": the object has been modified"),
         VSG_ERR_CONFLICT, "Conflict", "the object has been modified"},
        {403, ST(403, "Forbidden", "configmaps is forbidden: User \\\"x\\\" cannot get"),
         VSG_ERR_FORBIDDEN, "Forbidden", "cannot get"},
        {401, ST(401, "Unauthorized", "Unauthorized"), VSG_ERR_UNAUTHORIZED, "Unauthorized",
         "401 Unauthorized"},
        {410, ST(410, "Expired", "too old resource version"), VSG_ERR_GONE, "Expired",
         "too old resource version"},
        {400, ST(400, "BadRequest", "bad"), VSG_ERR_INVAL, "BadRequest", "bad"},
        {422,
         "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"ConfigMap \\\"B\\\" is "
         "invalid\",\"reason\":\"Invalid\",\"details\":{\"causes\":[{\"reason\":\"FieldValueInvalid\","
         "\"message\":\"Invalid value: \\\"B\\\": must be lowercase\",\"field\":\"metadata.name\"},"
         "{\"message\":\"second problem\"}]},\"code\":422}",
         VSG_ERR_INVAL, "Invalid",
         "ConfigMap \"B\" is invalid; metadata.name: Invalid value: \"B\": must be lowercase; "
         "second problem"},
        /* A message longer than an error holds (an immutable Job template is echoed whole):
         * its start, not nothing. */
        {422, ST(422, "Invalid", "Job.batch \\\"list-c\\\" is invalid: spec.template: Invalid value: "
                 LONG64 LONG64 LONG64 LONG64 LONG64 LONG64 LONG64 LONG64 LONG64 LONG64),
         VSG_ERR_INVAL, "Invalid", "Job.batch \"list-c\" is invalid: spec.template"},
        {429, ST(429, "TooManyRequests", "slow down"), VSG_ERR_TRANSPORT, "TooManyRequests", "slow"},
        {500, ST(500, "InternalError", "etcd down"), VSG_ERR_TRANSPORT, "InternalError", "etcd down"},
        {503, "service unavailable", VSG_ERR_TRANSPORT, "", "503: service unavailable"},
        {418, "{\"kind\":\"Teapot\"}", VSG_ERR_HTTP, "", "418"},
    };
    struct vsg_kube_client *c = fake_client(NULL);
    fake_reset();
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct vsg_error e;
        cJSON *out = (cJSON *)1;
        fake_push(rows[i].status, rows[i].body);
        enum vsg_err rc = vsg_kube_get(c, "/p", &out, &e);
        if (rc != rows[i].want || !strstr(e.msg, rows[i].needle))
            fprintf(stderr, "  row %zu: %s: %s\n", i, vsg_errname(rc), e.msg);
        CHECK_INT(rc, rows[i].want);
        CHECK_INT(e.code, rows[i].want);
        CHECK(out == NULL);
        CHECK_STR(vsg_kube_last_reason(c), rows[i].reason);
        CHECK_INT(vsg_kube_last_status(c), rows[i].status);
        CHECK(strstr(e.msg, rows[i].needle) != NULL);
    }
    /* A success clears the reason. */
    fake_push(200, "{}");
    CHECK_INT(vsg_kube_get(c, "/p", NULL, NULL), VSG_OK);
    CHECK_STR(vsg_kube_last_reason(c), "");
    vsg_kube_client_free(c);
}

static void test_connection_refused(void)
{
    struct vsg_kube_config cfg = {0};
    struct vsg_error e;
    struct vsg_kube_client *c;
    cfg.server = "http://127.0.0.1:1";
    CHECK((c = vsg_kube_client_new(&cfg, &e)) != NULL);
    CHECK_INT(vsg_kube_get(c, "/api", NULL, &e), VSG_ERR_TRANSPORT);
    CHECK_INT(vsg_kube_last_status(c), 0);
    CHECK_STR(vsg_kube_client_namespace(c), "default");
    vsg_kube_client_free(c);
    cfg.server = NULL;
    CHECK(vsg_kube_client_new(&cfg, &e) == NULL);
    CHECK_INT(e.code, VSG_ERR_INVAL);
}

static void test_token_file_rotation(void)
{
    char dir[] = "/tmp/vsg-kubetok-XXXXXX", path[64], cmd[128];
    struct vsg_kube_config cfg = {0};
    struct vsg_error e;
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/token", dir);
    FILE *f = fopen(path, "w");
    fputs("first\n", f);
    fclose(f);
    cfg.server = fake.url;
    cfg.token = "first";
    cfg.token_file = path;
    struct vsg_kube_client *c = vsg_kube_client_new(&cfg, &e);
    CHECK(c != NULL);
    fake_reset();
    fake_push(200, "{}");
    fake_push(200, "{}");
    fake_push(200, "{}");
    CHECK_INT(vsg_kube_get(c, "/a", NULL, &e), VSG_OK);
    CHECK(fake_has_header(0, "Authorization: Bearer first"));
    /* Rotate: write a new file and rename it over (as kubelet's symlink
     * swap does); the next request uses the new token. */
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%s/token.new", dir);
    f = fopen(tmp, "w");
    fputs("second-token\n", f);
    fclose(f);
    CHECK(rename(tmp, path) == 0);
    CHECK_INT(vsg_kube_get(c, "/a", NULL, &e), VSG_OK);
    CHECK(fake_has_header(1, "Authorization: Bearer second-token"));
    /* The file vanishing keeps the last good token. */
    CHECK(unlink(path) == 0);
    CHECK_INT(vsg_kube_get(c, "/a", NULL, &e), VSG_OK);
    CHECK(fake_has_header(2, "Authorization: Bearer second-token"));
    vsg_kube_client_free(c);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void test_paths(void)
{
    struct vsg_buf b;
    vsg_buf_init(&b, 1024);
    CHECK_INT(vsg_kube_path(&b, "v1", "ns", "configmaps", "a.b", NULL), VSG_OK);
    CHECK_STR(b.data, "/api/v1/namespaces/ns/configmaps/a.b");
    vsg_buf_reset(&b);
    CHECK_INT(vsg_kube_path(&b, "apps/v1", "n", "deployments", "d", "status"), VSG_OK);
    CHECK_STR(b.data, "/apis/apps/v1/namespaces/n/deployments/d/status");
    vsg_buf_reset(&b);
    CHECK_INT(vsg_kube_path(&b, "v1", NULL, "namespaces", NULL, NULL), VSG_OK);
    CHECK_STR(b.data, "/api/v1/namespaces");
    vsg_buf_reset(&b);
    CHECK_INT(vsg_kube_path(&b, "sources.tanzu.vmware.com/v1alpha1", "x", "vspheresources", NULL,
                            NULL),
              VSG_OK);
    CHECK_STR(b.data, "/apis/sources.tanzu.vmware.com/v1alpha1/namespaces/x/vspheresources");
    vsg_buf_reset(&b);
    /* Names are escaped: no way to smuggle in a path or query. */
    CHECK_INT(vsg_kube_path(&b, "v1", "a/b", "configmaps", "x?y", NULL), VSG_OK);
    CHECK_STR(b.data, "/api/v1/namespaces/a%2Fb/configmaps/x%3Fy");
    vsg_buf_reset(&b);
    CHECK_INT(vsg_kube_path(&b, "v1", "", "configmaps", NULL, NULL), VSG_ERR_INVAL);
    CHECK_INT(vsg_kube_path(&b, NULL, NULL, "configmaps", NULL, NULL), VSG_ERR_INVAL);
    vsg_buf_cleanup(&b);
}

static void test_create_event(void)
{
    struct vsg_kube_client *c = fake_client(NULL);
    struct vsg_error e;
    struct vsg_kube_event ev = {
        .api_version = "sources.tanzu.vmware.com/v1alpha1",
        .kind = "VSphereSource",
        .ns = "team-a",
        .name = "src",
        .uid = "1234",
        .type = "Warning",
        .reason = "FilterInvalid",
        .message = "filter.lua:12: boom",
        .component = "vsphere-source-adapter",
    };
    fake_reset();
    fake_push(201, "{}");
    CHECK_INT(vsg_kube_create_event(c, &ev, &e), VSG_OK);
    CHECK_STR(fake.reqs[0].method, "POST");
    CHECK_STR(fake.reqs[0].target, "/api/v1/namespaces/team-a/events");
    cJSON *o = cJSON_Parse(fake.reqs[0].body);
    CHECK(o != NULL);
    const char *name = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "name")->valuestring;
    CHECK(strncmp(name, "src.", 4) == 0 && strlen(name) > 10);
    cJSON *inv = cJSON_GetObjectItem(o, "involvedObject");
    CHECK_STR(cJSON_GetObjectItem(inv, "kind")->valuestring, "VSphereSource");
    CHECK_STR(cJSON_GetObjectItem(inv, "apiVersion")->valuestring, "sources.tanzu.vmware.com/v1alpha1");
    CHECK_STR(cJSON_GetObjectItem(inv, "namespace")->valuestring, "team-a");
    CHECK_STR(cJSON_GetObjectItem(inv, "uid")->valuestring, "1234");
    CHECK_STR(cJSON_GetObjectItem(o, "type")->valuestring, "Warning");
    CHECK_STR(cJSON_GetObjectItem(o, "reason")->valuestring, "FilterInvalid");
    CHECK_STR(cJSON_GetObjectItem(o, "message")->valuestring, "filter.lua:12: boom");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "source"), "component")->valuestring,
              "vsphere-source-adapter");
    CHECK_INT(cJSON_GetObjectItem(o, "count")->valueint, 1);
    CHECK(cJSON_IsString(cJSON_GetObjectItem(o, "firstTimestamp")));
    cJSON_Delete(o);
    ev.name = NULL;
    CHECK_INT(vsg_kube_create_event(c, &ev, &e), VSG_ERR_INVAL);
    vsg_kube_client_free(c);
}

/* ---- the ConfigMap checkpoint store against the fake -------------------- */

static const char CP_JSON[] =
    "{\"vCenter\":\"https://vc/sdk\",\"lastEventKey\":7,\"lastEventType\":\"VmPoweredOnEvent\","
    "\"lastEventKeyTimestamp\":\"2026-03-21T08:40:39.5Z\",\"createdTimestamp\":\"2026-03-21T08:40:45Z\"}";

static void sample_cp(struct vsg_checkpoint *cp)
{
    struct vsg_time ts, cr;
    vsg_checkpoint_init(cp);
    CHECK_INT(vsg_time_parse_rfc3339("2026-03-21T08:40:39.5Z", &ts), VSG_OK);
    CHECK_INT(vsg_time_parse_rfc3339("2026-03-21T08:40:45Z", &cr), VSG_OK);
    CHECK_INT(vsg_checkpoint_set(cp, "https://vc/sdk", 7, "VmPoweredOnEvent", ts, cr), VSG_OK);
}

static void test_cm_store_init(void)
{
    struct vsg_kube_client *c = fake_client(NULL);
    struct vsg_error e;
    struct vsg_checkpoint_store *s;
    fake_reset();
    /* Missing: created empty, without owner references or data. */
    fake_push(404, ST(404, "NotFound", "configmaps \\\"src-configmap\\\" not found"));
    fake_push(201, "{\"metadata\":{\"name\":\"src-configmap\"}}");
    CHECK((s = vsg_checkpoint_configmap_store_new(c, "ns", "src-configmap", &e)) != NULL);
    CHECK_INT(fake.nreqs, 2);
    CHECK_STR(fake.reqs[1].method, "POST");
    CHECK_STR(fake.reqs[1].target, "/api/v1/namespaces/ns/configmaps");
    CHECK_STR(fake.reqs[1].body, "{\"metadata\":{\"name\":\"src-configmap\",\"namespace\":\"ns\"},"
                                 "\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}");
    vsg_checkpoint_store_free(s);

    /* Existing: one GET, nothing written. */
    fake_reset();
    fake_push(200, "{\"metadata\":{\"name\":\"src-configmap\"},\"data\":{\"x\":\"y\"}}");
    CHECK((s = vsg_checkpoint_configmap_store_new(c, "ns", "src-configmap", &e)) != NULL);
    CHECK_INT(fake.nreqs, 1);
    vsg_checkpoint_store_free(s);

    /* A create race (AlreadyExists) is fine. */
    fake_reset();
    fake_push(404, ST(404, "NotFound", "nf"));
    fake_push(409, ST(409, "AlreadyExists", "exists"));
    CHECK((s = vsg_checkpoint_configmap_store_new(c, "ns", "src-configmap", &e)) != NULL);
    vsg_checkpoint_store_free(s);

    /* Forbidden is an error naming the ConfigMap. */
    fake_reset();
    fake_push(403, ST(403, "Forbidden", "configmaps \\\"src-configmap\\\" is forbidden"));
    CHECK(vsg_checkpoint_configmap_store_new(c, "ns", "src-configmap", &e) == NULL);
    CHECK_INT(e.code, VSG_ERR_FORBIDDEN);
    CHECK(strstr(e.msg, "configmap ns/src-configmap") != NULL);
    CHECK(vsg_checkpoint_configmap_store_new(c, "", "x", &e) == NULL);
    CHECK_INT(e.code, VSG_ERR_INVAL);
    vsg_kube_client_free(c);
}

static void test_cm_store_load_save(void)
{
    struct vsg_kube_client *c = fake_client(NULL);
    struct vsg_error e;
    struct vsg_checkpoint_store *s;
    struct vsg_checkpoint cp, got;
    int found = -1;
    sample_cp(&cp);
    vsg_checkpoint_init(&got);
    fake_reset();
    fake_push(200, "{\"metadata\":{\"name\":\"cm\"}}");
    CHECK((s = vsg_checkpoint_configmap_store_new(c, "ns", "cm", &e)) != NULL);

    /* No data at all: no checkpoint. */
    fake_push(200, "{\"metadata\":{\"name\":\"cm\"}}");
    CHECK_INT(vsg_checkpoint_store_load(s, &got, &found, &e), VSG_OK);
    CHECK_INT(found, 0);
    /* Invalid JSON: no checkpoint (with a warning), not an error. */
    fake_push(200, "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"checkpoint\":\"{oops\"}}");
    CHECK_INT(vsg_checkpoint_store_load(s, &got, &found, &e), VSG_OK);
    CHECK_INT(found, 0);
    /* Hand-written. */
    fake_push(200, "{\"metadata\":{\"name\":\"cm\"},\"data\":{\"checkpoint\":"
                   "\"{\\\"lastEventKeyTimestamp\\\":\\\"2026-03-21T08:40:39Z\\\"}\"}}");
    CHECK_INT(vsg_checkpoint_store_load(s, &got, &found, &e), VSG_OK);
    CHECK_INT(found, 1);
    CHECK_INT(got.last_event_key_ts.sec, 1774082439);
    /* ConfigMap gone: no checkpoint. */
    fake_push(404, ST(404, "NotFound", "nf"));
    CHECK_INT(vsg_checkpoint_store_load(s, &got, &found, &e), VSG_OK);
    CHECK_INT(found, 0);
    /* Server trouble is an error. */
    fake_push(500, ST(500, "InternalError", "x"));
    CHECK_INT(vsg_checkpoint_store_load(s, &got, &found, &e), VSG_ERR_TRANSPORT);

    /* Save: GET, then PUT keeping other keys and the resourceVersion. */
    fake_reset();
    fake_push(200, "{\"metadata\":{\"name\":\"cm\",\"resourceVersion\":\"41\"},"
                   "\"data\":{\"other\":\"keep\",\"checkpoint\":\"old\"}}");
    fake_push(200, "{}");
    CHECK_INT(vsg_checkpoint_store_save(s, &cp, &e), VSG_OK);
    CHECK_INT(fake.nreqs, 2);
    CHECK_STR(fake.reqs[1].method, "PUT");
    CHECK_STR(fake.reqs[1].target, "/api/v1/namespaces/ns/configmaps/cm");
    cJSON *o = cJSON_Parse(fake.reqs[1].body);
    CHECK(o != NULL);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "resourceVersion")->valuestring,
              "41");
    cJSON *data = cJSON_GetObjectItem(o, "data");
    CHECK_STR(cJSON_GetObjectItem(data, "other")->valuestring, "keep");
    CHECK_STR(cJSON_GetObjectItem(data, "checkpoint")->valuestring, CP_JSON);
    cJSON_Delete(o);

    /* Conflicts are retried with a fresh GET; null data is replaced. */
    fake_reset();
    fake_push(200, "{\"metadata\":{\"name\":\"cm\",\"resourceVersion\":\"1\"},\"data\":null}");
    fake_push(409, ST(409, "Conflict", "the object has been modified"));
    fake_push(200, "{\"metadata\":{\"name\":\"cm\",\"resourceVersion\":\"2\"}}");
    fake_push(409, ST(409, "Conflict", "the object has been modified"));
    fake_push(200, "{\"metadata\":{\"name\":\"cm\",\"resourceVersion\":\"3\"}}");
    fake_push(200, "{}");
    CHECK_INT(vsg_checkpoint_store_save(s, &cp, &e), VSG_OK);
    CHECK_INT(fake.nreqs, 6);
    o = cJSON_Parse(fake.reqs[5].body);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "metadata"), "resourceVersion")->valuestring,
              "3");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "data"), "checkpoint")->valuestring, CP_JSON);
    cJSON_Delete(o);

    /* Endless conflicts: give up after VSG_CHECKPOINT_CM_ATTEMPTS rounds. */
    fake_reset();
    for (int i = 0; i < VSG_CHECKPOINT_CM_ATTEMPTS; i++) {
        fake_push(200, "{\"metadata\":{\"name\":\"cm\",\"resourceVersion\":\"1\"}}");
        fake_push(409, ST(409, "Conflict", "modified"));
    }
    CHECK_INT(vsg_checkpoint_store_save(s, &cp, &e), VSG_ERR_CONFLICT);
    CHECK(strstr(e.msg, "still conflicting after 5 attempts") != NULL);
    CHECK_INT(fake.nreqs, 2 * VSG_CHECKPOINT_CM_ATTEMPTS);

    /* Deleted behind our back: re-created with the checkpoint. */
    fake_reset();
    fake_push(404, ST(404, "NotFound", "nf"));
    fake_push(201, "{}");
    CHECK_INT(vsg_checkpoint_store_save(s, &cp, &e), VSG_OK);
    CHECK_STR(fake.reqs[1].method, "POST");
    o = cJSON_Parse(fake.reqs[1].body);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "data"), "checkpoint")->valuestring, CP_JSON);
    cJSON_Delete(o);

    vsg_checkpoint_store_free(s);
    vsg_checkpoint_cleanup(&cp);
    vsg_checkpoint_cleanup(&got);
    vsg_kube_client_free(c);
}

/* Starts the fake server around every test. */
static void with_fake(void (*fn)(void))
{
    CHECK(fake_start() == 0);
    fn();
    fake_stop();
}

#define WRAP(name)                                                                                 \
    static void run_##name(void) { with_fake(test_##name); }
WRAP(get_and_headers)
WRAP(bodies_and_content_types)
WRAP(status_errors)
WRAP(token_file_rotation)
WRAP(create_event)
WRAP(cm_store_init)
WRAP(cm_store_load_save)

/* Lookups of one group/version from several threads while the first
 * fetch of it is under way: all find the kind (they wait for that fetch
 * instead of reporting it missing), and the server is asked once. */
struct disco_arg {
    struct vsg_kube_discovery *d;
    enum vsg_err rc;
    char resource[128];
};

static void *disco_lookup(void *p)
{
    struct disco_arg *a = p;
    struct vsg_kube_client *c = fake_client(NULL);
    struct vsg_kube_resource r;
    struct vsg_error e;
    a->rc = c ? vsg_kube_discovery_lookup(a->d, c, "apps/v1", "Deployment", &r, &e) : VSG_ERR_NOMEM;
    if (a->rc == VSG_OK) snprintf(a->resource, sizeof a->resource, "%s", r.resource);
    vsg_kube_client_free(c);
    return NULL;
}

static void test_discovery_concurrent(void)
{
    CHECK_INT(fake_start(), 0);
    fake_push(200, "{\"kind\":\"APIResourceList\",\"groupVersion\":\"apps/v1\",\"resources\":["
                   "{\"name\":\"deployments\",\"kind\":\"Deployment\",\"namespaced\":true},"
                   "{\"name\":\"deployments/status\",\"kind\":\"Deployment\",\"namespaced\":true}]}");
    fake.delay_ms = 300;
    struct vsg_kube_discovery *d = vsg_kube_discovery_new();
    struct disco_arg a[6];
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        a[i] = (struct disco_arg){d, VSG_ERR_INTERNAL, ""};
        CHECK_INT(pthread_create(&t[i], NULL, disco_lookup, &a[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(a[i].rc, VSG_OK);
        CHECK_STR(a[i].resource, "deployments");
    }
    CHECK_INT(fake.nreqs, 1);
    vsg_kube_discovery_free(d);
    fake.delay_ms = 0;
    fake_stop();
}

TEST_LIST = {
    {"discovery_concurrent", test_discovery_concurrent},
    {"get_and_headers", run_get_and_headers},
    {"bodies_and_content_types", run_bodies_and_content_types},
    {"status_errors", run_status_errors},
    {"connection_refused", test_connection_refused},
    {"token_file_rotation", run_token_file_rotation},
    {"paths", test_paths},
    {"create_event", run_create_event},
    {"cm_store_init", run_cm_store_init},
    {"cm_store_load_save", run_cm_store_load_save},
    {NULL, NULL},
};
TEST_MAIN()

/*
 * test_kube_apiserver.c - the kube client and the ConfigMap checkpoint
 * store against a REAL kube-apiserver (spec/harness/up). Exits 77 (ctest
 * SKIP) when KUBECONFIG or VSG_APISERVER is unset.
 *
 * Checks: the store's init creates the ConfigMap (empty, no owner refs) in
 * a fresh namespace; save/load round trip with the exact bytes in
 * data.checkpoint; a change made behind the store's back is kept and the
 * next save succeeds; stale resourceVersion → CONFLICT/"Conflict",
 * duplicate create → CONFLICT/"AlreadyExists"; a missing namespace →
 * NOTFOUND naming it; 422 → INVAL; an Event is recorded; a client without
 * RBAC gets FORBIDDEN; a service account token used in-cluster style
 * (VSG_SA_DIR) works and a rotated-out token gives UNAUTHORIZED; inline
 * certificate-authority-data / client-*-data work, and a wrong CA is a TLS
 * error (the given CA replaces the system roots).
 */
#include "check.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "checkpoint/configmap_store.h"
#include "http/client.h"
#include "kube/client.h"
#include "kube/config.h"

static struct vsg_kube_client *kc; /* Admin client (KUBECONFIG). */
static char ns[64];                /* The test's namespace. */

static cJSON *obj(const char *json)
{
    cJSON *o = cJSON_Parse(json);
    if (!o) abort();
    return o;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void sample_cp(struct vsg_checkpoint *cp, int64_t key, const char *ts)
{
    struct vsg_time t;
    vsg_checkpoint_init(cp);
    CHECK_INT(vsg_time_parse_rfc3339(ts, &t), VSG_OK);
    CHECK_INT(vsg_checkpoint_set(cp, "https://vcenter.corp.local/sdk", key, "VmPoweredOffEvent", t,
                                 vsg_time_now()),
              VSG_OK);
}

static void test_store_lifecycle(void)
{
    struct vsg_error e;
    struct vsg_checkpoint_store *s;
    struct vsg_checkpoint cp, back;
    struct vsg_buf want;
    cJSON *cm = NULL;
    int found = -1;
    vsg_checkpoint_init(&back);
    vsg_buf_init(&want, 4096);

    /* Init creates the ConfigMap, empty and without owner references. */
    s = vsg_checkpoint_configmap_store_new(kc, ns, "src-configmap", &e);
    if (!s) fprintf(stderr, "  %s\n", e.msg);
    CHECK(s != NULL);
    CHECK_INT(vsg_kube_configmap_get(kc, ns, "src-configmap", &cm, &e), VSG_OK);
    CHECK(cJSON_GetObjectItem(cm, "data") == NULL);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(cm, "metadata"), "ownerReferences") == NULL);
    cJSON_Delete(cm);
    cm = NULL;
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 0);

    /* Save and load; the ConfigMap holds exactly the Go encoding. */
    sample_cp(&cp, 1234, "2026-03-21T08:40:39.553822Z");
    CHECK_INT(vsg_checkpoint_store_save(s, &cp, &e), VSG_OK);
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 1);
    CHECK_INT(back.last_event_key, 1234);
    CHECK_STR(back.vcenter, "https://vcenter.corp.local/sdk");
    CHECK_INT(vsg_time_cmp(back.last_event_key_ts, cp.last_event_key_ts), 0);
    CHECK_INT(vsg_checkpoint_encode(&cp, &want), VSG_OK);
    CHECK_INT(vsg_kube_configmap_get(kc, ns, "src-configmap", &cm, &e), VSG_OK);
    CHECK_STR(str_at(cm, "data", "checkpoint"), want.data);

    /* Someone else updates the ConfigMap (new resourceVersion, extra key). */
    const char *rv_before = str_at(cm, "metadata", "resourceVersion");
    CHECK(rv_before != NULL);
    char stale_rv[64];
    snprintf(stale_rv, sizeof stale_rv, "%s", rv_before);
    cJSON_AddStringToObject(cJSON_GetObjectItem(cm, "data"), "other", "theirs");
    CHECK_INT(vsg_kube_configmap_update(kc, ns, cm, NULL, &e), VSG_OK);
    /* Replaying the old resourceVersion is a Conflict. */
    CHECK_INT(vsg_kube_configmap_update(kc, ns, cm, NULL, &e), VSG_ERR_CONFLICT);
    CHECK_STR(vsg_kube_last_reason(kc), "Conflict");
    CHECK_INT(vsg_kube_last_status(kc), 409);
    CHECK(strstr(e.msg, "modified") != NULL);
    cJSON_Delete(cm);
    cm = NULL;

    /* The store's next save succeeds and keeps their key. */
    vsg_checkpoint_cleanup(&cp);
    sample_cp(&cp, 1240, "2026-03-21T08:41:00Z");
    CHECK_INT(vsg_checkpoint_store_save(s, &cp, &e), VSG_OK);
    CHECK_INT(vsg_kube_configmap_get(kc, ns, "src-configmap", &cm, &e), VSG_OK);
    CHECK_STR(str_at(cm, "data", "other"), "theirs");
    CHECK(strcmp(str_at(cm, "metadata", "resourceVersion"), stale_rv) != 0);
    cJSON_Delete(cm);
    cm = NULL;
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(back.last_event_key, 1240);

    /* A hand-written checkpoint is accepted. */
    vsg_checkpoint_store_free(s);
    cm = obj("{\"metadata\":{\"name\":\"hand-configmap\"},\"data\":{\"checkpoint\":"
             "\"{\\\"lastEventKeyTimestamp\\\":\\\"2026-03-21T08:40:39Z\\\"}\"}}");
    CHECK_INT(vsg_kube_configmap_create(kc, ns, cm, NULL, &e), VSG_OK);
    /* Creating it twice: CONFLICT with reason AlreadyExists. */
    CHECK_INT(vsg_kube_configmap_create(kc, ns, cm, NULL, &e), VSG_ERR_CONFLICT);
    CHECK_STR(vsg_kube_last_reason(kc), "AlreadyExists");
    cJSON_Delete(cm);
    cm = NULL;
    CHECK((s = vsg_checkpoint_configmap_store_new(kc, ns, "hand-configmap", &e)) != NULL);
    CHECK_INT(vsg_checkpoint_store_load(s, &back, &found, &e), VSG_OK);
    CHECK_INT(found, 1);
    CHECK_INT(back.last_event_key_ts.sec, 1774082439);
    vsg_checkpoint_store_free(s);

    vsg_buf_cleanup(&want);
    vsg_checkpoint_cleanup(&cp);
    vsg_checkpoint_cleanup(&back);
}

static void test_errors(void)
{
    struct vsg_error e;
    /* A missing namespace: NOTFOUND naming it. */
    CHECK(vsg_checkpoint_configmap_store_new(kc, "vsg-no-such-namespace", "x-configmap", &e) ==
          NULL);
    CHECK_INT(e.code, VSG_ERR_NOTFOUND);
    if (!strstr(e.msg, "namespaces \"vsg-no-such-namespace\" not found"))
        fprintf(stderr, "  %s\n", e.msg);
    CHECK(strstr(e.msg, "namespaces \"vsg-no-such-namespace\" not found") != NULL);
    CHECK(strstr(e.msg, "configmap vsg-no-such-namespace/x-configmap") != NULL);

    /* A plain GET of something missing. */
    cJSON *out = NULL;
    CHECK_INT(vsg_kube_configmap_get(kc, ns, "missing", &out, &e), VSG_ERR_NOTFOUND);
    CHECK_STR(vsg_kube_last_reason(kc), "NotFound");
    CHECK(out == NULL);

    /* 422 with the field cause. */
    cJSON *bad = obj("{\"metadata\":{\"name\":\"Bad_Name\"}}");
    CHECK_INT(vsg_kube_configmap_create(kc, ns, bad, NULL, &e), VSG_ERR_INVAL);
    CHECK_STR(vsg_kube_last_reason(kc), "Invalid");
    CHECK(strstr(e.msg, "metadata.name") != NULL);
    cJSON_Delete(bad);
}

static void test_event(void)
{
    struct vsg_error e;
    cJSON *list = NULL;
    struct vsg_kube_event ev = {
        .api_version = "v1",
        .kind = "ConfigMap",
        .ns = ns,
        .name = "src-configmap",
        .type = "Warning",
        .reason = "FilterInvalid",
        .message = "filter.lua:12: unexpected symbol",
        .component = "vsphere-source-adapter",
    };
    CHECK_INT(vsg_kube_create_event(kc, &ev, &e), VSG_OK);
    struct vsg_buf p;
    vsg_buf_init(&p, 1024);
    CHECK_INT(vsg_kube_path(&p, "v1", ns, "events", NULL, NULL), VSG_OK);
    CHECK_INT(vsg_kube_get(kc, p.data, &list, &e), VSG_OK);
    cJSON *items = cJSON_GetObjectItem(list, "items");
    CHECK_INT(cJSON_GetArraySize(items), 1);
    cJSON *it = cJSON_GetArrayItem(items, 0);
    CHECK_STR(str_at(it, "reason", NULL), "FilterInvalid");
    CHECK_STR(str_at(it, "type", NULL), "Warning");
    CHECK_STR(str_at(it, "involvedObject", "name"), "src-configmap");
    CHECK_STR(str_at(it, "source", "component"), "vsphere-source-adapter");
    cJSON_Delete(list);
    vsg_buf_cleanup(&p);
}

/* An identity with no role at all (not the controller's: the e2e tests
 * bind deploy/'s roles to its group, which may read and create ConfigMaps,
 * so its answer would depend on which tests ran before). */
static void test_forbidden(void)
{
    const char *path = getenv("VSG_NOBODY_KUBECONFIG");
    struct vsg_kube_config cfg;
    struct vsg_error e;
    if (!path) CHECK_SKIP("VSG_NOBODY_KUBECONFIG unset (spec/harness/up's env sets it)");
    CHECK_INT(vsg_kube_config_load_file(path, NULL, &cfg, &e), VSG_OK);
    struct vsg_kube_client *c = vsg_kube_client_new(&cfg, &e);
    vsg_kube_config_cleanup(&cfg);
    CHECK(c != NULL);
    CHECK(vsg_checkpoint_configmap_store_new(c, ns, "src-configmap", &e) == NULL);
    CHECK_INT(e.code, VSG_ERR_FORBIDDEN);
    CHECK(strstr(e.msg, "forbidden") != NULL);
    vsg_kube_client_free(c);
}

static void test_service_account_token(void)
{
    struct vsg_error e;
    cJSON *sa = obj("{\"metadata\":{\"name\":\"adapter\"}}");
    cJSON *tr = obj("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\","
                    "\"spec\":{\"expirationSeconds\":3600}}");
    cJSON *out = NULL;
    struct vsg_buf p;
    char dir[] = "/tmp/vsg-sa-XXXXXX", file[128], cmd[160];
    const char *api = getenv("VSG_APISERVER");
    const char *ca = getenv("VSG_TEST_CA");
    if (!ca) {
        cJSON_Delete(sa);
        cJSON_Delete(tr);
        CHECK_SKIP("VSG_TEST_CA unset (spec/harness/up's env sets it)");
    }
    vsg_buf_init(&p, 1024);
    CHECK_INT(vsg_kube_path(&p, "v1", ns, "serviceaccounts", NULL, NULL), VSG_OK);
    CHECK_INT(vsg_kube_create(kc, p.data, sa, NULL, &e), VSG_OK);
    vsg_buf_reset(&p);
    CHECK_INT(vsg_kube_path(&p, "v1", ns, "serviceaccounts", "adapter", "token"), VSG_OK);
    if (vsg_kube_create(kc, p.data, tr, &out, &e) != VSG_OK) fprintf(stderr, "  %s\n", e.msg);
    const char *token = str_at(out, "status", "token");
    CHECK(token != NULL);

    /* An in-cluster layout in a temporary folder. */
    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof file, "%s/token", dir);
    FILE *f = fopen(file, "w");
    fprintf(f, "%s", token);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/ca.crt'", ca, dir);
    CHECK(system(cmd) == 0);
    snprintf(file, sizeof file, "%s/namespace", dir);
    f = fopen(file, "w");
    fprintf(f, "%s\n", ns);
    fclose(f);
    /* https://127.0.0.1:PORT -> host and port. */
    const char *hp = strstr(api, "://");
    CHECK(hp != NULL);
    char host[64];
    snprintf(host, sizeof host, "%s", hp + 3);
    char *colon = strrchr(host, ':');
    CHECK(colon != NULL);
    *colon = '\0';
    setenv("KUBERNETES_SERVICE_HOST", host, 1);
    setenv("KUBERNETES_SERVICE_PORT", colon + 1, 1);
    setenv("VSG_SA_DIR", dir, 1);

    struct vsg_kube_config cfg;
    CHECK_INT(vsg_kube_config_load_incluster(&cfg, &e), VSG_OK);
    CHECK_STR(cfg.ns, ns);
    struct vsg_kube_client *c = vsg_kube_client_new(&cfg, &e);
    vsg_kube_config_cleanup(&cfg);
    CHECK(c != NULL);
    /* Authenticated (as the SA, which has no RBAC): FORBIDDEN, and the
     * message names the service account. */
    cJSON *got = NULL;
    CHECK_INT(vsg_kube_configmap_get(c, ns, "src-configmap", &got, &e), VSG_ERR_FORBIDDEN);
    CHECK(strstr(e.msg, "system:serviceaccount:") != NULL);
    /* Rotate the token file to garbage: the next request re-reads it and is
     * rejected as UNAUTHORIZED. */
    sleep(1); /* A different mtime even on coarse file systems. */
    snprintf(file, sizeof file, "%s/token", dir);
    f = fopen(file, "w");
    fprintf(f, "not-a-valid-token\n");
    fclose(f);
    CHECK_INT(vsg_kube_configmap_get(c, ns, "src-configmap", &got, &e), VSG_ERR_UNAUTHORIZED);
    vsg_kube_client_free(c);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("VSG_SA_DIR");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    cJSON_Delete(out);
    cJSON_Delete(sa);
    cJSON_Delete(tr);
    vsg_buf_cleanup(&p);
}

/* Appends the base64 of the file at `path` to `b`. */
static void b64_file(struct vsg_buf *b, const char *path)
{
    unsigned char in[16384], out[24000];
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    size_t n = fread(in, 1, sizeof in, f);
    fclose(f);
    int m = EVP_EncodeBlock(out, in, (int)n);
    CHECK_INT(vsg_buf_append(b, out, (size_t)m), VSG_OK);
}

/* A kubeconfig with everything inline, `ca` as the trusted CA file. */
static void inline_kubeconfig(struct vsg_buf *y, const char *pki, const char *ca)
{
    char path[512];
    const char *api = getenv("VSG_APISERVER");
    vsg_buf_reset(y);
    CHECK_INT(vsg_buf_printf(y, "current-context: x\nclusters:\n- name: c\n  cluster:\n"
                                "    server: %s\n    certificate-authority-data: ",
                             api),
              VSG_OK);
    snprintf(path, sizeof path, "%s/%s", pki, ca);
    b64_file(y, path);
    CHECK_INT(vsg_buf_puts(y, "\nusers:\n- name: u\n  user:\n    client-certificate-data: "), VSG_OK);
    snprintf(path, sizeof path, "%s/admin.crt", pki);
    b64_file(y, path);
    CHECK_INT(vsg_buf_puts(y, "\n    client-key-data: "), VSG_OK);
    snprintf(path, sizeof path, "%s/admin.key", pki);
    b64_file(y, path);
    CHECK_INT(vsg_buf_puts(y, "\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"),
              VSG_OK);
}

static void test_inline_credentials(void)
{
    const char *hd = getenv("VSG_HARNESS_DIR");
    char pki[300];
    struct vsg_buf y;
    struct vsg_kube_config cfg;
    struct vsg_error e;
    struct vsg_kube_client *c;
    cJSON *out = NULL;
    if (!hd) CHECK_SKIP("VSG_HARNESS_DIR unset (spec/harness/up's env sets it)");
    snprintf(pki, sizeof pki, "%s/pki", hd);
    vsg_buf_init(&y, 256 * 1024);

    inline_kubeconfig(&y, pki, "ca.crt");
    CHECK_INT(vsg_kube_config_parse(y.data, y.len, NULL, "inline", NULL, &cfg, &e), VSG_OK);
    CHECK(cfg.ca_pem && cfg.cert_pem && cfg.key_pem && !cfg.ca_file && !cfg.cert_file);
    CHECK((c = vsg_kube_client_new(&cfg, &e)) != NULL);
    vsg_kube_config_cleanup(&cfg);
    if (vsg_kube_configmap_get(c, ns, "src-configmap", &out, &e) != VSG_OK)
        fprintf(stderr, "  %s\n", e.msg);
    CHECK(out != NULL);
    cJSON_Delete(out);
    vsg_kube_client_free(c);

    /* Trusting the wrong "CA" (a leaf certificate) fails the handshake. */
    inline_kubeconfig(&y, pki, "admin.crt");
    CHECK_INT(vsg_kube_config_parse(y.data, y.len, NULL, "inline", NULL, &cfg, &e), VSG_OK);
    CHECK((c = vsg_kube_client_new(&cfg, &e)) != NULL);
    vsg_kube_config_cleanup(&cfg);
    CHECK_INT(vsg_kube_configmap_get(c, ns, "src-configmap", &out, &e), VSG_ERR_TLS);
    vsg_kube_client_free(c);
    vsg_buf_cleanup(&y);
}

TEST_LIST = {
    {"store_lifecycle", test_store_lifecycle},
    {"errors", test_errors},
    {"event", test_event},
    {"forbidden", test_forbidden},
    {"service_account_token", test_service_account_token},
    {"inline_credentials", test_inline_credentials},
    {NULL, NULL},
};

/* check.h's runner, renamed so main() can wrap it with set-up and
 * tear-down. */
int check_main(int argc, char **argv);
#define main check_main
TEST_MAIN()
#undef main

int main(int argc, char **argv)
{
    const char *kubeconfig = getenv("KUBECONFIG");
    struct vsg_kube_config cfg;
    struct vsg_error e;
    struct vsg_buf p;
    int rc = 1;
    if (!kubeconfig || !*kubeconfig || !getenv("VSG_APISERVER")) {
        printf("KUBECONFIG / VSG_APISERVER unset: no kube-apiserver, skipping\n");
        return 77;
    }
    vsg_http_global_init();
    if (vsg_kube_config_load(NULL, NULL, &cfg, &e) != VSG_OK) {
        fprintf(stderr, "kubeconfig: %s\n", e.msg);
        return 1;
    }
    kc = vsg_kube_client_new(&cfg, &e);
    vsg_kube_config_cleanup(&cfg);
    if (!kc) {
        fprintf(stderr, "client: %s\n", e.msg);
        return 1;
    }
    /* A fresh namespace per run. */
    snprintf(ns, sizeof ns, "vsg-ckpt-%ld-%ld", (long)getpid(), (long)time(NULL) % 100000);
    cJSON *nso = cJSON_CreateObject();
    cJSON_AddStringToObject(cJSON_AddObjectToObject(nso, "metadata"), "name", ns);
    vsg_buf_init(&p, 1024);
    vsg_kube_path(&p, "v1", NULL, "namespaces", NULL, NULL);
    if (vsg_kube_create(kc, p.data, nso, NULL, &e) != VSG_OK) {
        fprintf(stderr, "creating namespace %s: %s\n", ns, e.msg);
        goto done;
    }
    rc = check_main(argc, argv);
    vsg_buf_reset(&p);
    vsg_kube_path(&p, "v1", NULL, "namespaces", ns, NULL);
    if (vsg_kube_delete(kc, p.data, &e) != VSG_OK)
        fprintf(stderr, "deleting namespace %s: %s\n", ns, e.msg);
done:
    cJSON_Delete(nso);
    vsg_buf_cleanup(&p);
    vsg_kube_client_free(kc);
    vsg_http_global_cleanup();
    return rc;
}

/*
 * test_kube_config.c - unit tests for kube/config.h: kubeconfig files
 * (relative paths, -data fields, tokens, several contexts, broken files),
 * the in-cluster service account, the search order, $KUBECONFIG lists
 * merged as kubectl does, kubectl's search order, and exec credential
 * plugins (small /bin/sh scripts).
 */
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "kube/config.h"

/* ---- helpers ------------------------------------------------------------ */

static char fixdir[1024]; /* spec/fixtures/kube, absolute (VSG_FIXTURES_DIR). */
static char tmpdir[256];  /* A fresh folder per test that asks for one. */

static const char *fixture(const char *name)
{
    static char path[1200];
    snprintf(fixdir, sizeof fixdir, "%s", VSG_FIXTURES_DIR);
    snprintf(path, sizeof path, "%s/%s", fixdir, name);
    return path;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vsg-kubecfg-XXXXXX");
    CHECK(mkdtemp(tmpdir) != NULL);
}

static void rm_tmpdir(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0);
}

/* Clears every variable the search order looks at. */
static void clear_env(void)
{
    unsetenv("KUBECONFIG");
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    unsetenv("VSG_SA_DIR");
    unsetenv("POD_NAMESPACE");
    setenv("HOME", "/nonexistent-vsgate-home", 1);
}

/* The variables above as they were before a test, put back after it. */
static const char *const env_names[] = {"KUBECONFIG", "KUBERNETES_SERVICE_HOST",
                                        "KUBERNETES_SERVICE_PORT", "VSG_SA_DIR", "HOME",
                                        "POD_NAMESPACE", "PATH", "MY_SECRET", "VSG_TEST_OURS"};
#define N_ENV (sizeof env_names / sizeof env_names[0])
static char *saved_env[N_ENV];

static void save_env(void)
{
    for (size_t i = 0; i < N_ENV; i++) {
        const char *v = getenv(env_names[i]);
        free(saved_env[i]);
        saved_env[i] = v ? strdup(v) : NULL;
    }
}

static void restore_env(void)
{
    for (size_t i = 0; i < N_ENV; i++) {
        if (saved_env[i])
            setenv(env_names[i], saved_env[i], 1);
        else
            unsetenv(env_names[i]);
        free(saved_env[i]);
        saved_env[i] = NULL;
    }
}

/* `dir`/`name` into the static buffer `out` of `size` bytes; returns it. */
static char *join(char *out, size_t size, const char *dir, const char *name)
{
    int n = snprintf(out, size, "%s/%s", dir, name);
    CHECK(n > 0 && (size_t)n < size);
    return out;
}

/* Parses `yaml` from memory and expects failure `code` whose message
 * contains `needle`. */
static void expect_parse_error(const char *yaml, enum vsg_err code, const char *needle)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    enum vsg_err rc = vsg_kube_config_parse(yaml, strlen(yaml), "/d", "test.yaml", NULL, &cfg, &e);
    if (rc != code) fprintf(stderr, "  got %s: %s\n", vsg_errname(rc), e.msg);
    CHECK_INT(rc, code);
    if (!strstr(e.msg, needle)) fprintf(stderr, "  message: %s\n", e.msg);
    CHECK(strstr(e.msg, needle) != NULL);
    CHECK(cfg.server == NULL);
}

/* ---- kubeconfig files --------------------------------------------------- */

static void test_files_current_context(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char want[1300];
    const char *path = fixture("files.yaml");
    CHECK_INT(vsg_kube_config_load_file(path, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://10.0.0.1:6443");
    snprintf(want, sizeof want, "%s/pki/ca.crt", fixdir);
    CHECK_STR(cfg.ca_file, want);
    snprintf(want, sizeof want, "%s/pki/client.crt", fixdir);
    CHECK_STR(cfg.cert_file, want);
    snprintf(want, sizeof want, "%s/pki/client.key", fixdir);
    CHECK_STR(cfg.key_file, want);
    CHECK(cfg.ca_pem == NULL && cfg.cert_pem == NULL && cfg.key_pem == NULL);
    CHECK(cfg.token == NULL && cfg.token_file == NULL);
    CHECK_INT(cfg.insecure, 0);
    CHECK_STR(cfg.ns, "team-a");
    CHECK_STR(cfg.context, "dev");
    CHECK_STR(cfg.origin, path);
    CHECK_INT(cfg.in_cluster, 0);
    vsg_kube_config_cleanup(&cfg);
    vsg_kube_config_cleanup(&cfg); /* Idempotent. */
}

static void test_files_named_contexts(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char want[1300];
    /* prod: server without scheme, insecure, static token, no namespace. */
    CHECK_INT(vsg_kube_config_load_file(fixture("files.yaml"), "prod", &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://prod.example.com:443");
    CHECK_INT(cfg.insecure, 1);
    CHECK(cfg.ca_file == NULL);
    CHECK_STR(cfg.token, "static-token-123");
    CHECK(cfg.token_file == NULL);
    CHECK_STR(cfg.ns, "default");
    CHECK_STR(cfg.context, "prod");
    vsg_kube_config_cleanup(&cfg);

    /* abs: absolute CA path untouched; tokenFile wins over token and is
     * read (trimmed); an empty namespace means default. */
    CHECK_INT(vsg_kube_config_load_file(fixture("files.yaml"), "abs", &cfg, &e), VSG_OK);
    CHECK_STR(cfg.ca_file, "/etc/vsgate-test/ca.crt");
    snprintf(want, sizeof want, "%s/token", fixdir);
    CHECK_STR(cfg.token_file, want);
    CHECK_STR(cfg.token, "fixture-token-from-file");
    CHECK_STR(cfg.ns, "default");
    vsg_kube_config_cleanup(&cfg);

    /* anonymous: a context without a user. */
    CHECK_INT(vsg_kube_config_load_file(fixture("files.yaml"), "anonymous", &cfg, &e), VSG_OK);
    CHECK(cfg.token == NULL && cfg.cert_file == NULL);
    vsg_kube_config_cleanup(&cfg);

    /* A context that does not exist. */
    CHECK_INT(vsg_kube_config_load_file(fixture("files.yaml"), "nope", &cfg, &e), VSG_ERR_INVAL);
    CHECK(strstr(e.msg, "context \"nope\" does not exist") != NULL);
    CHECK(strstr(e.msg, "files.yaml") != NULL);
    CHECK(cfg.server == NULL);
}

static void test_data_fields(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    CHECK_INT(vsg_kube_config_load_file(fixture("data.yaml"), NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://127.0.0.1:6443");
    CHECK_STR(cfg.ca_pem, "-----BEGIN CERTIFICATE-----\nRklYVFVSRS1DQQ==\n-----END CERTIFICATE-----\n");
    CHECK_STR(cfg.cert_pem,
              "-----BEGIN CERTIFICATE-----\nRklYVFVSRS1DTElFTlQ=\n-----END CERTIFICATE-----\n");
    CHECK_STR(cfg.key_pem, "-----BEGIN PRIVATE KEY-----\nRklYVFVSRS1LRVk=\n-----END PRIVATE KEY-----\n");
    /* The -data fields win: the file fields are dropped. */
    CHECK(cfg.ca_file == NULL && cfg.cert_file == NULL && cfg.key_file == NULL);
    CHECK_STR(cfg.ns, "data-ns");
    CHECK_STR(cfg.context, "ctx");
    vsg_kube_config_cleanup(&cfg);
}

static void test_parse_from_memory_relative_dir(void)
{
    static const char y[] =
        "current-context: x\n"
        "clusters: [{name: c, cluster: {server: 'http://h:8080', certificate-authority: ca.pem}}]\n"
        "users: [{name: u, user: {client-certificate: sub/c.crt, client-key: /abs/k.key}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\n";
    struct vsg_kube_config cfg;
    struct vsg_error e;
    CHECK_INT(vsg_kube_config_parse(y, strlen(y), "/base/dir/", NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "http://h:8080");
    CHECK_STR(cfg.ca_file, "/base/dir/ca.pem");
    CHECK_STR(cfg.cert_file, "/base/dir/sub/c.crt");
    CHECK_STR(cfg.key_file, "/abs/k.key");
    CHECK_STR(cfg.origin, "kubeconfig");
    vsg_kube_config_cleanup(&cfg);
}

static void test_malformed_yaml(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    CHECK_INT(vsg_kube_config_load_file(fixture("malformed.yaml"), NULL, &cfg, &e), VSG_ERR_PARSE);
    /* Names the file, the place and the problem. */
    CHECK(strstr(e.msg, "malformed.yaml") != NULL);
    CHECK(strstr(e.msg, "invalid YAML at line 6") != NULL);
    CHECK(cfg.server == NULL);

    expect_parse_error("a: [1, 2\n", VSG_ERR_PARSE, "test.yaml: invalid YAML at line");
    expect_parse_error("key: \"unterminated\n", VSG_ERR_PARSE, "invalid YAML");
    expect_parse_error("", VSG_ERR_INVAL, "the file is empty");
    expect_parse_error("- a\n- b\n", VSG_ERR_INVAL, "top level must be a mapping");
}

static void test_invalid_content(void)
{
    expect_parse_error("clusters: []\n", VSG_ERR_INVAL, "no current-context");
    expect_parse_error("current-context: x\ncontexts: {x: 1}\n", VSG_ERR_INVAL,
                       "\"contexts\" must be a list");
    expect_parse_error("current-context: x\ncontexts: [1]\n", VSG_ERR_INVAL,
                       "every entry of \"contexts\" must be a mapping");
    expect_parse_error("current-context: x\ncontexts: [{name: x, context: {user: u}}]\n",
                       VSG_ERR_INVAL, "context \"x\" names no cluster");
    expect_parse_error("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n",
                       VSG_ERR_INVAL, "cluster \"c\" (of context \"x\") does not exist");
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {certificate-authority: a}}]\n"
                       "contexts: [{name: x, context: {cluster: c}}]\n",
                       VSG_ERR_INVAL, "cluster \"c\" has no server");
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {server: [a]}}]\n"
                       "contexts: [{name: x, context: {cluster: c}}]\n",
                       VSG_ERR_INVAL, "\"server\" must be a string");
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {server: h, insecure-skip-tls-verify: maybe}}]\n"
                       "contexts: [{name: x, context: {cluster: c}}]\n",
                       VSG_ERR_INVAL, "must be true or false");
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {server: h, insecure-skip-tls-verify: true, "
                       "certificate-authority: ca}}]\n"
                       "contexts: [{name: x, context: {cluster: c}}]\n",
                       VSG_ERR_INVAL, "insecure flag is not allowed");
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {server: h, certificate-authority-data: '!!notb64!!'}}]\n"
                       "contexts: [{name: x, context: {cluster: c}}]\n",
                       VSG_ERR_PARSE, "\"certificate-authority-data\" is not valid base64");
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {server: h}}]\n"
                       "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
                       VSG_ERR_INVAL, "user \"u\" (of context \"x\") does not exist");
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {server: h}}]\n"
                       "users: [{name: u, user: {client-certificate: c.crt}}]\n"
                       "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
                       VSG_ERR_INVAL, "needs a client key");
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {server: h}}]\n"
                       "users: [{name: u, user: {exec: {command: aws}}}]\n"
                       "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
                       VSG_ERR_INVAL, "user \"u\": exec: apiVersion must be specified");
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {server: h}}]\n"
                       "users: [{name: u, user: {exec: [aws]}}]\n"
                       "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
                       VSG_ERR_INVAL, "\"exec\" must be a mapping");
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {server: h}}]\n"
                       "users: [{name: u, user: {tokenFile: /nonexistent/tok}}]\n"
                       "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
                       VSG_ERR_IO, "tokenFile: cannot read /nonexistent/tok");
}

static void test_yaml_features(void)
{
    /* Anchors/aliases, quoted values, YAML 1.1 booleans, null values. */
    static const char y[] =
        "current-context: \"x\"\n"
        "clusters:\n"
        "- name: c\n"
        "  cluster: &cl\n"
        "    server: 'https://a.example'\n"
        "    insecure-skip-tls-verify: yes\n"
        "    certificate-authority: ~\n"
        "users: [{name: u, user: {token: null}}]\n"
        "contexts:\n"
        "- name: x\n"
        "  context: {cluster: c, user: u, namespace: \"ns-q\"}\n";
    struct vsg_kube_config cfg;
    struct vsg_error e;
    CHECK_INT(vsg_kube_config_parse(y, strlen(y), NULL, NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://a.example");
    CHECK_INT(cfg.insecure, 1);
    CHECK(cfg.ca_file == NULL && cfg.token == NULL);
    CHECK_STR(cfg.ns, "ns-q");
    vsg_kube_config_cleanup(&cfg);
}

/* ---- in-cluster and the search order ------------------------------------ */

static void test_incluster(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char want[512];
    clear_env();
    make_tmpdir();
    CHECK_INT(vsg_kube_config_load_incluster(&cfg, &e), VSG_ERR_NOTFOUND);
    CHECK(strstr(e.msg, "KUBERNETES_SERVICE_HOST") != NULL);

    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    setenv("VSG_SA_DIR", tmpdir, 1);
    /* No token yet. */
    CHECK_INT(vsg_kube_config_load_incluster(&cfg, &e), VSG_ERR_IO);
    CHECK(strstr(e.msg, "service account token") != NULL);
    write_file(tmpdir, "token", "  sa-token-1\n");
    /* No CA yet. */
    CHECK_INT(vsg_kube_config_load_incluster(&cfg, &e), VSG_ERR_IO);
    CHECK(strstr(e.msg, "ca.crt") != NULL);
    write_file(tmpdir, "ca.crt", "PEM\n");
    /* No namespace file: "default". */
    CHECK_INT(vsg_kube_config_load_incluster(&cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://10.96.0.1:443");
    CHECK_STR(cfg.token, "sa-token-1");
    snprintf(want, sizeof want, "%s/token", tmpdir);
    CHECK_STR(cfg.token_file, want);
    snprintf(want, sizeof want, "%s/ca.crt", tmpdir);
    CHECK_STR(cfg.ca_file, want);
    CHECK_STR(cfg.ns, "default");
    CHECK_STR(cfg.origin, "in-cluster");
    CHECK_INT(cfg.in_cluster, 1);
    CHECK(cfg.context == NULL);
    vsg_kube_config_cleanup(&cfg);

    write_file(tmpdir, "namespace", "vmware-sources\n");
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    CHECK_INT(vsg_kube_config_load_incluster(&cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://[fd00::1]:443");
    CHECK_STR(cfg.ns, "vmware-sources");
    vsg_kube_config_cleanup(&cfg);
    rm_tmpdir();
    clear_env();
}

static void test_search_order(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char kc[600], home_cfg[700];
    static const char home_yaml[] =
        "current-context: h\nclusters: [{name: c, cluster: {server: https://home}}]\n"
        "contexts: [{name: h, context: {cluster: c}}]\n";
    clear_env();
    make_tmpdir();

    /* Nothing configured. */
    setenv("HOME", tmpdir, 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_ERR_NOTFOUND);
    CHECK(strstr(e.msg, "no Kubernetes configuration") != NULL);

    /* 4. ~/.kube/config. */
    snprintf(kc, sizeof kc, "%s/.kube", tmpdir);
    CHECK(mkdir(kc, 0700) == 0);
    write_file(kc, "config", home_yaml);
    snprintf(home_cfg, sizeof home_cfg, "%s/config", kc);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://home");
    CHECK_STR(cfg.origin, home_cfg);
    vsg_kube_config_cleanup(&cfg);

    /* 3. In-cluster beats ~/.kube/config. */
    write_file(tmpdir, "token", "tok");
    write_file(tmpdir, "ca.crt", "PEM");
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.9", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    setenv("VSG_SA_DIR", tmpdir, 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://10.0.0.9:6443");
    CHECK_INT(cfg.in_cluster, 1);
    vsg_kube_config_cleanup(&cfg);

    /* A broken in-cluster setup falls back to ~/.kube/config when present... */
    setenv("VSG_SA_DIR", "/nonexistent-sa", 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://home");
    vsg_kube_config_cleanup(&cfg);
    /* ...and is reported when there is none. */
    setenv("HOME", "/nonexistent-vsgate-home", 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_ERR_IO);
    CHECK(strstr(e.msg, "in-cluster") != NULL);
    setenv("HOME", tmpdir, 1);
    setenv("VSG_SA_DIR", tmpdir, 1);

    /* 2. $KUBECONFIG (first entry of a colon list) beats in-cluster. */
    /* fixture() returns one static buffer: copy the first path before the second call. */
    char first[1200], env[2 * 1200 + 3];
    snprintf(first, sizeof first, "%s", fixture("data.yaml"));
    snprintf(env, sizeof env, ":%s:%s", first, fixture("files.yaml"));
    setenv("KUBECONFIG", env, 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.context, "ctx");
    vsg_kube_config_cleanup(&cfg);
    /* The context argument applies. */
    setenv("KUBECONFIG", fixture("files.yaml"), 1);
    CHECK_INT(vsg_kube_config_load(NULL, "prod", &cfg, &e), VSG_OK);
    CHECK_STR(cfg.context, "prod");
    vsg_kube_config_cleanup(&cfg);
    /* A $KUBECONFIG that names a missing file is an error, not a fall-through. */
    setenv("KUBECONFIG", "/nonexistent/kubeconfig", 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_ERR_IO);
    CHECK(strstr(e.msg, "/nonexistent/kubeconfig") != NULL);

    /* 1. The explicit path beats everything. */
    CHECK_INT(vsg_kube_config_load(home_cfg, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://home");
    vsg_kube_config_cleanup(&cfg);

    rm_tmpdir();
    clear_env();
}

/* ---- $KUBECONFIG lists, merged as kubectl does ----------------------- */

/* Three entries: a missing file, a file with current-context and the
 * context, and a file with the context's cluster (relative CA path). */
static void test_merge_list(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char a[400], b[400], one[450], two[450], env[3000], want[500];
    save_env();
    clear_env();
    make_tmpdir();
    CHECK(mkdir(join(a, sizeof a, tmpdir, "a"), 0700) == 0);
    CHECK(mkdir(join(b, sizeof b, tmpdir, "b"), 0700) == 0);
    write_file(a, "one.yaml",
               "current-context: merged\n"
               "contexts: [{name: merged, context: {cluster: far, user: u, namespace: m-ns}}]\n"
               "users: [{name: u, user: {token: first-token}}]\n"
               "clusters: [{name: near, cluster: {server: 'https://near'}}]\n");
    write_file(b, "two.yaml",
               "current-context: other\n"
               "contexts:\n"
               "- {name: merged, context: {cluster: near, namespace: ignored}}\n"
               "- {name: other, context: {cluster: far}}\n"
               "clusters: [{name: far, cluster: {server: 'https://far/', "
               "certificate-authority: pki/ca.crt}}]\n"
               "users: [{name: u, user: {token: second-token}}]\n");
    join(one, sizeof one, a, "one.yaml");
    join(two, sizeof two, b, "two.yaml");
    snprintf(env, sizeof env, "%s/missing.yaml:%s:%s", tmpdir, one, two);
    setenv("KUBECONFIG", env, 1);

    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.context, "merged");
    CHECK_STR(cfg.server, "https://far");
    CHECK_STR(cfg.ca_file, join(want, sizeof want, b, "pki/ca.crt"));
    CHECK_STR(cfg.token, "first-token");
    CHECK_STR(cfg.ns, "m-ns");
    CHECK_STR(cfg.origin, one);
    vsg_kube_config_cleanup(&cfg);

    /* The same through kubectl's order; a named context from the third file. */
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, "other", &cfg, &e), VSG_OK);
    CHECK_STR(cfg.context, "other");
    CHECK_STR(cfg.server, "https://far");
    CHECK(cfg.token == NULL);
    CHECK_STR(cfg.ns, "default");
    CHECK_STR(cfg.origin, two);
    vsg_kube_config_cleanup(&cfg);

    /* What no file has is reported against the whole list. */
    CHECK_INT(vsg_kube_config_load(NULL, "nope", &cfg, &e), VSG_ERR_INVAL);
    CHECK(strstr(e.msg, "$KUBECONFIG (") != NULL);
    CHECK(strstr(e.msg, "context \"nope\" does not exist") != NULL);

    /* A listed file that exists but does not parse is an error naming it. */
    char bad[1300];
    snprintf(bad, sizeof bad, "%s", fixture("malformed.yaml"));
    snprintf(env, sizeof env, "%s:%s:%s", one, bad, two);
    setenv("KUBECONFIG", env, 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_ERR_PARSE);
    CHECK(strstr(e.msg, "malformed.yaml: invalid YAML at line 6") != NULL);
    CHECK(cfg.server == NULL);
    /* So is one that cannot be read (a folder). */
    snprintf(env, sizeof env, "%s:%s", one, b);
    setenv("KUBECONFIG", env, 1);
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_ERR_IO);
    CHECK(strstr(e.msg, b) != NULL);

    rm_tmpdir();
    restore_env();
}

/* A user defined in two files: the first definition wins, and its relative
 * tokenFile resolves against its own file's folder. */
static void test_merge_first_definition_wins(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char x[400], y[400], env[1000], want[500];
    save_env();
    clear_env();
    make_tmpdir();
    CHECK(mkdir(join(x, sizeof x, tmpdir, "x"), 0700) == 0);
    CHECK(mkdir(join(y, sizeof y, tmpdir, "y"), 0700) == 0);
    write_file(x, "tok", "token-of-x\n");
    write_file(x, "x.yaml", "users: [{name: u, user: {tokenFile: tok}}]\n");
    write_file(y, "y.yaml",
               "current-context: c\n"
               "clusters: [{name: k, cluster: {server: 'https://k'}}]\n"
               "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
               "users: [{name: u, user: {token: token-of-y}}, {name: v, user: {token: v}}]\n");
    snprintf(env, sizeof env, "%s/x.yaml:%s/y.yaml", x, y);
    setenv("KUBECONFIG", env, 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.token_file, join(want, sizeof want, x, "tok"));
    CHECK_STR(cfg.token, "token-of-x");
    CHECK_STR(cfg.context, "c");
    vsg_kube_config_cleanup(&cfg);

    /* The other order: y's user. */
    snprintf(env, sizeof env, "%s/y.yaml:%s/x.yaml", y, x);
    setenv("KUBECONFIG", env, 1);
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK(cfg.token_file == NULL);
    CHECK_STR(cfg.token, "token-of-y");
    vsg_kube_config_cleanup(&cfg);
    rm_tmpdir();
    restore_env();
}

/* current-context comes from the first file that sets a non-empty one. */
static void test_merge_current_context(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char env[1200];
    save_env();
    clear_env();
    make_tmpdir();
    write_file(tmpdir, "1.yaml", "current-context: ''\n"
                                 "clusters: [{name: k, cluster: {server: 'https://one'}}]\n");
    write_file(tmpdir, "2.yaml", "current-context: c2\n");
    write_file(tmpdir, "3.yaml", "current-context: c3\n"
                                 "contexts: [{name: c2, context: {cluster: k, namespace: two}},\n"
                                 "           {name: c3, context: {cluster: k, namespace: three}}]\n"
                                 "clusters: [{name: k, cluster: {server: 'https://three'}}]\n");
    write_file(tmpdir, "empty.yaml", "");
    snprintf(env, sizeof env, "%s/empty.yaml:%s/1.yaml:%s/2.yaml:%s/3.yaml", tmpdir, tmpdir,
             tmpdir, tmpdir);
    setenv("KUBECONFIG", env, 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.context, "c2");
    CHECK_STR(cfg.ns, "two");
    CHECK_STR(cfg.server, "https://one"); /* Cluster k: first definition. */
    vsg_kube_config_cleanup(&cfg);

    /* No file sets one. */
    snprintf(env, sizeof env, "%s/1.yaml:%s/empty.yaml", tmpdir, tmpdir);
    setenv("KUBECONFIG", env, 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_ERR_INVAL);
    CHECK(strstr(e.msg, "no current-context is set") != NULL);
    rm_tmpdir();
    restore_env();
}

/* A list in which no file exists is not configured: the search goes on. */
static void test_merge_none_exist(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char kc[400];
    save_env();
    clear_env();
    make_tmpdir();
    setenv("HOME", tmpdir, 1);
    setenv("KUBECONFIG", "/nonexistent/a.yaml::/nonexistent/b.yaml", 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_ERR_NOTFOUND);
    CHECK(strstr(e.msg, "no Kubernetes configuration") != NULL);
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_ERR_NOTFOUND);
    CHECK(strstr(e.msg, "invalid configuration: no configuration has been provided") != NULL);

    CHECK(mkdir(join(kc, sizeof kc, tmpdir, ".kube"), 0700) == 0);
    write_file(kc, "config", "current-context: h\n"
                             "clusters: [{name: c, cluster: {server: 'https://home'}}]\n"
                             "contexts: [{name: h, context: {cluster: c}}]\n");
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://home");
    vsg_kube_config_cleanup(&cfg);
    /* kubectl's order skips even a single missing entry, and while
     * $KUBECONFIG is set it never reads ~/.kube/config... */
    setenv("KUBECONFIG", "/nonexistent/a.yaml", 1);
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_ERR_NOTFOUND);
    CHECK(strstr(e.msg, "invalid configuration: no configuration has been provided") != NULL);
    CHECK(strstr(e.msg, "$KUBECONFIG (/nonexistent/a.yaml)") != NULL);
    CHECK(cfg.server == NULL);
    setenv("KUBECONFIG", ":", 1); /* Set and non-empty, though it lists nothing. */
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_ERR_NOTFOUND);
    /* ...but goes on to in-cluster. */
    setenv("KUBECONFIG", "/nonexistent/a.yaml:/nonexistent/b.yaml", 1);
    write_file(tmpdir, "token", "sa-token\n");
    write_file(tmpdir, "ca.crt", "PEM\n");
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    setenv("VSG_SA_DIR", tmpdir, 1);
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_INT(cfg.in_cluster, 1);
    CHECK_STR(cfg.token, "sa-token");
    vsg_kube_config_cleanup(&cfg);
    /* An unset or empty $KUBECONFIG: ~/.kube/config beats in-cluster. */
    setenv("KUBECONFIG", "", 1);
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://home");
    vsg_kube_config_cleanup(&cfg);
    unsetenv("KUBECONFIG");
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://home");
    vsg_kube_config_cleanup(&cfg);
    rm_tmpdir();
    restore_env();
}

/* ---- kubectl's search order --------------------------------------------- */

static void test_kubectl_explicit_missing(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    save_env();
    clear_env();
    CHECK_INT(vsg_kube_config_load_kubectl("/nonexistent/kc.yaml", NULL, &cfg, &e), VSG_ERR_IO);
    CHECK_STR(e.msg, "config file '/nonexistent/kc.yaml' can not be found");
    CHECK(cfg.server == NULL);
    /* An explicit path beats $KUBECONFIG. */
    setenv("KUBECONFIG", fixture("data.yaml"), 1);
    CHECK_INT(vsg_kube_config_load_kubectl(fixture("files.yaml"), NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.context, "dev");
    vsg_kube_config_cleanup(&cfg);
    /* $KUBECONFIG when no path is given. */
    CHECK_INT(vsg_kube_config_load_kubectl("", NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.context, "ctx");
    vsg_kube_config_cleanup(&cfg);
    restore_env();
}

/* ~/.kube/config beats in-cluster; in-cluster takes $POD_NAMESPACE. */
static void test_kubectl_home_then_incluster(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char kc[400], sa[400], home_cfg[450];
    save_env();
    clear_env();
    make_tmpdir();
    CHECK(mkdir(join(kc, sizeof kc, tmpdir, ".kube"), 0700) == 0);
    write_file(kc, "config", "current-context: h\n"
                             "clusters: [{name: c, cluster: {server: 'https://home'}}]\n"
                             "contexts: [{name: h, context: {cluster: c, namespace: home-ns}}]\n");
    join(home_cfg, sizeof home_cfg, kc, "config");
    CHECK(mkdir(join(sa, sizeof sa, tmpdir, "sa"), 0700) == 0);
    write_file(sa, "token", "sa-token\n");
    write_file(sa, "ca.crt", "PEM\n");
    write_file(sa, "namespace", "sa-ns\n");
    setenv("HOME", tmpdir, 1);
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    setenv("VSG_SA_DIR", sa, 1);
    setenv("POD_NAMESPACE", "pod-ns", 1);

    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://home");
    CHECK_INT(cfg.in_cluster, 0);
    CHECK_STR(cfg.ns, "home-ns");
    CHECK_STR(cfg.origin, home_cfg);
    vsg_kube_config_cleanup(&cfg);

    /* No kubeconfig: in-cluster, namespace from $POD_NAMESPACE... */
    CHECK(unlink(home_cfg) == 0);
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.server, "https://10.96.0.1:443");
    CHECK_INT(cfg.in_cluster, 1);
    CHECK_STR(cfg.token, "sa-token");
    CHECK_STR(cfg.ns, "pod-ns");
    CHECK_STR(cfg.origin, "in-cluster");
    vsg_kube_config_cleanup(&cfg);
    /* ...which vsg_kube_config_load() does not look at. */
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.ns, "sa-ns");
    vsg_kube_config_cleanup(&cfg);
    /* ...else from the service account. */
    unsetenv("POD_NAMESPACE");
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.ns, "sa-ns");
    vsg_kube_config_cleanup(&cfg);
    /* A broken in-cluster setup is an error. */
    unlink(join(kc, sizeof kc, sa, "token"));
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_ERR_IO);
    CHECK(strstr(e.msg, "service account token") != NULL);
    rm_tmpdir();
    restore_env();
}

/* ---- exec credential plugins -------------------------------------------- */

#define EXEC_V1 "client.authentication.k8s.io/v1"
#define EXEC_V1BETA1 "client.authentication.k8s.io/v1beta1"

/* A plugin that answers the apiVersion it was asked for, with a token made
 * of $MY_SECRET, its second argument, that version's last part and
 * $VSG_TEST_OURS; it saves $KUBERNETES_EXEC_INFO in $OUT_DIR/info.json and
 * fails unless its stdin is /dev/null. */
static const char token_plugin[] =
    "#!/bin/sh\n"
    "test \"$(readlink /proc/self/fd/0)\" = /dev/null || exit 9\n"
    "v=$(printf '%s' \"$KUBERNETES_EXEC_INFO\" | "
    "sed -n 's/.*\"apiVersion\":\"\\([^\"]*\\)\".*/\\1/p')\n"
    "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$OUT_DIR/info.json\"\n"
    "echo 'token plugin: hello on stderr' >&2\n"
    "printf '{\"kind\":\"ExecCredential\",\"apiVersion\":\"%s\",'"
    "'\"status\":{\"token\":\"%s-%s-%s-%s\"}}\\n' \"$v\" \"$MY_SECRET\" \"$2\" \"${v##*/}\" "
    "\"$VSG_TEST_OURS\"\n";

/* Writes the script `script` as `dir`/`name` (mode 0755). */
static void write_script(const char *dir, const char *name, const char *script)
{
    char path[700];
    write_file(dir, name, script);
    CHECK(chmod(join(path, sizeof path, dir, name), 0755) == 0);
}

/* Writes `dir`/kc.yaml, whose user u has `exec` (a YAML flow mapping), and
 * returns its path (a static buffer). */
static const char *exec_kubeconfig(const char *dir, const char *exec)
{
    static char kc[700];
    char yaml[4096];
    int n = snprintf(yaml, sizeof yaml,
                     "current-context: x\n"
                     "clusters: [{name: c, cluster: {server: 'https://k:6443', "
                     "certificate-authority-data: Q0EtUEVNCg==}}]\n"
                     "contexts: [{name: x, context: {cluster: c, user: u, namespace: ns}}]\n"
                     "users: [{name: u, user: {exec: %s}}]\n",
                     exec);
    CHECK(n > 0 && (size_t)n < sizeof yaml);
    write_file(dir, "kc.yaml", yaml);
    return join(kc, sizeof kc, dir, "kc.yaml");
}

/* Reads `dir`/`name` into `out` (NUL-terminated, at most size - 1 bytes). */
static const char *read_back(const char *dir, const char *name, char *out, size_t size)
{
    char path[700];
    FILE *f = fopen(join(path, sizeof path, dir, name), "r");
    CHECK(f != NULL);
    size_t n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

/* Loads `kc` and expects failure `code` whose message has `needle` and
 * never the secret the failing plugins print. */
static void expect_exec_error(const char *kc, enum vsg_err code, const char *needle)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    enum vsg_err rc = vsg_kube_config_load_file(kc, NULL, &cfg, &e);
    if (rc != code || !strstr(e.msg, needle))
        fprintf(stderr, "  got %s: %s\n  want %s\n", vsg_errname(rc), e.msg, needle);
    CHECK_INT(rc, code);
    CHECK(strstr(e.msg, needle) != NULL);
    CHECK(strstr(e.msg, kc) != NULL);
    CHECK(strstr(e.msg, "user \"u\"") != NULL);
    CHECK(strstr(e.msg, "SUPERSECRET") == NULL);
    CHECK(cfg.server == NULL && cfg.token == NULL);
}

/* Command found in $PATH, args, env entries (winning over ours), our own
 * environment, KUBERNETES_EXEC_INFO with and without the cluster. */
static void test_exec_plugin_token(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char bin[400], path[2000], exec[1200], info[2000];
    const char *kc;
    save_env();
    clear_env();
    make_tmpdir();
    CHECK(mkdir(join(bin, sizeof bin, tmpdir, "bin"), 0700) == 0);
    write_script(bin, "vsg-test-plugin", token_plugin);
    const char *our_path = getenv("PATH");
    snprintf(path, sizeof path, "/nonexistent-bin::%s:%s", bin, our_path ? our_path : "/bin:/usr/bin");
    setenv("PATH", path, 1);
    setenv("MY_SECRET", "outer", 1);
    setenv("VSG_TEST_OURS", "ours", 1);

    snprintf(exec, sizeof exec,
             "{apiVersion: " EXEC_V1 ", command: vsg-test-plugin, args: [--region, eu], "
             "interactiveMode: Never, installHint: 'not shown', "
             "env: [{name: MY_SECRET, value: s3cret}, {name: OUT_DIR, value: '%s'}]}",
             tmpdir);
    kc = exec_kubeconfig(tmpdir, exec);
    CHECK_INT(vsg_kube_config_load_file(kc, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.token, "s3cret-eu-v1-ours");
    CHECK(cfg.token_file == NULL && cfg.cert_pem == NULL && cfg.key_pem == NULL);
    CHECK_STR(cfg.server, "https://k:6443");
    CHECK_STR(cfg.ca_pem, "CA-PEM\n");
    CHECK_STR(cfg.ns, "ns");
    CHECK_STR(cfg.origin, kc);
    vsg_kube_config_cleanup(&cfg);
    CHECK_STR(read_back(tmpdir, "info.json", info, sizeof info),
              "{\"apiVersion\":\"" EXEC_V1 "\",\"kind\":\"ExecCredential\","
              "\"spec\":{\"interactive\":false}}");

    /* v1beta1 (interactiveMode may be left out), with the cluster. */
    snprintf(exec, sizeof exec,
             "{apiVersion: " EXEC_V1BETA1 ", command: vsg-test-plugin, args: [-r, us], "
             "provideClusterInfo: true, "
             "env: [{name: MY_SECRET, value: other}, {name: OUT_DIR, value: '%s'}]}",
             tmpdir);
    kc = exec_kubeconfig(tmpdir, exec);
    CHECK_INT(vsg_kube_config_load_kubectl(kc, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.token, "other-us-v1beta1-ours");
    vsg_kube_config_cleanup(&cfg);
    CHECK_STR(read_back(tmpdir, "info.json", info, sizeof info),
              "{\"apiVersion\":\"" EXEC_V1BETA1 "\",\"kind\":\"ExecCredential\","
              "\"spec\":{\"cluster\":{\"server\":\"https://k:6443\","
              "\"certificate-authority-data\":\"Q0EtUEVNCg==\"},\"interactive\":false}}");

    /* A static token wins: the plugin does not run. */
    write_file(tmpdir, "kc2.yaml",
               "current-context: x\n"
               "clusters: [{name: c, cluster: {server: 'https://k'}}]\n"
               "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
               "users: [{name: u, user: {token: static, "
               "exec: {apiVersion: " EXEC_V1 ", command: vsg-no-such-plugin}}}]\n");
    CHECK_INT(vsg_kube_config_load_file(join(info, sizeof info, tmpdir, "kc2.yaml"), NULL, &cfg,
                                         &e),
              VSG_OK);
    CHECK_STR(cfg.token, "static");
    vsg_kube_config_cleanup(&cfg);
    rm_tmpdir();
    restore_env();
}

/* A command with a slash resolves against the folder of the kubeconfig the
 * user came from (here the second file of a $KUBECONFIG list), not ours. */
static void test_exec_plugin_relative_command(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    char a[400], b[400], sub[450], env[1000], yaml[1500];
    save_env();
    clear_env();
    make_tmpdir();
    CHECK(mkdir(join(a, sizeof a, tmpdir, "a"), 0700) == 0);
    CHECK(mkdir(join(b, sizeof b, tmpdir, "b"), 0700) == 0);
    CHECK(mkdir(join(sub, sizeof sub, b, "sub"), 0700) == 0);
    write_script(sub, "plugin", token_plugin);
    write_file(a, "a.yaml",
               "current-context: x\n"
               "clusters: [{name: c, cluster: {server: 'https://k'}}]\n"
               "contexts: [{name: x, context: {cluster: c, user: u}}]\n");
    snprintf(yaml, sizeof yaml,
             "users: [{name: u, user: {exec: {apiVersion: " EXEC_V1 ", command: sub/plugin, "
             "args: [x, rel], interactiveMode: IfAvailable, "
             "env: [{name: MY_SECRET, value: r}, {name: OUT_DIR, value: '%s'}]}}}]\n",
             tmpdir);
    write_file(b, "b.yaml", yaml);
    snprintf(env, sizeof env, "%s/a.yaml:%s/b.yaml", a, b);
    setenv("KUBECONFIG", env, 1);
    setenv("VSG_TEST_OURS", "o", 1);
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.token, "r-rel-v1-o");
    vsg_kube_config_cleanup(&cfg);

    /* The same from the first file of the list. */
    snprintf(env, sizeof env, "%s/b.yaml:%s/a.yaml", b, a);
    setenv("KUBECONFIG", env, 1);
    CHECK_INT(vsg_kube_config_load(NULL, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.token, "r-rel-v1-o");
    vsg_kube_config_cleanup(&cfg);
    /* A user defined first in a/a.yaml: a/sub/plugin does not exist. */
    snprintf(env, sizeof env, "%s/a.yaml:%s/b.yaml", a, b);
    setenv("KUBECONFIG", env, 1);
    write_file(a, "a.yaml",
               "current-context: x\n"
               "clusters: [{name: c, cluster: {server: 'https://k'}}]\n"
               "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
               "users: [{name: u, user: {exec: {apiVersion: " EXEC_V1 ", command: sub/plugin, "
               "interactiveMode: Never}}}]\n");
    CHECK_INT(vsg_kube_config_load_kubectl(NULL, NULL, &cfg, &e), VSG_ERR_IO);
    CHECK(strstr(e.msg, "exec: executable sub/plugin not found") != NULL);
    CHECK(strstr(e.msg, "a.yaml: user \"u\"") != NULL);
    rm_tmpdir();
    restore_env();
}

/* A client certificate and key (PEM text) instead of a token. */
static void test_exec_plugin_client_cert(void)
{
    struct vsg_kube_config cfg;
    struct vsg_error e;
    const char *kc;
    save_env();
    clear_env();
    make_tmpdir();
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\n"
                 "printf '%s\\n' '{\"apiVersion\": \"" EXEC_V1BETA1 "\", \"kind\": \"ExecCredential\",'\n"
                 "printf '%s\\n' ' \"status\": {\"expirationTimestamp\": \"2030-01-01T00:00:00Z\",'\n"
                 "printf '%s\\n' '  \"clientCertificateData\": \"-----BEGIN CERTIFICATE-----\\nQ0VSVA==\\n"
                 "-----END CERTIFICATE-----\\n\",'\n"
                 "printf '%s\\n' '  \"clientKeyData\": \"-----BEGIN PRIVATE KEY-----\\nS0VZ\\n"
                 "-----END PRIVATE KEY-----\\n\"}}'\n");
    kc = exec_kubeconfig(tmpdir, "{apiVersion: " EXEC_V1BETA1 ", command: ./plugin}");
    CHECK_INT(vsg_kube_config_load_file(kc, NULL, &cfg, &e), VSG_OK);
    CHECK_STR(cfg.cert_pem, "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n");
    CHECK_STR(cfg.key_pem, "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n");
    CHECK(cfg.token == NULL && cfg.cert_file == NULL && cfg.key_file == NULL);
    vsg_kube_config_cleanup(&cfg);

    /* A certificate without its key. */
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\n"
                 "echo '{\"apiVersion\":\"" EXEC_V1BETA1 "\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"clientCertificateData\":\"C\"}}'\n");
    expect_exec_error(kc, VSG_ERR_INVAL, "only a client certificate or key, not both");
    /* Neither token nor certificate. */
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\n"
                 "echo '{\"apiVersion\":\"" EXEC_V1BETA1 "\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"token\":\"\"}}'\n");
    expect_exec_error(kc, VSG_ERR_INVAL, "neither a token nor a client certificate");
    rm_tmpdir();
    restore_env();
}

/* Failures: each names the kubeconfig, the user and the command, and none
 * shows the secret the plugin printed. */
static void test_exec_plugin_errors(void)
{
    const char *kc;
    char exec[600];
    save_env();
    clear_env();
    make_tmpdir();
    kc = exec_kubeconfig(tmpdir, "{apiVersion: " EXEC_V1 ", command: ./plugin, "
                                 "interactiveMode: Never}");

    /* Exit code 3, after printing a token. */
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\n"
                 "echo '{\"apiVersion\":\"" EXEC_V1 "\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"token\":\"SUPERSECRET\"}}'\n"
                 "echo 'plugin: no credentials' >&2\n"
                 "exit 3\n");
    expect_exec_error(kc, VSG_ERR_IO, "exec: executable ./plugin failed with exit code 3");
    /* Killed by a signal. */
    write_script(tmpdir, "plugin", "#!/bin/sh\nkill -TERM $$\n");
    expect_exec_error(kc, VSG_ERR_IO, "executable ./plugin was killed by signal 15");
    /* Not JSON (and the secret in it not quoted). */
    write_script(tmpdir, "plugin", "#!/bin/sh\necho 'token: SUPERSECRET'\n");
    expect_exec_error(kc, VSG_ERR_INVAL,
                      "exec: the plugin's output is not an ExecCredential: invalid JSON");
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\necho '{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"SUPERSECRET\"'\n");
    expect_exec_error(kc, VSG_ERR_INVAL, "not an ExecCredential: invalid JSON");
    write_script(tmpdir, "plugin", "#!/bin/sh\n");
    expect_exec_error(kc, VSG_ERR_INVAL, "not an ExecCredential: it is empty");
    write_script(tmpdir, "plugin", "#!/bin/sh\necho '[\"SUPERSECRET\"]'\n");
    expect_exec_error(kc, VSG_ERR_INVAL, "not an ExecCredential: not a JSON object");
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\necho '{\"apiVersion\":\"" EXEC_V1 "\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"token\":\"SUPERSECRET\"}} {}'\n");
    expect_exec_error(kc, VSG_ERR_INVAL, "not an ExecCredential: text after the JSON value");
    /* Wrong kind, no status. */
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\necho '{\"apiVersion\":\"" EXEC_V1 "\",\"kind\":\"Secret\","
                 "\"status\":{\"token\":\"SUPERSECRET\"}}'\n");
    expect_exec_error(kc, VSG_ERR_INVAL, "not an ExecCredential: kind is \"Secret\"");
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\necho '{\"apiVersion\":\"" EXEC_V1 "\",\"kind\":\"ExecCredential\"}'\n");
    expect_exec_error(kc, VSG_ERR_INVAL, "not an ExecCredential: it has no status");
    /* Wrong apiVersion. */
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\necho '{\"apiVersion\":\"" EXEC_V1BETA1 "\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"token\":\"SUPERSECRET\"}}'\n");
    expect_exec_error(kc, VSG_ERR_INVAL,
                      "exec: apiVersion " EXEC_V1 " was asked for, the plugin answered " EXEC_V1BETA1);
    /* More than 1 MiB of output. */
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\nhead -c 1100000 /dev/zero | tr '\\0' x\n");
    expect_exec_error(kc, VSG_ERR_IO, "executable ./plugin wrote more than 1048576 bytes");
    /* A file without an execute bit is not found either. */
    CHECK(chmod(join(exec, sizeof exec, tmpdir, "plugin"), 0644) == 0);
    expect_exec_error(kc, VSG_ERR_IO, "exec: executable ./plugin not found");

    /* Missing command: not found, with the installHint. */
    kc = exec_kubeconfig(tmpdir, "{apiVersion: " EXEC_V1 ", command: vsg-no-such-plugin, "
                                 "interactiveMode: Never, "
                                 "installHint: 'Install it with: apt install vsg-plugin'}");
    expect_exec_error(kc, VSG_ERR_IO,
                      "exec: executable vsg-no-such-plugin not found: Install it with: apt "
                      "install vsg-plugin");

    /* Settings client-go refuses too. */
    kc = exec_kubeconfig(tmpdir, "{apiVersion: " EXEC_V1 ", command: ./plugin}");
    expect_exec_error(kc, VSG_ERR_INVAL, "exec: interactiveMode must be specified");
    kc = exec_kubeconfig(tmpdir, "{apiVersion: " EXEC_V1 ", command: ./plugin, "
                                 "interactiveMode: Always}");
    expect_exec_error(kc, VSG_ERR_INVAL, "interactiveMode Always needs a terminal");
    kc = exec_kubeconfig(tmpdir, "{apiVersion: " EXEC_V1 ", command: ./plugin, "
                                 "interactiveMode: Sometimes}");
    expect_exec_error(kc, VSG_ERR_INVAL, "invalid interactiveMode \"Sometimes\"");
    kc = exec_kubeconfig(tmpdir, "{apiVersion: client.authentication.k8s.io/v1alpha1, "
                                 "command: ./plugin}");
    expect_exec_error(kc, VSG_ERR_INVAL, "invalid apiVersion");
    kc = exec_kubeconfig(tmpdir, "{apiVersion: " EXEC_V1 ", interactiveMode: Never}");
    expect_exec_error(kc, VSG_ERR_INVAL, "exec: command must be specified");
    kc = exec_kubeconfig(tmpdir, "{apiVersion: " EXEC_V1 ", command: ./plugin, "
                                 "interactiveMode: Never, env: [{value: x}]}");
    expect_exec_error(kc, VSG_ERR_INVAL, "env variable name must be specified");
    kc = exec_kubeconfig(tmpdir, "{apiVersion: " EXEC_V1 ", command: ./plugin, "
                                 "interactiveMode: Never, args: [[a]]}");
    expect_exec_error(kc, VSG_ERR_INVAL, "every entry of \"args\" must be a string");
    rm_tmpdir();
    restore_env();
}

/* auth-provider users stay refused, saying why. */
static void test_auth_provider_refused(void)
{
    expect_parse_error("current-context: x\n"
                       "clusters: [{name: c, cluster: {server: h}}]\n"
                       "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n"
                       "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
                       VSG_ERR_UNSUPPORTED,
                       "test.yaml: user \"u\" uses an auth-provider plugin; kubectl dropped "
                       "those in 1.26 and vsgate does not support them");
}

/* Every allocation failing in turn while running a plugin. */
static void test_exec_alloc_failures(void)
{
    const char *kc;
    int completed = 0;
    save_env();
    clear_env();
    make_tmpdir();
    write_script(tmpdir, "plugin",
                 "#!/bin/sh\necho '{\"apiVersion\":\"" EXEC_V1 "\",\"kind\":\"ExecCredential\","
                 "\"status\":{\"token\":\"t\"}}'\n");
    kc = exec_kubeconfig(tmpdir, "{apiVersion: " EXEC_V1 ", command: ./plugin, "
                                 "interactiveMode: Never, provideClusterInfo: true, "
                                 "args: [a, b], env: [{name: A, value: b}]}");
    for (long n = 0; n < 300 && !completed; n++) {
        struct vsg_kube_config cfg;
        struct vsg_error e;
        vsg_mem_fail_after(n);
        enum vsg_err rc = vsg_kube_config_load_file(kc, NULL, &cfg, &e);
        long injected = vsg_mem_injected_failures();
        vsg_mem_fail_after(-1);
        if (rc != VSG_OK) {
            if (rc != VSG_ERR_NOMEM) fprintf(stderr, "  n=%ld: %s\n", n, e.msg);
            CHECK_INT(rc, VSG_ERR_NOMEM);
            CHECK(cfg.server == NULL && cfg.token == NULL);
        } else if (injected == 0) {
            completed = 1;
            CHECK_STR(cfg.token, "t");
        }
        vsg_kube_config_cleanup(&cfg);
    }
    CHECK(completed);
    rm_tmpdir();
    restore_env();
}

/* Every allocation failing in turn while loading a merged list. */
static void test_merge_alloc_failures(void)
{
    char env[2700], first[1200];
    int completed = 0;
    save_env();
    clear_env();
    snprintf(first, sizeof first, "%s", fixture("data.yaml"));
    snprintf(env, sizeof env, "/nonexistent/kc:%s:%s", first, fixture("files.yaml"));
    setenv("KUBECONFIG", env, 1);
    for (long n = 0; n < 300 && !completed; n++) {
        struct vsg_kube_config cfg;
        struct vsg_error e;
        vsg_mem_fail_after(n);
        enum vsg_err rc = vsg_kube_config_load_kubectl(NULL, "abs", &cfg, &e);
        long injected = vsg_mem_injected_failures();
        vsg_mem_fail_after(-1);
        if (rc != VSG_OK) {
            if (rc != VSG_ERR_NOMEM) fprintf(stderr, "  n=%ld: %s\n", n, e.msg);
            CHECK_INT(rc, VSG_ERR_NOMEM);
            CHECK(cfg.server == NULL && cfg.ns == NULL);
        } else if (injected == 0) {
            completed = 1;
            CHECK_STR(cfg.token, "fixture-token-from-file");
        }
        vsg_kube_config_cleanup(&cfg);
    }
    CHECK(completed);
    restore_env();
}

/* Every allocation failing in turn while loading both fixtures: NOMEM or
 * success, no crash, no leak, and the struct left empty on failure. */
static void test_alloc_failures(void)
{
    static const char *const files[] = {"files.yaml", "data.yaml"};
    for (size_t f = 0; f < 2; f++) {
        char path[1300];
        int completed = 0;
        snprintf(path, sizeof path, "%s", fixture(files[f]));
        for (long n = 0; n < 300 && !completed; n++) {
            struct vsg_kube_config cfg;
            struct vsg_error e;
            vsg_mem_fail_after(n);
            enum vsg_err rc = vsg_kube_config_load_file(path, "abs", &cfg, &e);
            if (f == 1) {
                vsg_kube_config_cleanup(&cfg);
                rc = vsg_kube_config_load_file(path, NULL, &cfg, &e);
            }
            long injected = vsg_mem_injected_failures();
            vsg_mem_fail_after(-1);
            if (rc != VSG_OK) {
                if (rc != VSG_ERR_NOMEM) fprintf(stderr, "  n=%ld: %s\n", n, e.msg);
                CHECK_INT(rc, VSG_ERR_NOMEM);
                CHECK(cfg.server == NULL && cfg.ns == NULL);
            } else if (injected == 0) {
                completed = 1;
            }
            vsg_kube_config_cleanup(&cfg);
        }
        CHECK(completed);
    }
}

TEST_LIST = {
    {"files_current_context", test_files_current_context},
    {"files_named_contexts", test_files_named_contexts},
    {"data_fields", test_data_fields},
    {"parse_from_memory_relative_dir", test_parse_from_memory_relative_dir},
    {"malformed_yaml", test_malformed_yaml},
    {"invalid_content", test_invalid_content},
    {"yaml_features", test_yaml_features},
    {"incluster", test_incluster},
    {"search_order", test_search_order},
    {"merge_list", test_merge_list},
    {"merge_first_definition_wins", test_merge_first_definition_wins},
    {"merge_current_context", test_merge_current_context},
    {"merge_none_exist", test_merge_none_exist},
    {"kubectl_explicit_missing", test_kubectl_explicit_missing},
    {"kubectl_home_then_incluster", test_kubectl_home_then_incluster},
    {"exec_plugin_token", test_exec_plugin_token},
    {"exec_plugin_relative_command", test_exec_plugin_relative_command},
    {"exec_plugin_client_cert", test_exec_plugin_client_cert},
    {"exec_plugin_errors", test_exec_plugin_errors},
    {"auth_provider_refused", test_auth_provider_refused},
    {"exec_alloc_failures", test_exec_alloc_failures},
    {"merge_alloc_failures", test_merge_alloc_failures},
    {"alloc_failures", test_alloc_failures},
    {NULL, NULL},
};
TEST_MAIN()

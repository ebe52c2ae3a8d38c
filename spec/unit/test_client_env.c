/*
 * test_client_env.c - libvsgate's reading of a bound workload's
 * environment (core/client/env.h): VC_URL defaults, VC_INSECURE (Go
 * ParseBool), VC_SECRET_PATH files verbatim with the VC_USERNAME /
 * VC_PASSWORD fallback, VC_CA_CERTS; and the public API's configuration
 * errors (no network beyond a refused 127.0.0.1 port).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "client/env.h"
#include "vsgate/vsgate.h"

#ifndef VSG_FIXTURES_DIR
#define VSG_FIXTURES_DIR "spec/fixtures/soap"
#endif

static char dir[64]; /* A fresh secret folder per test. */

static void put(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void rm(const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    unlink(p);
    rmdir(p);
}

/* A clean environment and an empty secret folder named by VC_SECRET_PATH. */
static void fresh(void)
{
    static const char *vars[] = {"VC_URL", "VC_INSECURE", "VC_SECRET_PATH", "VC_USERNAME",
                                 "VC_PASSWORD", "VC_CA_CERTS", NULL};
    for (const char **v = vars; *v; v++) unsetenv(*v);
    if (dir[0]) {
        rm("username");
        rm("password");
        rm("ca.pem");
        rmdir(dir);
    }
    snprintf(dir, sizeof dir, "/tmp/vsg-client-env.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    setenv("VC_URL", "vc.example.com", 1);
    setenv("VC_SECRET_PATH", dir, 1);
}

static enum vsg_err rd(struct vsg_client_env *e, struct vsg_error *err)
{
    vsg_error_clear(err);
    return vsg_client_env_read(NULL, e, err);
}

static void test_defaults_and_files(void)
{
    struct vsg_client_env e;
    struct vsg_error err;
    fresh();
    put("username", "administrator@vsphere.local");
    put("password", " p@ss word\n"); /* verbatim: no trimming */
    CHECK_INT(rd(&e, &err), VSG_OK);
    CHECK_STR(e.url, "https://vc.example.com/sdk");
    CHECK_INT(e.insecure, 0);
    CHECK_STR(e.secret_path, dir);
    CHECK_STR(e.username, "administrator@vsphere.local");
    CHECK_STR(e.password, " p@ss word\n");
    CHECK_INT(e.username_src, VSG_CLIENT_SRC_FILE);
    CHECK_INT(e.password_src, VSG_CLIENT_SRC_FILE);
    CHECK(e.ca_pem == NULL);
    vsg_client_env_cleanup(&e);
    CHECK(e.url == NULL && e.password == NULL);
}

static void test_url_forms(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"vc.example.com", "https://vc.example.com/sdk"},
        {"https://vc.example.com", "https://vc.example.com/sdk"},
        {"https://vc.example.com/", "https://vc.example.com/sdk"},
        {"http://127.0.0.1:8989/sdk", "http://127.0.0.1:8989/sdk"},
        {"vc:8443/custom", "https://vc:8443/custom"},
        {"https://user:secret@vc.example.com", "https://vc.example.com/sdk"},
    };
    struct vsg_client_env e;
    struct vsg_error err;
    fresh();
    put("username", "u");
    put("password", "p");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        setenv("VC_URL", cases[i].in, 1);
        CHECK_INT(rd(&e, &err), VSG_OK);
        CHECK_STR(e.url, cases[i].want);
        vsg_client_env_cleanup(&e);
    }
    unsetenv("VC_URL");
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    CHECK_STR(err.msg, "VC_URL is required");
    setenv("VC_URL", "", 1); /* empty counts as unset */
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    CHECK_STR(err.msg, "VC_URL is required");
    setenv("VC_URL", "https://user:hunter22@[bad", 1);
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    CHECK(strncmp(err.msg, "VC_URL: ", 8) == 0);
    CHECK(strstr(err.msg, "hunter22") == NULL);
}

static void test_insecure(void)
{
    static const struct {
        const char *v;
        int want;
    } ok[] = {{"1", 1}, {"t", 1}, {"T", 1}, {"TRUE", 1}, {"true", 1}, {"True", 1},
              {"0", 0}, {"f", 0}, {"F", 0}, {"FALSE", 0}, {"false", 0}, {"False", 0},
              {"", 0}};
    static const char *bad[] = {"yes", "maybe", "tRUE", " true", "true ", "2", "on"};
    struct vsg_client_env e;
    struct vsg_error err;
    fresh();
    put("username", "u");
    put("password", "p");
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        setenv("VC_INSECURE", ok[i].v, 1);
        CHECK_INT(rd(&e, &err), VSG_OK);
        CHECK_INT(e.insecure, ok[i].want);
        vsg_client_env_cleanup(&e);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char want[64];
        setenv("VC_INSECURE", bad[i], 1);
        CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
        snprintf(want, sizeof want, "VC_INSECURE: invalid boolean \"%s\"", bad[i]);
        CHECK_STR(err.msg, want);
        CHECK(e.url == NULL);
    }
}

static void test_env_fallback(void)
{
    struct vsg_client_env e;
    struct vsg_error err;
    fresh();
    setenv("VC_USERNAME", "env-user", 1);
    setenv("VC_PASSWORD", "env-pass-1234", 1);
    /* No files: both from env. */
    CHECK_INT(rd(&e, &err), VSG_OK);
    CHECK_STR(e.username, "env-user");
    CHECK_STR(e.password, "env-pass-1234");
    CHECK_INT(e.username_src, VSG_CLIENT_SRC_ENV);
    CHECK_INT(e.password_src, VSG_CLIENT_SRC_ENV);
    vsg_client_env_cleanup(&e);
    /* Each key on its own: a file wins over the env var. */
    put("username", "file-user");
    CHECK_INT(rd(&e, &err), VSG_OK);
    CHECK_STR(e.username, "file-user");
    CHECK_STR(e.password, "env-pass-1234");
    CHECK_INT(e.username_src, VSG_CLIENT_SRC_FILE);
    CHECK_INT(e.password_src, VSG_CLIENT_SRC_ENV);
    vsg_client_env_cleanup(&e);
    put("password", "file-pass");
    CHECK_INT(rd(&e, &err), VSG_OK);
    CHECK_STR(e.password, "file-pass");
    vsg_client_env_cleanup(&e);
    /* Neither: the message names the file and the variable. */
    rm("password");
    unsetenv("VC_PASSWORD");
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    char want[256];
    snprintf(want, sizeof want,
             "no vCenter password: %s/password does not exist and VC_PASSWORD is not set", dir);
    CHECK_STR(err.msg, want);
    CHECK(e.username == NULL);
    /* An empty env var counts as unset. */
    setenv("VC_PASSWORD", "", 1);
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    CHECK_STR(err.msg, want);
}

static void test_default_secret_path(void)
{
    struct vsg_client_env e;
    struct vsg_error err;
    fresh();
    unsetenv("VC_SECRET_PATH");
    if (access(VSG_CLIENT_SECRET_PATH, F_OK) == 0)
        CHECK_SKIP("%s exists here, so the default path cannot be tested", VSG_CLIENT_SECRET_PATH);
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    CHECK_STR(err.msg, "no vCenter username: /var/bindings/vsphere/username does not exist "
                       "and VC_USERNAME is not set");
    setenv("VC_USERNAME", "u", 1);
    setenv("VC_PASSWORD", "p", 1);
    CHECK_INT(rd(&e, &err), VSG_OK);
    CHECK_STR(e.secret_path, "/var/bindings/vsphere");
    vsg_client_env_cleanup(&e);
    /* The options' secret_path wins over VC_SECRET_PATH. */
    setenv("VC_SECRET_PATH", "/nowhere", 1);
    put("username", "opt-user");
    CHECK_INT(vsg_client_env_read(dir, &e, &err), VSG_OK);
    CHECK_STR(e.secret_path, dir);
    CHECK_STR(e.username, "opt-user");
    vsg_client_env_cleanup(&e);
}

static void test_bad_files(void)
{
    struct vsg_client_env e;
    struct vsg_error err;
    char p[256];
    fresh();
    setenv("VC_USERNAME", "env-user", 1);
    setenv("VC_PASSWORD", "env-pass", 1);
    /* An empty file is an error, not a fallback. */
    put("username", "");
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    snprintf(p, sizeof p, "the username in %s/username is empty", dir);
    CHECK_STR(err.msg, p);
    /* A file that exists but cannot be read (a folder) is an error too. */
    rm("username");
    snprintf(p, sizeof p, "%s/username", dir);
    CHECK(mkdir(p, 0700) == 0);
    CHECK_INT(rd(&e, &err), VSG_ERR_IO);
    CHECK(strstr(err.msg, p) != NULL);
    rm("username");
    /* A NUL byte cannot be sent in a Login. */
    snprintf(p, sizeof p, "%s/password", dir);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    fwrite("a\0b", 1, 3, f);
    fclose(f);
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "NUL") != NULL);
}

static void test_ca(void)
{
    struct vsg_client_env e;
    struct vsg_error err;
    char p[256];
    const char *pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    fresh();
    put("username", "u");
    put("password", "p");
    setenv("VC_CA_CERTS", pem, 1);
    CHECK_INT(rd(&e, &err), VSG_OK);
    CHECK_STR(e.ca_pem, pem);
    vsg_client_env_cleanup(&e);
    /* A path to a PEM file. */
    put("ca.pem", pem);
    snprintf(p, sizeof p, "%s/ca.pem", dir);
    setenv("VC_CA_CERTS", p, 1);
    CHECK_INT(rd(&e, &err), VSG_OK);
    CHECK_STR(e.ca_pem, pem);
    vsg_client_env_cleanup(&e);
    setenv("VC_CA_CERTS", VSG_FIXTURES_DIR "/wrong-ca.pem", 1);
    CHECK_INT(rd(&e, &err), VSG_OK);
    CHECK(strstr(e.ca_pem, "-----BEGIN CERTIFICATE-----") != NULL);
    vsg_client_env_cleanup(&e);
    /* Neither PEM nor a file; a file without a certificate; a key. */
    setenv("VC_CA_CERTS", "/no/such/ca.pem", 1);
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    CHECK_STR(err.msg, "VC_CA_CERTS is neither PEM text nor an existing file");
    put("ca.pem", "not a certificate\n");
    setenv("VC_CA_CERTS", p, 1);
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    CHECK_STR(err.msg, "VC_CA_CERTS holds no PEM certificate");
    setenv("VC_CA_CERTS", "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n", 1);
    CHECK_INT(rd(&e, &err), VSG_ERR_INVAL);
    CHECK_STR(err.msg, "VC_CA_CERTS holds no PEM certificate");
}

/* ---- the public API's side of the same errors */

static void test_public_config_errors(void)
{
    vsgate_error err;
    fresh();
    unsetenv("VC_URL");
    CHECK(vsgate_client_from_env(NULL, &err) == NULL);
    CHECK_INT(err.code, VSGATE_ECONFIG);
    CHECK_STR(err.message, "VC_URL is required");
    CHECK(vsgate_rest_session_from_env(NULL, &err) == NULL);
    CHECK_INT(err.code, VSGATE_ECONFIG);
    setenv("VC_URL", "vc", 1);
    setenv("VC_INSECURE", "maybe", 1);
    CHECK(vsgate_client_from_env(NULL, NULL) == NULL); /* err may be NULL */
    CHECK(vsgate_client_from_env(NULL, &err) == NULL);
    CHECK_STR(err.message, "VC_INSECURE: invalid boolean \"maybe\"");
    unsetenv("VC_INSECURE");
    vsgate_options o = {.secret_path = "/no/such/dir"};
    CHECK(vsgate_rest_session_from_env(&o, &err) == NULL);
    CHECK_INT(err.code, VSGATE_ECONFIG);
    CHECK_STR(err.message, "no vCenter username: /no/such/dir/username does not exist and "
                           "VC_USERNAME is not set");
}

/* A closed port on loopback: ECONNECT, and no credential in the message. */
static void test_public_connect_error(void)
{
    vsgate_error err;
    fresh();
    put("username", "someone");
    put("password", "pw-never-shown-42");
    setenv("VC_URL", "https://127.0.0.1:1", 1);
    CHECK(vsgate_client_from_env(NULL, &err) == NULL);
    CHECK_INT(err.code, VSGATE_ECONNECT);
    CHECK(strstr(err.message, "https://127.0.0.1:1/sdk") != NULL);
    CHECK(strstr(err.message, "pw-never-shown-42") == NULL);
    CHECK(vsgate_rest_session_from_env(NULL, &err) == NULL);
    CHECK_INT(err.code, VSGATE_ECONNECT);
    CHECK(strstr(err.message, "pw-never-shown-42") == NULL);
    CHECK(strstr(err.message, "Basic") == NULL);
}

static void test_public_misc(void)
{
    vsgate_error err;
    CHECK_STR(vsgate_version(), "0.1.0");
    CHECK_STR(vsgate_status_name(VSGATE_OK), "OK");
    CHECK_STR(vsgate_status_name(VSGATE_ELOGIN), "ELOGIN");
    CHECK_STR(vsgate_status_name(VSGATE_EINTERNAL), "EINTERNAL");
    CHECK_STR(vsgate_status_name((vsgate_status)99), "EUNKNOWN");
    for (int i = VSGATE_OK; i <= VSGATE_EINTERNAL; i++) {
        CHECK(vsgate_strerror((vsgate_status)i)[0] != '\0');
        CHECK(strcmp(vsgate_status_name((vsgate_status)i), "EUNKNOWN") != 0);
    }
    CHECK_STR(vsgate_strerror((vsgate_status)-1), "unknown error");
    /* NULL handles are safe. */
    CHECK_INT(vsgate_soap_call(NULL, "CurrentTime", "", NULL, &err), VSGATE_EINVAL);
    CHECK_INT(vsgate_list_vms(NULL, NULL, NULL, &err), VSGATE_EINVAL);
    CHECK_INT(vsgate_client_keepalive(NULL, &err), VSGATE_EINVAL);
    CHECK_INT(vsgate_rest_request(NULL, "GET", "/x", NULL, NULL, NULL, &err), VSGATE_EINVAL);
    CHECK_STR(vsgate_client_url(NULL), "");
    CHECK_STR(vsgate_rest_url(NULL), "");
    CHECK_INT(vsgate_client_service_ref(NULL, "rootFolder", NULL, NULL), 0);
    vsgate_client_close(NULL);
    vsgate_rest_close(NULL);
    vsgate_free(NULL);
}

static void test_cleanup(void)
{
    fresh();
    rm("username");
    rm("password");
    rmdir(dir);
    dir[0] = '\0';
}

TEST_LIST = {
    {"defaults_and_files", test_defaults_and_files},
    {"url_forms", test_url_forms},
    {"insecure", test_insecure},
    {"env_fallback", test_env_fallback},
    {"default_secret_path", test_default_secret_path},
    {"bad_files", test_bad_files},
    {"ca", test_ca},
    {"public_config_errors", test_public_config_errors},
    {"public_connect_error", test_public_connect_error},
    {"public_misc", test_public_misc},
    {"cleanup", test_cleanup},
    {NULL, NULL},
};

TEST_MAIN()

/*
 * test_client_vcsim.c - libvsgate (core/client) against a real vcsim:
 * the SOAP client (login from env + secret files, VM listing, the generic
 * call, transparent re-login after the session was lost, the keep-alive
 * thread, several threads on one client, TLS trust) and the REST session
 * (login, GET, re-login after the session was deleted, HTTP errors).
 * Needs the environment that spec/harness/up writes:
 *   VCSIM_URL (required, else exit 77 = skipped), VCSIM_USER,
 *   VCSIM_PASSWORD, VSG_TEST_CA (the CA of vcsim's certificate).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "base/log.h"
#include "check.h"
#include "vsgate/vsgate.h"

static char dir[64];

static void put(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* The binding's env for the harness vcsim, trusting its CA. */
static void bind_env(void)
{
    unsetenv("VC_USERNAME");
    unsetenv("VC_PASSWORD");
    unsetenv("VC_INSECURE");
    setenv("VC_URL", getenv("VCSIM_URL"), 1);
    setenv("VC_SECRET_PATH", dir, 1);
    setenv("VC_CA_CERTS", getenv("VSG_TEST_CA"), 1);
    put("username", getenv("VCSIM_USER"));
    put("password", getenv("VCSIM_PASSWORD"));
}

struct seen {
    int n, defaults;
    char names[64][64];
};

static int on_vm(void *ud, const char *id, const char *name, const char *state)
{
    struct seen *s = ud;
    static const char *want[] = {"DC0_H0_VM0", "DC0_H0_VM1", "DC0_C0_RP0_VM0",
                                 "DC0_C0_RP0_VM1"};
    if (strncmp(id, "vm-", 3) != 0) return 1;
    if (strcmp(state, "poweredOn") != 0 && strcmp(state, "poweredOff") != 0 &&
        strcmp(state, "suspended") != 0)
        return 1;
    for (size_t i = 0; i < 4; i++)
        if (strcmp(name, want[i]) == 0) s->defaults++;
    if (s->n < 64) snprintf(s->names[s->n], sizeof s->names[0], "%s", name);
    s->n++;
    return 0;
}

static int stop_at_first(void *ud, const char *id, const char *name, const char *state)
{
    (void)id, (void)name, (void)state;
    ++*(int *)ud;
    return 1;
}

static void check_vms(vsgate_client *c)
{
    struct seen s = {0};
    vsgate_error err;
    CHECK_INT(vsgate_list_vms(c, on_vm, &s, &err), VSGATE_OK);
    CHECK_INT(s.defaults, 4);
    CHECK(s.n >= 4);
}

static void test_list_vms(void)
{
    vsgate_error err;
    bind_env();
    vsgate_client *c = vsgate_client_from_env(NULL, &err);
    if (!c) fprintf(stderr, "  %s\n", err.message);
    CHECK(c != NULL);
    CHECK_INT(err.code, VSGATE_OK);
    CHECK(strncmp(vsgate_client_url(c), "https://127.0.0.1:", 18) == 0);
    CHECK(vsgate_client_api_version(c)[0] != '\0');
    const char *type, *value;
    CHECK_INT(vsgate_client_service_ref(c, "viewManager", &type, &value), 1);
    CHECK_STR(type, "ViewManager");
    CHECK_INT(vsgate_client_service_ref(c, "rootFolder", &type, &value), 1);
    CHECK_STR(type, "Folder");
    CHECK_INT(vsgate_client_service_ref(c, "noSuchThing", &type, &value), 0);
    CHECK(type == NULL && value == NULL);
    check_vms(c);
    /* The callback may stop the listing. */
    int calls = 0;
    CHECK_INT(vsgate_list_vms(c, stop_at_first, &calls, &err), VSGATE_OK);
    CHECK_INT(calls, 1);
    vsgate_client_close(c);
}

static void test_call_and_relogin(void)
{
    vsgate_error err;
    char *xml = NULL;
    const char *smt, *sm;
    bind_env();
    vsgate_client *c = vsgate_client_from_env(&(vsgate_options){.keepalive_ms = -1}, &err);
    CHECK(c != NULL);
    CHECK_INT(vsgate_soap_call(c, "CurrentTime",
                               "<_this type=\"ServiceInstance\">ServiceInstance</_this>", &xml,
                               &err),
              VSGATE_OK);
    /* A standalone document rooted at the response element. */
    xmlDocPtr d = xmlReadMemory(xml, (int)strlen(xml), "r.xml", NULL, XML_PARSE_NONET);
    CHECK(d != NULL);
    xmlNodePtr root = xmlDocGetRootElement(d);
    CHECK_STR((const char *)root->name, "CurrentTimeResponse");
    CHECK_STR((const char *)root->ns->href, "urn:vim25");
    xmlFreeDoc(d);
    vsgate_free(xml);
    /* Faults: typed, with the fault name. */
    CHECK_INT(vsgate_soap_call(c, "DestroyView", "<_this type=\"ContainerView\">nope</_this>",
                               &xml, &err),
              VSGATE_EFAULT);
    CHECK(xml == NULL);
    CHECK_STR(err.fault, "ManagedObjectNotFound");
    CHECK_INT(vsgate_soap_call(c, "Bad Method", "", NULL, &err), VSGATE_EINVAL);
    /* Lose the session behind the client's back: the next calls log in
     * again and are repeated, invisibly. */
    CHECK_INT(vsgate_client_service_ref(c, "sessionManager", &smt, &sm), 1);
    char body[256];
    snprintf(body, sizeof body, "<_this type=\"%s\">%s</_this>", smt, sm);
    CHECK_INT(vsgate_soap_call(c, "Logout", body, NULL, &err), VSGATE_OK);
    check_vms(c);
    CHECK_INT(vsgate_soap_call(c, "Logout", body, NULL, &err), VSGATE_OK);
    CHECK_INT(vsgate_soap_call(c, "CurrentTime",
                               "<_this type=\"ServiceInstance\">ServiceInstance</_this>", NULL,
                               &err),
              VSGATE_OK);
    CHECK_INT(vsgate_soap_call(c, "Logout", body, NULL, &err), VSGATE_OK);
    CHECK_INT(vsgate_client_keepalive(c, &err), VSGATE_OK);
    vsgate_client_close(c);
}

static int log_has(const char *path, const char *needle)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

/* The background thread sends CurrentTime when idle, and logs in again
 * when the session was lost while idle. */
static void test_keepalive_thread(void)
{
    vsgate_error err;
    char logp[96];
    const char *smt, *sm;
    bind_env();
    snprintf(logp, sizeof logp, "%s/log", dir);
    FILE *lf = fopen(logp, "w");
    CHECK(lf != NULL);
    vsgate_client *c = vsgate_client_from_env(&(vsgate_options){.keepalive_ms = 300}, &err);
    CHECK(c != NULL);
    vsg_log_setup(VSG_LOG_LEVEL_DEBUG, lf); /* after the library's own setup */
    usleep(1000 * 1000);
    CHECK(log_has(logp, "Executing SOAP keep-alive handler"));
    CHECK_INT(vsgate_client_service_ref(c, "sessionManager", &smt, &sm), 1);
    char body[256];
    snprintf(body, sizeof body, "<_this type=\"%s\">%s</_this>", smt, sm);
    CHECK_INT(vsgate_soap_call(c, "Logout", body, NULL, &err), VSGATE_OK);
    usleep(1000 * 1000);
    CHECK(log_has(logp, "vCenter session lost; logging in again"));
    check_vms(c);
    vsgate_client_close(c);
    vsg_log_setup(VSG_LOG_LEVEL_WARN, stderr);
    fclose(lf);
    unlink(logp);
}

struct worker {
    vsgate_client *c;
    int ok;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 5; i++) {
        struct seen s = {0};
        if (vsgate_list_vms(w->c, on_vm, &s, NULL) == VSGATE_OK && s.defaults == 4) w->ok++;
    }
    return NULL;
}

static void test_threads(void)
{
    vsgate_error err;
    pthread_t t[4];
    struct worker w[4];
    bind_env();
    vsgate_client *c = vsgate_client_from_env(&(vsgate_options){.keepalive_ms = 50}, &err);
    CHECK(c != NULL);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){c, 0};
        CHECK(pthread_create(&t[i], NULL, work, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) CHECK_INT(w[i].ok, 5);
    vsgate_client_close(c);
}

static void test_tls(void)
{
    vsgate_error err;
    bind_env();
    unsetenv("VC_CA_CERTS");
    CHECK(vsgate_client_from_env(NULL, &err) == NULL);
    CHECK_INT(err.code, VSGATE_ETLS);
    CHECK(vsgate_rest_session_from_env(NULL, &err) == NULL);
    CHECK_INT(err.code, VSGATE_ETLS);
    setenv("VC_INSECURE", "true", 1);
    vsgate_client *c = vsgate_client_from_env(NULL, &err);
    CHECK(c != NULL);
    vsgate_client_close(c);
}

static void test_rest(void)
{
    vsgate_error err;
    char *body = NULL;
    long status = 0;
    bind_env();
    vsgate_rest *r = vsgate_rest_session_from_env(NULL, &err);
    if (!r) fprintf(stderr, "  %s\n", err.message);
    CHECK(r != NULL);
    CHECK(strncmp(vsgate_rest_url(r), "https://127.0.0.1:", 18) == 0);
    CHECK(strstr(vsgate_rest_url(r), "/sdk") == NULL);
    CHECK_INT(vsgate_rest_request(r, "POST", "/rest/com/vmware/cis/session?~action=get", NULL,
                                  &status, &body, &err),
              VSGATE_OK);
    CHECK_INT(status, 200);
    char want[128];
    snprintf(want, sizeof want, "\"user\":\"%s\"", getenv("VCSIM_USER"));
    CHECK(strstr(body, want) != NULL);
    vsgate_free(body);
    CHECK_INT(vsgate_rest_get(r, "/rest/com/vmware/cis/tagging/category", &body, &err),
              VSGATE_OK);
    CHECK(strstr(body, "\"value\"") != NULL);
    vsgate_free(body);
    /* Delete the session: the next request logs in again. */
    CHECK_INT(vsgate_rest_request(r, "DELETE", "/rest/com/vmware/cis/session", NULL, &status,
                                  NULL, &err),
              VSGATE_OK);
    CHECK_INT(status, 200);
    CHECK_INT(vsgate_rest_get(r, "/rest/com/vmware/cis/tagging/category", &body, &err),
              VSGATE_OK);
    vsgate_free(body);
    /* A JSON body: create a tag category, see it listed. */
    char spec[256];
    snprintf(spec, sizeof spec,
             "{\"create_spec\":{\"name\":\"vsg-client-test-%ld\",\"description\":\"\","
             "\"cardinality\":\"SINGLE\",\"associable_types\":[]}}",
             (long)getpid());
    CHECK_INT(vsgate_rest_request(r, "POST", "/rest/com/vmware/cis/tagging/category", spec,
                                  &status, &body, &err),
              VSGATE_OK);
    CHECK_INT(status, 200);
    /* {"value":"urn:vmomi:InventoryServiceCategory:<uuid>:GLOBAL"} */
    char id[160], path[256];
    CHECK(sscanf(body, "{\"value\":\"%150[^\"]\"", id) == 1);
    vsgate_free(body);
    CHECK_INT(vsgate_rest_get(r, "/rest/com/vmware/cis/tagging/category", &body, &err),
              VSGATE_OK);
    CHECK(strstr(body, id) != NULL);
    vsgate_free(body);
    snprintf(path, sizeof path, "/rest/com/vmware/cis/tagging/category/id:%s", id);
    CHECK_INT(vsgate_rest_request(r, "DELETE", path, NULL, &status, NULL, &err), VSGATE_OK);
    CHECK_INT(status, 200);
    /* HTTP errors. */
    CHECK_INT(vsgate_rest_get(r, "/rest/no/such/thing", &body, &err), VSGATE_EHTTP);
    CHECK(body == NULL);
    CHECK_INT(err.http_status, 404);
    CHECK_INT(vsgate_rest_get(r, "no-slash", &body, &err), VSGATE_EINVAL);
    vsgate_rest_close(r);
}

TEST_LIST = {
    {"list_vms", test_list_vms},
    {"call_and_relogin", test_call_and_relogin},
    {"keepalive_thread", test_keepalive_thread},
    {"threads", test_threads},
    {"tls", test_tls},
    {"rest", test_rest},
    {NULL, NULL},
};

static int run(int argc, char **argv);

int main(int argc, char **argv)
{
    if (!getenv("VCSIM_URL") || !getenv("VCSIM_USER") || !getenv("VCSIM_PASSWORD") ||
        !getenv("VSG_TEST_CA")) {
        printf("skipped: VCSIM_URL, VCSIM_USER, VCSIM_PASSWORD, VSG_TEST_CA not set\n");
        return 77;
    }
    snprintf(dir, sizeof dir, "/tmp/vsg-client-vcsim.XXXXXX");
    if (!mkdtemp(dir)) return 1;
    int rc = run(argc, argv);
    char p[128];
    snprintf(p, sizeof p, "%s/username", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/password", dir);
    unlink(p);
    rmdir(dir);
    return rc;
}

#define main run
TEST_MAIN()
#undef main

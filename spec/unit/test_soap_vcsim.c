/*
 * test_soap_vcsim.c - core/soap and core/vsphere/collector against a real
 * vcsim. Needs the environment that spec/harness/up writes:
 *   VCSIM_URL       https://127.0.0.1:PORT/sdk (required, else exit 77 = skipped)
 *   VCSIM_USER, VCSIM_PASSWORD   any non-empty pair (vcsim runs without
 *                   fixed credentials)
 *   VSG_TEST_CA     the CA that signed vcsim's certificate (optional: without
 *                   it the tests use insecure mode and skip the CA check)
 * Each collector made here is destroyed: vcsim allows only 32 at a time,
 * counted across sessions, and never frees leaked ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "check.h"
#include "soap/session.h"
#include "vsphere/collector.h"

#ifndef VSG_FIXTURES_DIR
#define VSG_FIXTURES_DIR "spec/fixtures/soap"
#endif

static const char *vc_url, *vc_user, *vc_pass, *ca_path;
static char *ca_pem;    /* Contents of VSG_TEST_CA, or NULL. */
static char *wrong_pem; /* spec/fixtures/soap/wrong-ca.pem. */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct vsg_buf b;
    vsg_buf_init(&b, 1024 * 1024);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) vsg_buf_append(&b, tmp, n);
    fclose(f);
    return vsg_buf_steal(&b);
}

/* Options for a session that trusts vcsim (its CA if known, else insecure). */
static struct vsg_soap_opts trusted(void)
{
    struct vsg_soap_opts o = {.url = vc_url, .username = vc_user, .password = vc_pass};
    if (ca_pem) o.extra_ca_pem = ca_pem;
    else o.insecure = 1;
    return o;
}

static struct vsg_soap_session *connect_trusted(void)
{
    struct vsg_error e;
    struct vsg_soap_opts o = trusted();
    struct vsg_soap_session *s = vsg_soap_session_new(&o, &e);
    if (!s) {
        fprintf(stderr, "  session_new: %s\n", e.msg);
        return NULL;
    }
    if (vsg_soap_connect(s, &e) != VSG_OK) {
        fprintf(stderr, "  connect: %s\n", e.msg);
        vsg_soap_session_free(s);
        return NULL;
    }
    return s;
}

static void test_tls_ca(void)
{
    struct vsg_error e;
    if (!ca_pem) {
        printf("     (VSG_TEST_CA not set: CA verification not checked)\n");
        return;
    }
    /* caCerts as PEM text, trusted besides the system roots. */
    struct vsg_soap_opts o = {.url = vc_url, .username = vc_user, .password = vc_pass,
                              .extra_ca_pem = ca_pem};
    struct vsg_soap_session *s = vsg_soap_session_new(&o, &e);
    CHECK(s != NULL);
    CHECK_INT(vsg_soap_connect(s, &e), VSG_OK);
    CHECK_INT(vsg_soap_logout(s, &e), VSG_OK);
    vsg_soap_session_free(s);
    /* A CA file instead of the system roots. */
    struct vsg_soap_opts o2 = {.url = vc_url, .username = vc_user, .password = vc_pass,
                               .ca_file = ca_path};
    s = vsg_soap_session_new(&o2, &e);
    CHECK_INT(vsg_soap_retrieve_service_content(s, &e), VSG_OK);
    vsg_soap_session_free(s);
}

static void test_tls_wrong_ca(void)
{
    struct vsg_error e;
    CHECK(wrong_pem != NULL);
    struct vsg_soap_opts o = {.url = vc_url, .username = vc_user, .password = vc_pass,
                              .extra_ca_pem = wrong_pem};
    struct vsg_soap_session *s = vsg_soap_session_new(&o, &e);
    CHECK(s != NULL);
    CHECK_INT(vsg_soap_connect(s, &e), VSG_ERR_TLS);
    CHECK(strstr(e.msg, "RetrieveServiceContent: ") == e.msg);
    vsg_soap_session_free(s);
    /* System roots only. */
    struct vsg_soap_opts o2 = {.url = vc_url, .username = vc_user, .password = vc_pass};
    s = vsg_soap_session_new(&o2, &e);
    CHECK_INT(vsg_soap_retrieve_service_content(s, &e), VSG_ERR_TLS);
    vsg_soap_session_free(s);
}

static void test_insecure(void)
{
    struct vsg_error e;
    struct vsg_soap_opts o = {.url = vc_url, .username = vc_user, .password = vc_pass,
                              .insecure = 1, .extra_ca_pem = wrong_pem};
    struct vsg_soap_session *s = vsg_soap_session_new(&o, &e);
    CHECK_INT(vsg_soap_connect(s, &e), VSG_OK);
    CHECK_INT(vsg_soap_logout(s, &e), VSG_OK);
    vsg_soap_session_free(s);
}

static void test_login_service_content(void)
{
    struct vsg_error e;
    struct vsg_soap_session *s = connect_trusted();
    CHECK(s != NULL);
    const struct vsg_soap_service_content *sc = vsg_soap_service_content(s);
    CHECK(sc != NULL);
    CHECK(vsg_soap_moref_valid(&sc->root_folder));
    CHECK_STR(sc->root_folder.type, "Folder");
    CHECK(vsg_soap_moref_valid(&sc->event_manager));
    CHECK(vsg_soap_moref_valid(&sc->property_collector));
    CHECK(vsg_soap_moref_valid(&sc->session_manager));
    CHECK(sc->api_version[0] != '\0');
    CHECK(sc->api_type[0] != '\0');
    CHECK(vsg_soap_version(s)[0] != '\0');
    CHECK_INT(vsg_soap_logged_in(s), 1);
    CHECK_INT(vsg_soap_logout(s, &e), VSG_OK);
    /* After logout the session is gone on the server too. */
    struct vsg_time t;
    CHECK_INT(vsg_soap_current_time(s, &t, &e), VSG_ERR_NOTAUTHENTICATED);
    vsg_soap_session_free(s);
}

static void test_bad_login(void)
{
    /* vcsim runs without fixed credentials; an empty password is refused. */
    struct vsg_error e;
    struct vsg_soap_opts o = trusted();
    o.password = "";
    struct vsg_soap_session *s = vsg_soap_session_new(&o, &e);
    CHECK_INT(vsg_soap_connect(s, &e), VSG_ERR_INVALIDLOGIN);
    CHECK(strstr(e.msg, "InvalidLogin") != NULL);
    CHECK_INT(vsg_soap_logged_in(s), 0);
    vsg_soap_session_free(s);
}

static void test_current_time_relogin(void)
{
    struct vsg_error e;
    struct vsg_time t;
    struct vsg_soap_session *s = connect_trusted();
    CHECK(s != NULL);
    CHECK_INT(vsg_soap_current_time(s, &t, &e), VSG_OK);
    int64_t skew = vsg_time_diff_ns(t, vsg_time_now());
    CHECK(skew < 60 * VSG_SECOND && skew > -60 * VSG_SECOND);

    /* vcsim refuses a Login sent with a live cookie ... */
    struct vsg_buf b;
    vsg_buf_init(&b, 4096);
    const struct vsg_soap_service_content *sc = vsg_soap_service_content(s);
    vsg_soap_put_moref(&b, "_this", &sc->session_manager);
    vsg_soap_put_text(&b, "userName", vc_user);
    vsg_soap_put_text(&b, "password", vc_pass);
    struct vsg_soap_result res;
    vsg_soap_result_init(&res);
    CHECK_INT(vsg_soap_call(s, "Login", b.data, &res, &e), VSG_ERR_INVALIDLOGIN);
    vsg_buf_cleanup(&b);
    /* ... relogin clears it first. */
    CHECK_INT(vsg_soap_relogin(s, &e), VSG_OK);
    CHECK_INT(vsg_soap_generation(s), 2);
    CHECK_INT(vsg_soap_current_time(s, &t, &e), VSG_OK);
    /* The keep-alive sends CurrentTime when due. */
    CHECK_INT(vsg_soap_keepalive(s, vsg_soap_keepalive_deadline(s), &e), VSG_OK);
    CHECK_INT(vsg_soap_logout(s, &e), VSG_OK);
    vsg_soap_session_free(s);
}

/* What drain() saw. */
struct drained {
    size_t n;       /* Events returned. */
    int64_t first;  /* Smallest key returned (INT64_MAX if none). */
    int64_t last;   /* Largest key so far; keys must ascend past it. */
    int found;      /* An event of the wanted type and user agent came. */
};

/* Reads pages of at most `max` until drained, checking that keys ascend
 * across pages and that every event has a type; notes whether an event
 * of `type` with userAgent `ua` was among them. Other tests may share
 * vcsim, so nothing here assumes we are the only source of events. */
static void drain(struct vsg_collector *c, int max, struct drained *d, const char *type,
                  const char *ua)
{
    struct vsg_error e;
    d->n = 0;
    d->first = INT64_MAX;
    d->found = 0;
    for (int round = 0; round < 2000; round++) {
        struct vsg_collector_page *p = NULL;
        CHECK_INT(vsg_collector_read_next(c, max, &p, &e), VSG_OK);
        CHECK(p->received <= (size_t)max);
        for (size_t i = 0; i < p->count; i++) {
            const struct vsg_collector_event *ev = &p->events[i];
            if (ev->key <= d->last)
                fprintf(stderr, "  key %lld after %lld\n", (long long)ev->key,
                        (long long)d->last);
            CHECK(ev->key > d->last);
            CHECK(ev->type[0] != '\0');
            d->last = ev->key;
            if (ev->key < d->first) d->first = ev->key;
            if (type && strcmp(ev->type, type) == 0) {
                char *agent = NULL;
                if (vsg_soap_child_text(ev->node, "userAgent", &agent) == VSG_OK &&
                    strcmp(agent, ua) == 0)
                    d->found = 1;
                vsg_free(agent);
            }
        }
        d->n += p->count;
        size_t received = p->received;
        vsg_collector_page_free(p);
        if (received == 0) return;
    }
    CHECK(!"collector never drained");
}

static struct vsg_soap_session *connect_as(const char *ua)
{
    struct vsg_error e;
    struct vsg_soap_opts o = trusted();
    o.user_agent = ua;
    struct vsg_soap_session *s = vsg_soap_session_new(&o, &e);
    if (s && vsg_soap_connect(s, &e) != VSG_OK) {
        fprintf(stderr, "  connect: %s\n", e.msg);
        vsg_soap_session_free(s);
        s = NULL;
    }
    return s;
}

static void test_collector(void)
{
    struct vsg_error e;
    struct vsg_time now;
    char ua_main[64], ua_other[64];
    snprintf(ua_main, sizeof ua_main, "vsgate-soap-test/%d-main", (int)getpid());
    snprintf(ua_other, sizeof ua_other, "vsgate-soap-test/%d-other", (int)getpid());
    struct vsg_soap_session *s = connect_as(ua_main);
    CHECK(s != NULL);
    CHECK_INT(vsg_soap_current_time(s, &now, &e), VSG_OK);

    struct vsg_collector_seen seen;
    vsg_collector_seen_init(&seen, 0);
    struct vsg_collector_opts o = {.begin = vsg_time_add_ns(now, -VSG_HOUR), .page_size = 10,
                                   .seen = &seen};
    struct vsg_collector *c = vsg_collector_create(s, &o, &e);
    if (!c) fprintf(stderr, "  create: %s\n", e.msg);
    CHECK(c != NULL);

    /* Backfill in pages of 7, oldest first: our own login is there. */
    struct drained d = {.last = -1};
    drain(c, 7, &d, "UserLoginSessionEvent", ua_main);
    CHECK(d.n >= 1);
    CHECK(d.found);

    /* The first wait sets up the watch and returns at once. */
    int changed = 0;
    CHECK_INT(vsg_collector_wait(c, 5, &changed, &e), VSG_OK);
    CHECK_INT(changed, 1);
    drain(c, 100, &d, NULL, NULL);

    /* A new event (another session logs in) ends the wait quickly and is
     * read next (tailing). */
    struct vsg_soap_session *other = connect_as(ua_other);
    CHECK(other != NULL);
    int64_t t0 = vsg_time_mono_ms();
    CHECK_INT(vsg_collector_wait(c, 10, &changed, &e), VSG_OK);
    CHECK_INT(changed, 1);
    CHECK(vsg_time_mono_ms() - t0 < 5000);
    drain(c, 100, &d, "UserLoginSessionEvent", ua_other);
    CHECK(d.found);
    /* Nothing new (unless someone else is busy): the wait times out. */
    t0 = vsg_time_mono_ms();
    CHECK_INT(vsg_collector_wait(c, 1, &changed, &e), VSG_OK);
    if (!changed) CHECK(vsg_time_mono_ms() - t0 >= 900);
    drain(c, 100, &d, NULL, NULL);
    vsg_collector_destroy(c);

    /* A re-created collector replays the same range: everything already
     * read is dropped, only newer keys come. */
    int64_t seen_up_to = d.last;
    c = vsg_collector_create(s, &o, &e);
    CHECK(c != NULL);
    struct drained d2 = {.last = -1};
    drain(c, 1000, &d2, NULL, NULL);
    CHECK(d2.n == 0 || d2.first > seen_up_to);
    vsg_collector_destroy(c);

    /* The other session's logout is new. */
    CHECK_INT(vsg_soap_logout(other, &e), VSG_OK);
    vsg_soap_session_free(other);
    c = vsg_collector_create(s, &o, &e);
    CHECK(c != NULL);
    drain(c, 1000, &d2, "UserLogoutSessionEvent", ua_other);
    CHECK(d2.found);
    CHECK(d2.first > seen_up_to);
    vsg_collector_destroy(c);

    vsg_collector_seen_cleanup(&seen);
    CHECK_INT(vsg_soap_logout(s, &e), VSG_OK);
    vsg_soap_session_free(s);
}

static void test_collector_lost_session(void)
{
    struct vsg_error e;
    struct vsg_soap_session *s = connect_trusted();
    CHECK(s != NULL);
    struct vsg_collector_opts o = {.begin = vsg_time_add_ns(vsg_time_now(), -VSG_MINUTE)};
    struct vsg_collector *c = vsg_collector_create(s, &o, &e);
    CHECK(c != NULL);
    /* Destroy it for real, then read: the moref is unknown now. */
    struct vsg_buf b;
    vsg_buf_init(&b, 4096);
    struct vsg_soap_moref m = {"EventHistoryCollector", (char *)vsg_collector_id(c)};
    vsg_soap_put_moref(&b, "_this", &m);
    struct vsg_soap_result res;
    vsg_soap_result_init(&res);
    CHECK_INT(vsg_soap_call(s, "DestroyCollector", b.data, &res, &e), VSG_OK);
    vsg_soap_result_cleanup(&res);
    vsg_buf_cleanup(&b);
    struct vsg_collector_page *p = NULL;
    CHECK_INT(vsg_collector_read_next(c, 10, &p, &e), VSG_ERR_NOTFOUND);
    CHECK(strstr(e.msg, "ManagedObjectNotFound") != NULL);
    vsg_collector_destroy(c); /* logs, does not fail */
    CHECK_INT(vsg_soap_logout(s, &e), VSG_OK);
    vsg_soap_session_free(s);
}

TEST_LIST = {
    {"tls_ca", test_tls_ca},
    {"tls_wrong_ca", test_tls_wrong_ca},
    {"insecure", test_insecure},
    {"login_service_content", test_login_service_content},
    {"bad_login", test_bad_login},
    {"current_time_relogin", test_current_time_relogin},
    {"collector", test_collector},
    {"collector_lost_session", test_collector_lost_session},
    {NULL, NULL},
};

static int run_tests(int argc, char **argv);
#define main run_tests
TEST_MAIN()
#undef main

int main(int argc, char **argv)
{
    char path[1024];
    vc_url = getenv("VCSIM_URL");
    if (!vc_url || !*vc_url) {
        printf("skipped: VCSIM_URL not set\n");
        return 77;
    }
    vc_user = getenv("VCSIM_USER");
    vc_pass = getenv("VCSIM_PASSWORD");
    if (!vc_user || !*vc_user) vc_user = "user";
    if (!vc_pass || !*vc_pass) vc_pass = "pass";
    ca_path = getenv("VSG_TEST_CA");
    if (ca_path && *ca_path) {
        ca_pem = slurp(ca_path);
        if (!ca_pem) {
            fprintf(stderr, "cannot read VSG_TEST_CA %s\n", ca_path);
            return 1;
        }
    }
    const char *src = getenv("VSG_SOURCE_DIR");
    if (src && *src) snprintf(path, sizeof path, "%s/spec/fixtures/soap/wrong-ca.pem", src);
    else snprintf(path, sizeof path, "%s/wrong-ca.pem", VSG_FIXTURES_DIR);
    wrong_pem = slurp(path);
    vsg_log_setup(VSG_LOG_LEVEL_ERROR, stderr);
    int rc = run_tests(argc, argv);
    vsg_free(ca_pem);
    vsg_free(wrong_pem);
    xmlCleanupParser();
    return rc;
}

/*
 * test_cloudevents_sink.c - `vsgate sink` driven by the real sender:
 * binary-mode round trip (percent-decoding, Kn-Namespace, data), the test
 * knobs (--status-sequence, --reject-id, --fail-first-seconds,
 * --delay-ms), 400 for a missing attribute, structured mode, and a clean
 * exit 0 on SIGTERM even while a request waits. The binary comes from
 * VSG_BIN_PATH (set by CMake).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"

#include "base/log.h"
#include "base/vtime.h"
#include "cloudevents/sender.h"

#ifndef VSG_SRC_DIR
#define VSG_SRC_DIR "."
#endif
#ifndef VSG_BIN_PATH
#define VSG_BIN_PATH "vsgate"
#endif

/* ---- running the sink ------------------------------------------------ */

struct sink_proc {
    pid_t pid;          /* The child. */
    unsigned port;      /* Its port. */
    char dir[64];       /* Scratch directory. */
    char port_file[96]; /* --port-file. */
    char record[96];    /* --record. */
    char url[64];       /* http://127.0.0.1:<port>/ */
};

/* Starts `prog` (argv before the common flags) with --port 0, --port-file
 * and --record in a scratch directory, plus `extra`; waits for the port. */
static void spawn(struct sink_proc *sp, const char *const *prog, const char *const *extra)
{
    const char *argv[32];
    int n = 0;

    memset(sp, 0, sizeof *sp);
    snprintf(sp->dir, sizeof sp->dir, "/tmp/vsg-sink-test.XXXXXX");
    CHECK(mkdtemp(sp->dir) != NULL);
    snprintf(sp->port_file, sizeof sp->port_file, "%s/port", sp->dir);
    snprintf(sp->record, sizeof sp->record, "%s/events.jsonl", sp->dir);
    for (; *prog && n < 8; prog++) argv[n++] = *prog;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--port-file";
    argv[n++] = sp->port_file;
    argv[n++] = "--record";
    argv[n++] = sp->record;
    for (; extra && *extra && n < 30; extra++) argv[n++] = *extra;
    argv[n] = NULL;
    sp->pid = fork();
    CHECK(sp->pid >= 0);
    if (sp->pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0 && !getenv("VSG_TEST_VERBOSE")) dup2(devnull, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 1000 && !sp->port; i++) {
        FILE *f = fopen(sp->port_file, "r");
        if (f) {
            if (fscanf(f, "%u", &sp->port) != 1) sp->port = 0;
            fclose(f);
        }
        if (!sp->port) usleep(10000);
    }
    CHECK(sp->port > 0);
    snprintf(sp->url, sizeof sp->url, "http://127.0.0.1:%u/", sp->port);
}

static void sink_run(struct sink_proc *sp, const char *const *extra)
{
    static const char *const prog[] = {VSG_BIN_PATH, "sink", NULL};
    spawn(sp, prog, extra);
}

/* Sends SIGTERM and returns the exit status (or -1), timing it. */
static int sink_stop(struct sink_proc *sp, int64_t *took_ms)
{
    int st = 0;
    int64_t t0 = vsg_time_mono_ms();

    kill(sp->pid, SIGTERM);
    while (waitpid(sp->pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (took_ms) *took_ms = vsg_time_mono_ms() - t0;
    unlink(sp->port_file);
    unlink(sp->record);
    rmdir(sp->dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The record file's lines as a JSON array (caller frees with cJSON_Delete). */
static cJSON *records(const struct sink_proc *sp)
{
    cJSON *arr = cJSON_CreateArray();
    char line[65536];
    FILE *f = fopen(sp->record, "r");

    if (!f) return arr;
    while (fgets(line, sizeof line, f)) {
        cJSON *o = cJSON_Parse(line);
        CHECK(o != NULL);
        cJSON_AddItemToArray(arr, o);
    }
    fclose(f);
    return arr;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* ---- helpers --------------------------------------------------------- */

static struct vsg_ce_sender *sender(const char *url, const char *retry, const char *delay)
{
    struct vsg_ce_sender_opts o;
    struct vsg_error err;
    struct vsg_ce_sender *s;

    vsg_ce_sender_opts_init(&o);
    CHECK_INT(vsg_ce_delivery_parse(retry, NULL, delay, &o.delivery, &err), VSG_OK);
    o.sink = url;
    o.ns = "prod";
    s = vsg_ce_sender_new(&o, &err);
    CHECK(s != NULL);
    return s;
}

static void event(struct vsg_ce *ce, const char *id)
{
    vsg_ce_init(ce);
    vsg_ce_set(ce, "id", id, NULL);
    vsg_ce_set(ce, "source", "https://vc.local/sdk", NULL);
    vsg_ce_set(ce, "type", "com.vmware.vsphere.VmPoweredOnEvent.v0", NULL);
    vsg_ce_set(ce, "time", "2026-11-25T11:37:53Z", NULL);
    vsg_ce_set(ce, "datacontenttype", "application/xml", NULL);
    vsg_ce_set_ext(ce, "eventclass", "event", NULL);
    vsg_ce_set_ext(ce, "team", "a \"b\" 100% \xc3\xbc", NULL);
    vsg_ce_set_data(ce, "<VmPoweredOnEvent><key>1</key></VmPoweredOnEvent>", 49);
}

/* ---- tests ----------------------------------------------------------- */

static void test_binary_roundtrip(void)
{
    struct sink_proc sp;
    struct vsg_ce ce;
    struct vsg_error err;
    enum vsg_ce_outcome out;
    cJSON *recs;

    sink_run(&sp, NULL);
    struct vsg_ce_sender *s = sender(sp.url, "0", NULL);
    event(&ce, "1");
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DELIVERED);
    recs = records(&sp);
    CHECK_INT(cJSON_GetArraySize(recs), 1);
    const cJSON *r = cJSON_GetArrayItem(recs, 0);
    CHECK_STR(str_at(r, "mode", NULL), "binary");
    CHECK_STR(str_at(r, "attributes", "specversion"), "1.0");
    CHECK_STR(str_at(r, "attributes", "id"), "1");
    CHECK_STR(str_at(r, "attributes", "source"), "https://vc.local/sdk");
    CHECK_STR(str_at(r, "attributes", "type"), "com.vmware.vsphere.VmPoweredOnEvent.v0");
    CHECK_STR(str_at(r, "attributes", "time"), "2026-11-25T11:37:53Z");
    CHECK_STR(str_at(r, "attributes", "datacontenttype"), "application/xml");
    CHECK_STR(str_at(r, "attributes", "eventclass"), "event");
    CHECK_STR(str_at(r, "attributes", "team"), "a \"b\" 100% \xc3\xbc");
    CHECK_STR(str_at(r, "headers", "kn-namespace"), "prod");
    CHECK_STR(str_at(r, "headers", "content-type"), "application/xml");
    CHECK_STR(str_at(r, "data", NULL), "<VmPoweredOnEvent><key>1</key></VmPoweredOnEvent>");
    CHECK(str_at(r, "headers", "ce-id") == NULL);
    cJSON_Delete(recs);
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);
    CHECK_INT(sink_stop(&sp, NULL), 0);
}

static void test_knobs(void)
{
    static const char *const args[] = {"--status-sequence", "503x2,200", "--reject-id",
                                       "bad1,bad2", "--record-all", NULL};
    struct sink_proc sp;
    struct vsg_ce ce;
    struct vsg_error err;
    struct vsg_ce_sender_stats st;
    enum vsg_ce_outcome out;
    cJSON *recs;

    sink_run(&sp, args);
    struct vsg_ce_sender *s = sender(sp.url, NULL, "PT0.01S");
    event(&ce, "2");
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DELIVERED);
    vsg_ce_sender_stats(s, &st);
    CHECK_INT(st.attempts, 3);
    vsg_ce_cleanup(&ce);
    event(&ce, "bad2");
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DROPPED); /* 400 is final, and there is no DLS. */
    recs = records(&sp);
    CHECK_INT(cJSON_GetArraySize(recs), 4); /* --record-all: 503, 503, 200, 400 */
    static const int want[] = {503, 503, 200, 400};
    for (int i = 0; i < 4; i++) {
        const cJSON *r = cJSON_GetArrayItem(recs, i);
        CHECK_INT(cJSON_GetObjectItem(r, "status")->valueint, want[i]);
    }
    CHECK_STR(str_at(cJSON_GetArrayItem(recs, 3), "attributes", "id"), "bad2");
    cJSON_Delete(recs);
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);
    CHECK_INT(sink_stop(&sp, NULL), 0);
}

static void test_fail_first_seconds(void)
{
    static const char *const args[] = {"--fail-first-seconds", "1", NULL};
    struct sink_proc sp;
    struct vsg_ce ce;
    struct vsg_error err;
    enum vsg_ce_outcome out;
    cJSON *recs;

    sink_run(&sp, args);
    struct vsg_ce_sender *s = sender(sp.url, NULL, "PT0.1S");
    event(&ce, "3");
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DELIVERED);
    recs = records(&sp);
    CHECK_INT(cJSON_GetArraySize(recs), 1); /* Only the 2xx is recorded. */
    cJSON_Delete(recs);
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);
    CHECK_INT(sink_stop(&sp, NULL), 0);
}

static void test_invalid_and_structured(void)
{
    struct sink_proc sp;
    struct vsg_http_client *c;
    struct vsg_http_request rq = {0};
    struct vsg_http_response resp;
    struct vsg_error err;
    static const char *const no_id[] = {"ce-specversion: 1.0", "ce-source: s", "ce-type: t",
                                        "Content-Type: text/plain", NULL};
    static const char *const structured[] = {"Content-Type: application/cloudevents+json", NULL};
    static const char *const batch[] = {"Content-Type: application/cloudevents-batch+json", NULL};
    cJSON *recs;

    sink_run(&sp, NULL);
    c = vsg_http_client_new(NULL, &err);
    CHECK(c != NULL);
    vsg_http_response_init(&resp);
    rq.method = "POST";
    rq.url = sp.url;
    rq.headers = no_id;
    rq.body = "x";
    rq.body_len = 1;
    CHECK_INT(vsg_http_do(c, &rq, &resp, &err), VSG_OK);
    CHECK_INT(resp.status, 400);
    CHECK(strstr(resp.body.data, "\"id\"") != NULL);
    rq.headers = structured;
    rq.body = "{\"specversion\":\"1.0\",\"id\":\"s1\",\"source\":\"s\",\"type\":\"t\","
              "\"datacontenttype\":\"application/json\",\"data\":{\"a\":[1,2]}}";
    rq.body_len = strlen(rq.body);
    CHECK_INT(vsg_http_do(c, &rq, &resp, &err), VSG_OK);
    CHECK_INT(resp.status, 200);
    rq.body = "{\"specversion\":\"1.0\",\"source\":\"s\",\"type\":\"t\"}";
    rq.body_len = strlen(rq.body);
    CHECK_INT(vsg_http_do(c, &rq, &resp, &err), VSG_OK);
    CHECK_INT(resp.status, 400);
    rq.headers = batch;
    rq.body = "[]";
    rq.body_len = 2;
    CHECK_INT(vsg_http_do(c, &rq, &resp, &err), VSG_OK);
    CHECK_INT(resp.status, 415);
    rq.method = "GET";
    rq.url = sp.url;
    rq.headers = NULL;
    rq.body = NULL;
    snprintf((char *)sp.url + strlen(sp.url), sizeof sp.url - strlen(sp.url), "healthz");
    CHECK_INT(vsg_http_do(c, &rq, &resp, &err), VSG_OK);
    CHECK_INT(resp.status, 200);
    recs = records(&sp);
    CHECK_INT(cJSON_GetArraySize(recs), 1);
    const cJSON *r = cJSON_GetArrayItem(recs, 0);
    CHECK_STR(str_at(r, "mode", NULL), "structured");
    CHECK_STR(str_at(r, "attributes", "id"), "s1");
    CHECK_STR(str_at(r, "data", NULL), "{\"a\":[1,2]}");
    cJSON_Delete(recs);
    vsg_http_response_cleanup(&resp);
    vsg_http_client_free(c);
    CHECK_INT(sink_stop(&sp, NULL), 0);
}

/* Sends one event on a thread (the sink delays its answer). */
static void *send_slow(void *p)
{
    struct vsg_ce_sender *s = p;
    struct vsg_ce ce;
    struct vsg_error err;
    enum vsg_ce_outcome out;

    event(&ce, "slow");
    vsg_ce_send(s, &ce, &out, &err);
    vsg_ce_cleanup(&ce);
    return NULL;
}

static void test_sigterm_during_delay(void)
{
    static const char *const args[] = {"--delay-ms", "20000", NULL};
    struct sink_proc sp;
    pthread_t th;
    int64_t took;

    sink_run(&sp, args);
    struct vsg_ce_sender *s = sender(sp.url, "0", NULL);
    CHECK_INT(pthread_create(&th, NULL, send_slow, s), 0);
    usleep(300000);
    CHECK_INT(sink_stop(&sp, &took), 0);
    CHECK(took < 3000);
    pthread_join(th, NULL);
    vsg_ce_sender_free(s);
}

static void test_usage(void)
{
    int st;
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(VSG_BIN_PATH, VSG_BIN_PATH, "sink", "--status-sequence", "abc", (char *)NULL);
        _exit(127);
    }
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st));
    CHECK_INT(WEXITSTATUS(st), 2);
}


/* ---- independent SDK receivers --------------------------------------- */

/* 1 when `cmd` (run by sh) exits 0, quietly. */
static int quiet_ok(const char *cmd)
{
    char buf[1400];
    snprintf(buf, sizeof buf, "%s >/dev/null 2>&1", cmd);
    return system(buf) == 0;
}

/* The events every SDK receiver must accept, and what it must decode. */
static void send_sdk_events(const char *url, int *n_sent)
{
    struct vsg_ce_sender_opts o;
    struct vsg_ce_overrides ov;
    struct vsg_error err;
    struct vsg_ce ce;
    enum vsg_ce_outcome out;
    struct vsg_ce_sender *s;

    vsg_ce_sender_opts_init(&o);
    vsg_ce_overrides_init(&ov);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":{\"team\":\"ops \\\"blue\\\" 50%\"}}",
                                     &ov, &err),
              VSG_OK);
    vsg_ce_delivery_parse("0", NULL, NULL, &o.delivery, &err);
    o.sink = url;
    o.ns = "prod";
    o.overrides = &ov;
    s = vsg_ce_sender_new(&o, &err);
    vsg_ce_overrides_cleanup(&ov);
    CHECK(s != NULL);

    event(&ce, "101"); /* XML payload, UTF-8 extension */
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DELIVERED);
    vsg_ce_cleanup(&ce);

    event(&ce, "102"); /* JSON payload */
    vsg_ce_set(&ce, "datacontenttype", "application/json", NULL);
    vsg_ce_set(&ce, "time", "2026-11-25T11:37:53.123456Z", NULL);
    static const char json[] = "{\"Key\":102,\"UserName\":\"VSPHERE.LOCAL\\\\Administrator\"}";
    vsg_ce_set_data(&ce, json, sizeof json - 1);
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DELIVERED);
    vsg_ce_cleanup(&ce);
    *n_sent = 2;
    vsg_ce_sender_free(s);
}

/* `attrs` names the member holding the (percent-decoded) attributes. */
static void check_sdk_records(const struct sink_proc *sp, int n_sent, const char *attrs)
{
    cJSON *recs = records(sp);
    CHECK_INT(cJSON_GetArraySize(recs), n_sent);
    for (int i = 0; i < n_sent; i++) {
        const cJSON *r = cJSON_GetArrayItem(recs, i);
        const cJSON *valid = cJSON_GetObjectItem(r, "valid");
        if (!cJSON_IsTrue(valid)) CHECK_STR(str_at(r, "error", NULL), "(valid)");
        CHECK_STR(str_at(r, "mode", NULL), "binary");
        CHECK_STR(str_at(r, attrs, "specversion"), "1.0");
        CHECK_STR(str_at(r, attrs, "source"), "https://vc.local/sdk");
        CHECK_STR(str_at(r, attrs, "type"), "com.vmware.vsphere.VmPoweredOnEvent.v0");
        CHECK_STR(str_at(r, attrs, "eventclass"), "event");
        CHECK_STR(str_at(r, attrs, "team"), "ops \"blue\" 50%");
        CHECK_STR(str_at(r, "headers", "kn-namespace"), "prod");
    }
    const cJSON *r0 = cJSON_GetArrayItem(recs, 0), *r1 = cJSON_GetArrayItem(recs, 1);
    CHECK_STR(str_at(r0, attrs, "id"), "101");
    CHECK_STR(str_at(r0, attrs, "datacontenttype"), "application/xml");
    CHECK_STR(str_at(r0, "data", NULL), "<VmPoweredOnEvent><key>1</key></VmPoweredOnEvent>");
    CHECK_STR(str_at(r1, attrs, "id"), "102");
    CHECK_STR(str_at(r1, attrs, "datacontenttype"), "application/json");
    const cJSON *key = cJSON_GetObjectItem(cJSON_GetObjectItem(r1, "data"), "Key");
    CHECK(cJSON_IsNumber(key) && key->valueint == 102);
    CHECK_STR(str_at(r1, "data", "UserName"), "VSPHERE.LOCAL\\Administrator");
    cJSON_Delete(recs);
}

/* The venv python3 that scripts/install-deps fills with the pinned SDK
 * (scripts/ce-python prints its path), or "" when that script fails. */
static void ce_python(const char *src, char *out, size_t cap)
{
    char cmd[600];
    FILE *p;

    out[0] = '\0';
    snprintf(cmd, sizeof cmd, "'%s/scripts/ce-python'", src);
    p = popen(cmd, "r");
    if (!p) return;
    if (!fgets(out, (int)cap, p)) out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    if (pclose(p) != 0) out[0] = '\0';
}

/* The SDKs are test dependencies that scripts/install-deps installs (make
 * test runs it): a missing one fails the test instead of skipping it. */
static void test_python_sdk_receiver(void)
{
    char script[512], python[512], probe[1100];
    const char *src = getenv("VSG_SOURCE_DIR") ? getenv("VSG_SOURCE_DIR") : VSG_SRC_DIR;
    struct sink_proc sp;
    int n = 0;

    snprintf(script, sizeof script, "%s/spec/e2e/ce_receivers/receiver.py", src);
    ce_python(src, python, sizeof python);
    snprintf(probe, sizeof probe, "'%s' -c 'import cloudevents'", python);
    if (!python[0] || !quiet_ok(probe)) {
        fprintf(stderr, "  python CloudEvents SDK missing from the venv '%s': run scripts/install-deps\n",
                python);
        CHECK(!"python CloudEvents SDK installed");
    }
    const char *const prog[] = {python, script, NULL};
    spawn(&sp, prog, NULL);
    send_sdk_events(sp.url, &n);
    check_sdk_records(&sp, n, "attributes");
    CHECK_INT(sink_stop(&sp, NULL), 0);
}

static void test_js_sdk_receiver(void)
{
    char script[512], probe[1200];
    const char *src = getenv("VSG_SOURCE_DIR") ? getenv("VSG_SOURCE_DIR") : VSG_SRC_DIR;
    struct sink_proc sp;
    int n = 0;

    snprintf(script, sizeof script, "%s/spec/e2e/ce_receivers/receiver.js", src);
    snprintf(probe, sizeof probe, "cd '%s/spec/e2e/ce_receivers' && node -e 'require(\"cloudevents\")'",
             src);
    if (!quiet_ok(probe)) {
        fprintf(stderr, "  node or its CloudEvents SDK missing: run scripts/install-deps "
                        "(npm ci --prefix spec/e2e/ce_receivers)\n");
        CHECK(!"node CloudEvents SDK installed");
    }
    const char *const prog[] = {"node", script, NULL};
    spawn(&sp, prog, NULL);
    send_sdk_events(sp.url, &n);
    /* The JS SDK leaves header values percent-encoded; the receiver decodes. */
    check_sdk_records(&sp, n, "attributes_decoded");
    CHECK_INT(sink_stop(&sp, NULL), 0);
}

TEST_LIST = {
    {"binary_roundtrip", test_binary_roundtrip},
    {"knobs", test_knobs},
    {"fail_first_seconds", test_fail_first_seconds},
    {"invalid_and_structured", test_invalid_and_structured},
    {"sigterm_during_delay", test_sigterm_during_delay},
    {"usage", test_usage},
    {"python_sdk_receiver", test_python_sdk_receiver},
    {"js_sdk_receiver", test_js_sdk_receiver},
    {NULL, NULL},
};

int main_(int argc, char **argv);
#define main main_
TEST_MAIN()
#undef main

int main(int argc, char **argv)
{
    vsg_http_global_init();
    vsg_log_setup(getenv("VSG_TEST_VERBOSE") ? VSG_LOG_LEVEL_DEBUG : VSG_LOG_LEVEL_ERROR, stderr);
    signal(SIGPIPE, SIG_IGN);
    int rc = main_(argc, argv);
    vsg_http_global_cleanup();
    return rc;
}

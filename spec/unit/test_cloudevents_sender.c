/*
 * test_cloudevents_sender.c - vsg_ce_send() against sinks built on
 * core/http/server, on ephemeral 127.0.0.1 ports: retries then success,
 * 400 dead-lettered with the Knative error extensions, retries exhausted,
 * dead-letter sink failures, connection errors, time-outs, Retry-After,
 * and prompt cancellation during a backoff wait and during a request.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "check.h"

#include "base/log.h"
#include "base/vtime.h"
#include "cloudevents/sender.h"
#include "http/server.h"

/* ---- a scriptable sink ----------------------------------------------- */

#define MAX_SEEN 64

/* What the sink saw in one request. */
struct seen {
    char id[64];          /* ce-id. */
    char type[128];       /* ce-type. */
    char team[64];        /* ce-team, as on the wire. */
    char trace[64];       /* traceparent. */
    char ns[64];          /* Kn-Namespace. */
    char ctype[64];       /* Content-Type. */
    char errcode[16];     /* ce-knativeerrorcode. */
    char errdest[128];    /* ce-knativeerrordest. */
    char errdata[256];    /* ce-knativeerrordata. */
    char body[256];       /* The body. */
};

struct fake_sink {
    struct vsg_http_server *srv; /* The server. */
    unsigned port;               /* Its port. */
    char url[64];                /* http://127.0.0.1:<port>/ */
    pthread_mutex_t lock;        /* Guards the rest. */
    int script[16];              /* Statuses for the first requests. */
    int n_script;                /* How many. */
    int status;                  /* Status after the script. */
    long hang_ms[16];            /* Delay per scripted request (0: none). */
    const char *retry_after;     /* Retry-After on 429/503, or NULL. */
    const char *error_body;      /* Body sent with non-2xx answers. */
    int count;                   /* Requests seen. */
    struct seen seen[MAX_SEEN];  /* The first MAX_SEEN of them. */
};

static void copy_hdr(const struct vsg_http_req *rq, const char *name, char *out, size_t n)
{
    const char *v = vsg_http_req_header(rq, name);
    snprintf(out, n, "%s", v ? v : "");
}

static enum vsg_err sink_handler(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    struct fake_sink *fs = ud;
    long hang = 0;
    int status;

    pthread_mutex_lock(&fs->lock);
    int k = fs->count++;
    status = k < fs->n_script ? fs->script[k] : fs->status;
    if (k < fs->n_script) hang = fs->hang_ms[k];
    if (k < MAX_SEEN) {
        struct seen *s = &fs->seen[k];
        copy_hdr(rq, "ce-id", s->id, sizeof s->id);
        copy_hdr(rq, "Ce-Type", s->type, sizeof s->type);
        copy_hdr(rq, "ce-team", s->team, sizeof s->team);
        copy_hdr(rq, "traceparent", s->trace, sizeof s->trace);
        copy_hdr(rq, "kn-namespace", s->ns, sizeof s->ns);
        copy_hdr(rq, "content-type", s->ctype, sizeof s->ctype);
        copy_hdr(rq, "ce-knativeerrorcode", s->errcode, sizeof s->errcode);
        copy_hdr(rq, "ce-knativeerrordest", s->errdest, sizeof s->errdest);
        copy_hdr(rq, "ce-knativeerrordata", s->errdata, sizeof s->errdata);
        snprintf(s->body, sizeof s->body, "%s", rq->body);
    }
    pthread_mutex_unlock(&fs->lock);
    if (hang > 0) usleep((useconds_t)hang * 1000);
    rs->status = status;
    if ((status == 429 || status == 503) && fs->retry_after)
        vsg_http_resp_header(rs, "Retry-After", fs->retry_after);
    if ((status < 200 || status > 299) && fs->error_body) vsg_buf_puts(&rs->body, fs->error_body);
    return VSG_OK;
}

static void sink_start(struct fake_sink *fs, int status)
{
    struct vsg_http_server_opts o = {0};
    struct vsg_error err;

    memset(fs, 0, sizeof *fs);
    pthread_mutex_init(&fs->lock, NULL);
    fs->status = status;
    o.name = "fake-sink";
    fs->srv = vsg_http_server_new(&o, &err);
    CHECK(fs->srv != NULL);
    CHECK_INT(vsg_http_server_route(fs->srv, "POST", "*", sink_handler, fs, &err), VSG_OK);
    CHECK_INT(vsg_http_server_start(fs->srv, &err), VSG_OK);
    fs->port = vsg_http_server_port(fs->srv);
    snprintf(fs->url, sizeof fs->url, "http://127.0.0.1:%u/", fs->port);
}

static void sink_stop(struct fake_sink *fs)
{
    vsg_http_server_free(fs->srv);
    fs->srv = NULL;
    pthread_mutex_destroy(&fs->lock);
}

static int sink_count(struct fake_sink *fs)
{
    pthread_mutex_lock(&fs->lock);
    int n = fs->count;
    pthread_mutex_unlock(&fs->lock);
    return n;
}

/* ---- helpers --------------------------------------------------------- */

static void make_event(struct vsg_ce *ce, const char *id)
{
    vsg_ce_init(ce);
    vsg_ce_set(ce, "id", id, NULL);
    vsg_ce_set(ce, "source", "https://vc.local/sdk", NULL);
    vsg_ce_set(ce, "type", "com.vmware.vsphere.VmPoweredOffEvent.v0", NULL);
    vsg_ce_set(ce, "time", "2026-11-25T11:37:53Z", NULL);
    vsg_ce_set(ce, "datacontenttype", "application/json", NULL);
    vsg_ce_set_ext(ce, "eventclass", "event", NULL);
    vsg_ce_set_ext(ce, "team", "will be overridden", NULL);
    vsg_ce_set_data(ce, "{\"Key\":42}", 10);
}

static struct vsg_ce_sender *make_sender(const char *sink, const char *dls, const char *retry,
                                         const char *policy, const char *delay, long timeout_ms)
{
    struct vsg_ce_sender_opts o;
    struct vsg_ce_overrides ov;
    struct vsg_error err;
    struct vsg_ce_sender *s;

    vsg_ce_sender_opts_init(&o);
    vsg_ce_overrides_init(&ov);
    CHECK_INT(vsg_ce_overrides_parse("{\"extensions\":{\"team\":\"a b\"}}", &ov, &err), VSG_OK);
    CHECK_INT(vsg_ce_delivery_parse(retry, policy, delay, &o.delivery, &err), VSG_OK);
    o.sink = sink;
    o.dead_letter_sink = dls;
    o.ns = "prod";
    o.timeout_ms = timeout_ms;
    o.overrides = &ov;
    s = vsg_ce_sender_new(&o, &err);
    vsg_ce_overrides_cleanup(&ov); /* The sender keeps a copy. */
    CHECK(s != NULL);
    return s;
}

/* ---- tests ----------------------------------------------------------- */

static void test_retry_then_success(void)
{
    struct fake_sink fs;
    struct vsg_ce ce;
    struct vsg_ce_sender_stats st;
    struct vsg_error err;
    enum vsg_ce_outcome out;

    sink_start(&fs, 200);
    fs.n_script = 4;
    fs.script[0] = 503;
    fs.script[1] = 500;
    fs.script[2] = 404;
    fs.script[3] = 429;
    struct vsg_ce_sender *s = make_sender(fs.url, NULL, NULL, NULL, "PT0.05S", 0);
    make_event(&ce, "42");
    int64_t t0 = vsg_time_mono_ms();
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    int64_t took = vsg_time_mono_ms() - t0;
    CHECK_INT(out, VSG_CE_DELIVERED);
    CHECK_INT(sink_count(&fs), 5);
    if (took < 50 + 100 + 200 + 400) CHECK_INT(took, 750); /* exponential from 50 ms */
    CHECK(took < 5000);
    vsg_ce_sender_stats(s, &st);
    CHECK_INT(st.sent, 1);
    CHECK_INT(st.retried, 4);
    CHECK_INT(st.attempts, 5);
    CHECK_INT(st.dead_lettered, 0);
    CHECK_INT(st.dropped, 0);
    /* What arrived: binary mode, overrides applied, values raw as the Go
     * adapter sent them, and a W3C traceparent (not sampled by default). */
    CHECK_STR(fs.seen[4].id, "42");
    CHECK_STR(fs.seen[4].type, "com.vmware.vsphere.VmPoweredOffEvent.v0");
    CHECK_STR(fs.seen[4].team, "a b");
    CHECK_INT((long)strlen(fs.seen[4].trace), 55);
    CHECK(strncmp(fs.seen[4].trace, "00-", 3) == 0);
    CHECK(strcmp(fs.seen[4].trace + 52, "-00") == 0);
    CHECK(strspn(fs.seen[4].trace + 3, "0123456789abcdef") == 32);
    CHECK_STR(fs.seen[4].ns, "prod");
    CHECK_STR(fs.seen[4].ctype, "application/json");
    CHECK_STR(fs.seen[4].body, "{\"Key\":42}");
    CHECK_STR(fs.seen[4].errcode, "");
    /* The caller's event is untouched. */
    CHECK_STR(vsg_ce_get(&ce, "team"), "will be overridden");
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);
    sink_stop(&fs);
}

static void test_dead_letter_400(void)
{
    struct fake_sink fs, dls;
    struct vsg_ce ce;
    struct vsg_ce_sender_stats st;
    struct vsg_error err;
    enum vsg_ce_outcome out;

    sink_start(&fs, 400);
    fs.error_body = "bad event";
    sink_start(&dls, 202);
    struct vsg_ce_sender *s = make_sender(fs.url, dls.url, NULL, NULL, "PT0.01S", 0);
    make_event(&ce, "7");
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DEAD_LETTERED);
    CHECK(strstr(err.msg, "HTTP 400") != NULL);
    CHECK_INT(sink_count(&fs), 1); /* 400 is not retried. */
    CHECK_INT(sink_count(&dls), 1);
    CHECK_STR(dls.seen[0].id, "7");
    CHECK_STR(dls.seen[0].errcode, "400");
    CHECK_STR(dls.seen[0].errdest, fs.url);
    CHECK_STR(dls.seen[0].errdata, "YmFkIGV2ZW50"); /* base64("bad event") */
    CHECK_STR(dls.seen[0].team, "a b");
    CHECK_STR(dls.seen[0].body, "{\"Key\":42}");
    vsg_ce_sender_stats(s, &st);
    CHECK_INT(st.dead_lettered, 1);
    CHECK_INT(st.sent, 0);
    CHECK_INT(st.dropped, 0);
    vsg_ce_sender_free(s);

    /* Credentials in the sink URL never reach knativeerrordest (redacted). */
    char cred_url[96];
    snprintf(cred_url, sizeof cred_url, "http://user:secret@127.0.0.1:%u/path", fs.port);
    s = make_sender(cred_url, dls.url, NULL, NULL, NULL, 0);
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DEAD_LETTERED);
    char want[96];
    snprintf(want, sizeof want, "http://***@127.0.0.1:%u/path", fs.port);
    CHECK_STR(dls.seen[1].errdest, want);
    CHECK(strstr(err.msg, "secret") == NULL);
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);
    sink_stop(&fs);
    sink_stop(&dls);
}

static void test_retries_exhausted(void)
{
    struct fake_sink fs, dls;
    struct vsg_ce ce;
    struct vsg_ce_sender_stats st;
    struct vsg_error err;
    enum vsg_ce_outcome out;

    /* No dead-letter sink: dropped after 1 + 2 attempts. */
    sink_start(&fs, 503);
    struct vsg_ce_sender *s = make_sender(fs.url, NULL, "2", "linear", "PT0.02S", 0);
    make_event(&ce, "8");
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DROPPED);
    CHECK_INT(err.code, VSG_ERR_HTTP);
    CHECK(strstr(err.msg, "HTTP 503") != NULL);
    CHECK_INT(sink_count(&fs), 3);
    vsg_ce_sender_stats(s, &st);
    CHECK_INT(st.dropped, 1);
    CHECK_INT(st.retried, 2);
    vsg_ce_sender_free(s);

    /* With one: it gets the event with code 503. */
    sink_start(&dls, 200);
    s = make_sender(fs.url, dls.url, "1", NULL, "PT0.01S", 0);
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DEAD_LETTERED);
    CHECK_INT(sink_count(&fs), 5);
    CHECK_STR(dls.seen[0].errcode, "503");
    CHECK_STR(dls.seen[0].errdata, ""); /* empty body: no knativeerrordata */
    vsg_ce_sender_free(s);
    sink_stop(&dls);

    /* Retry 0: exactly one attempt. */
    s = make_sender(fs.url, NULL, "0", NULL, NULL, 0);
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DROPPED);
    CHECK_INT(sink_count(&fs), 6);
    vsg_ce_sender_free(s);
    vsg_ce_cleanup(&ce);
    sink_stop(&fs);
}

static void test_dead_letter_fails(void)
{
    struct fake_sink fs, dls;
    struct vsg_ce ce;
    struct vsg_ce_sender_stats st;
    struct vsg_error err;
    enum vsg_ce_outcome out;

    sink_start(&fs, 403);
    sink_start(&dls, 500);
    struct vsg_ce_sender *s = make_sender(fs.url, dls.url, "1", NULL, "PT0.01S", 0);
    make_event(&ce, "9");
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DROPPED);
    CHECK(strstr(err.msg, "dead-letter sink: HTTP 500") != NULL);
    CHECK_INT(sink_count(&fs), 1);
    CHECK_INT(sink_count(&dls), 2); /* The DLS is retried per the policy. */
    vsg_ce_sender_stats(s, &st);
    CHECK_INT(st.dropped, 1);
    CHECK_INT(st.dead_lettered, 0);
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);
    sink_stop(&fs);
    sink_stop(&dls);
}

static void test_connection_refused(void)
{
    struct fake_sink gone, dls;
    struct vsg_ce ce;
    struct vsg_error err;
    enum vsg_ce_outcome out;
    char url[64];

    sink_start(&gone, 200);
    snprintf(url, sizeof url, "%s", gone.url);
    sink_stop(&gone); /* Nothing listens there now. */
    sink_start(&dls, 200);
    struct vsg_ce_sender *s = make_sender(url, NULL, "1", NULL, "PT0.01S", 0);
    make_event(&ce, "10");
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DROPPED);
    CHECK_INT(err.code, VSG_ERR_TRANSPORT);
    vsg_ce_sender_free(s);

    s = make_sender(url, dls.url, "0", NULL, NULL, 0);
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DEAD_LETTERED);
    CHECK_STR(dls.seen[0].errcode, "500"); /* Knative's code for a dispatch error. */
    CHECK_STR(dls.seen[0].errdest, url);
    CHECK(strncmp(dls.seen[0].errdata, "ZGlzcGF0Y2ggZXJyb3I6", 20) == 0); /* "dispatch error:" */
    vsg_ce_sender_free(s);

    /* Credentials in the sink URL: neither the error, the log (retries,
     * give-up, drop) nor the dead-letter extensions show the password. */
    char cred[96], logbuf[8192] = "";
    snprintf(cred, sizeof cred, "http://user:Pw-refused-77@%s", url + strlen("http://"));
    FILE *log = tmpfile();
    CHECK(log != NULL);
    vsg_log_setup(VSG_LOG_LEVEL_DEBUG, log);
    s = make_sender(cred, NULL, "1", NULL, "PT0.01S", 0);
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DROPPED);
    CHECK(strstr(err.msg, "Pw-refused-77") == NULL);
    CHECK(strstr(err.msg, "http://***@127.0.0.1") != NULL);
    vsg_ce_sender_free(s);
    s = make_sender(cred, dls.url, "0", NULL, NULL, 0);
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DEAD_LETTERED);
    CHECK(strstr(err.msg, "Pw-refused-77") == NULL);
    vsg_ce_sender_free(s);
    vsg_log_setup(getenv("VSG_TEST_VERBOSE") ? VSG_LOG_LEVEL_DEBUG : VSG_LOG_LEVEL_ERROR, stderr);
    rewind(log);
    logbuf[fread(logbuf, 1, sizeof logbuf - 1, log)] = '\0';
    fclose(log);
    CHECK(strstr(logbuf, "delivery failed") != NULL);
    CHECK(strstr(logbuf, "Pw-refused-77") == NULL);
    unsigned char data[512];
    int dn = EVP_DecodeBlock(data, (const unsigned char *)dls.seen[1].errdata,
                             (int)strlen(dls.seen[1].errdata));
    CHECK(dn > 0);
    data[dn] = '\0';
    CHECK(strstr((const char *)data, "dispatch error:") != NULL);
    CHECK(strstr((const char *)data, "Pw-refused-77") == NULL);
    CHECK(strstr(dls.seen[1].errdest, "Pw-refused-77") == NULL);

    /* A malformed URL is not retryable. */
    s = make_sender("htp:/nope", NULL, NULL, NULL, NULL, 0);
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DROPPED);
    vsg_ce_sender_free(s);
    vsg_ce_cleanup(&ce);
    sink_stop(&dls);
}

static void test_timeout_retried(void)
{
    struct fake_sink fs;
    struct vsg_ce ce;
    struct vsg_error err;
    enum vsg_ce_outcome out;

    sink_start(&fs, 200);
    fs.n_script = 1;
    fs.script[0] = 200;
    fs.hang_ms[0] = 1000; /* Longer than the 300 ms timeout. */
    struct vsg_ce_sender *s = make_sender(fs.url, NULL, NULL, NULL, "PT0.01S", 300);
    make_event(&ce, "11");
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DELIVERED);
    CHECK_INT(sink_count(&fs), 2);
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);
    sink_stop(&fs);
}

static void test_retry_after(void)
{
    struct fake_sink fs;
    struct vsg_ce ce;
    struct vsg_error err;
    enum vsg_ce_outcome out;

    sink_start(&fs, 200);
    fs.n_script = 1;
    fs.script[0] = 429;
    fs.retry_after = "1";
    struct vsg_ce_sender *s = make_sender(fs.url, NULL, NULL, NULL, "PT0.01S", 0);
    make_event(&ce, "12");
    int64_t t0 = vsg_time_mono_ms();
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DELIVERED);
    CHECK(vsg_time_mono_ms() - t0 >= 1000);
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);
    sink_stop(&fs);
}

static void test_invalid_event(void)
{
    struct vsg_ce ce;
    struct vsg_ce_sender_stats st;
    struct vsg_error err;
    enum vsg_ce_outcome out;

    struct vsg_ce_sender *s = make_sender("http://127.0.0.1:9/", NULL, NULL, NULL, NULL, 0);
    make_event(&ce, "13");
    vsg_ce_set(&ce, "type", NULL, NULL);
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DROPPED);
    CHECK(strstr(err.msg, "\"type\"") != NULL);
    vsg_ce_sender_stats(s, &st);
    CHECK_INT(st.attempts, 0);
    CHECK_INT(st.dropped, 1);
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);

    struct vsg_ce_sender_opts o;
    vsg_ce_sender_opts_init(&o);
    CHECK(vsg_ce_sender_new(&o, &err) == NULL);
    CHECK_INT(err.code, VSG_ERR_INVAL);
}

static void test_no_content_type(void)
{
    struct fake_sink fs;
    struct vsg_ce ce;
    struct vsg_ce_sender_opts o;
    struct vsg_error err;
    enum vsg_ce_outcome out;

    sink_start(&fs, 200);
    vsg_ce_sender_opts_init(&o);
    o.sink = fs.url; /* No namespace, no overrides. */
    struct vsg_ce_sender *s = vsg_ce_sender_new(&o, &err);
    CHECK(s != NULL);
    make_event(&ce, "15");
    vsg_ce_set(&ce, "datacontenttype", NULL, NULL);
    vsg_ce_set_data(&ce, NULL, 0);
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_INT(out, VSG_CE_DELIVERED);
    CHECK_STR(fs.seen[0].ctype, ""); /* Not curl's form type. */
    CHECK_STR(fs.seen[0].ns, "");
    CHECK_STR(fs.seen[0].team, "will be overridden");
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);

    /* The CloudEvents HTTP binding's percent-encoding, when asked for; and
     * every traceparent sampled at rate 1. */
    o.percent_header_values = 1;
    o.trace_sample_rate = 1;
    s = vsg_ce_sender_new(&o, &err);
    CHECK(s != NULL);
    make_event(&ce, "16");
    CHECK_INT(vsg_ce_send(s, &ce, &out, &err), VSG_OK);
    CHECK_STR(fs.seen[1].team, "will%20be%20overridden");
    CHECK(strcmp(fs.seen[1].trace + 52, "-01") == 0);
    CHECK(strncmp(fs.seen[1].trace + 3, fs.seen[0].trace + 3, 32) != 0); /* a new trace per event */
    CHECK_STR(fs.seen[0].body, "");
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(s);
    sink_stop(&fs);
}

/* Runs vsg_ce_send() on a thread. */
struct send_job {
    struct vsg_ce_sender *s; /* The sender. */
    struct vsg_ce *ce;       /* The event. */
    enum vsg_ce_outcome out; /* Result. */
    enum vsg_err rc;         /* Result. */
    int64_t done_ms;         /* When it returned (monotonic). */
};

static void *send_thread(void *p)
{
    struct send_job *j = p;
    struct vsg_error err;
    j->rc = vsg_ce_send(j->s, j->ce, &j->out, &err);
    j->done_ms = vsg_time_mono_ms();
    return NULL;
}

static void cancel_case(long hang_ms, const char *delay, int64_t max_ms)
{
    struct fake_sink fs;
    struct vsg_ce ce;
    struct send_job j = {0};
    struct vsg_error err;
    enum vsg_ce_outcome out;
    pthread_t th;

    sink_start(&fs, 503);
    fs.n_script = 1;
    fs.script[0] = 503;
    fs.hang_ms[0] = hang_ms;
    j.s = make_sender(fs.url, NULL, NULL, NULL, delay, 0);
    make_event(&ce, "14");
    j.ce = &ce;
    CHECK_INT(pthread_create(&th, NULL, send_thread, &j), 0);
    while (sink_count(&fs) < 1) usleep(10000);
    usleep(200000); /* In the backoff wait, or still in the request. */
    int64_t t0 = vsg_time_mono_ms();
    vsg_ce_sender_cancel(j.s);
    pthread_join(th, NULL);
    CHECK_INT(j.rc, VSG_ERR_CANCELLED);
    CHECK_INT(j.out, VSG_CE_CANCELLED);
    if (getenv("VSG_TEST_VERBOSE")) printf("  cancel took %lld ms\n", (long long)(j.done_ms - t0));
    CHECK(j.done_ms - t0 < max_ms);
    CHECK(vsg_ce_sender_cancelled(j.s));
    /* Later calls return at once. */
    CHECK_INT(vsg_ce_send(j.s, &ce, &out, &err), VSG_ERR_CANCELLED);
    CHECK_INT(out, VSG_CE_CANCELLED);
    vsg_ce_cleanup(&ce);
    vsg_ce_sender_free(j.s);
    sink_stop(&fs);
}

static void test_cancel_during_backoff(void)
{
    /* Waiting 30 s before the retry; cancel must end it at once. */
    cancel_case(0, "PT30S", 200);
}

static void test_cancel_during_request(void)
{
    /* The sink sits on the request for 4 s; curl's progress callback, which
     * sees the cancel flag, runs about once a second while it waits. */
    cancel_case(4000, "PT30S", 2500);
}

TEST_LIST = {
    {"retry_then_success", test_retry_then_success},
    {"dead_letter_400", test_dead_letter_400},
    {"retries_exhausted", test_retries_exhausted},
    {"dead_letter_fails", test_dead_letter_fails},
    {"connection_refused", test_connection_refused},
    {"timeout_retried", test_timeout_retried},
    {"retry_after", test_retry_after},
    {"invalid_event", test_invalid_event},
    {"no_content_type", test_no_content_type},
    {"cancel_during_backoff", test_cancel_during_backoff},
    {"cancel_during_request", test_cancel_during_request},
    {NULL, NULL},
};

int main_(int argc, char **argv);
#define main main_
TEST_MAIN()
#undef main

int main(int argc, char **argv)
{
    vsg_http_global_init();
    vsg_log_setup(getenv("VSG_TEST_VERBOSE") ? VSG_LOG_LEVEL_DEBUG : VSG_LOG_LEVEL_ERROR, stderr); /* Retries log warnings: keep quiet. */
    int rc = main_(argc, argv);
    vsg_http_global_cleanup();
    return rc;
}

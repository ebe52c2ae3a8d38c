/*
 * cmd_sink.c - `vsgate sink`: a CloudEvents receiver for tests and demos.
 *
 * Listens on a loopback address, accepts binary-mode and structured-mode
 * (application/cloudevents+json) CloudEvents on any path by POST, answers
 * 400 when a required attribute is missing, and writes one JSON line per
 * event to stdout or appends it to a file:
 *
 *   {"mode":"binary","status":200,"attributes":{"specversion":"1.0",...},
 *    "headers":{"content-type":"application/json","kn-namespace":"ns",...},
 *    "data":"<body as a string>"}
 *
 * Test knobs make it fail on purpose (fixed status, a status sequence, a
 * failing start period, rejected ids, a delay). SIGTERM/SIGINT end it
 * cleanly with exit status 0.
 *
 * Uses: http/server.h, cloudevents/receive.h (reading the event),
 * base/. Owns its server and files.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>


#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "cloudevents/event.h"
#include "cloudevents/receive.h"
#include "cmd/cmd.h"
#include "http/server.h"

#define LOGGER "vsgate.sink"
#define LINE_MAX_BYTES (256u * 1024 * 1024) /* Largest record line. */

/* One step of --status-sequence: answer `status` `count` times. */
struct step {
    int status;  /* HTTP status. */
    long count;  /* How many requests get it (>= 1). */
};

struct sink {
    const char *addr;       /* --addr. */
    unsigned port;          /* --port. */
    const char *port_file;  /* --port-file, or NULL. */
    const char *record;     /* --record, or NULL for stdout. */
    int do_fsync;           /* --fsync. */
    int record_all;         /* --record-all: also record refused events. */
    int raw_values;         /* --ce-header-encoding raw: ce-* values kept as sent. */
    int status;             /* --status (default 200). */
    struct step *seq;       /* --status-sequence steps, or NULL. */
    size_t n_seq;           /* How many. */
    long fail_first_s;      /* --fail-first-seconds (0: off). */
    char **reject;          /* --reject-id ids. */
    size_t n_reject;        /* How many. */
    long delay_ms;          /* --delay-ms. */
    long retry_after;       /* --retry-after seconds on 429/503 (-1: none). */
    size_t max_body;        /* --max-body. */
    int fd;                 /* Record file or stdout. */
    int64_t start_ms;       /* Monotonic start time. */
    long requests;          /* Valid events seen (for the sequence). */
    int stopping;           /* Set on SIGTERM/SIGINT. */
    pthread_mutex_t lock;   /* Guards requests, stopping and writes. */
    pthread_cond_t wake;    /* Broadcast when stopping (ends delays). */
};

/* ====================================================================
 * The handler
 * ==================================================================== */

/* Hands every header to vsg_ce_received_header(). */
struct hdr_ctx {
    struct vsg_ce_received *rcv; /* Where to put them. */
    int raw;                     /* Keep ce-* values as sent (no percent-decoding). */
    enum vsg_err rc;             /* First failure. */
};

static int collect_header(void *ud, const char *name, const char *value)
{
    struct hdr_ctx *c = ud;
    c->rc = vsg_ce_received_header(c->rcv, name, value, c->raw);
    return c->rc != VSG_OK;
}

static int in_list(char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], s) == 0) return 1;
    return 0;
}

/* The status the knobs choose for valid event number `k` (0-based). */
static int chosen_status(const struct sink *sk, long k)
{
    if (sk->fail_first_s > 0 && vsg_time_mono_ms() - sk->start_ms < sk->fail_first_s * 1000)
        return 503;
    if (sk->n_seq) {
        for (size_t i = 0; i < sk->n_seq; i++) {
            if (k < sk->seq[i].count) return sk->seq[i].status;
            k -= sk->seq[i].count;
        }
        return sk->seq[sk->n_seq - 1].status;
    }
    return sk->status;
}

/* Sleeps `ms` unless the sink is stopping. */
static void delay(struct sink *sk, long ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sk->lock);
    while (!sk->stopping)
        if (pthread_cond_timedwait(&sk->wake, &sk->lock, &ts) == ETIMEDOUT) break;
    pthread_mutex_unlock(&sk->lock);
}

static enum vsg_err append_object(struct vsg_buf *b, const struct vsg_ce_kvlist *l)
{
    enum vsg_err rc = vsg_buf_putc(b, '{');
    for (size_t i = 0; rc == VSG_OK && i < l->n; i++) {
        if (i) rc = vsg_buf_putc(b, ',');
        if (rc == VSG_OK) rc = vsg_buf_append_json_string(b, l->v[i].name);
        if (rc == VSG_OK) rc = vsg_buf_putc(b, ':');
        if (rc == VSG_OK) rc = vsg_buf_append_json_string(b, l->v[i].value);
    }
    if (rc == VSG_OK) rc = vsg_buf_putc(b, '}');
    return rc;
}

static enum vsg_err record(struct sink *sk, const struct vsg_ce_received *rcv, int status)
{
    struct vsg_buf line;
    enum vsg_err rc;
    int wr = 0;

    vsg_buf_init(&line, LINE_MAX_BYTES);
    if ((rc = vsg_buf_printf(&line, "{\"mode\":\"%s\",\"status\":%d,\"attributes\":", rcv->mode,
                             status)) ||
        (rc = append_object(&line, &rcv->attrs)) || (rc = vsg_buf_puts(&line, ",\"headers\":")) ||
        (rc = append_object(&line, &rcv->headers)) || (rc = vsg_buf_puts(&line, ",\"data\":")) ||
        (rc = vsg_buf_append_json_stringn(&line, rcv->data ? rcv->data : "", rcv->data_len)) ||
        (rc = vsg_buf_puts(&line, "}\n")))
        goto done;
    pthread_mutex_lock(&sk->lock);
    wr = vsg_write_all(sk->fd, line.data, line.len);
    if (wr == 0 && sk->do_fsync) fsync(sk->fd);
    pthread_mutex_unlock(&sk->lock);
    if (wr != 0) rc = VSG_ERR_IO;
done:
    vsg_buf_cleanup(&line);
    return rc;
}

static enum vsg_err on_event(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    struct sink *sk = ud;
    struct vsg_ce_received rcv = {0};
    const char *ct = vsg_http_req_header(rq, "Content-Type");
    const char *missing = NULL;
    char why[256] = "";
    enum vsg_err rc = VSG_OK;
    int status;
    long k;

    struct hdr_ctx hc = {&rcv, sk->raw_values, VSG_OK};
    vsg_http_req_each_header(rq, collect_header, &hc);
    if ((rc = hc.rc) != VSG_OK) goto done;
    if (ct && strncasecmp(ct, "application/cloudevents-batch+json", 34) == 0) {
        rc = vsg_http_resp_text(rs, 415, "text/plain", "batched mode is not supported\n");
        goto done;
    }
    if (ct && strncasecmp(ct, "application/cloudevents+json", 28) == 0) {
        rcv.mode = "structured";
        /* Header attributes are optional in structured mode: the body rules. */
        vsg_ce_kvlist_cleanup(&rcv.attrs);
        if ((status = vsg_ce_parse_structured(rq->body, rq->body_len, &rcv, why, sizeof why)) != 0) {
            rc = vsg_http_resp_text(rs, status, "text/plain", "%s\n", why);
            goto done;
        }
    } else {
        rcv.mode = "binary";
        if (ct && (rc = vsg_ce_kvlist_add(&rcv.attrs, "datacontenttype", 15, ct, strlen(ct))) != VSG_OK)
            goto done;
        if (!(rcv.data = vsg_malloc(rq->body_len + 1))) {
            rc = VSG_ERR_NOMEM;
            goto done;
        }
        memcpy(rcv.data, rq->body, rq->body_len);
        rcv.data[rq->body_len] = '\0';
        rcv.data_len = rq->body_len;
    }

    if ((missing = vsg_ce_received_missing(&rcv)) != NULL) {
        rc = vsg_http_resp_text(rs, 400, "text/plain",
                                "invalid CloudEvent: missing required attribute \"%s\"\n", missing);
        goto refused;
    }
    if (strcmp(vsg_ce_kvlist_get(&rcv.attrs, "specversion"), VSG_CE_SPECVERSION) != 0) {
        rc = vsg_http_resp_text(rs, 400, "text/plain", "unsupported specversion \"%s\"\n",
                                vsg_ce_kvlist_get(&rcv.attrs, "specversion"));
        goto refused;
    }
    if (in_list(sk->reject, sk->n_reject, vsg_ce_kvlist_get(&rcv.attrs, "id"))) {
        rc = vsg_http_resp_text(rs, 400, "text/plain", "event id %s rejected (--reject-id)\n",
                                vsg_ce_kvlist_get(&rcv.attrs, "id"));
        goto refused;
    }

    pthread_mutex_lock(&sk->lock);
    k = sk->requests++;
    pthread_mutex_unlock(&sk->lock);
    status = chosen_status(sk, k);
    if (sk->delay_ms > 0) delay(sk, sk->delay_ms);
    rs->status = status;
    if ((status == 429 || status == 503) && sk->retry_after >= 0) {
        char ra[32];
        snprintf(ra, sizeof ra, "%ld", sk->retry_after);
        if ((rc = vsg_http_resp_header(rs, "Retry-After", ra)) != VSG_OK) goto done;
    }
    if ((status >= 200 && status <= 299) || sk->record_all) rc = record(sk, &rcv, status);
    goto done;

refused:
    if (rc == VSG_OK && sk->record_all) rc = record(sk, &rcv, rs->status);
done:
    vsg_ce_received_cleanup(&rcv);
    return rc;
}

/* ====================================================================
 * Command line
 * ==================================================================== */

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: vsgate sink [options]\n"
            "\n"
            "A CloudEvents receiver for tests: accepts binary-mode and structured-mode\n"
            "(application/cloudevents+json) events by POST on any path, answers 400 when\n"
            "specversion, id, source or type is missing, and writes one JSON line per event:\n"
            "  {\"mode\":..,\"status\":..,\"attributes\":{..},\"headers\":{..},\"data\":\"..\"}\n"
            "SIGTERM or SIGINT stop it cleanly (exit status 0).\n"
            "\n"
            "Options:\n"
            "  --addr ADDR              listen address (default 127.0.0.1; numeric IPv4/IPv6)\n"
            "  --port N                 TCP port (default 8080; 0 picks a free port)\n"
            "  --port-file FILE         write the bound port to FILE once listening\n"
            "  --record FILE            append event lines to FILE instead of stdout\n"
            "  --fsync                  fsync FILE after every line\n"
            "  --record-all             also record refused events (with their status)\n"
            "  --ce-header-encoding raw|percent  read ce-* values as sent (raw) or percent-\n"
            "                           decode them (the CloudEvents HTTP binding; default)\n"
            "  --status N               answer every valid event with status N (default 200)\n"
            "  --status-sequence SPEC   answer in sequence, e.g. 503x10,200: ten 503s, then\n"
            "                           200; the last step repeats forever\n"
            "  --fail-first-seconds N   answer 503 during the first N seconds\n"
            "  --retry-after S          send Retry-After: S with 429 and 503 answers\n"
            "  --reject-id ID[,ID...]   answer 400 for events with these ids\n"
            "  --delay-ms N             wait N ms before answering\n"
            "  --max-body BYTES         request body limit (default 16 MiB; 413 beyond)\n"
            "  -h, --help               show this help\n"
            "\n"
            "Knob precedence: invalid event (400) > --reject-id (400) >\n"
            "--fail-first-seconds (503) > --status-sequence > --status.\n"
            "Only 2xx answers are recorded unless --record-all is given.\n");
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

static int parse_sequence(const char *spec, struct sink *sk)
{
    char *copy = vsg_strdup(spec), *save = NULL, *tok;
    int ok = 0;

    if (!copy) return -1;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        struct step st = {0, 1};
        char *x = strchr(tok, 'x');
        long v;
        if (x) *x = '\0';
        if (parse_long(tok, 100, 999, &v)) goto done;
        st.status = (int)v;
        if (x && parse_long(x + 1, 1, LONG_MAX, &st.count)) goto done;
        struct step *n = vsg_realloc(sk->seq, (sk->n_seq + 1) * sizeof *n);
        if (!n) goto done;
        sk->seq = n;
        sk->seq[sk->n_seq++] = st;
    }
    ok = sk->n_seq > 0;
done:
    vsg_free(copy);
    return ok ? 0 : -1;
}

static int parse_ids(const char *spec, struct sink *sk)
{
    char *copy = vsg_strdup(spec), *save = NULL, *tok;

    if (!copy) return -1;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char **n = vsg_realloc(sk->reject, (sk->n_reject + 1) * sizeof *n);
        if (!n) break;
        sk->reject = n;
        if (!(sk->reject[sk->n_reject] = vsg_strdup(tok))) break;
        sk->n_reject++;
    }
    vsg_free(copy);
    return 0;
}

static int write_port_file(const char *path, unsigned port)
{
    struct vsg_buf tmp;
    char text[16];
    int fd, rc = -1;

    vsg_buf_init(&tmp, PATH_MAX);
    if (vsg_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid()) != VSG_OK) goto done;
    snprintf(text, sizeof text, "%u\n", port);
    fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) goto done;
    if (vsg_write_all(fd, text, strlen(text)) != 0) {
        close(fd);
        unlink(tmp.data);
        goto done;
    }
    close(fd);
    rc = rename(tmp.data, path);
done:
    vsg_buf_cleanup(&tmp);
    return rc;
}

int vsg_cmd_sink(int argc, char **argv)
{
    enum {
        OPT_ADDR = 256, OPT_PORT, OPT_PORT_FILE, OPT_RECORD, OPT_FSYNC, OPT_RECORD_ALL, OPT_CE_HEADERS, OPT_STATUS, OPT_SEQ,
        OPT_FAIL_FIRST, OPT_RETRY_AFTER, OPT_REJECT, OPT_DELAY, OPT_MAX_BODY
    };
    static const struct option longopts[] = {
        {"addr", required_argument, NULL, OPT_ADDR},
        {"port", required_argument, NULL, OPT_PORT},
        {"port-file", required_argument, NULL, OPT_PORT_FILE},
        {"record", required_argument, NULL, OPT_RECORD},
        {"fsync", no_argument, NULL, OPT_FSYNC},
        {"record-all", no_argument, NULL, OPT_RECORD_ALL},
        {"ce-header-encoding", required_argument, NULL, OPT_CE_HEADERS},
        {"status", required_argument, NULL, OPT_STATUS},
        {"status-sequence", required_argument, NULL, OPT_SEQ},
        {"fail-first-seconds", required_argument, NULL, OPT_FAIL_FIRST},
        {"retry-after", required_argument, NULL, OPT_RETRY_AFTER},
        {"reject-id", required_argument, NULL, OPT_REJECT},
        {"delay-ms", required_argument, NULL, OPT_DELAY},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct sink sk;
    struct vsg_http_server_opts so = {0};
    struct vsg_http_server *srv = NULL;
    struct vsg_error err;
    pthread_condattr_t ca;
    sigset_t sigs;
    int c, code = 1, sig = 0, locks = 0;
    long v;

    memset(&sk, 0, sizeof sk);
    sk.addr = "127.0.0.1";
    sk.port = 8080;
    sk.status = 200;
    sk.retry_after = -1;
    sk.max_body = 16u * 1024 * 1024;
    sk.fd = STDOUT_FILENO;
    vsg_error_clear(&err);

    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_ADDR: sk.addr = optarg; break;
        case OPT_PORT:
            if (parse_long(optarg, 0, 65535, &v)) goto bad_value;
            sk.port = (unsigned)v;
            break;
        case OPT_PORT_FILE: sk.port_file = optarg; break;
        case OPT_RECORD: sk.record = optarg; break;
        case OPT_FSYNC: sk.do_fsync = 1; break;
        case OPT_RECORD_ALL: sk.record_all = 1; break;
        case OPT_CE_HEADERS:
            if (strcmp(optarg, "raw") == 0) sk.raw_values = 1;
            else if (strcmp(optarg, "percent") == 0) sk.raw_values = 0;
            else goto bad_value;
            break;
        case OPT_STATUS:
            if (parse_long(optarg, 100, 999, &v)) goto bad_value;
            sk.status = (int)v;
            break;
        case OPT_SEQ:
            if (parse_sequence(optarg, &sk)) goto bad_value;
            break;
        case OPT_FAIL_FIRST:
            if (parse_long(optarg, 0, LONG_MAX / 1000, &sk.fail_first_s)) goto bad_value;
            break;
        case OPT_RETRY_AFTER:
            if (parse_long(optarg, 0, LONG_MAX, &sk.retry_after)) goto bad_value;
            break;
        case OPT_REJECT:
            if (parse_ids(optarg, &sk)) goto bad_value;
            break;
        case OPT_DELAY:
            if (parse_long(optarg, 0, LONG_MAX / 1000, &sk.delay_ms)) goto bad_value;
            break;
        case OPT_MAX_BODY:
            if (parse_long(optarg, 1, LONG_MAX, &v)) goto bad_value;
            sk.max_body = (size_t)v;
            break;
        case 'h':
            usage(stdout);
            code = 0;
            goto out;
        default:
            fprintf(stderr, "Run `vsgate sink --help` for the options.\n");
            code = 2;
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "vsgate sink: unexpected argument \"%s\"\n", argv[optind]);
        code = 2;
        goto out;
    }

    if (sk.record) {
        sk.fd = open(sk.record, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (sk.fd < 0) {
            fprintf(stderr, "vsgate sink: cannot open %s: %s\n", sk.record, strerror(errno));
            goto out;
        }
    }
    pthread_mutex_init(&sk.lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sk.wake, &ca);
    pthread_condattr_destroy(&ca);
    locks = 1;
    sk.start_ms = vsg_time_mono_ms();

    /* The server's threads inherit this mask: only sigwait() sees them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    so.name = "sink";
    so.addr = sk.addr;
    so.port = sk.port;
    so.max_body = sk.max_body;
    if (!(srv = vsg_http_server_new(&so, &err)) ||
        vsg_http_server_add_healthz(srv, NULL, NULL, NULL, &err) != VSG_OK ||
        vsg_http_server_route(srv, "POST", "*", on_event, &sk, &err) != VSG_OK ||
        vsg_http_server_start(srv, &err) != VSG_OK) {
        fprintf(stderr, "vsgate sink: %s\n", err.msg);
        goto out;
    }
    if (sk.port_file && write_port_file(sk.port_file, vsg_http_server_port(srv)) != 0) {
        fprintf(stderr, "vsgate sink: cannot write %s: %s\n", sk.port_file, strerror(errno));
        goto out;
    }
    VSG_LOG_INFO(LOGGER, "listening on %s port %u", sk.addr, vsg_http_server_port(srv));

    while (sigwait(&sigs, &sig) != 0) {
    }
    pthread_mutex_lock(&sk.lock);
    sk.stopping = 1;
    v = sk.requests;
    pthread_cond_broadcast(&sk.wake);
    pthread_mutex_unlock(&sk.lock);
    VSG_LOG_INFO(LOGGER, "signal %d: stopping after %ld event(s)", sig, v);
    code = 0;
    goto out;

bad_value:
    fprintf(stderr, "vsgate sink: invalid value \"%s\" for --%s\n", optarg,
            longopts[c - OPT_ADDR].name);
    code = 2;
out:
    vsg_http_server_free(srv);
    if (sk.record && sk.fd >= 0) close(sk.fd);
    if (locks) {
        pthread_cond_destroy(&sk.wake);
        pthread_mutex_destroy(&sk.lock);
    }
    for (size_t i = 0; i < sk.n_reject; i++) vsg_free(sk.reject[i]);
    vsg_free(sk.reject);
    vsg_free(sk.seq);
    return code;
}

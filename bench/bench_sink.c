/*
 * bench_sink.c - a minimal CloudEvents sink for the benchmarks (not
 * installed). It does as little as possible per event so that it is never
 * the bottleneck: no parsing beyond three headers, nothing written but an
 * optional buffered record line.
 *
 *   bench-sink --port-file FILE [--record FILE] [--sample FILE]
 *
 * POST (any path): answers 200 with an empty body; counts the POST and
 * whether its ce-id is new (a set of every id seen: a redelivered event is
 * a duplicate, not a second event), and with --record appends "arrival_ns
 * delay_ns id type" (delay = arrival - ce-time, both CLOCK_REALTIME; -1
 * when ce-time does not parse). With
 * --sample, the first GeneralUserEvent's ce-* and Content-Type headers and
 * body are written to FILE ("name: value" lines, an empty line, the body)
 * for bench/curl_floor.c to replay.
 * GET /count: "posts users distinct dups" after flushing the record: POSTs,
 * distinct GeneralUserEvent ids, distinct ids of any type, and POSTs whose
 * ce-id was seen before (a POST without ce-id is neither distinct nor a
 * duplicate). GET /wait?users=N&ms=T: the same, once users >= N or after
 * T ms (long poll, so the benchmark notices a drained burst at once).
 * SIGTERM/SIGINT, or the parent's death: flush and exit 0. Listens on
 * 127.0.0.1 only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

/* The set of ce-ids seen: open addressing, FNV-1a, grown at half full. */
struct idset {
    char **slot;          /* NULL = free; owned strings. */
    size_t cap;           /* Power of two. */
    size_t n;             /* Ids in the set. */
};

struct sink {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned long total;  /* POSTs received. */
    unsigned long users;  /* Distinct ids of GeneralUserEvents. */
    unsigned long dups;   /* POSTs whose ce-id was already seen. */
    struct idset ids;     /* Every ce-id seen. */
    FILE *record;         /* Or NULL. */
    const char *sample;   /* Sample path, or NULL once written. */
};

/* Per-request state: the body is only counted (kept for the sample). */
struct req {
    size_t len;
    char *body;  /* Only while a sample is wanted. */
    size_t cap;
};

static size_t id_hash(const char *id)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return (size_t)h;
}

/* Adds `id`: 1 when new, 0 when seen before, -1 when out of memory. */
static int idset_add(struct idset *set, const char *id)
{
    if ((set->n + 1) * 2 > set->cap) {
        size_t ncap = set->cap ? set->cap * 2 : 1024;
        char **ns = calloc(ncap, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i < set->cap; i++) {
            if (!set->slot[i]) continue;
            size_t j = id_hash(set->slot[i]) & (ncap - 1);
            while (ns[j]) j = (j + 1) & (ncap - 1);
            ns[j] = set->slot[i];
        }
        free(set->slot);
        set->slot = ns;
        set->cap = ncap;
    }
    size_t j = id_hash(id) & (set->cap - 1);
    for (; set->slot[j]; j = (j + 1) & (set->cap - 1))
        if (strcmp(set->slot[j], id) == 0) return 0;
    if (!(set->slot[j] = strdup(id))) return -1;
    set->n++;
    return 1;
}

static void idset_free(struct idset *set)
{
    for (size_t i = 0; i < set->cap; i++) free(set->slot[i]);
    free(set->slot);
    memset(set, 0, sizeof *set);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* RFC 3339 with 0-9 fractional digits and Z or +-hh:mm -> ns since epoch. */
static int parse_rfc3339(const char *s, int64_t *out)
{
    struct tm tm;
    int64_t frac = 0;
    int digits = 0, off = 0;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p) return -1;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++)
            if (digits < 9) {
                frac = frac * 10 + (*p - '0');
                digits++;
            }
        for (; digits < 9; digits++) frac *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int h, m;
        if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2) return -1;
        off = (h * 60 + m) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    *out = ((int64_t)timegm(&tm) - off) * 1000000000 + frac;
    return 0;
}

static enum MHD_Result put_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    FILE *f = cls;
    if (strncasecmp(k, "ce-", 3) == 0 || strcasecmp(k, "content-type") == 0) fprintf(f, "%s: %s\n", k, v);
    return MHD_YES;
}

static void write_sample(struct sink *s, struct MHD_Connection *c, const struct req *r)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->sample);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    MHD_get_connection_values(c, MHD_HEADER_KIND, put_header, f);
    fputc('\n', f);
    fwrite(r->body ? r->body : "", 1, r->len, f);
    if (fclose(f) == 0) rename(tmp, s->sample);
    s->sample = NULL;
}

static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static struct MHD_Response *empty_ok;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    (void)version;
    struct sink *s = cls;
    if (strcmp(method, "GET") == 0) {
        unsigned long want = 0, ms = 0;
        const char *v;
        if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "users"))) want = strtoul(v, NULL, 10);
        if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "ms"))) ms = strtoul(v, NULL, 10);
        char text[128];
        pthread_mutex_lock(&s->lock);
        if (strcmp(url, "/wait") == 0) {
            struct timespec dl;
            clock_gettime(CLOCK_MONOTONIC, &dl);
            dl.tv_sec += (time_t)(ms / 1000);
            dl.tv_nsec += (long)(ms % 1000) * 1000000L;
            if (dl.tv_nsec >= 1000000000L) {
                dl.tv_sec++;
                dl.tv_nsec -= 1000000000L;
            }
            while (s->users < want)
                if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) == ETIMEDOUT) break;
        }
        if (s->record) fflush(s->record);
        snprintf(text, sizeof text, "%lu %lu %lu %lu\n", s->total, s->users, (unsigned long)s->ids.n,
                 s->dups);
        pthread_mutex_unlock(&s->lock);
        return answer_text(c, MHD_HTTP_OK, text);
    }
    if (strcmp(method, "POST") != 0) return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "");

    struct req *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r))) return MHD_NO;
        *con_cls = r;
        return MHD_YES;
    }
    if (*data_size) {
        if (s->sample) {
            if (r->len + *data_size > r->cap) {
                size_t ncap = (r->len + *data_size) * 2;
                char *nb = realloc(r->body, ncap);
                if (!nb) return MHD_NO;
                r->body = nb;
                r->cap = ncap;
            }
            memcpy(r->body + r->len, data, *data_size);
        }
        r->len += *data_size;
        *data_size = 0;
        return MHD_YES;
    }
    /* The whole request is in. */
    int64_t arrival = now_ns();
    const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "ce-id");
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "ce-type");
    const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "ce-time");
    size_t tl = type ? strlen(type) : 0;
    int user = tl >= 19 && strcmp(type + tl - 19, "GeneralUserEvent.v0") == 0;
    pthread_mutex_lock(&s->lock);
    int fresh = id ? idset_add(&s->ids, id) : 0;
    if (fresh < 0) {
        pthread_mutex_unlock(&s->lock);
        return MHD_NO;
    }
    s->total++;
    if (id && !fresh) s->dups++;
    if (user && fresh) s->users++;
    if (s->record) {
        int64_t created, delay = -1;
        if (t && parse_rfc3339(t, &created) == 0) delay = arrival - created;
        fprintf(s->record, "%lld %lld %s %s\n", (long long)arrival, (long long)delay, id ? id : "-",
                type ? type : "-");
    }
    if (user && s->sample) write_sample(s, c, r);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return MHD_queue_response(c, MHD_HTTP_OK, empty_ok);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode tc)
{
    (void)cls;
    (void)c;
    (void)tc;
    struct req *r = *con_cls;
    if (r) {
        free(r->body);
        free(r);
        *con_cls = NULL;
    }
}

int main(int argc, char **argv)
{
    const char *port_file = NULL, *record = NULL;
    struct sink s;
    memset(&s, 0, sizeof s);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port-file") && i + 1 < argc) port_file = argv[++i];
        else if (!strcmp(argv[i], "--record") && i + 1 < argc) record = argv[++i];
        else if (!strcmp(argv[i], "--sample") && i + 1 < argc) s.sample = argv[++i];
        else {
            fprintf(stderr, "usage: bench-sink --port-file FILE [--record FILE] [--sample FILE]\n");
            return 2;
        }
    }
    if (!port_file) {
        fprintf(stderr, "bench-sink: --port-file is required\n");
        return 2;
    }
    if (record && !(s.record = fopen(record, "w"))) {
        perror(record);
        return 1;
    }
    if (s.record) setvbuf(s.record, NULL, _IOFBF, 1 << 20);
    pthread_mutex_init(&s.lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s.cond, &ca);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Ends with the benchmark script, even if that is killed outright. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) return 1;

    empty_ok = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    /* One thread per connection: the adapter's keep-alive connection gets
     * its own, and /wait may block without stalling it. */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, on_request, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)600,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "bench-sink: cannot start the server\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *pf = fopen(tmp, "w");
    if (!pf || fprintf(pf, "%u\n", (unsigned)info->port) < 0 || fclose(pf) != 0 || rename(tmp, port_file) != 0) {
        fprintf(stderr, "bench-sink: cannot write %s\n", port_file);
        MHD_stop_daemon(d);
        return 1;
    }
    int sig;
    while (sigwait(&sigs, &sig) != 0) {
    }
    MHD_stop_daemon(d);
    MHD_destroy_response(empty_ok);
    if (s.record) fclose(s.record);
    fprintf(stderr, "bench-sink: %lu POSTs, %lu distinct ids (%lu GeneralUserEvents), %lu duplicates\n",
            s.total, (unsigned long)s.ids.n, s.users, s.dups);
    idset_free(&s.ids);
    return 0;
}

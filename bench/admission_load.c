/* bench/admission_load.c - admission-webhook load generator for
 * bench/admission_latency.sh: C threads, each with its own keep-alive
 * libcurl handle, POST one recorded AdmissionReview (a file) to a URL over
 * TLS (the webhook's CA) back to back for a duration, then print the
 * per-request latency percentiles and the throughput.
 *
 *   admission-load URL BODY-FILE CA-FILE CONCURRENCY SECONDS
 * Output (one line): n=.. errors=.. rps=.. p50_ms=.. p90_ms=.. p99_ms=.. max_ms=..
 * Exit status 1 when any request failed (transport error or non-200, or an
 * answer without "allowed":true). */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct worker {
    pthread_t th;
    const char *url, *ca, *body;
    size_t body_len;
    double end;
    double *lat; /* milliseconds */
    size_t n, cap;
    long errors;
};

struct resp {
    char buf[65536];
    size_t len;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_data(char *p, size_t sz, size_t nm, void *ud)
{
    struct resp *r = ud;
    size_t n = sz * nm, room = sizeof r->buf - 1 - r->len;
    memcpy(r->buf + r->len, p, n < room ? n : room);
    r->len += n < room ? n : room;
    r->buf[r->len] = '\0';
    return n;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct resp r;
    if (!c) return NULL;
    curl_easy_setopt(c, CURLOPT_URL, w->url);
    curl_easy_setopt(c, CURLOPT_CAINFO, w->ca);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, w->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)w->body_len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    while (now_s() < w->end) {
        long code = 0;
        r.len = 0;
        r.buf[0] = '\0';
        double t0 = now_s();
        CURLcode rc = curl_easy_perform(c);
        double ms = (now_s() - t0) * 1e3;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (rc != CURLE_OK || code != 200 || !strstr(r.buf, "\"allowed\":true")) {
            if (w->errors++ < 3)
                fprintf(stderr, "admission-load: %s: HTTP %ld %.200s\n", curl_easy_strerror(rc), code, r.buf);
            continue;
        }
        if (w->n == w->cap) {
            size_t cap = w->cap ? w->cap * 2 : 4096;
            double *p = realloc(w->lat, cap * sizeof *p);
            if (!p) break;
            w->lat = p;
            w->cap = cap;
        }
        w->lat[w->n++] = ms;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: admission-load URL BODY-FILE CA-FILE CONCURRENCY SECONDS\n");
        return 2;
    }
    int conc = atoi(argv[4]);
    double secs = atof(argv[5]);
    FILE *f = fopen(argv[2], "rb");
    if (!f || conc < 1 || conc > 1024 || secs <= 0) {
        fprintf(stderr, "admission-load: bad arguments\n");
        return 2;
    }
    static char body[1 << 20];
    size_t blen = fread(body, 1, sizeof body - 1, f);
    fclose(f);
    body[blen] = '\0';
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct worker *ws = calloc((size_t)conc, sizeof *ws);
    if (!ws) return 1;
    double t0 = now_s(), end = t0 + secs;
    for (int i = 0; i < conc; i++) {
        ws[i] = (struct worker){.url = argv[1], .ca = argv[3], .body = body, .body_len = blen, .end = end};
        pthread_create(&ws[i].th, NULL, run, &ws[i]);
    }
    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < conc; i++) {
        pthread_join(ws[i].th, NULL);
        total += ws[i].n;
        errors += ws[i].errors;
    }
    double elapsed = now_s() - t0;
    double *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < conc; i++) {
        if (all) memcpy(all + k, ws[i].lat, ws[i].n * sizeof *all);
        k += ws[i].n;
        free(ws[i].lat);
    }
    free(ws);
    if (!all || !total) {
        printf("n=0 errors=%ld\n", errors);
        free(all);
        return 1;
    }
    qsort(all, total, sizeof *all, cmp);
#define PCT(p) all[(size_t)((double)(total - 1) * (p))]
    printf("n=%zu errors=%ld rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", total, errors,
           (double)total / elapsed, PCT(0.50), PCT(0.90), PCT(0.99), all[total - 1]);
    free(all);
    curl_global_cleanup();
    return errors ? 1 : 0;
}

/*
 * curl_floor.c - the floor of the adapter benchmark (not installed): a
 * bare libcurl keep-alive POST loop sending the same CloudEvent the
 * adapter sends (same headers, same body size) to the same kind of sink,
 * and measuring its own CPU per request.
 *
 *   curl-floor --url URL --sample FILE [--count N] [--warmup N]
 *
 * FILE is what bench-sink --sample wrote from an adapter event: "name:
 * value" header lines (ce-*, Content-Type), an empty line, the body. The
 * ce-id is replaced by a counter on every request. The curl options are
 * the adapter's (core/http/client.c): HTTP/1.1, "Expect:", the same
 * Accept-Encoding and User-Agent, no signals, one easy handle. Not
 * copied: its progress callback, per-request header list and response
 * buffer, i.e. exactly the overhead a bare loop avoids.
 *
 * Prints one line: "floor requests=N wall_s=.. user_us=.. sys_us=..
 * cpu_us_per_req=.. sys_us_per_req=.. req_per_s=.. sleeps_per_req=..
 * preempts_per_req=..". CPU = getrusage (RUSAGE_SELF) of the loop;
 * sleeps and preempts are its voluntary and involuntary context switches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static double tv_us(struct timeval tv)
{
    return (double)tv.tv_sec * 1e6 + (double)tv.tv_usec;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *sample = NULL;
    long count = 20000, warmup = 200;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--url") && i + 1 < argc) url = argv[++i];
        else if (!strcmp(argv[i], "--sample") && i + 1 < argc) sample = argv[++i];
        else if (!strcmp(argv[i], "--count") && i + 1 < argc) count = atol(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: curl-floor --url URL --sample FILE [--count N] [--warmup N]\n");
            return 2;
        }
    }
    if (!url || !sample || count <= 0) {
        fprintf(stderr, "curl-floor: --url and --sample are required\n");
        return 2;
    }
    FILE *f = fopen(sample, "r");
    if (!f) {
        perror(sample);
        return 1;
    }
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    char *idline = NULL; /* The ce-id header, rewritten in place. */
    char line[8192];
    while (fgets(line, sizeof line, f) && line[0] != '\n') {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncasecmp(line, "ce-id:", 6) == 0) {
            hdrs = curl_slist_append(hdrs, "ce-id: 000000000000");
            struct curl_slist *last = hdrs;
            while (last->next) last = last->next;
            idline = last->data;
        } else {
            hdrs = curl_slist_append(hdrs, line);
        }
    }
    size_t cap = 1 << 16, len = 0;
    char *body = malloc(cap);
    size_t got;
    while (body && (got = fread(body + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap && !(body = realloc(body, cap *= 2))) break;
    }
    fclose(f);
    if (!body || !idline) {
        fprintf(stderr, "curl-floor: %s: no ce-id header or out of memory\n", sample);
        return 1;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "vsgate/0.1.0");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);

    struct rusage r0, r1;
    double t0 = 0;
    long failed = 0;
    for (long i = -warmup; i < count; i++) {
        if (i == 0) {
            getrusage(RUSAGE_SELF, &r0);
            t0 = mono_s();
        }
        char id[24];
        snprintf(id, sizeof id, "%012ld", (1000000 + (i < 0 ? -i : i)) % 1000000000000L);
        memcpy(idline + 7, id, 12);
        long status = 0;
        if (curl_easy_perform(h) != CURLE_OK ||
            (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status), status / 100 != 2))
            failed++;
    }
    double wall = mono_s() - t0;
    getrusage(RUSAGE_SELF, &r1);
    double user = tv_us(r1.ru_utime) - tv_us(r0.ru_utime);
    double sys = tv_us(r1.ru_stime) - tv_us(r0.ru_stime);
    printf("floor requests=%ld failed=%ld body_bytes=%zu wall_s=%.3f user_us=%.0f sys_us=%.0f "
           "cpu_us_per_req=%.2f sys_us_per_req=%.2f req_per_s=%.0f sleeps_per_req=%.2f "
           "preempts_per_req=%.2f\n",
           count, failed, len, wall, user, sys, (user + sys) / (double)count, sys / (double)count,
           (double)count / wall, (double)(r1.ru_nvcsw - r0.ru_nvcsw) / (double)count,
           (double)(r1.ru_nivcsw - r0.ru_nivcsw) / (double)count);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    free(body);
    return failed ? 1 : 0;
}

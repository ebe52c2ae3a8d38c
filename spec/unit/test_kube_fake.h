/*
 * test_kube_fake.h - a scripted plain-HTTP server on 127.0.0.1 for the kube
 * client and ConfigMap store unit tests.
 *
 * Provides: fake_start()/fake_stop(), fake_push() to queue canned responses
 * (served in order, one per connection, each with "Connection: close"), and
 * the recorded requests (method, target, headers, body) in fake.reqs.
 * Uses: POSIX sockets and pthreads only. Header-only, static functions;
 * include it in one test file.
 * Owns: everything in the global `fake`, freed by fake_stop().
 */
#ifndef VSG_TEST_KUBE_FAKE_H
#define VSG_TEST_KUBE_FAKE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAKE_MAX 32

/* One canned response. */
struct fake_resp {
    int status;       /* HTTP status code. */
    const char *body; /* Body (JSON text), static. */
};

/* One request as the server saw it. */
struct fake_req {
    char method[16];   /* "GET", "PUT", ... */
    char target[1024]; /* Path and query. */
    char headers[4096];/* All header lines, "\r\n"-separated. */
    char *body;        /* Body (malloc'd, NUL-terminated) or NULL. */
};

/* The server state (tests are single-threaded besides this server). */
static struct {
    int fd;                            /* Listening socket. */
    int port;                          /* Its port. */
    pthread_t thread;                  /* The accept loop. */
    pthread_mutex_t mu;                /* Guards everything below. */
    struct fake_resp resp[FAKE_MAX];   /* Queued responses. */
    int nresp;                         /* How many were queued. */
    int next;                          /* Index of the next one to serve. */
    struct fake_req reqs[FAKE_MAX];    /* Requests seen. */
    int nreqs;                         /* How many. */
    char url[64];                      /* "http://127.0.0.1:<port>". */
    int delay_ms;                      /* Wait before each answer (a slow server). */
} fake;

/* Reads one HTTP request from `c` into `r`. Returns 0 on success. */
static int fake_read_req(int c, struct fake_req *r)
{
    char buf[65536];
    size_t len = 0;
    char *hend = NULL;
    while (!hend) {
        if (len >= sizeof buf - 1) return -1;
        ssize_t n = read(c, buf + len, sizeof buf - 1 - len);
        if (n <= 0) return -1;
        len += (size_t)n;
        buf[len] = '\0';
        hend = strstr(buf, "\r\n\r\n");
    }
    size_t hlen = (size_t)(hend - buf) + 4;
    size_t clen = 0;
    for (char *p = buf; p < hend; p++)
        if (strncasecmp(p, "\r\nContent-Length:", 17) == 0) clen = strtoul(p + 17, NULL, 10);
    while (len < hlen + clen) {
        if (len >= sizeof buf - 1) return -1;
        ssize_t n = read(c, buf + len, sizeof buf - 1 - len);
        if (n <= 0) return -1;
        len += (size_t)n;
    }
    buf[len] = '\0';
    sscanf(buf, "%15s %1023s", r->method, r->target);
    char *eol = strstr(buf, "\r\n");
    size_t hl = (size_t)(hend - eol);
    if (hl >= sizeof r->headers) hl = sizeof r->headers - 1;
    memcpy(r->headers, eol, hl);
    r->headers[hl] = '\0';
    if (clen) {
        r->body = malloc(clen + 1);
        memcpy(r->body, buf + hlen, clen);
        r->body[clen] = '\0';
    }
    return 0;
}

static void *fake_loop(void *ud)
{
    (void)ud;
    for (;;) {
        int c = accept(fake.fd, NULL, NULL);
        if (c < 0) break;
        struct fake_req r;
        memset(&r, 0, sizeof r);
        if (fake_read_req(c, &r) != 0) {
            close(c);
            continue;
        }
        pthread_mutex_lock(&fake.mu);
        struct fake_resp resp = {500, "{\"kind\":\"Status\",\"reason\":\"InternalError\","
                                      "\"message\":\"fake: no response queued\"}"};
        if (fake.next < fake.nresp) resp = fake.resp[fake.next++];
        if (fake.nreqs < FAKE_MAX) fake.reqs[fake.nreqs++] = r;
        else free(r.body);
        int delay = fake.delay_ms;
        pthread_mutex_unlock(&fake.mu);
        if (delay > 0) {
            struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        char head[256];
        size_t blen = strlen(resp.body);
        int hn = snprintf(head, sizeof head,
                          "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                          resp.status, blen);
        if (write(c, head, (size_t)hn) < 0 || write(c, resp.body, blen) < 0) {
            /* The client went away; nothing to do. */
        }
        close(c);
    }
    return NULL;
}

/* Starts the server; returns 0 on success. */
static int fake_start(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(&fake, 0, sizeof fake);
    pthread_mutex_init(&fake.mu, NULL);
    fake.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fake.fd < 0) return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fake.fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fake.fd, 16) != 0 ||
        getsockname(fake.fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    fake.port = ntohs(a.sin_port);
    snprintf(fake.url, sizeof fake.url, "http://127.0.0.1:%d", fake.port);
    return pthread_create(&fake.thread, NULL, fake_loop, NULL);
}

/* Stops the server and frees the recorded bodies. */
static void fake_stop(void)
{
    shutdown(fake.fd, SHUT_RDWR);
    close(fake.fd);
    pthread_join(fake.thread, NULL);
    for (int i = 0; i < fake.nreqs; i++) free(fake.reqs[i].body);
    pthread_mutex_destroy(&fake.mu);
}

/* Forgets queued responses and recorded requests. */
static void fake_reset(void)
{
    pthread_mutex_lock(&fake.mu);
    for (int i = 0; i < fake.nreqs; i++) free(fake.reqs[i].body);
    fake.nreqs = fake.nresp = fake.next = 0;
    memset(fake.reqs, 0, sizeof fake.reqs);
    pthread_mutex_unlock(&fake.mu);
}

/* Queues a response. */
static void fake_push(int status, const char *body)
{
    pthread_mutex_lock(&fake.mu);
    if (fake.nresp < FAKE_MAX) fake.resp[fake.nresp++] = (struct fake_resp){status, body};
    pthread_mutex_unlock(&fake.mu);
}

/* Nonzero when request `i` carries the header line `line` (exact, case
 * sensitive on the value). */
static int fake_has_header(int i, const char *line)
{
    char want[512];
    snprintf(want, sizeof want, "\r\n%s\r\n", line);
    char hdrs[4200];
    snprintf(hdrs, sizeof hdrs, "%s\r\n", fake.reqs[i].headers);
    return strstr(hdrs, want) != NULL;
}

#endif

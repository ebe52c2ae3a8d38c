/*
 * test_http_client.c - core/http/client on ephemeral 127.0.0.1 ports:
 * only http:// and https:// URLs (file://, ftp://, ... fail with a clear
 * error before anything is read or connected; a redirect elsewhere is not
 * followed), and the cancel flag (set before a request: nothing goes out;
 * set while a request waits on a server that never answers, TLS or plain:
 * it ends promptly with VSG_ERR_CANCELLED).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#include "base/vtime.h"
#include "http/client.h"

/* ---- helpers --------------------------------------------------------- */

/* A listening 127.0.0.1 socket on a free port (the kernel completes TCP
 * handshakes into its backlog: a server that accepts and never speaks). */
static int listen_any(unsigned *port)
{
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* Nonzero when a client connected to listening socket `fd`. */
static int was_connected(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    int c = accept(fd, NULL, NULL);
    fcntl(fd, F_SETFL, fl);
    if (c >= 0) close(c);
    return c >= 0;
}

/* A one-shot server: accepts one connection on `fd`, reads the request
 * head and answers `reply`. */
struct one_shot {
    int fd;
    const char *reply;
    char request[2048];
};

static void *one_shot_main(void *ud)
{
    struct one_shot *o = ud;
    size_t got = 0;
    int c = accept(o->fd, NULL, NULL);
    if (c < 0) return NULL;
    while (got + 1 < sizeof o->request) {
        ssize_t n = read(c, o->request + got, sizeof o->request - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
        o->request[got] = '\0';
        if (strstr(o->request, "\r\n\r\n")) break;
    }
    ssize_t w = write(c, o->reply, strlen(o->reply));
    (void)w;
    close(c);
    return NULL;
}

/* Performs one request with a fresh client. */
static enum vsg_err do_req(const char *url, atomic_int *cancel, struct vsg_http_response *resp,
                           struct vsg_error *err)
{
    struct vsg_http_opts o = {0};
    struct vsg_http_request rq = {0};
    struct vsg_http_client *c;
    enum vsg_err rc;

    o.timeout_ms = 10000;
    o.insecure = 1;
    c = vsg_http_client_new(&o, err);
    if (!c) return err->code;
    rq.url = url;
    rq.cancel = cancel;
    rc = vsg_http_do(c, &rq, resp, err);
    vsg_http_client_free(c);
    return rc;
}

/* ---- protocols --------------------------------------------------------- */

/* Schemes other than http and https fail as invalid, with a message that
 * says so, and never reach the server or the file system. */
static void test_protocols(void)
{
    static const char *const schemes[] = {"ftp", "ftps", "gopher", "dict", "telnet",
                                          "tftp", "ldap", "smtp", "imap", "scp"};
    struct vsg_http_response r;
    struct vsg_error err;
    char url[128];
    unsigned port = 0;
    int fd = listen_any(&port);

    CHECK(fd >= 0);
    vsg_http_response_init(&r);
    vsg_error_clear(&err);
    CHECK_INT(do_req("file:///etc/hostname", NULL, &r, &err), VSG_ERR_INVAL);
    CHECK_INT(err.code, VSG_ERR_INVAL);
    CHECK(strstr(err.msg, "only http:// and https:// URLs are allowed") != NULL);
    CHECK(strstr(err.msg, "file:///etc/hostname") != NULL);
    CHECK_INT(r.body.len, 0);
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        snprintf(url, sizeof url, "%s://127.0.0.1:%u/x", schemes[i], port);
        vsg_error_clear(&err);
        CHECK_INT(do_req(url, NULL, &r, &err), VSG_ERR_INVAL);
        CHECK(strstr(err.msg, "only http:// and https:// URLs are allowed") != NULL);
    }
    CHECK(!was_connected(fd));

    /* http:// (any case) still works; a redirect to file:// is not
     * followed (the caller sees the 302 and its Location). */
    struct one_shot o = {fd, "HTTP/1.1 302 Found\r\nLocation: file:///etc/hostname\r\n"
                             "Content-Length: 0\r\nConnection: close\r\n\r\n", ""};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, one_shot_main, &o) == 0);
    snprintf(url, sizeof url, "HTTP://127.0.0.1:%u/redirect", port);
    vsg_error_clear(&err);
    enum vsg_err rc = do_req(url, NULL, &r, &err);
    pthread_join(t, NULL);
    CHECK_INT(rc, VSG_OK);
    CHECK_INT(r.status, 302);
    CHECK_STR(r.location, "file:///etc/hostname");
    CHECK_INT(r.body.len, 0);
    CHECK(strncmp(o.request, "GET /redirect HTTP/1.1\r\n", 24) == 0);
    vsg_http_response_cleanup(&r);
    close(fd);
}

/* ---- cancel ------------------------------------------------------------ */

/* Cancelled before the request: it fails at once, without connecting. */
static void test_cancel_before(void)
{
    struct vsg_http_response r;
    struct vsg_error err;
    atomic_int cancel = 1;
    char url[64];
    unsigned port = 0;
    int fd = listen_any(&port);

    CHECK(fd >= 0);
    vsg_http_response_init(&r);
    vsg_error_clear(&err);
    snprintf(url, sizeof url, "https://127.0.0.1:%u/sdk", port);
    CHECK_INT(do_req(url, &cancel, &r, &err), VSG_ERR_CANCELLED);
    CHECK(strstr(err.msg, "cancelled") != NULL);
    CHECK(!was_connected(fd));
    vsg_http_response_cleanup(&r);
    close(fd);
}

struct canceller {
    atomic_int *flag;
    long after_ms;
};

static void *canceller_main(void *ud)
{
    struct canceller *c = ud;
    struct timespec ts = {c->after_ms / 1000, (c->after_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    atomic_store(c->flag, 1);
    return NULL;
}

/* A request waiting on a server that accepted the connection and never
 * answers (no TLS handshake; no HTTP answer) ends soon after the flag is
 * set (from another thread: no signal interrupts the client's poll), not
 * at its 10 s time limit. */
static void test_cancel_in_flight(void)
{
    static const char *const schemes[] = {"https", "http"};
    for (size_t i = 0; i < 2; i++) {
        struct vsg_http_response r;
        struct vsg_error err;
        atomic_int cancel = 0;
        struct canceller cn = {&cancel, 300};
        pthread_t t;
        char url[64];
        unsigned port = 0;
        int fd = listen_any(&port);

        CHECK(fd >= 0);
        vsg_http_response_init(&r);
        vsg_error_clear(&err);
        snprintf(url, sizeof url, "%s://127.0.0.1:%u/sdk", schemes[i], port);
        CHECK(pthread_create(&t, NULL, canceller_main, &cn) == 0);
        int64_t t0 = vsg_time_mono_ms();
        enum vsg_err rc = do_req(url, &cancel, &r, &err);
        int64_t took = vsg_time_mono_ms() - t0;
        pthread_join(t, NULL);
        CHECK_INT(rc, VSG_ERR_CANCELLED);
        CHECK(strstr(err.msg, "cancelled") != NULL);
        /* The client looks at the flag every 100 ms (libcurl alone: 1 s). */
        if (took < 250 || took > 900)
            CHECK_FAIL_("%s: cancelled after %lld ms, want 300..900", schemes[i], (long long)took);
        CHECK(was_connected(fd));
        vsg_http_response_cleanup(&r);
        close(fd);
    }
}

TEST_LIST = {
    {"protocols", test_protocols},
    {"cancel_before", test_cancel_before},
    {"cancel_in_flight", test_cancel_in_flight},
    {NULL, NULL},
};

int main_(int argc, char **argv);
#define main main_
TEST_MAIN()
#undef main

int main(int argc, char **argv)
{
    vsg_http_global_init();
    int rc = main_(argc, argv);
    vsg_http_global_cleanup();
    return rc;
}

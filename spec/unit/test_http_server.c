/*
 * test_http_server.c - core/http/server on ephemeral 127.0.0.1 ports:
 * routing (query ignored, prefix, 404, 405 + Allow, HEAD), headers and
 * query access, body limits (413, also for chunked bodies), /healthz,
 * handler errors, restart, TLS with a certificate reload, and closing
 * without dropping a request (drain, stop with requests in flight, the
 * connections of a retired daemon).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check.h"

#include "base/buf.h"
#include "base/mem.h"
#include "http/client.h"
#include "http/server.h"

/* ---- helpers --------------------------------------------------------- */

/* Sends `req` raw on a new connection and returns the whole answer (read
 * until the server closes), in a static buffer. */
static const char *raw_http(unsigned port, const char *req)
{
    static char out[65536];
    struct sockaddr_in sa = {0};
    size_t got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    out[0] = '\0';
    if (fd < 0) return out;
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        size_t len = strlen(req);
        if (write(fd, req, len) == (ssize_t)len) {
            ssize_t n;
            while (got < sizeof out - 1 && (n = read(fd, out + got, sizeof out - 1 - got)) > 0)
                got += (size_t)n;
        }
    }
    out[got] = '\0';
    close(fd);
    return out;
}

/* A keep-alive client on a raw socket: kc_open() connects, kc_get() sends
 * one GET and reads exactly one answer (headers + Content-Length body) into
 * `out`. Returns 0, or -1 when the connection failed or was closed. */
static int kc_open(unsigned port)
{
    struct sockaddr_in sa = {0};
    struct timeval tv = {5, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) return -1;
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int kc_get(int fd, const char *path, char *out, size_t cap)
{
    char req[256];
    size_t got = 0, need = 0;
    const char *end, *cl;

    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) return -1;
    out[0] = '\0';
    for (;;) {
        ssize_t n = read(fd, out + got, cap - 1 - got);
        if (n <= 0) return -1;
        got += (size_t)n;
        out[got] = '\0';
        if (!need && (end = strstr(out, "\r\n\r\n")) != NULL) {
            cl = strcasestr(out, "\r\nContent-Length: ");
            need = (size_t)(end + 4 - out) + (cl ? strtoul(cl + 18, NULL, 10) : 0);
        }
        if (need && got >= need) return 0;
        if (got >= cap - 1) return -1;
    }
}

/* Nonzero when the peer has closed `fd` (read gives EOF). */
static int kc_closed(int fd)
{
    char c;
    return read(fd, &c, 1) == 0;
}

/* Performs one request with a fresh client; returns the transport result. */
static enum vsg_err do_req(const char *method, const char *url, const char *const *headers,
                           const char *body, size_t body_len, const char *extra_ca,
                           struct vsg_http_response *resp)
{
    struct vsg_http_opts o = {0};
    struct vsg_http_request rq = {0};
    struct vsg_error err;
    struct vsg_http_client *c;
    enum vsg_err rc;

    o.timeout_ms = 5000;
    o.extra_ca_pem = extra_ca;
    c = vsg_http_client_new(&o, &err);
    if (!c) return err.code;
    rq.method = method;
    rq.url = url;
    rq.headers = headers;
    rq.body = body;
    rq.body_len = body_len;
    rc = vsg_http_do(c, &rq, resp, &err);
    vsg_http_client_free(c);
    return rc;
}

static char url_buf[256];
static const char *url(unsigned port, const char *path)
{
    snprintf(url_buf, sizeof url_buf, "http://127.0.0.1:%u%s", port, path);
    return url_buf;
}

/* ---- handlers -------------------------------------------------------- */

static int count_header(void *ud, const char *name, const char *value)
{
    (void)value;
    if (strncasecmp(name, "x-", 2) == 0) (*(int *)ud)++;
    return 0;
}

/* Echoes what it saw. */
static enum vsg_err echo(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    const char *tag = ud;
    const char *h = vsg_http_req_header(rq, "x-test-header");
    const char *q = vsg_http_req_query(rq, "q");
    const char *flag = vsg_http_req_query(rq, "flag");
    int nx = 0;

    vsg_http_req_each_header(rq, count_header, &nx);
    rs->status = 201;
    if (vsg_http_resp_header(rs, "X-Tag", tag) != VSG_OK) return VSG_ERR_INTERNAL;
    /* (No CHECK here: handlers run on the server's threads.) */
    if (vsg_http_resp_header(rs, "Bad", "a\r\nInjected: 1") != VSG_ERR_INVAL)
        return VSG_ERR_INTERNAL;
    return vsg_buf_printf(&rs->body, "%s %s tag=%s h=%s q=%s flag=%s nx=%d len=%zu body=%s",
                          rq->method, rq->path, tag, h ? h : "-", q ? q : "-",
                          flag ? (*flag ? flag : "(empty)") : "-", nx, rq->body_len, rq->body);
}

static enum vsg_err fails(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    (void)ud;
    (void)rq;
    vsg_buf_puts(&rs->body, "partial");
    return VSG_ERR_IO;
}

/* Answers after 400 ms. */
static enum vsg_err slow(void *ud, const struct vsg_http_req *rq, struct vsg_http_resp *rs)
{
    struct timespec t = {0, 400 * 1000 * 1000};
    (void)ud;
    (void)rq;
    nanosleep(&t, NULL);
    return vsg_http_resp_text(rs, 200, "text/plain", "slow done");
}

static int healthy = 1;
static enum vsg_err check_health(void *ud, struct vsg_error *why)
{
    (void)ud;
    if (healthy) return VSG_OK;
    return vsg_error_set(why, VSG_ERR_IO, "vCenter session lost");
}

/* ---- tests ----------------------------------------------------------- */

static struct vsg_http_server *new_server(size_t max_body, unsigned threads)
{
    struct vsg_http_server_opts o = {0};
    struct vsg_error err;
    struct vsg_http_server *srv;

    o.name = "test";
    o.max_body = max_body;
    o.threads = threads;
    srv = vsg_http_server_new(&o, &err);
    CHECK(srv != NULL);
    CHECK_INT(vsg_http_server_route(srv, "POST", "/events", echo, "events", &err), VSG_OK);
    CHECK_INT(vsg_http_server_route(srv, "GET", "/events", echo, "list", &err), VSG_OK);
    CHECK_INT(vsg_http_server_route(srv, NULL, "/api/*", echo, "api", &err), VSG_OK);
    CHECK_INT(vsg_http_server_route(srv, "GET", "/fail", fails, NULL, &err), VSG_OK);
    CHECK_INT(vsg_http_server_route(srv, "GET", "/slow", slow, NULL, &err), VSG_OK);
    CHECK_INT(vsg_http_server_add_healthz(srv, NULL, check_health, NULL, &err), VSG_OK);
    CHECK_INT(vsg_http_server_add_healthz(srv, "/readyz", NULL, NULL, &err), VSG_OK);
    CHECK_INT(vsg_http_server_port(srv), 0);
    CHECK_INT(vsg_http_server_start(srv, &err), VSG_OK);
    CHECK(vsg_http_server_port(srv) > 0);
    return srv;
}

static void routing_checks(unsigned port)
{
    struct vsg_http_response r;
    static const char *const hdrs[] = {"X-Test-Header: hello", "x-other: 1", NULL};

    vsg_http_response_init(&r);
    CHECK_INT(do_req("POST", url(port, "/events?q=a%20b&flag"), hdrs, "payload", 7, NULL, &r),
              VSG_OK);
    CHECK_INT(r.status, 201);
    CHECK_STR(r.body.data,
              "POST /events tag=events h=hello q=a b flag=(empty) nx=2 len=7 body=payload");
    CHECK_INT(do_req("GET", url(port, "/events"), NULL, NULL, 0, NULL, &r), VSG_OK);
    CHECK_INT(r.status, 201);
    CHECK_STR(r.body.data, "GET /events tag=list h=- q=- flag=- nx=0 len=0 body=");
    CHECK_INT(do_req("DELETE", url(port, "/api/v1/x?y=1"), NULL, NULL, 0, NULL, &r), VSG_OK);
    CHECK(strstr(r.body.data, "DELETE /api/v1/x tag=api") != NULL);
    CHECK_INT(do_req("GET", url(port, "/nope"), NULL, NULL, 0, NULL, &r), VSG_OK);
    CHECK_INT(r.status, 404);
    CHECK_INT(do_req("GET", url(port, "/fail"), NULL, NULL, 0, NULL, &r), VSG_OK);
    CHECK_INT(r.status, 500);
    CHECK(strstr(r.body.data, "partial") == NULL);
    CHECK_INT(do_req("GET", url(port, "/healthz"), NULL, NULL, 0, NULL, &r), VSG_OK);
    CHECK_INT(r.status, 200);
    CHECK_STR(r.body.data, "ok\n");
    healthy = 0;
    CHECK_INT(do_req("GET", url(port, "/healthz"), NULL, NULL, 0, NULL, &r), VSG_OK);
    CHECK_INT(r.status, 503);
    CHECK(strstr(r.body.data, "vCenter session lost") != NULL);
    healthy = 1;
    CHECK_INT(do_req("GET", url(port, "/readyz?verbose=1"), NULL, NULL, 0, NULL, &r), VSG_OK);
    CHECK_INT(r.status, 200);
    CHECK_INT(do_req("HEAD", url(port, "/healthz"), NULL, NULL, 0, NULL, &r), VSG_OK);
    CHECK_INT(r.status, 200);
    CHECK_INT(r.body.len, 0);
    vsg_http_response_cleanup(&r);

    /* Method mismatch: 405 with Allow; response header from the handler. */
    const char *a = raw_http(port, "PUT /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                   "Content-Length: 0\r\n\r\n");
    CHECK(strncmp(a, "HTTP/1.1 405", 12) == 0);
    CHECK(strstr(a, "Allow: POST, GET, HEAD\r\n") != NULL);
    a = raw_http(port, "GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(strstr(a, "X-Tag: list\r\n") != NULL);
    CHECK(strstr(a, "Injected") == NULL);
}

static void test_routing(void)
{
    struct vsg_http_server *srv = new_server(0, 0);
    routing_checks(vsg_http_server_port(srv));
    vsg_http_server_free(srv);
}

static void test_thread_pool(void)
{
    struct vsg_http_server *srv = new_server(0, 2);
    routing_checks(vsg_http_server_port(srv));
    vsg_http_server_free(srv);
}

static void test_body_limit(void)
{
    struct vsg_http_server *srv = new_server(16, 0);
    unsigned port = vsg_http_server_port(srv);
    struct vsg_http_response r;
    static const char *const chunked[] = {"Transfer-Encoding: chunked", NULL};

    vsg_http_response_init(&r);
    CHECK_INT(do_req("POST", url(port, "/events"), NULL, "0123456789abcdef", 16, NULL, &r),
              VSG_OK);
    CHECK_INT(r.status, 201);
    CHECK_INT(do_req("POST", url(port, "/events"), NULL, "0123456789abcdefX", 17, NULL, &r),
              VSG_OK);
    CHECK_INT(r.status, 413);
    CHECK_INT(do_req("POST", url(port, "/events"), chunked, "0123456789abcdefXYZ", 19, NULL, &r),
              VSG_OK);
    CHECK_INT(r.status, 413);
    CHECK_INT(do_req("POST", url(port, "/events"), chunked, "small", 5, NULL, &r), VSG_OK);
    CHECK_INT(r.status, 201);
    CHECK(strstr(r.body.data, "len=5 body=small") != NULL);
    /* The server survives. */
    CHECK_INT(do_req("GET", url(port, "/healthz"), NULL, NULL, 0, NULL, &r), VSG_OK);
    CHECK_INT(r.status, 200);
    vsg_http_response_cleanup(&r);
    vsg_http_server_free(srv);
}

/* A 127.0.0.1 port nothing listens on. */
static unsigned closed_port(void)
{
    struct sockaddr_in sa = {0};
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* The client reads the proxy variables once, by libcurl's rules: a
 * request to a closed port succeeds only through the proxy (our server,
 * which then answers for the absolute URL it was asked for). */
static void test_proxy_env(void)
{
    static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                       "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"};
    struct vsg_http_server *srv = new_server(0, 0);
    struct vsg_http_response r;
    char proxy[64], target[64];

    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%u", vsg_http_server_port(srv));
    snprintf(target, sizeof target, "http://127.0.0.1:%u/events", closed_port());
    vsg_http_response_init(&r);
    /* No proxy: refused. */
    CHECK_INT(do_req("POST", target, NULL, "x", 1, NULL, &r), VSG_ERR_TRANSPORT);
    /* http_proxy: through the proxy, which saw the absolute URL. */
    setenv("http_proxy", proxy, 1);
    CHECK_INT(do_req("POST", target, NULL, "x", 1, NULL, &r), VSG_OK);
    CHECK(r.status > 0);
    /* no_proxy naming the host: direct again. */
    setenv("no_proxy", "127.0.0.1", 1);
    CHECK_INT(do_req("POST", target, NULL, "x", 1, NULL, &r), VSG_ERR_TRANSPORT);
    unsetenv("no_proxy");
    setenv("NO_PROXY", "*", 1);
    CHECK_INT(do_req("POST", target, NULL, "x", 1, NULL, &r), VSG_ERR_TRANSPORT);
    unsetenv("NO_PROXY");
    /* Set but empty: no proxy, and all_proxy is not consulted. */
    setenv("http_proxy", "", 1);
    setenv("all_proxy", proxy, 1);
    CHECK_INT(do_req("POST", target, NULL, "x", 1, NULL, &r), VSG_ERR_TRANSPORT);
    /* Unset: all_proxy applies. */
    unsetenv("http_proxy");
    CHECK_INT(do_req("POST", target, NULL, "x", 1, NULL, &r), VSG_OK);
    unsetenv("all_proxy");
    /* HTTP_PROXY (upper case) is ignored for http://, as libcurl does. */
    setenv("HTTP_PROXY", proxy, 1);
    CHECK_INT(do_req("POST", target, NULL, "x", 1, NULL, &r), VSG_ERR_TRANSPORT);
    unsetenv("HTTP_PROXY");
    vsg_http_response_cleanup(&r);
    vsg_http_server_free(srv);
}

static void test_restart_and_errors(void)
{
    struct vsg_http_server_opts o = {0};
    struct vsg_error err;
    struct vsg_http_server *srv, *other;
    unsigned port;

    o.addr = "localhost";
    CHECK(vsg_http_server_new(&o, &err) == NULL);
    CHECK_INT(err.code, VSG_ERR_INVAL);
    o.addr = NULL;
    o.cert_pem = "x";
    CHECK(vsg_http_server_new(&o, &err) == NULL);
    o.cert_pem = NULL;
    o.port = 70000;
    CHECK(vsg_http_server_new(&o, &err) == NULL);

    srv = new_server(0, 0);
    port = vsg_http_server_port(srv);
    CHECK_INT(vsg_http_server_start(srv, &err), VSG_ERR_INVALIDSTATE);
    CHECK_INT(vsg_http_server_route(srv, "GET", "/late", echo, "x", &err), VSG_ERR_INVALIDSTATE);
    /* The port is taken: a second server on it fails with IO. */
    o.port = port;
    other = vsg_http_server_new(&o, &err);
    CHECK(other != NULL);
    CHECK_INT(vsg_http_server_start(other, &err), VSG_ERR_IO);
    vsg_http_server_free(other);
    vsg_http_server_stop(srv);
    vsg_http_server_stop(srv);
    CHECK_INT(vsg_http_server_port(srv), 0);
    CHECK_INT(vsg_http_server_start(srv, &err), VSG_OK);
    CHECK(vsg_http_server_port(srv) > 0);
    vsg_http_server_free(srv);

    /* IPv6 loopback, if the machine has it. */
    o.port = 0;
    o.addr = "::1";
    srv = vsg_http_server_new(&o, &err);
    CHECK(srv != NULL);
    if (vsg_http_server_start(srv, &err) == VSG_OK) CHECK(vsg_http_server_port(srv) > 0);
    vsg_http_server_free(srv);
}

/* ---- TLS ------------------------------------------------------------- */

/* A self-signed P-256 certificate for IP 127.0.0.1, as PEM text. */
static void make_cert(const char *cn, char **cert_pem, char **key_pem)
{
    static long serial = 1;
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    BIO *b;
    BUF_MEM *m;

    CHECK(pkey && x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    CHECK(X509_sign(x, pkey, EVP_sha256()) > 0);

    b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    BIO_get_mem_ptr(b, &m);
    *cert_pem = vsg_strndup(m->data, m->length);
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL);
    BIO_get_mem_ptr(b, &m);
    *key_pem = vsg_strndup(m->data, m->length);
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(pkey);
}

static void test_tls_reload(void)
{
    char *ca, *ka, *cb, *kb;
    struct vsg_http_server_opts o = {0};
    struct vsg_http_server *srv, *plain;
    struct vsg_http_response r;
    struct vsg_error err;
    char u[128];

    if (!vsg_http_server_tls_supported()) CHECK_SKIP("libmicrohttpd without TLS");
    make_cert("cert-a", &ca, &ka);
    make_cert("cert-b", &cb, &kb);
    o.name = "tls";
    o.cert_pem = ca;
    o.key_pem = ka;
    srv = vsg_http_server_new(&o, &err);
    CHECK(srv != NULL);
    CHECK_INT(vsg_http_server_route(srv, "GET", "/events", echo, "tls", &err), VSG_OK);
    CHECK_INT(vsg_http_server_start(srv, &err), VSG_OK);
    snprintf(u, sizeof u, "https://127.0.0.1:%u/events", vsg_http_server_port(srv));
    vsg_http_response_init(&r);

    CHECK_INT(do_req("GET", u, NULL, NULL, 0, ca, &r), VSG_OK);
    CHECK_INT(r.status, 201);
    CHECK(strstr(r.body.data, "tag=tls") != NULL);
    CHECK_INT(do_req("GET", u, NULL, NULL, 0, cb, &r), VSG_ERR_TLS);

    /* A bad key is refused and the old certificate keeps serving. */
    CHECK_INT(vsg_http_server_reload_tls(srv, cb, "not a key", &err), VSG_ERR_TLS);
    CHECK_INT(do_req("GET", u, NULL, NULL, 0, ca, &r), VSG_OK);
    CHECK_INT(r.status, 201);

    CHECK_INT(vsg_http_server_reload_tls(srv, cb, kb, &err), VSG_OK);
    CHECK_INT(do_req("GET", u, NULL, NULL, 0, cb, &r), VSG_OK);
    CHECK_INT(r.status, 201);
    CHECK_INT(do_req("GET", u, NULL, NULL, 0, ca, &r), VSG_ERR_TLS);
    /* Twice more (stops the retired daemon), back to A. */
    CHECK_INT(vsg_http_server_reload_tls(srv, ca, ka, &err), VSG_OK);
    CHECK_INT(do_req("GET", u, NULL, NULL, 0, ca, &r), VSG_OK);
    CHECK_INT(r.status, 201);
    vsg_http_response_cleanup(&r);
    vsg_http_server_free(srv);

    /* Reload on a plain server is a state error. */
    plain = new_server(0, 0);
    CHECK_INT(vsg_http_server_reload_tls(plain, ca, ka, &err), VSG_ERR_INVALIDSTATE);
    vsg_http_server_free(plain);
    vsg_free(ca);
    vsg_free(ka);
    vsg_free(cb);
    vsg_free(kb);
}

/* Drain: keep-alive connections end cleanly, after an answer. */
static void test_drain(void)
{
    static char out[8192];
    struct vsg_http_server *srv = new_server(0, 2);
    unsigned port = vsg_http_server_port(srv);
    int a = kc_open(port), b;

    CHECK(a >= 0);
    CHECK_INT(kc_get(a, "/events", out, sizeof out), 0);
    CHECK(strncmp(out, "HTTP/1.1 201", 12) == 0);
    CHECK(strcasestr(out, "Connection: close") == NULL);
    CHECK_INT(kc_get(a, "/events", out, sizeof out), 0); /* reused */
    vsg_http_server_drain(srv);
    /* The next answer on the open connection says close, then closes. */
    CHECK_INT(kc_get(a, "/events", out, sizeof out), 0);
    CHECK(strncmp(out, "HTTP/1.1 201", 12) == 0);
    CHECK(strcasestr(out, "\r\nConnection: close\r\n") != NULL);
    CHECK(kc_closed(a));
    close(a);
    /* New connections are still answered, once each. */
    b = kc_open(port);
    CHECK(b >= 0);
    CHECK_INT(kc_get(b, "/healthz", out, sizeof out), 0);
    CHECK(strncmp(out, "HTTP/1.1 200", 12) == 0);
    CHECK(strcasestr(out, "\r\nConnection: close\r\n") != NULL);
    CHECK(kc_closed(b));
    close(b);
    vsg_http_server_free(srv);
}

struct slow_call {
    unsigned port;
    int fd;         /* An open keep-alive connection, or -1 for a new one. */
    int rc;         /* kc_get's result. */
    char out[4096]; /* Its answer. */
};

static void *slow_thread(void *p)
{
    struct slow_call *c = p;
    int fd = c->fd >= 0 ? c->fd : kc_open(c->port);
    c->rc = fd < 0 ? -1 : kc_get(fd, "/slow", c->out, sizeof c->out);
    if (c->fd < 0 && fd >= 0) close(fd);
    return NULL;
}

/* Stop: requests in flight are answered (on a new connection and on a
 * reused keep-alive one), then new connections are refused. */
static void test_stop_inflight(void)
{
    static char out[4096];
    struct timespec t = {0, 100 * 1000 * 1000};
    struct slow_call fresh = {0}, reused = {0};
    pthread_t t1, t2;
    struct vsg_http_server *srv = new_server(0, 2);
    unsigned port = vsg_http_server_port(srv);

    fresh.port = reused.port = port;
    fresh.fd = -1;
    reused.fd = kc_open(port);
    CHECK(reused.fd >= 0);
    CHECK_INT(kc_get(reused.fd, "/events", out, sizeof out), 0);
    CHECK(pthread_create(&t1, NULL, slow_thread, &fresh) == 0);
    CHECK(pthread_create(&t2, NULL, slow_thread, &reused) == 0);
    nanosleep(&t, NULL);
    vsg_http_server_stop(srv);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    CHECK_INT(fresh.rc, 0);
    CHECK(strstr(fresh.out, "slow done") != NULL);
    CHECK_INT(reused.rc, 0);
    CHECK(strstr(reused.out, "slow done") != NULL);
    CHECK(strcasestr(reused.out, "\r\nConnection: close\r\n") != NULL);
    close(reused.fd);
    CHECK_INT(kc_open(port), -1); /* refused */
    /* Started again, connections are kept alive again. */
    struct vsg_error err;
    CHECK_INT(vsg_http_server_start(srv, &err), VSG_OK);
    int a = kc_open(vsg_http_server_port(srv));
    CHECK(a >= 0);
    CHECK_INT(kc_get(a, "/events", out, sizeof out), 0);
    CHECK(strcasestr(out, "Connection: close") == NULL);
    close(a);
    vsg_http_server_free(srv);
}

TEST_LIST = {
    {"routing", test_routing},
    {"thread_pool", test_thread_pool},
    {"body_limit", test_body_limit},
    {"restart_and_errors", test_restart_and_errors},
    {"proxy_env", test_proxy_env},
    {"tls_reload", test_tls_reload},
    {"drain", test_drain},
    {"stop_inflight", test_stop_inflight},
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

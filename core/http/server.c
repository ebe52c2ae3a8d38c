/*
 * http/server.c - see server.h.
 *
 * One libmicrohttpd daemon serves at a time. A TLS reload starts a second
 * daemon on a dup() of the listening socket, then quiesces the first one
 * (it stops accepting but finishes its connections) and keeps it as
 * `retired` until the next reload or stop.
 *
 * Closing without dropping a request: a client (kube-apiserver's Go
 * transport among them) that writes a request on a keep-alive connection
 * at the moment the server closes it gets EOF, and POSTs are not retried.
 * So connections are only closed by the server right after a response
 * that said "Connection: close": every response of a retired daemon, and
 * every response once the server drains (vsg_http_server_drain) or stops.
 * Stop quiesces (new connections are refused), waits for the requests in
 * flight, then closes what is left, by then idle.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/log.h"
#include "base/mem.h"

#define LOGGER "vsgate.http"
#define PEM_MAX (1024u * 1024) /* Largest certificate or key file read. */
#define RESP_BODY_MAX (64u * 1024 * 1024) /* Largest response body. */

struct route {
    char *method;            /* Method to match, or NULL for any. */
    char *path;              /* Exact path, or prefix when `prefix`. */
    size_t path_len;         /* strlen(path) (without the '*'). */
    int prefix;              /* Nonzero: `path` was given ending in '*'. */
    vsg_http_handler_fn fn;  /* The handler. */
    void *ud;                /* Its user data. */
};

/* User data of the built-in /healthz handler. */
struct healthz {
    vsg_http_health_fn check; /* The check, or NULL for "always ok". */
    void *ud;                 /* Its user data. */
};

struct vsg_http_server {
    char *name;               /* For log lines. */
    char *addr;               /* Listening address (numeric). */
    unsigned port;            /* Requested port (0: any). */
    unsigned bound_port;      /* Port actually bound, once started. */
    unsigned threads;         /* 0: thread per connection; else pool size. */
    size_t max_body;          /* Request body limit. */
    unsigned timeout_s;       /* Connection idle timeout. */
    unsigned max_conns;       /* Connection limit. */
    char *cert_pem;           /* Current TLS certificate, or NULL. */
    char *key_pem;            /* Current TLS key, or NULL. */
    char *cert_file;          /* Certificate file to read at start, or NULL. */
    char *key_file;           /* Key file to read at start, or NULL. */
    int tls;                  /* Nonzero: serve TLS. */
    struct sockaddr_storage sa; /* Parsed listening address. */
    int ipv6;                 /* Nonzero when `sa` is IPv6. */
    struct route *routes;     /* Routes in the order added. */
    size_t n_routes;          /* How many. */
    struct healthz **health;  /* Health checks owned by the server. */
    size_t n_health;          /* How many. */
    struct MHD_Daemon *daemon;  /* The daemon serving now, or NULL. */
    struct MHD_Daemon *retired; /* A quiesced daemon from a reload, or NULL. */
    int retired_fd;           /* Its listening socket (ours to close), or -1. */
    char *retired_cert;       /* PEM strings the retired daemon may use. */
    char *retired_key;        /* (Freed when it is stopped.) */
    struct dctx *dctx;        /* The daemon's callback context. */
    struct dctx *retired_dctx; /* The retired daemon's. */
    atomic_int closing;       /* Nonzero: every response closes its connection. */
    atomic_int inflight;      /* Requests from their headers to their completion. */
};

/* What a daemon's callbacks get: the server, and whether the daemon was
 * retired by a TLS reload (its connections then end after their answer). */
struct dctx {
    struct vsg_http_server *srv;
    atomic_int retired;
};

/* Per-request state, from the first callback to the completion one. */
struct reqstate {
    struct vsg_buf body; /* The body received so far. */
    int too_big;         /* The body passed max_body: answer 413. */
    int responded;       /* A response was already queued. */
};

/* ====================================================================
 * Small helpers
 * ==================================================================== */

static int has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static enum vsg_err read_pem_file(const char *path, char **out, struct vsg_error *err)
{
    struct vsg_buf b;
    char chunk[4096];
    FILE *f = fopen(path, "rb");
    enum vsg_err rc = VSG_OK;

    if (!f) return vsg_error_set(err, VSG_ERR_IO, "reading %s: %s", path, strerror(errno));
    vsg_buf_init(&b, PEM_MAX);
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        if (n > 0 && (rc = vsg_buf_append(&b, chunk, n)) != VSG_OK) {
            vsg_error_set(err, rc, "reading %s: %s", path, vsg_strerror(rc));
            goto done;
        }
        if (n < sizeof chunk) break;
    }
    if (ferror(f)) {
        rc = vsg_error_set(err, VSG_ERR_IO, "reading %s: read error", path);
        goto done;
    }
    if (!(*out = vsg_buf_steal(&b))) rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
done:
    vsg_buf_cleanup(&b);
    fclose(f);
    return rc;
}

/* Routes libmicrohttpd's own error messages to our log. */
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct vsg_http_server *srv = cls;
    struct vsg_buf b;
    va_list cp;

    vsg_buf_init(&b, 2048);
    va_copy(cp, ap);
    vsg_buf_vprintf(&b, fmt, cp);
    va_end(cp);
    while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
        vsg_buf_truncate(&b, b.len - 1);
    VSG_LOGF_WARN(LOGGER, ((const char *[]){"server", srv->name, NULL}), "libmicrohttpd: %s",
                  b.data ? b.data : "");
    vsg_buf_cleanup(&b);
}

/* ====================================================================
 * Requests and responses
 * ==================================================================== */

const char *vsg_http_req_header(const struct vsg_http_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn_, MHD_HEADER_KIND, name);
}

const char *vsg_http_req_query(const struct vsg_http_req *rq, const char *name)
{
    struct MHD_Connection *c = rq->conn_;
    const char *v = NULL;
    size_t vlen = 0;

    /* Tell "?a" (no value: NULL) from "absent"; answer "" for the former. */
    if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v, &vlen) !=
        MHD_YES)
        return NULL;
    return v ? v : "";
}

/* Adapts vsg_http_kv_fn to libmicrohttpd's iterator. */
struct kv_iter {
    vsg_http_kv_fn fn; /* The caller's function. */
    void *ud;          /* Its user data. */
};

static enum MHD_Result kv_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                             const char *value)
{
    (void)kind;
    struct kv_iter *it = cls;
    return it->fn(it->ud, key, value) ? MHD_NO : MHD_YES;
}

void vsg_http_req_each_header(const struct vsg_http_req *rq, vsg_http_kv_fn fn, void *ud)
{
    struct kv_iter it = {fn, ud};
    MHD_get_connection_values(rq->conn_, MHD_HEADER_KIND, kv_cb, &it);
}

void vsg_http_req_each_query(const struct vsg_http_req *rq, vsg_http_kv_fn fn, void *ud)
{
    struct kv_iter it = {fn, ud};
    MHD_get_connection_values(rq->conn_, MHD_GET_ARGUMENT_KIND, kv_cb, &it);
}

static void resp_init(struct vsg_http_resp *rs)
{
    memset(rs, 0, sizeof *rs);
    rs->status = 200;
    vsg_buf_init(&rs->body, RESP_BODY_MAX);
}

static void resp_cleanup(struct vsg_http_resp *rs)
{
    for (size_t i = 0; i < rs->n_hdrs_; i++) {
        vsg_free(rs->hdrs_[i].name);
        vsg_free(rs->hdrs_[i].value);
    }
    vsg_free(rs->hdrs_);
    rs->hdrs_ = NULL;
    rs->n_hdrs_ = rs->cap_hdrs_ = 0;
    vsg_buf_cleanup(&rs->body);
}

enum vsg_err vsg_http_resp_header(struct vsg_http_resp *rs, const char *name, const char *value)
{
    struct vsg_http_hdr h;

    if (!name || !*name || !value || has_crlf(name) || has_crlf(value) || strchr(name, ':'))
        return VSG_ERR_INVAL;
    if (rs->n_hdrs_ == rs->cap_hdrs_) {
        size_t ncap = rs->cap_hdrs_ ? rs->cap_hdrs_ * 2 : 8;
        struct vsg_http_hdr *nh = vsg_realloc(rs->hdrs_, ncap * sizeof *nh);
        if (!nh) return VSG_ERR_NOMEM;
        rs->hdrs_ = nh;
        rs->cap_hdrs_ = ncap;
    }
    h.name = vsg_strdup(name);
    h.value = vsg_strdup(value);
    if (!h.name || !h.value) {
        vsg_free(h.name);
        vsg_free(h.value);
        return VSG_ERR_NOMEM;
    }
    rs->hdrs_[rs->n_hdrs_++] = h;
    return VSG_OK;
}

enum vsg_err vsg_http_resp_text(struct vsg_http_resp *rs, int status, const char *content_type,
                                const char *fmt, ...)
{
    enum vsg_err rc;
    va_list ap;

    rs->status = status;
    if (content_type && (rc = vsg_http_resp_header(rs, "Content-Type", content_type)) != VSG_OK)
        return rc;
    vsg_buf_reset(&rs->body);
    va_start(ap, fmt);
    rc = vsg_buf_vprintf(&rs->body, fmt, ap);
    va_end(ap);
    return rc;
}

/* Nonzero when the connection must end after this response: the server
 * drains or stops, or the connection belongs to a retired daemon. */
static int must_close(struct dctx *d)
{
    return atomic_load(&d->srv->closing) || atomic_load(&d->retired);
}

/* Sends `rs` on `conn`. Returns MHD_NO only when the response cannot be
 * built or queued (the connection is then closed). */
static enum MHD_Result send_resp(struct dctx *d, struct MHD_Connection *conn,
                                 struct vsg_http_resp *rs)
{
    struct vsg_http_server *srv = d->srv;
    struct MHD_Response *r;
    enum MHD_Result ok;
    int status = rs->status;

    r = MHD_create_response_from_buffer(rs->body.len, rs->body.data ? rs->body.data : (void *)"",
                                        MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    for (size_t i = 0; i < rs->n_hdrs_; i++) {
        if (MHD_add_response_header(r, rs->hdrs_[i].name, rs->hdrs_[i].value) != MHD_YES)
            VSG_LOGF_WARN(LOGGER,
                          ((const char *[]){"server", srv->name, "header", rs->hdrs_[i].name, NULL}),
                          "response header refused");
    }
    if (must_close(d) &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES)
        VSG_LOGF_WARN(LOGGER, ((const char *[]){"server", srv->name, NULL}),
                      "cannot mark the response Connection: close");
    if (status < 100 || status > 999) status = 500;
    ok = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Answers a fixed short text. */
static enum MHD_Result send_simple(struct dctx *d, struct MHD_Connection *conn,
                                   int status, const char *text, const char *allow)
{
    struct vsg_http_resp rs;
    enum MHD_Result ok;

    resp_init(&rs);
    if (vsg_http_resp_text(&rs, status, "text/plain; charset=utf-8", "%s\n", text) != VSG_OK ||
        (allow && vsg_http_resp_header(&rs, "Allow", allow) != VSG_OK)) {
        resp_cleanup(&rs);
        return MHD_NO;
    }
    ok = send_resp(d, conn, &rs);
    resp_cleanup(&rs);
    return ok;
}

static int path_matches(const struct route *r, const char *path)
{
    if (r->prefix) return strncmp(path, r->path, r->path_len) == 0;
    return strcmp(path, r->path) == 0;
}

static int method_matches(const struct route *r, const char *method)
{
    if (!r->method) return 1;
    if (strcmp(r->method, method) == 0) return 1;
    return strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0;
}

static enum MHD_Result dispatch(struct dctx *d, struct MHD_Connection *conn,
                                const char *url, const char *method, const char *version,
                                struct reqstate *st)
{
    struct vsg_http_server *srv = d->srv;
    const struct route *hit = NULL;
    int path_hit = 0;
    struct vsg_buf allow;
    struct vsg_http_req rq;
    struct vsg_http_resp rs;
    enum MHD_Result ok;
    enum vsg_err rc;

    for (size_t i = 0; i < srv->n_routes && !hit; i++) {
        if (!path_matches(&srv->routes[i], url)) continue;
        path_hit = 1;
        if (method_matches(&srv->routes[i], method)) hit = &srv->routes[i];
    }
    if (!hit && !path_hit) return send_simple(d, conn, 404, "not found", NULL);
    if (!hit) {
        vsg_buf_init(&allow, 1024);
        for (size_t i = 0; i < srv->n_routes; i++) {
            const struct route *r = &srv->routes[i];
            if (!path_matches(r, url) || !r->method) continue;
            if (allow.len) vsg_buf_puts(&allow, ", ");
            vsg_buf_puts(&allow, r->method);
            if (strcmp(r->method, "GET") == 0) vsg_buf_puts(&allow, ", HEAD");
        }
        ok = send_simple(d, conn, 405, "method not allowed", allow.data ? allow.data : "");
        vsg_buf_cleanup(&allow);
        return ok;
    }

    rq.method = method;
    rq.path = url;
    rq.version = version;
    rq.body = st->body.data ? st->body.data : "";
    rq.body_len = st->body.len;
    rq.tls = srv->tls;
    rq.conn_ = conn;
    resp_init(&rs);
    rc = hit->fn(hit->ud, &rq, &rs);
    if (rc != VSG_OK) {
        VSG_LOGF_ERROR(LOGGER,
                       ((const char *[]){"server", srv->name, "method", method, "path", url, NULL}),
                       "handler failed: %s", vsg_strerror(rc));
        resp_cleanup(&rs);
        return send_simple(d, conn, 500, "internal error", NULL);
    }
    ok = send_resp(d, conn, &rs);
    resp_cleanup(&rs);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct dctx *d = cls;
    struct vsg_http_server *srv = d->srv;
    struct reqstate *st = *con_cls;

    if (!st) {
        /* First call: headers only. */
        const char *cl;
        st = vsg_calloc(1, sizeof *st);
        if (!st) return MHD_NO;
        vsg_buf_init(&st->body, srv->max_body);
        *con_cls = st;
        atomic_fetch_add(&srv->inflight, 1);
        cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno == 0 && end != cl && n > srv->max_body) {
                st->responded = 1;
                return send_simple(d, conn, 413, "request body too large", NULL);
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!st->responded && !st->too_big &&
            vsg_buf_append(&st->body, upload_data, *upload_data_size) != VSG_OK) {
            st->too_big = 1;
            vsg_buf_cleanup(&st->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->responded) return MHD_YES;
    st->responded = 1;
    if (st->too_big) return send_simple(d, conn, 413, "request body too large", NULL);
    return dispatch(d, conn, url, method, version, st);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct vsg_http_server *srv = ((struct dctx *)cls)->srv;
    (void)conn;
    (void)toe;
    struct reqstate *st = *con_cls;
    if (!st) return;
    atomic_fetch_sub(&srv->inflight, 1);
    vsg_buf_cleanup(&st->body);
    vsg_free(st);
    *con_cls = NULL;
}

/* ====================================================================
 * The server
 * ==================================================================== */

int vsg_http_server_tls_supported(void)
{
    return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

static enum vsg_err parse_addr(struct vsg_http_server *srv, struct vsg_error *err)
{
    memset(&srv->sa, 0, sizeof srv->sa);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&srv->sa;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&srv->sa;
    if (inet_pton(AF_INET, srv->addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)srv->port);
        srv->ipv6 = 0;
        return VSG_OK;
    }
    if (inet_pton(AF_INET6, srv->addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)srv->port);
        srv->ipv6 = 1;
        return VSG_OK;
    }
    return vsg_error_set(err, VSG_ERR_INVAL,
                         "http server: \"%s\" is not a numeric IPv4 or IPv6 address", srv->addr);
}

struct vsg_http_server *vsg_http_server_new(const struct vsg_http_server_opts *opts,
                                            struct vsg_error *err)
{
    struct vsg_http_server_opts none = {0};
    struct vsg_http_server *srv;

    if (!opts) opts = &none;
    if (opts->port > 65535) {
        vsg_error_set(err, VSG_ERR_RANGE, "http server: port %u out of range", opts->port);
        return NULL;
    }
    if ((opts->cert_pem != NULL) != (opts->key_pem != NULL) ||
        (opts->cert_file != NULL) != (opts->key_file != NULL) ||
        (opts->cert_pem && opts->cert_file)) {
        vsg_error_set(err, VSG_ERR_INVAL,
                      "http server: give a TLS certificate and its key, as PEM text or files");
        return NULL;
    }
    srv = vsg_calloc(1, sizeof *srv);
    if (!srv) goto nomem;
    srv->retired_fd = -1;
    srv->port = opts->port;
    srv->threads = opts->threads;
    srv->max_body = opts->max_body ? opts->max_body : VSG_HTTP_SERVER_DEFAULT_MAX_BODY;
    srv->timeout_s = opts->timeout_s ? opts->timeout_s : VSG_HTTP_SERVER_DEFAULT_TIMEOUT_S;
    srv->max_conns = opts->max_conns ? opts->max_conns : VSG_HTTP_SERVER_DEFAULT_MAX_CONNS;
    srv->tls = opts->cert_pem || opts->cert_file;
    if (!(srv->name = vsg_strdup(opts->name ? opts->name : "http"))) goto nomem;
    if (!(srv->addr = vsg_strdup(opts->addr ? opts->addr : "127.0.0.1"))) goto nomem;
    if (opts->cert_pem && (!(srv->cert_pem = vsg_strdup(opts->cert_pem)) ||
                           !(srv->key_pem = vsg_strdup(opts->key_pem))))
        goto nomem;
    if (opts->cert_file && (!(srv->cert_file = vsg_strdup(opts->cert_file)) ||
                            !(srv->key_file = vsg_strdup(opts->key_file))))
        goto nomem;
    if (srv->tls && !vsg_http_server_tls_supported()) {
        vsg_error_set(err, VSG_ERR_UNSUPPORTED, "http server: libmicrohttpd has no TLS support");
        goto fail;
    }
    if (parse_addr(srv, err) != VSG_OK) goto fail;
    return srv;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "http server: out of memory");
fail:
    vsg_http_server_free(srv);
    return NULL;
}

static void stop_retired(struct vsg_http_server *srv)
{
    if (srv->retired) MHD_stop_daemon(srv->retired);
    srv->retired = NULL;
    vsg_free(srv->retired_dctx);
    srv->retired_dctx = NULL;
    if (srv->retired_fd >= 0) close(srv->retired_fd);
    srv->retired_fd = -1;
    vsg_free(srv->retired_cert);
    vsg_free(srv->retired_key);
    srv->retired_cert = srv->retired_key = NULL;
}

void vsg_http_server_drain(struct vsg_http_server *srv)
{
    if (srv) atomic_store(&srv->closing, 1);
}

/* Waits up to VSG_HTTP_SERVER_STOP_GRACE_MS for the requests in flight. */
static void wait_inflight(struct vsg_http_server *srv)
{
    struct timespec tick = {0, 10 * 1000 * 1000};
    int left = VSG_HTTP_SERVER_STOP_GRACE_MS / 10;

    while (atomic_load(&srv->inflight) > 0 && left-- > 0) nanosleep(&tick, NULL);
    if (atomic_load(&srv->inflight) > 0)
        VSG_LOGF_WARN(LOGGER, ((const char *[]){"server", srv->name, NULL}),
                      "stopping with %d request(s) unanswered after %d ms",
                      atomic_load(&srv->inflight), VSG_HTTP_SERVER_STOP_GRACE_MS);
}

/* Stops accepting on `d` and closes its listening socket, so that new
 * connections are refused while the established ones finish. */
static void quiesce(struct MHD_Daemon *d)
{
    MHD_socket fd = MHD_quiesce_daemon(d);
    if (fd != MHD_INVALID_SOCKET) close(fd);
}

void vsg_http_server_stop(struct vsg_http_server *srv)
{
    if (!srv) return;
    atomic_store(&srv->closing, 1);
    if (srv->daemon) {
        quiesce(srv->daemon);
        if (srv->retired_fd >= 0) close(srv->retired_fd);
        srv->retired_fd = -1;
        wait_inflight(srv);
        MHD_stop_daemon(srv->daemon);
    }
    srv->daemon = NULL;
    vsg_free(srv->dctx);
    srv->dctx = NULL;
    stop_retired(srv);
    srv->bound_port = 0;
    atomic_store(&srv->closing, 0);
    atomic_store(&srv->inflight, 0);
}

void vsg_http_server_free(struct vsg_http_server *srv)
{
    if (!srv) return;
    vsg_http_server_stop(srv);
    for (size_t i = 0; i < srv->n_routes; i++) {
        vsg_free(srv->routes[i].method);
        vsg_free(srv->routes[i].path);
    }
    vsg_free(srv->routes);
    for (size_t i = 0; i < srv->n_health; i++) vsg_free(srv->health[i]);
    vsg_free(srv->health);
    vsg_free(srv->name);
    vsg_free(srv->addr);
    vsg_free(srv->cert_pem);
    vsg_free(srv->key_pem);
    vsg_free(srv->cert_file);
    vsg_free(srv->key_file);
    vsg_free(srv);
}

enum vsg_err vsg_http_server_route(struct vsg_http_server *srv, const char *method,
                                   const char *path, vsg_http_handler_fn fn, void *ud,
                                   struct vsg_error *err)
{
    struct route r = {0};
    struct route *nr;
    size_t len;

    if (srv->daemon)
        return vsg_error_set(err, VSG_ERR_INVALIDSTATE, "http server: add routes before start");
    if (!path || !fn) return vsg_error_set(err, VSG_ERR_INVAL, "http server: route needs a path and a handler");
    len = strlen(path);
    r.prefix = len > 0 && path[len - 1] == '*';
    r.path_len = r.prefix ? len - 1 : len;
    r.fn = fn;
    r.ud = ud;
    if (!(r.path = vsg_strndup(path, r.path_len))) goto nomem;
    if (method && !(r.method = vsg_strdup(method))) goto nomem;
    nr = vsg_realloc(srv->routes, (srv->n_routes + 1) * sizeof *nr);
    if (!nr) goto nomem;
    srv->routes = nr;
    srv->routes[srv->n_routes++] = r;
    return VSG_OK;
nomem:
    vsg_free(r.path);
    vsg_free(r.method);
    return vsg_error_set(err, VSG_ERR_NOMEM, "http server: out of memory");
}

static enum vsg_err healthz_handler(void *ud, const struct vsg_http_req *rq,
                                    struct vsg_http_resp *rs)
{
    (void)rq;
    struct healthz *h = ud;
    struct vsg_error why;

    vsg_error_clear(&why);
    if (!h->check || h->check(h->ud, &why) == VSG_OK)
        return vsg_http_resp_text(rs, 200, "text/plain; charset=utf-8", "ok\n");
    return vsg_http_resp_text(rs, 503, "text/plain; charset=utf-8", "unhealthy: %s\n",
                              why.msg[0] ? why.msg : "check failed");
}

enum vsg_err vsg_http_server_add_healthz(struct vsg_http_server *srv, const char *path,
                                         vsg_http_health_fn check, void *ud,
                                         struct vsg_error *err)
{
    struct healthz *h, **nh;
    enum vsg_err rc;

    if (!(h = vsg_calloc(1, sizeof *h))) goto nomem;
    h->check = check;
    h->ud = ud;
    nh = vsg_realloc(srv->health, (srv->n_health + 1) * sizeof *nh);
    if (!nh) {
        vsg_free(h);
        goto nomem;
    }
    srv->health = nh;
    srv->health[srv->n_health++] = h;
    rc = vsg_http_server_route(srv, "GET", path ? path : "/healthz", healthz_handler, h, err);
    return rc;
nomem:
    return vsg_error_set(err, VSG_ERR_NOMEM, "http server: out of memory");
}

/* Starts a daemon with the server's settings and the given certificate;
 * `listen_fd` >= 0 reuses that socket instead of binding. */
static struct MHD_Daemon *start_daemon(struct vsg_http_server *srv, int listen_fd,
                                       const char *cert, const char *key, struct dctx *d)
{
    struct MHD_OptionItem o[16];
    size_t n = 0;
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
                         MHD_USE_AUTO;

    if (srv->threads == 0) flags |= MHD_USE_THREAD_PER_CONNECTION;
    if (srv->ipv6) flags |= MHD_USE_IPv6;
    if (cert) flags |= MHD_USE_TLS;

#define OPT(opt, val, ptr) (o[n++] = (struct MHD_OptionItem){(opt), (intptr_t)(val), (ptr)})
    OPT(MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)&mhd_logger, srv);
    OPT(MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)&on_completed, d);
    OPT(MHD_OPTION_CONNECTION_TIMEOUT, srv->timeout_s, NULL);
    OPT(MHD_OPTION_CONNECTION_LIMIT, srv->max_conns, NULL);
    if (listen_fd >= 0) {
        OPT(MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL);
    } else {
        OPT(MHD_OPTION_SOCK_ADDR, 0, &srv->sa);
    }
    if (srv->threads > 1) OPT(MHD_OPTION_THREAD_POOL_SIZE, srv->threads, NULL);
    if (cert) {
        OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert);
        OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key);
    }
    OPT(MHD_OPTION_END, 0, NULL);
#undef OPT

    return MHD_start_daemon(flags, (uint16_t)srv->port, NULL, NULL, on_request, d,
                            MHD_OPTION_ARRAY, o, MHD_OPTION_END);
}

enum vsg_err vsg_http_server_start(struct vsg_http_server *srv, struct vsg_error *err)
{
    const union MHD_DaemonInfo *info;
    enum vsg_err rc;

    if (srv->daemon)
        return vsg_error_set(err, VSG_ERR_INVALIDSTATE, "http server %s: already started", srv->name);
    if (srv->cert_file && !srv->cert_pem) {
        if ((rc = read_pem_file(srv->cert_file, &srv->cert_pem, err)) != VSG_OK) return rc;
        if ((rc = read_pem_file(srv->key_file, &srv->key_pem, err)) != VSG_OK) {
            vsg_free(srv->cert_pem);
            srv->cert_pem = NULL;
            return rc;
        }
    }
    if (!(srv->dctx = vsg_calloc(1, sizeof *srv->dctx)))
        return vsg_error_set(err, VSG_ERR_NOMEM, "http server: out of memory");
    srv->dctx->srv = srv;
    srv->daemon = start_daemon(srv, -1, srv->cert_pem, srv->key_pem, srv->dctx);
    if (!srv->daemon) {
        vsg_free(srv->dctx);
        srv->dctx = NULL;
        /* libmicrohttpd has logged the reason; name the likely one. */
        if (srv->tls)
            return vsg_error_set(err, VSG_ERR_TLS,
                                 "http server %s: cannot start on %s:%u (bad TLS certificate or "
                                 "key, or address in use)",
                                 srv->name, srv->addr, srv->port);
        return vsg_error_set(err, VSG_ERR_IO, "http server %s: cannot listen on %s:%u",
                             srv->name, srv->addr, srv->port);
    }
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->bound_port = info ? info->port : srv->port;
    VSG_LOGF_DEBUG(LOGGER, ((const char *[]){"server", srv->name, NULL}), "listening on %s:%u",
                   srv->addr, srv->bound_port);
    return VSG_OK;
}

unsigned vsg_http_server_port(const struct vsg_http_server *srv)
{
    return srv ? srv->bound_port : 0;
}

enum vsg_err vsg_http_server_reload_tls(struct vsg_http_server *srv, const char *cert_pem,
                                        const char *key_pem, struct vsg_error *err)
{
    const union MHD_DaemonInfo *info;
    struct MHD_Daemon *nd;
    char *cert = NULL, *key = NULL;
    struct dctx *nctx = NULL;
    int fd = -1;
    MHD_socket old_fd;
    enum vsg_err rc;

    if (!srv->daemon || !srv->tls)
        return vsg_error_set(err, VSG_ERR_INVALIDSTATE,
                             "http server %s: TLS reload needs a running TLS server", srv->name);
    if (!cert_pem || !key_pem)
        return vsg_error_set(err, VSG_ERR_INVAL, "http server %s: TLS reload needs a certificate and a key",
                             srv->name);
    if (!(cert = vsg_strdup(cert_pem)) || !(key = vsg_strdup(key_pem)) ||
        !(nctx = vsg_calloc(1, sizeof *nctx))) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "http server: out of memory");
        goto fail;
    }
    nctx->srv = srv;
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    if (!info || info->listen_fd == MHD_INVALID_SOCKET || (fd = dup(info->listen_fd)) < 0) {
        rc = vsg_error_set(err, VSG_ERR_IO, "http server %s: cannot share the listening socket",
                      srv->name);
        goto fail;
    }
    /* Both daemons accept on the same socket until the old one quiesces. */
    nd = start_daemon(srv, fd, cert, key, nctx);
    if (!nd) {
        close(fd);
        rc = vsg_error_set(err, VSG_ERR_TLS,
                      "http server %s: new TLS certificate or key rejected; keeping the old one",
                      srv->name);
        goto fail;
    }
    stop_retired(srv);
    old_fd = MHD_quiesce_daemon(srv->daemon);
    atomic_store(&srv->dctx->retired, 1);
    srv->retired = srv->daemon;
    srv->retired_dctx = srv->dctx;
    srv->retired_fd = old_fd == MHD_INVALID_SOCKET ? -1 : old_fd;
    srv->retired_cert = srv->cert_pem;
    srv->retired_key = srv->key_pem;
    srv->daemon = nd;
    srv->dctx = nctx;
    srv->cert_pem = cert;
    srv->key_pem = key;
    VSG_LOGF_INFO(LOGGER, ((const char *[]){"server", srv->name, NULL}), "TLS certificate reloaded");
    return VSG_OK;
fail:
    vsg_free(cert);
    vsg_free(key);
    vsg_free(nctx);
    return rc;
}

/*
 * http/server.h - a small, generic HTTP(S) server on libmicrohttpd, shared
 * by the CloudEvents test sink, the admission webhook and the metrics and
 * health endpoints.
 *
 * Provides: struct vsg_http_server (listen on an address and port, port 0
 * picks a free one and vsg_http_server_port() reports it), optional TLS
 * from PEM text or files with a zero-downtime reload hook
 * (vsg_http_server_reload_tls()), routing by method and path (the query
 * string never takes part in matching), a request body limit (413 beyond
 * it), a per-connection idle timeout, a /healthz helper, clean shutdown.
 * Uses: libmicrohttpd (internal threads: a pool or one thread per
 * connection), base/ (errors, buffers, allocation, logging).
 * Owns: the server copies every option string and route path it is given.
 * During a call a handler borrows the request (valid only for that call)
 * and fills the response, which the server owns and frees.
 *
 * Life cycle: vsg_http_server_new() → vsg_http_server_route()... →
 * vsg_http_server_start() → (serve; reload TLS at will) →
 * vsg_http_server_stop() → vsg_http_server_free(). Routes are added before
 * start only. Handlers run on the server's threads, possibly several at
 * once: they must be thread-safe.
 *
 *   static enum vsg_err hello(void *ud, const struct vsg_http_req *rq,
 *                             struct vsg_http_resp *rs)
 *   {
 *       return vsg_http_resp_text(rs, 200, "text/plain", "hi %s\n",
 *                                 rq->path);
 *   }
 *   ...
 *   vsg_http_server_route(srv, "GET", "/hello", hello, NULL, &err);
 */
#ifndef VSG_HTTP_SERVER_H
#define VSG_HTTP_SERVER_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* ====================================================================
 * Options
 * ==================================================================== */

/* Defaults used when the corresponding option is 0. */
#define VSG_HTTP_SERVER_DEFAULT_MAX_BODY (4u * 1024 * 1024)
#define VSG_HTTP_SERVER_DEFAULT_TIMEOUT_S 30u
#define VSG_HTTP_SERVER_DEFAULT_MAX_CONNS 128u

struct vsg_http_server_opts {
    const char *name;       /* For log lines ("sink", "webhook"); NULL: "http". */
    const char *addr;       /* Numeric IPv4 or IPv6 address to listen on;
                               NULL means "127.0.0.1". */
    unsigned port;          /* TCP port; 0 picks a free one. */
    unsigned threads;       /* 0: one thread per connection; N > 0: a pool
                               of N threads, each serving many connections
                               (then a slow handler delays its neighbours). */
    size_t max_body;        /* Request body limit in bytes (413 beyond);
                               0 means VSG_HTTP_SERVER_DEFAULT_MAX_BODY. */
    unsigned timeout_s;     /* Idle seconds before a connection is closed;
                               0 means VSG_HTTP_SERVER_DEFAULT_TIMEOUT_S. */
    unsigned max_conns;     /* Concurrent connections; 0 means
                               VSG_HTTP_SERVER_DEFAULT_MAX_CONNS. */
    const char *cert_pem;   /* TLS certificate chain as PEM text; with
                               key_pem it turns TLS on. */
    const char *key_pem;    /* Its private key as PEM text. */
    const char *cert_file;  /* Alternatively, a PEM file read at start. */
    const char *key_file;   /* Its key file, read at start. */
};

/* ====================================================================
 * Requests and responses (seen by handlers)
 * ==================================================================== */

struct vsg_http_req {
    const char *method;  /* "GET", "POST", ... as sent. */
    const char *path;    /* Percent-decoded path without the query string. */
    const char *version; /* "HTTP/1.1" or "HTTP/1.0". */
    const char *body;    /* The body, NUL-terminated for convenience (it may
                            also contain NULs); "" when there is none. */
    size_t body_len;     /* Its length in bytes. */
    int tls;             /* Nonzero when the request came over TLS. */
    void *conn_;         /* Private: the libmicrohttpd connection. */
};

/* One response header; see vsg_http_resp_header(). */
struct vsg_http_hdr {
    char *name;  /* Header name, owned. */
    char *value; /* Header value, owned. */
};

struct vsg_http_resp {
    int status;                 /* HTTP status; 200 unless set. */
    struct vsg_buf body;        /* Response body; append to it freely. */
    struct vsg_http_hdr *hdrs_; /* Private: headers added so far. */
    size_t n_hdrs_;             /* Private: how many. */
    size_t cap_hdrs_;           /* Private: slots allocated. */
};

/* The value of request header `name` (case-insensitive), or NULL. If it
 * was sent several times, the first one. Borrowed for the call. */
const char *vsg_http_req_header(const struct vsg_http_req *rq, const char *name);

/* The value of query parameter `name` (percent-decoded), or NULL; "" for a
 * parameter given without a value. Borrowed for the call. */
const char *vsg_http_req_query(const struct vsg_http_req *rq, const char *name);

/* Called for each header or query parameter in order; return nonzero to
 * stop. `value` may be NULL for a query parameter without "=". */
typedef int (*vsg_http_kv_fn)(void *ud, const char *name, const char *value);

/* Calls `fn` for every request header, in the order received. */
void vsg_http_req_each_header(const struct vsg_http_req *rq, vsg_http_kv_fn fn,
                              void *ud);

/* Calls `fn` for every query parameter, in order. */
void vsg_http_req_each_query(const struct vsg_http_req *rq, vsg_http_kv_fn fn,
                             void *ud);

/* Adds a response header (copied). VSG_ERR_INVAL when the name is empty or
 * either string holds CR, LF or NUL; VSG_ERR_NOMEM. Content-Length is set
 * by the server and must not be added. */
enum vsg_err vsg_http_resp_header(struct vsg_http_resp *rs, const char *name,
                                  const char *value);

/* Convenience: sets the status, a Content-Type header (unless NULL) and
 * replaces the body with printf-formatted text. */
enum vsg_err vsg_http_resp_text(struct vsg_http_resp *rs, int status,
                                const char *content_type, const char *fmt,
                                ...) VSG_PRINTF(4, 5);

/*
 * A route handler. Fill `rs` and return VSG_OK; any other return discards
 * what was put in `rs` and answers 500 with a short text body (the detail
 * is logged, not sent). `ud` is the pointer given to the route.
 */
typedef enum vsg_err (*vsg_http_handler_fn)(void *ud,
                                            const struct vsg_http_req *rq,
                                            struct vsg_http_resp *rs);

/* ====================================================================
 * The server
 * ==================================================================== */

struct vsg_http_server;

/* Makes a server (not yet listening); options and strings are copied.
 * NULL with `err` set on failure (NOMEM, INVAL for a bad address). */
struct vsg_http_server *vsg_http_server_new(const struct vsg_http_server_opts *opts,
                                            struct vsg_error *err);

/* Stops the server if running and frees it. NULL is a no-op. */
void vsg_http_server_free(struct vsg_http_server *srv);

/*
 * Adds a route, before vsg_http_server_start() only. `method` NULL
 * matches every method; "GET" also answers HEAD (without a body). `path`
 * is matched exactly, or as a prefix when it ends in '*' (the path
 * "/api/" with a '*' appended matches everything below /api/, and a lone
 * "*" matches every path).
 * The first matching route in the order added wins.
 * A path that matches no route gets 404; one that matches only with
 * another method gets 405 with an Allow header.
 */
enum vsg_err vsg_http_server_route(struct vsg_http_server *srv, const char *method,
                                   const char *path, vsg_http_handler_fn fn,
                                   void *ud, struct vsg_error *err);

/* Health check: return VSG_OK when healthy; otherwise a message may be
 * put in `why` (that is sent in the 503 body). */
typedef enum vsg_err (*vsg_http_health_fn)(void *ud, struct vsg_error *why);

/* Adds GET/HEAD `path` (NULL means "/healthz") answering 200 "ok" when
 * `check` is NULL or returns VSG_OK, 503 with the reason otherwise. */
enum vsg_err vsg_http_server_add_healthz(struct vsg_http_server *srv, const char *path,
                                         vsg_http_health_fn check, void *ud,
                                         struct vsg_error *err);

/* Binds and starts serving on the server's own threads. VSG_ERR_IO when
 * the address cannot be bound, VSG_ERR_TLS for an unusable certificate or
 * key, VSG_ERR_INVALIDSTATE when already started. */
enum vsg_err vsg_http_server_start(struct vsg_http_server *srv, struct vsg_error *err);

/* The bound TCP port (useful after asking for port 0); 0 if not started. */
unsigned vsg_http_server_port(const struct vsg_http_server *srv);

/*
 * Replaces the TLS certificate and key (PEM text, copied) without closing
 * the listening socket: the new daemon takes over the socket, new
 * connections get the new certificate, established ones finish on the
 * old daemon, which is stopped at the next reload or at stop. On failure
 * the old certificate keeps serving. VSG_ERR_INVALIDSTATE when the server
 * is not running with TLS.
 */
enum vsg_err vsg_http_server_reload_tls(struct vsg_http_server *srv, const char *cert_pem,
                                        const char *key_pem, struct vsg_error *err);

/* From now on every response says "Connection: close" and the server
 * closes the connection after it, so that clients open their next
 * connection elsewhere (a pod leaving its Service) instead of having a
 * keep-alive connection closed under a request at stop. Requests are
 * still answered. Thread-safe; ends at stop. */
void vsg_http_server_drain(struct vsg_http_server *srv);

/* How long stop waits for requests in flight. */
#define VSG_HTTP_SERVER_STOP_GRACE_MS 5000

/* Stops: new connections are refused at once, requests in flight are
 * answered (with "Connection: close"; waited for up to
 * VSG_HTTP_SERVER_STOP_GRACE_MS), then the remaining idle connections are
 * closed and the threads joined. Idempotent; the routes stay, so the
 * server may be started again. */
void vsg_http_server_stop(struct vsg_http_server *srv);

/* Nonzero when this libmicrohttpd was built with TLS support. */
int vsg_http_server_tls_supported(void);

#endif

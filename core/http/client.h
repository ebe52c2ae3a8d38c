/*
 * http/client.h - a small HTTP client on libcurl: one keep-alive connection
 * pool per client, TLS settings, bounded response bodies, typed errors.
 *
 * Provides: struct vsg_http_client (one per thread; never shared), requests
 * with a method, URL, headers and body; responses buffered into a vsg_buf
 * with a hard maximum, or streamed to a callback (watches).
 * Uses: libcurl (with OpenSSL, for extra trusted CAs), base/.
 * Owns: the client owns its curl handle and copies every option string it
 * is given; a response owns its body buffer (vsg_http_response_cleanup).
 *
 * Errors: connection failures and resets are VSG_ERR_TRANSPORT, time-outs
 * VSG_ERR_TIMEOUT, certificate problems VSG_ERR_TLS, a body over the limit
 * VSG_ERR_TOOBIG, a cancelled request VSG_ERR_CANCELLED. Only http:// and
 * https:// URLs are accepted (redirects included): any other scheme
 * (file://, ftp://, ...) fails with VSG_ERR_INVAL before anything is
 * read. Any HTTP status is a success at this layer: callers decide what
 * a status means.
 */
#ifndef VSG_HTTP_CLIENT_H
#define VSG_HTTP_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

/* Call once in main before any thread starts (curl_global_init). */
enum vsg_err vsg_http_global_init(void);
void vsg_http_global_cleanup(void);

struct vsg_http_opts {
    long connect_timeout_ms;  /* 0 means 30 s. */
    long timeout_ms;          /* Whole-request default; 0 means none. */
    size_t max_body;          /* Response body limit; 0 means 64 MiB. */
    const char *user_agent;   /* NULL means "vsgate/<version>". */
    int cookies;              /* Nonzero: keep cookies (SOAP sessions). */
    int insecure;             /* Nonzero: do not verify the server's TLS. */
    const char *ca_file;      /* PEM file trusted instead of system roots. */
    const char *extra_ca_pem; /* PEM text trusted in addition to the roots. */
    const char *cert_file;    /* Client certificate (PEM) for mutual TLS. */
    const char *key_file;     /* Its private key (PEM). */
    const char *cert_pem;     /* Client certificate as PEM text (kubeconfig data). */
    const char *key_pem;      /* Its key as PEM text. */
    const char *ca_pem;       /* PEM text trusted instead of system roots
                                 (kubeconfig certificate-authority-data). */
};

struct vsg_http_client;

/* Makes a client; the options are copied. NULL on failure with `err` set. */
struct vsg_http_client *vsg_http_client_new(const struct vsg_http_opts *opts,
                                            struct vsg_error *err);
void vsg_http_client_free(struct vsg_http_client *c);

/* Forgets every cookie (before logging in again). */
void vsg_http_client_clear_cookies(struct vsg_http_client *c);

/* Cookie `name` of the jar as one line of libcurl's Netscape cookie format
 * (owned), or NULL when the jar has none (or out of memory). */
char *vsg_http_client_cookie_line(struct vsg_http_client *c, const char *name);

/* Puts a line from vsg_http_client_cookie_line() back into the jar. */
enum vsg_err vsg_http_client_add_cookie_line(struct vsg_http_client *c, const char *line);

/* Streaming body callback: return 0 to go on, nonzero to abort the request
 * (which then fails with VSG_ERR_CANCELLED). */
typedef int (*vsg_http_body_fn)(void *ud, const char *data, size_t len);

struct vsg_http_request {
    const char *method;           /* "GET", "POST", ...; NULL means GET. */
    const char *url;              /* Absolute URL. */
    const char *const *headers;   /* NULL-terminated "Name: value" lines. */
    const char *body;             /* Request body or NULL. */
    size_t body_len;              /* Its length. */
    long timeout_ms;              /* Overrides the client default if > 0. */
    vsg_http_body_fn on_body;     /* If set, the body streams here. */
    void *on_body_ud;             /* Its user data. */
    atomic_int *cancel;           /* If set and nonzero, the request fails
                                     with VSG_ERR_CANCELLED: at once when
                                     set before it, within about 0.1 s
                                     when set while in flight (polled
                                     while the socket is quiet). Set it
                                     with atomic_store() from any thread
                                     or a signal handler (lock-free). */
};

struct vsg_http_response {
    long status;                  /* HTTP status, 0 if none was received;
                                     set from the status line, so on_body
                                     callbacks can already read it. */
    struct vsg_buf body;          /* The body (unless streamed). */
    char content_type[128];       /* Content-Type header, may be "". */
    char location[512];           /* Location header, may be "". */
    char retry_after[64];         /* Retry-After header, may be "". */
};

void vsg_http_response_init(struct vsg_http_response *r);
void vsg_http_response_cleanup(struct vsg_http_response *r);

/* Performs one request, reusing the client's connections. `resp` must be
 * initialised; its previous content is replaced. */
enum vsg_err vsg_http_do(struct vsg_http_client *c,
                         const struct vsg_http_request *req,
                         struct vsg_http_response *resp,
                         struct vsg_error *err);

/* Percent-encodes `s` for use in a URL path segment or query value. */
enum vsg_err vsg_http_escape(const char *s, struct vsg_buf *out);

#endif

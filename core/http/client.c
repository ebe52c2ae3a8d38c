/*
 * http/client.c - see client.h.
 */
#include "http/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/mem.h"
#include "base/url.h"

#ifndef VSG_VERSION
#define VSG_VERSION "0"
#endif

#define DEFAULT_MAX_BODY (64u * 1024 * 1024)
#define HDR_STACK_NODES 32 /* Header list nodes kept on the stack. */
/* How often a request with a cancel flag looks at it while its socket is
 * quiet (curl_easy_perform() would sleep up to 1 s between looks). */
#define CANCEL_POLL_MS 100

struct vsg_http_client {
    CURL *curl;                 /* The easy handle: options, cookies. */
    CURLM *multi;               /* Runs its transfers (see perform());
                                   keeps the connections. */
    char *extra_ca_pem;         /* Copy of opts.extra_ca_pem or NULL. */
    size_t max_body;            /* Response body limit. */
    long timeout_ms;            /* Default whole-request timeout. */
    char errbuf[CURL_ERROR_SIZE]; /* curl's detail for the last failure. */
    char *proxy_http;           /* The proxy for http:// URLs ("" none). */
    char *proxy_https;          /* The proxy for https:// URLs ("" none). */
    const char *proxy_set;      /* Which of them CURLOPT_PROXY holds, or NULL
                                   (unset: libcurl reads the environment). */
};

/*
 * The proxy settings of the environment, read once. libcurl reads them
 * itself on every transfer otherwise: five getenv() scans of the whole
 * environment per request (long in a pod, with its variables for every
 * Service). They do not change under a running process, so the client
 * picks the variable as libcurl does (lib/url.c, detect_proxy: the
 * lower-case "<scheme>_proxy", its upper-case form except HTTP_PROXY, then
 * all_proxy, ALL_PROXY; a variable that is set but empty means none) and
 * hands libcurl the value; libcurl still does the rest (no_proxy matching
 * via CURLOPT_NOPROXY, the proxy URL's scheme).
 */
static char *env_proxy(const char *scheme)
{
    char lower[16], upper[16];
    const char *v;

    snprintf(lower, sizeof lower, "%s_proxy", scheme);
    snprintf(upper, sizeof upper, "%s_PROXY", scheme);
    for (char *p = upper; *p; p++) *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    if ((v = getenv(lower)) == NULL && strcmp(scheme, "http") != 0) v = getenv(upper);
    if (v == NULL && (v = getenv("all_proxy")) == NULL) v = getenv("ALL_PROXY");
    return vsg_strdup(v ? v : "");
}

/* Per-request state handed to curl's callbacks. */
struct xfer {
    struct vsg_http_response *resp;   /* Where the body and headers go. */
    const struct vsg_http_request *req; /* For streaming and cancel. */
    int too_big;                      /* The body limit was hit. */
    int stopped;                      /* The stream callback asked to stop. */
};

enum vsg_err vsg_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? VSG_OK : VSG_ERR_INTERNAL;
}

void vsg_http_global_cleanup(void)
{
    curl_global_cleanup();
}

/* Adds every certificate of the PEM text to the handshake's trust store, so
 * they are trusted in addition to the system roots. */
static CURLcode add_extra_cas(CURL *curl, void *sslctx, void *ud)
{
    (void)curl;
    const char *pem = ud;
    X509_STORE *store = SSL_CTX_get_cert_store((SSL_CTX *)sslctx);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (!bio) return CURLE_OUT_OF_MEMORY;
    int added = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, x) == 1) added++;
        X509_free(x);
    }
    BIO_free(bio);
    /* The PEM ends in an expected "no start line" error: clear it. */
    ERR_clear_error();
    return added > 0 ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

struct vsg_http_client *vsg_http_client_new(const struct vsg_http_opts *opts,
                                            struct vsg_error *err)
{
    struct vsg_http_opts none = {0};
    if (!opts) opts = &none;
    struct vsg_http_client *c = vsg_calloc(1, sizeof *c);
    if (!c) {
        vsg_error_set(err, VSG_ERR_NOMEM, "http client: out of memory");
        return NULL;
    }
    c->curl = curl_easy_init();
    c->multi = curl_multi_init();
    if (!c->curl || !c->multi) {
        vsg_error_set(err, VSG_ERR_INTERNAL, "http client: curl_easy_init failed");
        goto fail;
    }
    c->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
    c->timeout_ms = opts->timeout_ms;
    CURL *h = c->curl;
    const char *noproxy = getenv("no_proxy");
    if (!noproxy) noproxy = getenv("NO_PROXY");
    if (!(c->proxy_http = env_proxy("http")) || !(c->proxy_https = env_proxy("https")) ||
        curl_easy_setopt(h, CURLOPT_NOPROXY, noproxy ? noproxy : "") != CURLE_OK) {
        vsg_error_set(err, VSG_ERR_NOMEM, "http client: out of memory");
        goto fail;
    }
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* http:// and https:// only, also where a redirect points: a URL from
     * a manifest or the environment must not make libcurl read a local
     * file (file://) or speak another protocol (ftp://, gopher://...). */
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 */
    if (curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK) {
#else
    if (curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
            CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) !=
            CURLE_OK) {
#endif
        vsg_error_set(err, VSG_ERR_UNSUPPORTED,
                      "http client: this libcurl cannot be limited to http and https");
        goto fail;
    }
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 30000L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT,
                     opts->user_agent ? opts->user_agent : "vsgate/" VSG_VERSION);
    if (opts->cookies) curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");
    if (opts->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (opts->ca_file || opts->ca_pem) {
        /* "Instead of the system roots": also drop the built-in CA folder,
         * which curl would otherwise still consult. */
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
    }
    if (opts->ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, opts->ca_file);
    if (opts->ca_pem) {
        struct curl_blob b = {(void *)opts->ca_pem, strlen(opts->ca_pem), CURL_BLOB_COPY};
        if (curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b) != CURLE_OK) {
            vsg_error_set(err, VSG_ERR_UNSUPPORTED,
                          "http client: this libcurl cannot trust a CA given as PEM text");
            goto fail;
        }
    }
    if (opts->extra_ca_pem && *opts->extra_ca_pem) {
        c->extra_ca_pem = vsg_strdup(opts->extra_ca_pem);
        if (!c->extra_ca_pem) {
            vsg_error_set(err, VSG_ERR_NOMEM, "http client: out of memory");
            goto fail;
        }
        if (curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, add_extra_cas) != CURLE_OK) {
            vsg_error_set(err, VSG_ERR_UNSUPPORTED,
                          "http client: this libcurl cannot add trusted CAs (needs OpenSSL)");
            goto fail;
        }
        curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, c->extra_ca_pem);
    }
    if (opts->cert_file) curl_easy_setopt(h, CURLOPT_SSLCERT, opts->cert_file);
    if (opts->key_file) curl_easy_setopt(h, CURLOPT_SSLKEY, opts->key_file);
    if (opts->cert_pem) {
        struct curl_blob b = {(void *)opts->cert_pem, strlen(opts->cert_pem), CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &b);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (opts->key_pem) {
        struct curl_blob b = {(void *)opts->key_pem, strlen(opts->key_pem), CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &b);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    return c;
fail:
    vsg_http_client_free(c);
    return NULL;
}

void vsg_http_client_free(struct vsg_http_client *c)
{
    if (!c) return;
    if (c->multi) curl_multi_cleanup(c->multi);
    if (c->curl) curl_easy_cleanup(c->curl);
    vsg_free(c->extra_ca_pem);
    vsg_free(c->proxy_http);
    vsg_free(c->proxy_https);
    vsg_free(c);
}

void vsg_http_client_clear_cookies(struct vsg_http_client *c)
{
    curl_easy_setopt(c->curl, CURLOPT_COOKIELIST, "ALL");
}

char *vsg_http_client_cookie_line(struct vsg_http_client *c, const char *name)
{
    struct curl_slist *list = NULL;
    char *out = NULL;
    size_t nl = strlen(name);

    if (curl_easy_getinfo(c->curl, CURLINFO_COOKIELIST, &list) != CURLE_OK) return NULL;
    /* domain, tailmatch, path, secure, expires, name, value: tab-separated. */
    for (struct curl_slist *l = list; l && !out; l = l->next) {
        const char *f = l->data;
        for (int i = 0; i < 5 && f; i++) {
            f = strchr(f, '\t');
            if (f) f++;
        }
        if (f && strncmp(f, name, nl) == 0 && f[nl] == '\t') out = vsg_strdup(l->data);
    }
    curl_slist_free_all(list);
    return out;
}

enum vsg_err vsg_http_client_add_cookie_line(struct vsg_http_client *c, const char *line)
{
    if (!line || strchr(line, '\n')) return VSG_ERR_INVAL;
    return curl_easy_setopt(c->curl, CURLOPT_COOKIELIST, line) == CURLE_OK ? VSG_OK : VSG_ERR_NOMEM;
}

void vsg_http_response_init(struct vsg_http_response *r)
{
    memset(r, 0, sizeof *r);
    vsg_buf_init(&r->body, DEFAULT_MAX_BODY);
}

void vsg_http_response_cleanup(struct vsg_http_response *r)
{
    if (!r) return;
    vsg_buf_cleanup(&r->body);
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (x->req->on_body) {
        if (x->req->on_body(x->req->on_body_ud, p, len) != 0) {
            x->stopped = 1;
            return 0;
        }
        return len;
    }
    if (vsg_buf_append(&x->resp->body, p, len) != VSG_OK) {
        x->too_big = 1;
        return 0;
    }
    return len;
}

/* Copies the value of header `name` from `line` into `out` if it matches. */
static void grab_header(const char *line, size_t len, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
    size_t vl = (size_t)(end - v);
    if (vl >= outsz) vl = outsz - 1;
    memcpy(out, v, vl);
    out[vl] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    /* A new response (after a redirect or 100 Continue) starts over. Its
     * status is known from here on, before the body (streaming callers
     * look at it). */
    if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', len);
        x->resp->content_type[0] = '\0';
        x->resp->location[0] = '\0';
        x->resp->retry_after[0] = '\0';
        if (sp != NULL && (size_t)(sp - p) + 4 <= len) x->resp->status = strtol(sp + 1, NULL, 10);
    }
    grab_header(p, len, "Content-Type", x->resp->content_type, sizeof x->resp->content_type);
    grab_header(p, len, "Location", x->resp->location, sizeof x->resp->location);
    grab_header(p, len, "Retry-After", x->resp->retry_after, sizeof x->resp->retry_after);
    return len;
}

static int on_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t c2, curl_off_t d)
{
    (void)a; (void)b; (void)c2; (void)d;
    struct xfer *x = ud;
    return (x->req->cancel && atomic_load_explicit(x->req->cancel, memory_order_relaxed)) ? 1 : 0;
}

/* curl_easy_perform() on the client's multi handle, so that a request
 * with a cancel flag wakes up every CANCEL_POLL_MS to have it looked at
 * (on_progress then aborts the transfer): a stop is not held up for a
 * second by a server that sends nothing. */
static CURLcode perform(struct vsg_http_client *c, int with_cancel)
{
    CURLcode cc = CURLE_FAILED_INIT;
    CURLMcode mc;
    CURLMsg *msg;
    int running = 0, left;

    if ((mc = curl_multi_add_handle(c->multi, c->curl)) != CURLM_OK)
        return mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
    for (;;) {
        mc = curl_multi_perform(c->multi, &running);
        if (mc != CURLM_OK || !running) break;
        mc = curl_multi_poll(c->multi, NULL, 0, with_cancel ? CANCEL_POLL_MS : 1000, NULL);
        if (mc != CURLM_OK) break;
    }
    if (mc != CURLM_OK) {
        /* As curl_easy_perform() maps a failure of its own multi loop. */
        cc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_BAD_FUNCTION_ARGUMENT;
    } else {
        while ((msg = curl_multi_info_read(c->multi, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->curl) cc = msg->data.result;
    }
    curl_multi_remove_handle(c->multi, c->curl);
    return cc;
}

/* The URL in an error may hold credentials: never in a message
 * (base/url.h). NULL is a no-op. */
static void redact_msg(struct vsg_error *err)
{
    char safe[VSG_ERROR_MSG_MAX];
    size_t n;

    if (!err) return;
    n = vsg_url_redact(err->msg, safe, sizeof safe);
    memcpy(err->msg, safe, (n < sizeof safe ? n : sizeof safe - 1) + 1);
}

static enum vsg_err map_curl(CURLcode rc, const struct xfer *x)
{
    switch (rc) {
    case CURLE_OK: return VSG_OK;
    case CURLE_OPERATION_TIMEDOUT: return VSG_ERR_TIMEOUT;
    case CURLE_OUT_OF_MEMORY: return VSG_ERR_NOMEM;
    case CURLE_ABORTED_BY_CALLBACK: return VSG_ERR_CANCELLED;
    case CURLE_WRITE_ERROR:
        if (x->too_big) return VSG_ERR_TOOBIG;
        if (x->stopped) return VSG_ERR_CANCELLED;
        return VSG_ERR_IO;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_USE_SSL_FAILED:
        return VSG_ERR_TLS;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return VSG_ERR_INVAL;
    default:
        /* Resolve/connect failures, resets, empty replies, partial bodies. */
        return VSG_ERR_TRANSPORT;
    }
}

enum vsg_err vsg_http_do(struct vsg_http_client *c,
                         const struct vsg_http_request *req,
                         struct vsg_http_response *resp,
                         struct vsg_error *err)
{
    CURL *h = c->curl;
    /* The header list: curl only reads a curl_slist (a public struct),
     * so small lists are nodes on the stack pointing at the caller's
     * strings instead of two mallocs per header per request. */
    struct curl_slist stack_nodes[HDR_STACK_NODES], *nodes = stack_nodes, *hdrs;
    size_t nh = 1;
    struct xfer x = {resp, req, 0, 0};
    const char *method = req->method ? req->method : "GET";
    enum vsg_err rc = VSG_OK;

    resp->status = 0;
    resp->content_type[0] = '\0';
    resp->location[0] = '\0';
    resp->retry_after[0] = '\0';
    vsg_buf_reset(&resp->body);
    resp->body.max = c->max_body;
    c->errbuf[0] = '\0';
    /* Cancelled before it began (a stop signal): not even a connect. */
    if (req->cancel && *req->cancel) {
        char safe[VSG_ERROR_MSG_MAX];
        vsg_url_redact(req->url, safe, sizeof safe);
        return vsg_error_set(err, VSG_ERR_CANCELLED, "%s %s: cancelled", method, safe);
    }

    for (const char *const *hp = req->headers; hp && *hp; hp++) nh++;
    if (nh > HDR_STACK_NODES && !(nodes = vsg_calloc(nh, sizeof *nodes)))
        return vsg_error_set(err, VSG_ERR_NOMEM, "http: out of memory");
    /* An empty "Expect:" stops curl from waiting for 100 Continue. */
    nodes[0].data = (char *)"Expect:";
    for (size_t i = 1; i < nh; i++) nodes[i].data = (char *)req->headers[i - 1];
    for (size_t i = 0; i < nh; i++) nodes[i].next = i + 1 < nh ? &nodes[i + 1] : NULL;
    hdrs = nodes;

    curl_easy_setopt(h, CURLOPT_URL, req->url);
    /* The environment's proxy for the URL's scheme (see env_proxy()); set
     * only when it changes: libcurl copies the string. */
    const char *proxy = strncasecmp(req->url, "https://", 8) == 0  ? c->proxy_https
                        : strncasecmp(req->url, "http://", 7) == 0 ? c->proxy_http
                                                                   : NULL;
    if (proxy != c->proxy_set) {
        curl_easy_setopt(h, CURLOPT_PROXY, proxy);
        c->proxy_set = proxy;
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    if (req->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        if (strcmp(method, "POST") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        if (strcmp(method, "HEAD") == 0) curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        else if (strcmp(method, "GET") != 0) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    long tmo = req->timeout_ms > 0 ? req->timeout_ms : c->timeout_ms;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, tmo > 0 ? tmo : 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    if (req->cancel) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    } else {
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
    }

    CURLcode cc = perform(c, req->cancel != NULL);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    rc = map_curl(cc, &x);
    if (rc != VSG_OK) {
        /* The URL redacted before the message is cut to size (a cut before
         * its '@' would leave user info the redaction cannot recognise),
         * then the whole message once more (curl's text may quote it). */
        char safe[VSG_ERROR_MSG_MAX];
        vsg_url_redact(req->url, safe, sizeof safe);
        if (rc == VSG_ERR_TOOBIG)
            vsg_error_set(err, rc, "%s %s: response body larger than %zu bytes",
                          method, safe, c->max_body);
        else if (cc == CURLE_ABORTED_BY_CALLBACK)
            vsg_error_set(err, rc, "%s %s: cancelled", method, safe);
        else if (cc == CURLE_UNSUPPORTED_PROTOCOL)
            vsg_error_set(err, rc, "%s %s: only http:// and https:// URLs are allowed (%s)",
                          method, safe, c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
        else
            vsg_error_set(err, rc, "%s %s: %s", method, safe,
                          c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
        redact_msg(err);
    }
    /* The handle must not keep pointers into this call's stack. */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    if (nodes != stack_nodes) vsg_free(nodes);
    return rc;
}

enum vsg_err vsg_http_escape(const char *s, struct vsg_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        enum vsg_err rc;
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            rc = vsg_buf_putc(out, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            rc = vsg_buf_append(out, e, 3);
        }
        if (rc != VSG_OK) return rc;
    }
    return VSG_OK;
}

/*
 * soap/session.c - see session.h.
 */
#include "soap/session.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/url.h"
#include "http/client.h"

#define LOGGER "vsgate.soap"

/* Largest request envelope we build (bodies are small; filters at most). */
#define MAX_REQUEST ((size_t)4 * 1024 * 1024)

/* Response body storage kept between calls up to this size (a page of
 * 1,000 events is about 1.5 MB). */
#define KEEP_BODY_MAX (4u << 20)

struct vsg_soap_session {
    struct vsg_http_client *http;        /* The one connection and cookie jar. */
    char *url;                           /* Cleaned SDK URL (POST target, `source`). */
    char *versions_url;                  /* .../sdk/vimServiceVersions.xml. */
    char *username;                      /* Login user name, verbatim. */
    char *password;                      /* Login password, verbatim; wiped on free. */
    char *session_file;                  /* opts.session_file copy, or NULL. */
    int stale_checked;                   /* The session file was looked at. */
    char version[32];                    /* SOAPAction version in use. */
    int version_pinned;                  /* Nonzero: opts.version fixed `version`. */
    long timeout_ms;                     /* Default whole-call limit. */
    long keepalive_ms;                   /* Keep-alive interval; <= 0 disables. */
    struct vsg_soap_service_content sc;  /* What RetrieveServiceContent gave. */
    int have_sc;                         /* Nonzero once `sc` is filled. */
    int logged_in;                       /* Nonzero while we believe in the session. */
    unsigned long generation;            /* Successful logins so far. */
    int64_t last_ok_ms;                  /* Monotonic time of the last successful call. */
    char last_fault[128];                /* Fault type of the last call, or "". */
    atomic_int cancel_flag;              /* Set by vsg_soap_cancel() (a signal
                                            handler); curl polls it. */
    int64_t deadline_ms;                 /* Wind-down: monotonic time by which
                                            every call must end; 0: none. */
    struct vsg_buf body;                 /* Response body storage, kept from
                                            call to call (a page of events
                                            would otherwise grow a new one
                                            by doubling every time). */
};

/* The ServiceInstance moref every session-less call uses. */
static const struct vsg_soap_moref service_instance = {"ServiceInstance", "ServiceInstance"};

/* Overwrites `n` bytes at `p` in a way the compiler may not drop. */
static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--) *v++ = 0;
}

static void wipe_free_str(char *s)
{
    if (!s) return;
    wipe(s, strlen(s));
    vsg_free(s);
}

/* ====================================================================
 * Redaction of error messages
 * ==================================================================== */

/*
 * Rewrites `msg` (capacity `cap`) in place: every occurrence of `secret`
 * (when at least 3 bytes long) becomes "***", the key inside
 * "session[...]" becomes "***", and so does the user info of any URL
 * (vsg_url_redact, base/url.h).
 */
static void redact(char *msg, size_t cap, const char *secret)
{
    char out[VSG_ERROR_MSG_MAX];
    size_t o = 0, slen = secret ? strlen(secret) : 0;
    const char *p = msg;

    if (cap > sizeof out) cap = sizeof out;
    while (*p && o + 1 < cap) {
        if (slen >= 3 && strncmp(p, secret, slen) == 0) {
            for (const char *r = "***"; *r && o + 1 < cap; r++) out[o++] = *r;
            p += slen;
            continue;
        }
        if (strncmp(p, "session[", 8) == 0) {
            const char *close = strchr(p + 8, ']');
            if (close) {
                for (const char *r = "session[***]"; *r && o + 1 < cap; r++) out[o++] = *r;
                p = close + 1;
                continue;
            }
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    vsg_url_redact(out, msg, cap);
}

static void scrub(const struct vsg_soap_session *s, struct vsg_error *err)
{
    if (err) redact(err->msg, sizeof err->msg, s->password);
}

/* ====================================================================
 * URL
 * ==================================================================== */

/* Nonzero when `s` starts with a "scheme://" (Go: ^\w+://). */
static int has_scheme(const char *s)
{
    const char *p = s;
    while (isalnum((unsigned char)*p) || *p == '_') p++;
    return p > s && strncmp(p, "://", 3) == 0;
}

/* Parses `in` into a curl URL handle with user info removed and the path
 * defaulted. NULL (with err) on failure. */
static CURLU *parse_url(const char *in, struct vsg_error *err)
{
    struct vsg_buf b;
    CURLU *u = NULL;
    char *path = NULL;
    CURLUcode uc;

    vsg_buf_init(&b, 64 * 1024);
    if (!in || !*in) {
        vsg_error_set(err, VSG_ERR_INVAL, "vCenter URL is empty");
        goto fail;
    }
    /* Scheme (default https), then the authority without user info: Go
     * splits that off at the LAST '@' ("user@vsphere.local:pw@host"),
     * which curl would refuse, so drop it here. */
    const char *rest = in;
    if (has_scheme(in)) {
        rest = strstr(in, "://") + 3;
        if (vsg_buf_append(&b, in, (size_t)(rest - in)) != VSG_OK) goto toolong;
    } else if (vsg_buf_puts(&b, "https://") != VSG_OK) {
        goto toolong;
    }
    size_t alen = strcspn(rest, "/?#");
    for (size_t i = alen; i > 0; i--)
        if (rest[i - 1] == '@') {
            rest += i;
            break;
        }
    if (vsg_buf_puts(&b, rest) != VSG_OK) goto toolong;
    /* Go: strings.TrimSuffix(s, "/"). */
    if (b.len > 0 && b.data[b.len - 1] == '/') vsg_buf_truncate(&b, b.len - 1);
    u = curl_url();
    if (!u) {
        vsg_error_set(err, VSG_ERR_NOMEM, "vCenter URL: out of memory");
        goto fail;
    }
    uc = curl_url_set(u, CURLUPART_URL, b.data, CURLU_PATH_AS_IS | CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        /* The input may hold credentials: do not echo it. */
        vsg_error_set(err, VSG_ERR_INVAL, "vCenter URL cannot be parsed: %s",
                      curl_url_strerror(uc));
        goto fail;
    }
    curl_url_set(u, CURLUPART_USER, NULL, 0);
    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
    curl_url_set(u, CURLUPART_OPTIONS, NULL, 0);
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK || !path || !*path ||
        strcmp(path, "/") == 0) {
        if (curl_url_set(u, CURLUPART_PATH, "/sdk", 0) != CURLUE_OK) {
            vsg_error_set(err, VSG_ERR_NOMEM, "vCenter URL: out of memory");
            goto fail;
        }
    }
    curl_free(path);
    vsg_buf_cleanup(&b);
    return u;
toolong:
    vsg_error_set(err, VSG_ERR_INVAL, "vCenter URL is too long");
fail:
    curl_free(path);
    if (u) curl_url_cleanup(u);
    vsg_buf_cleanup(&b);
    return NULL;
}

/* Copies the URL of `u` into an owned string. */
static char *url_string(CURLU *u)
{
    char *s = NULL, *r = NULL;
    if (curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK && s) r = vsg_strdup(s);
    curl_free(s);
    return r;
}

enum vsg_err vsg_soap_clean_url(const char *in, char **out, struct vsg_error *err)
{
    CURLU *u = parse_url(in, err);
    *out = NULL;
    if (!u) return err ? err->code : VSG_ERR_INVAL;
    *out = url_string(u);
    curl_url_cleanup(u);
    if (!*out) return vsg_error_set(err, VSG_ERR_NOMEM, "vCenter URL: out of memory");
    return VSG_OK;
}

const char *vsg_soap_url(const struct vsg_soap_session *s)
{
    return s->url;
}

/* ====================================================================
 * Life cycle
 * ==================================================================== */

static void service_content_cleanup(struct vsg_soap_service_content *sc)
{
    vsg_soap_moref_cleanup(&sc->root_folder);
    vsg_soap_moref_cleanup(&sc->property_collector);
    vsg_soap_moref_cleanup(&sc->session_manager);
    vsg_soap_moref_cleanup(&sc->event_manager);
    vsg_free(sc->api_version);
    vsg_free(sc->api_type);
    vsg_free(sc->instance_uuid);
    vsg_free(sc->full_name);
    memset(sc, 0, sizeof *sc);
}

struct vsg_soap_session *vsg_soap_session_new(const struct vsg_soap_opts *opts,
                                              struct vsg_error *err)
{
    struct vsg_soap_session *s = NULL;
    CURLU *u = NULL;

    if (!opts) {
        vsg_error_set(err, VSG_ERR_INVAL, "soap session: no options");
        return NULL;
    }
    xmlInitParser();
    s = vsg_calloc(1, sizeof *s);
    if (!s) goto nomem;
    vsg_buf_init(&s->body, 0); /* vsg_http_do() sets the maximum. */
    u = parse_url(opts->url, err);
    if (!u) goto fail;
    s->url = url_string(u);
    if (!s->url) goto nomem;
    if (curl_url_set(u, CURLUPART_PATH, "/sdk/vimServiceVersions.xml", 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK)
        goto nomem;
    s->versions_url = url_string(u);
    s->username = vsg_strdup(opts->username ? opts->username : "");
    s->password = vsg_strdup(opts->password ? opts->password : "");
    if (!s->versions_url || !s->username || !s->password) goto nomem;
    if (opts->session_file && *opts->session_file && !(s->session_file = vsg_strdup(opts->session_file)))
        goto nomem;

    if (opts->version && *opts->version) {
        if (strlen(opts->version) >= sizeof s->version) {
            vsg_error_set(err, VSG_ERR_INVAL, "soap session: version \"%.40s\" is too long",
                          opts->version);
            goto fail;
        }
        snprintf(s->version, sizeof s->version, "%s", opts->version);
        s->version_pinned = 1;
    } else {
        snprintf(s->version, sizeof s->version, "%s", VSG_SOAP_DEFAULT_VERSION);
    }
    s->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : VSG_SOAP_DEFAULT_TIMEOUT_MS;
    s->keepalive_ms = opts->keepalive_ms == 0 ? VSG_SOAP_DEFAULT_KEEPALIVE_MS : opts->keepalive_ms;

    struct vsg_http_opts ho = {
        .connect_timeout_ms = opts->connect_timeout_ms,
        .timeout_ms = s->timeout_ms,
        .max_body = opts->max_body ? opts->max_body : VSG_SOAP_DEFAULT_MAX_BODY,
        .user_agent = opts->user_agent,
        .cookies = 1,
        .insecure = opts->insecure,
        .ca_file = opts->ca_file,
        .extra_ca_pem = opts->extra_ca_pem,
    };
    s->http = vsg_http_client_new(&ho, err);
    if (!s->http) goto fail;
    curl_url_cleanup(u);
    return s;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "soap session: out of memory");
fail:
    if (u) curl_url_cleanup(u);
    vsg_soap_session_free(s);
    return NULL;
}

void vsg_soap_session_free(struct vsg_soap_session *s)
{
    if (!s) return;
    vsg_http_client_free(s->http);
    vsg_free(s->url);
    vsg_free(s->versions_url);
    wipe_free_str(s->username);
    wipe_free_str(s->password);
    vsg_free(s->session_file);
    service_content_cleanup(&s->sc);
    vsg_buf_cleanup(&s->body);
    vsg_free(s);
}

/* ====================================================================
 * Generic call
 * ==================================================================== */

void vsg_soap_result_init(struct vsg_soap_result *r)
{
    r->doc = NULL;
    r->lite = NULL;
    r->response = NULL;
    r->returnval = NULL;
}

void vsg_soap_result_cleanup(struct vsg_soap_result *r)
{
    if (!r) return;
    if (r->doc) xmlFreeDoc(r->doc);
    vsg_soap_lite_free(r->lite);
    vsg_soap_result_init(r);
}

const char *vsg_soap_last_fault(const struct vsg_soap_session *s)
{
    return s->last_fault;
}

static int valid_method(const char *m)
{
    if (!m || !*m || strlen(m) > 100) return 0;
    for (const char *p = m; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_') return 0;
    return 1;
}

/* First child element of `parent` with local name `local`, any namespace
 * (SOAP 1.1 fault children are unqualified, but be lenient). */
static xmlNodePtr child_any_ns(const xmlNode *parent, const char *local)
{
    for (xmlNodePtr c = vsg_soap_first_elem(parent); c; c = vsg_soap_next_elem(c))
        if (strcmp((const char *)c->name, local) == 0) return c;
    return NULL;
}

/* Maps a fault type name to our error code. */
static enum vsg_err fault_code(const char *type)
{
    if (strcmp(type, "NotAuthenticated") == 0) return VSG_ERR_NOTAUTHENTICATED;
    if (strcmp(type, "InvalidLogin") == 0) return VSG_ERR_INVALIDLOGIN;
    if (strcmp(type, "InvalidState") == 0) return VSG_ERR_INVALIDSTATE;
    if (strcmp(type, "ManagedObjectNotFound") == 0) return VSG_ERR_NOTFOUND;
    return VSG_ERR_FAULT;
}

/* Copies at most `cap`-1 bytes of `src` into `dst`, replacing control
 * characters with spaces so the message stays on one line. */
static void copy_line(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < cap; i++)
        dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? ' ' : src[i];
    dst[i] = '\0';
}

/* Turns the <Fault> element `f` into an error. */
static enum vsg_err map_fault(struct vsg_soap_session *s, const char *method, const xmlNode *f,
                              struct vsg_error *err)
{
    char type[128] = "", code[64] = "", fstr[256] = "";
    char *t;
    xmlNodePtr detail, d;

    if ((t = vsg_soap_text(child_any_ns(f, "faultcode")))) {
        const char *c = strrchr(t, ':'); /* "soapenv:Server" style codes */
        copy_line(code, sizeof code, c && strcmp(t, "ServerFaultCode") != 0 ? c + 1 : t);
        vsg_free(t);
    }
    if ((t = vsg_soap_text(child_any_ns(f, "faultstring")))) {
        copy_line(fstr, sizeof fstr, t);
        vsg_free(t);
    }
    detail = child_any_ns(f, "detail");
    d = vsg_soap_first_elem(detail);
    if (d) {
        const char *xt = vsg_soap_xsi_type(d);
        if (xt && *xt) {
            copy_line(type, sizeof type, xt);
        } else {
            /* No xsi:type: derive it from <FooFault>. */
            size_t n = strlen((const char *)d->name);
            if (n > 5 && strcmp((const char *)d->name + n - 5, "Fault") == 0) n -= 5;
            if (n >= sizeof type) n = sizeof type - 1;
            memcpy(type, d->name, n);
            type[n] = '\0';
        }
    }
    snprintf(s->last_fault, sizeof s->last_fault, "%s", type[0] ? type : "unknown");
    if (!code[0]) snprintf(code, sizeof code, "%s", "ServerFaultCode");
    enum vsg_err rc = type[0] ? fault_code(type) : VSG_ERR_FAULT;
    if (fstr[0])
        vsg_error_set(err, rc, "%s: %s: %s (%s)", method, code, fstr,
                      type[0] ? type : "fault of unknown type");
    else
        vsg_error_set(err, rc, "%s: %s: %s", method, code,
                      type[0] ? type : "fault of unknown type");
    return rc;
}

/* Interprets an HTTP response to `method`; `lite`: as a lite tree when
 * the document allows it (a fault is always parsed the full way). */
static enum vsg_err handle_response(struct vsg_soap_session *s, const char *method, long status,
                                    const struct vsg_buf *body, int lite,
                                    struct vsg_soap_result *res, struct vsg_error *err)
{
    xmlDocPtr doc = NULL;
    struct vsg_soap_lite *ltree = NULL;
    xmlNodePtr root, bodyn, first;
    struct vsg_error perr;
    char want[128];
    enum vsg_err rc;

    if (status == 502 || status == 503 || status == 504)
        return vsg_error_set(err, VSG_ERR_TRANSPORT,
                             "%s: HTTP %ld from the server (temporarily unavailable)", method,
                             status);
    if (status != 200 && status != 500)
        return vsg_error_set(err, VSG_ERR_HTTP, "%s: unexpected HTTP status %ld", method, status);

    vsg_error_clear(&perr);
    rc = lite && status == 200 ? vsg_soap_parse_lite(body->data, body->len, &ltree)
                               : VSG_ERR_UNSUPPORTED;
    if (rc == VSG_ERR_UNSUPPORTED)
        rc = vsg_soap_parse(body->data ? body->data : "", body->len, &doc, &perr);
    if (rc == VSG_ERR_NOMEM) return vsg_error_set(err, rc, "%s: out of memory", method);
    if (rc != VSG_OK) {
        if (status == 500)
            return vsg_error_set(err, VSG_ERR_HTTP, "%s: HTTP 500 without a readable SOAP fault: %s",
                                 method, perr.msg);
        return vsg_error_set(err, VSG_ERR_PARSE, "%s: unreadable response: %s", method, perr.msg);
    }
    root = ltree ? vsg_soap_lite_root(ltree) : xmlDocGetRootElement(doc);
    bodyn = NULL;
    if (vsg_soap_is_elem(root, VSG_SOAP_NS_ENV, "Envelope"))
        for (xmlNodePtr c = vsg_soap_first_elem(root); c; c = vsg_soap_next_elem(c))
            if (vsg_soap_is_elem(c, VSG_SOAP_NS_ENV, "Body")) bodyn = c;
    first = vsg_soap_first_elem(bodyn);
    if (vsg_soap_is_elem(first, VSG_SOAP_NS_ENV, "Fault")) {
        rc = map_fault(s, method, first, err);
        goto done;
    }
    if (status == 500) {
        rc = vsg_error_set(err, VSG_ERR_HTTP, "%s: HTTP 500 without a SOAP fault", method);
        goto done;
    }
    if (!bodyn) {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "%s: response is not a SOAP 1.1 envelope", method);
        goto done;
    }
    snprintf(want, sizeof want, "%sResponse", method);
    if (!vsg_soap_is_elem(first, VSG_SOAP_NS_VIM25, want)) {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "%s: response has no <%s> in urn:vim25", method,
                           want);
        goto done;
    }
    res->doc = doc;
    res->lite = ltree;
    res->response = first;
    res->returnval = vsg_soap_first_elem(first);
    doc = NULL;
    ltree = NULL;
    rc = VSG_OK;
done:
    if (doc) xmlFreeDoc(doc);
    vsg_soap_lite_free(ltree);
    return rc;
}

enum vsg_err vsg_soap_read_response(struct vsg_soap_session *s, const char *method, long status,
                                    const char *body, size_t len, int lite,
                                    struct vsg_soap_result *res, struct vsg_error *err)
{
    /* A read-only view of the bytes: handle_response reads data and len. */
    struct vsg_buf view = {(char *)body, len, len, len};

    vsg_soap_result_cleanup(res);
    s->last_fault[0] = '\0';
    return handle_response(s, method, status, &view, lite, res, err);
}

static enum vsg_err call(struct vsg_soap_session *s, const char *method, const char *body,
                         long timeout_ms, int lite, struct vsg_soap_result *res,
                         struct vsg_error *err)
{
    struct vsg_buf env;
    struct vsg_http_response resp;
    char action[64];
    enum vsg_err rc;
    int64_t t0 = vsg_time_mono_ms();

    vsg_soap_result_cleanup(res);
    s->last_fault[0] = '\0';
    vsg_buf_init(&env, MAX_REQUEST);
    vsg_http_response_init(&resp);
    /* Borrow the session's body storage for this call. */
    vsg_buf_cleanup(&resp.body);
    resp.body = s->body;
    vsg_buf_init(&s->body, s->body.max);
    vsg_buf_reset(&resp.body);
    if (!valid_method(method)) {
        rc = vsg_error_set(err, VSG_ERR_INVAL, "soap call: invalid method name");
        goto done;
    }
    /* Stopping: nothing goes out once cancelled, and during a wind-down a
     * call gets at most what is left of the budget. */
    if (atomic_load(&s->cancel_flag)) {
        rc = vsg_error_set(err, VSG_ERR_CANCELLED, "%s: cancelled", method);
        goto done;
    }
    if (s->deadline_ms > 0) {
        int64_t left = s->deadline_ms - vsg_time_mono_ms();
        if (left <= 0) {
            rc = vsg_error_set(err, VSG_ERR_TIMEOUT,
                               "%s: skipped: the time for vCenter calls while stopping is spent",
                               method);
            goto done;
        }
        if (timeout_ms <= 0) timeout_ms = s->timeout_ms;
        if (timeout_ms <= 0 || timeout_ms > left) timeout_ms = (long)left;
    }
    if (vsg_buf_puts(&env, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<soapenv:Envelope"
                           " xmlns:soapenv=\"" VSG_SOAP_NS_ENV "\""
                           " xmlns:xsd=\"" VSG_SOAP_NS_XSD "\""
                           " xmlns:xsi=\"" VSG_SOAP_NS_XSI "\">"
                           "<soapenv:Body>") != VSG_OK ||
        vsg_buf_printf(&env, "<%s xmlns=\"" VSG_SOAP_NS_VIM25 "\">", method) != VSG_OK ||
        vsg_buf_puts(&env, body ? body : "") != VSG_OK ||
        vsg_buf_printf(&env, "</%s></soapenv:Body></soapenv:Envelope>", method) != VSG_OK) {
        rc = vsg_error_set(err, VSG_ERR_TOOBIG, "%s: request too large or out of memory", method);
        goto done;
    }
    snprintf(action, sizeof action, "SOAPAction: urn:vim25/%s", s->version);
    const char *headers[] = {"Content-Type: text/xml; charset=\"utf-8\"", action, NULL};
    struct vsg_http_request req = {
        .method = "POST",
        .url = s->url,
        .headers = headers,
        .body = env.data,
        .body_len = env.len,
        .timeout_ms = timeout_ms,
        .cancel = &s->cancel_flag,
    };
    rc = vsg_http_do(s->http, &req, &resp, err);
    if (rc != VSG_OK) {
        if (err) vsg_error_set(err, rc, "%s: %s", method, err->msg);
        goto done;
    }
    rc = handle_response(s, method, resp.status, &resp.body, lite, res, err);
    VSG_LOG_DEBUG(LOGGER, "%s: HTTP %ld, %zu bytes, %lld ms%s%s", method, resp.status,
                  resp.body.len, (long long)(vsg_time_mono_ms() - t0),
                  s->last_fault[0] ? ", fault " : "", s->last_fault);
    if (rc == VSG_OK) s->last_ok_ms = vsg_time_mono_ms();
done:
    /* The envelope may hold the password (Login). */
    if (env.data) wipe(env.data, env.cap);
    vsg_buf_cleanup(&env);
    /* Hand the body storage back (emptied) for the next call, unless an
     * outsized response grew it: that is not kept for the session's life. */
    vsg_buf_reset(&resp.body);
    if (resp.body.cap <= KEEP_BODY_MAX) {
        s->body = resp.body;
        vsg_buf_init(&resp.body, resp.body.max);
    }
    vsg_http_response_cleanup(&resp);
    if (rc != VSG_OK) scrub(s, err);
    return rc;
}

enum vsg_err vsg_soap_call_timeout(struct vsg_soap_session *s, const char *method,
                                   const char *body, long timeout_ms,
                                   struct vsg_soap_result *res, struct vsg_error *err)
{
    return call(s, method, body, timeout_ms, 0, res, err);
}

enum vsg_err vsg_soap_call(struct vsg_soap_session *s, const char *method, const char *body,
                           struct vsg_soap_result *res, struct vsg_error *err)
{
    return call(s, method, body, 0, 0, res, err);
}

enum vsg_err vsg_soap_call_lite(struct vsg_soap_session *s, const char *method,
                                const char *body, struct vsg_soap_result *res,
                                struct vsg_error *err)
{
    return call(s, method, body, 0, 1, res, err);
}

/* Calls `method` whose only argument is `_this` = `obj`. */
static enum vsg_err call_this(struct vsg_soap_session *s, const char *method,
                              const struct vsg_soap_moref *obj, struct vsg_soap_result *res,
                              struct vsg_error *err)
{
    struct vsg_buf b;
    enum vsg_err rc;
    vsg_buf_init(&b, MAX_REQUEST);
    rc = vsg_soap_put_moref(&b, "_this", obj);
    if (rc == VSG_OK)
        rc = vsg_soap_call(s, method, b.data, res, err);
    else
        vsg_error_set(err, rc, "%s: out of memory", method);
    vsg_buf_cleanup(&b);
    return rc;
}

/* ====================================================================
 * Version negotiation
 * ==================================================================== */

/* Compares dotted numeric versions ("6.5" < "7.0" == "7.0.0"). */
static int version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        unsigned long x = 0, y = 0;
        while (*a >= '0' && *a <= '9') x = x * 10 + (unsigned long)(*a++ - '0');
        while (*b >= '0' && *b <= '9') y = y * 10 + (unsigned long)(*b++ - '0');
        if (x != y) return x < y ? -1 : 1;
        if (*a == '.') a++;
        if (*b == '.') b++;
        if (*a && !(*a >= '0' && *a <= '9')) break;
        if (*b && !(*b >= '0' && *b <= '9')) break;
    }
    return 0;
}

static int plausible_version(const char *v)
{
    size_t n = strlen(v);
    if (n == 0 || n >= 32 || v[0] < '0' || v[0] > '9') return 0;
    for (const char *p = v; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.')) return 0;
    return 1;
}

/* Finds the urn:vim25 <version> in a vimServiceVersions.xml document;
 * owned string or NULL. */
static char *find_vim25_version(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "namespaces") != 0) return NULL;
    for (xmlNodePtr ns = vsg_soap_first_elem(root); ns; ns = vsg_soap_next_elem(ns)) {
        if (strcmp((const char *)ns->name, "namespace") != 0) continue;
        char *name = vsg_soap_text(child_any_ns(ns, "name"));
        int match = name && strcmp(name, "urn:vim25") == 0;
        vsg_free(name);
        if (match) {
            xmlNodePtr v = child_any_ns(ns, "version");
            return v ? vsg_soap_text(v) : NULL;
        }
    }
    return NULL;
}

enum vsg_err vsg_soap_negotiate(struct vsg_soap_session *s, struct vsg_error *err)
{
    struct vsg_http_response resp;
    struct vsg_error e;
    xmlDocPtr doc = NULL;
    char *v = NULL;
    enum vsg_err rc;

    if (s->version_pinned) return VSG_OK;
    vsg_error_clear(&e);
    vsg_http_response_init(&resp);
    struct vsg_http_request req = {.method = "GET", .url = s->versions_url,
                                   .cancel = &s->cancel_flag};
    rc = vsg_http_do(s->http, &req, &resp, &e);
    if (rc == VSG_ERR_NOMEM) goto nomem;
    if (rc == VSG_ERR_CANCELLED) {
        vsg_http_response_cleanup(&resp);
        return vsg_error_set(err, rc, "version negotiation: %s", e.msg);
    }
    if (rc != VSG_OK) {
        VSG_LOG_INFO(LOGGER, "vimServiceVersions.xml unavailable (%s); using urn:vim25/%s",
                     e.msg, s->version);
        goto done;
    }
    if (resp.status != 200) {
        VSG_LOG_INFO(LOGGER, "vimServiceVersions.xml: HTTP %ld; using urn:vim25/%s",
                     resp.status, s->version);
        goto done;
    }
    rc = vsg_soap_parse(resp.body.data ? resp.body.data : "", resp.body.len, &doc, &e);
    if (rc == VSG_ERR_NOMEM) goto nomem;
    if (rc == VSG_OK) v = find_vim25_version(doc);
    if (!v || !plausible_version(v)) {
        VSG_LOG_INFO(LOGGER, "vimServiceVersions.xml has no usable urn:vim25 version; using %s",
                     s->version);
        goto done;
    }
    if (version_cmp(v, VSG_SOAP_DEFAULT_VERSION) < 0) snprintf(s->version, sizeof s->version, "%s", v);
    else snprintf(s->version, sizeof s->version, "%s", VSG_SOAP_DEFAULT_VERSION);
    VSG_LOG_DEBUG(LOGGER, "server speaks urn:vim25/%s; sending urn:vim25/%s", v, s->version);
done:
    vsg_free(v);
    if (doc) xmlFreeDoc(doc);
    vsg_http_response_cleanup(&resp);
    return VSG_OK;
nomem:
    vsg_free(v);
    if (doc) xmlFreeDoc(doc);
    vsg_http_response_cleanup(&resp);
    return vsg_error_set(err, VSG_ERR_NOMEM, "version negotiation: out of memory");
}

const char *vsg_soap_version(const struct vsg_soap_session *s)
{
    return s->version;
}

/* ====================================================================
 * ServiceContent, Login, Logout, CurrentTime
 * ==================================================================== */

/* Reads the moref child `local` of `rv` into `out`; absent is allowed
 * when `optional`. */
static enum vsg_err read_moref(const xmlNode *rv, const char *local, int optional,
                               struct vsg_soap_moref *out, struct vsg_error *err)
{
    xmlNodePtr n = vsg_soap_child(rv, local);
    if (!n) {
        if (optional) return VSG_OK;
        return vsg_error_set(err, VSG_ERR_PARSE, "RetrieveServiceContent: no <%s>", local);
    }
    enum vsg_err rc = vsg_soap_moref_parse(n, out, err);
    if (rc != VSG_OK && err) vsg_error_set(err, rc, "RetrieveServiceContent: %s", err->msg);
    return rc;
}

/* Owned text of about/<local>, "" when absent; NULL when out of memory. */
static char *about_text(const xmlNode *about, const char *local)
{
    char *t = NULL;
    if (vsg_soap_child_text(about, local, &t) == VSG_ERR_NOTFOUND) t = vsg_strdup("");
    return t;
}

enum vsg_err vsg_soap_retrieve_service_content(struct vsg_soap_session *s, struct vsg_error *err)
{
    struct vsg_soap_result res;
    struct vsg_soap_service_content sc;
    enum vsg_err rc;
    xmlNodePtr about;

    memset(&sc, 0, sizeof sc);
    vsg_soap_result_init(&res);
    rc = call_this(s, "RetrieveServiceContent", &service_instance, &res, err);
    if (rc != VSG_OK) goto done;
    if (!res.returnval) {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "RetrieveServiceContent: empty response");
        goto done;
    }
    if ((rc = read_moref(res.returnval, "rootFolder", 0, &sc.root_folder, err)) != VSG_OK ||
        (rc = read_moref(res.returnval, "propertyCollector", 0, &sc.property_collector, err)) !=
            VSG_OK ||
        (rc = read_moref(res.returnval, "sessionManager", 1, &sc.session_manager, err)) !=
            VSG_OK ||
        (rc = read_moref(res.returnval, "eventManager", 1, &sc.event_manager, err)) != VSG_OK)
        goto done;
    about = vsg_soap_child(res.returnval, "about");
    sc.api_version = about_text(about, "apiVersion");
    sc.api_type = about_text(about, "apiType");
    sc.instance_uuid = about_text(about, "instanceUuid");
    sc.full_name = about_text(about, "fullName");
    if (!sc.api_version || !sc.api_type || !sc.instance_uuid || !sc.full_name) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "RetrieveServiceContent: out of memory");
        goto done;
    }
    service_content_cleanup(&s->sc);
    s->sc = sc;
    memset(&sc, 0, sizeof sc);
    s->have_sc = 1;
    VSG_LOG_DEBUG(LOGGER, "connected to %s (%s, API %s)", s->sc.full_name, s->sc.api_type,
                  s->sc.api_version);
done:
    service_content_cleanup(&sc);
    vsg_soap_result_cleanup(&res);
    return rc;
}

const struct vsg_soap_service_content *vsg_soap_service_content(const struct vsg_soap_session *s)
{
    return s->have_sc ? &s->sc : NULL;
}

/* ====================================================================
 * The session file (session.h)
 * ==================================================================== */

/* Writes URL, user and the session cookie line to the session file
 * (through a 0600 temporary and a rename). Failures are logged. */
static void session_file_save(struct vsg_soap_session *s)
{
    char *line = vsg_http_client_cookie_line(s->http, "vmware_soap_session");
    struct vsg_buf tmp;
    FILE *f = NULL;
    int fd = -1, ok = 0, why = 0;

    vsg_buf_init(&tmp, 4096);
    if (!line || vsg_buf_printf(&tmp, "%s.tmp", s->session_file) != VSG_OK) goto done;
    (void)unlink(tmp.data);
    if ((fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 || !(f = fdopen(fd, "w")))
        goto done;
    fd = -1;
    ok = fprintf(f, "%s\n%s\n%s\n", s->url, s->username, line) > 0;
    ok = (fclose(f) == 0) && ok;
    f = NULL;
    ok = ok && rename(tmp.data, s->session_file) == 0;
done:
    why = errno;
    if (fd >= 0) close(fd);
    if (!ok) {
        if (tmp.data) (void)unlink(tmp.data);
        VSG_LOGF_WARN(LOGGER, ((const char *[]){"file", s->session_file, NULL}),
                      "cannot keep the session in the session file (a kill would leave the session "
                      "and its collector behind): %s",
                      line ? strerror(why) : "no session cookie");
    }
    if (line) wipe_free_str(line);
    vsg_buf_cleanup(&tmp);
}

/* Logs out the session a previous process left in the session file, if it
 * is for this URL and user; removes the file. */
static void session_file_end_stale(struct vsg_soap_session *s)
{
    char buf[8192], *url, *user, *line, *nl;
    size_t n;
    FILE *f;

    s->stale_checked = 1;
    if (!(f = fopen(s->session_file, "re"))) return;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    (void)unlink(s->session_file);
    url = buf;
    if (!(nl = strchr(url, '\n'))) goto done;
    *nl = '\0';
    user = nl + 1;
    if (!(nl = strchr(user, '\n'))) goto done;
    *nl = '\0';
    line = nl + 1;
    if ((nl = strchr(line, '\n'))) *nl = '\0';
    if (strcmp(url, s->url) != 0 || strcmp(user, s->username) != 0 || !*line ||
        !vsg_soap_moref_valid(&s->sc.session_manager))
        goto done;
    vsg_http_client_clear_cookies(s->http);
    if (vsg_http_client_add_cookie_line(s->http, line) == VSG_OK) {
        struct vsg_soap_result res;
        struct vsg_error err = {0};
        struct vsg_buf b;
        vsg_buf_init(&b, MAX_REQUEST);
        vsg_soap_result_init(&res);
        if (vsg_soap_put_moref(&b, "_this", &s->sc.session_manager) == VSG_OK) {
            enum vsg_err rc = vsg_soap_call_timeout(s, "Logout", b.data, VSG_SOAP_STALE_LOGOUT_MS, &res, &err);
            if (rc == VSG_OK)
                VSG_LOGF_INFO(LOGGER, ((const char *[]){"file", s->session_file, NULL}),
                              "logged out the vCenter session a previous process left (its event "
                              "collector goes with it)");
            else
                VSG_LOGF_DEBUG(LOGGER, ((const char *[]){"file", s->session_file, NULL}),
                               "the session a previous process left is gone already: %s", err.msg);
        }
        vsg_soap_result_cleanup(&res);
        vsg_buf_cleanup(&b);
    }
    vsg_http_client_clear_cookies(s->http);
done:
    wipe(buf, sizeof buf);
}

enum vsg_err vsg_soap_login(struct vsg_soap_session *s, struct vsg_error *err)
{
    struct vsg_buf b;
    struct vsg_soap_result res;
    enum vsg_err rc;

    vsg_buf_init(&b, MAX_REQUEST);
    vsg_soap_result_init(&res);
    if (!s->have_sc && (rc = vsg_soap_retrieve_service_content(s, err)) != VSG_OK) goto done;
    if (!vsg_soap_moref_valid(&s->sc.session_manager)) {
        rc = vsg_error_set(err, VSG_ERR_UNSUPPORTED,
                           "Login: the server's ServiceContent has no sessionManager");
        goto done;
    }
    /* A Login that carries a live cookie fails on vcsim: always start clean. */
    vsg_http_client_clear_cookies(s->http);
    s->logged_in = 0;
    if (vsg_soap_put_moref(&b, "_this", &s->sc.session_manager) != VSG_OK ||
        vsg_soap_put_text(&b, "userName", s->username) != VSG_OK ||
        vsg_soap_put_text(&b, "password", s->password) != VSG_OK ||
        vsg_buf_puts(&b, "<locale>en_US</locale>") != VSG_OK) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "Login: out of memory");
        goto done;
    }
    rc = vsg_soap_call(s, "Login", b.data, &res, err);
    if (rc != VSG_OK) goto done;
    s->logged_in = 1;
    s->generation++;
    VSG_LOGF_INFO(LOGGER, ((const char *[]){"url", s->url, "user", s->username, NULL}),
                  "logged in to vCenter");
    if (s->session_file) session_file_save(s);
done:
    if (b.data) wipe(b.data, b.cap);
    vsg_buf_cleanup(&b);
    vsg_soap_result_cleanup(&res);
    return rc;
}

enum vsg_err vsg_soap_connect(struct vsg_soap_session *s, struct vsg_error *err)
{
    enum vsg_err rc;
    if ((rc = vsg_soap_negotiate(s, err)) != VSG_OK) return rc;
    if ((rc = vsg_soap_retrieve_service_content(s, err)) != VSG_OK) return rc;
    if (s->session_file && !s->stale_checked) session_file_end_stale(s);
    return vsg_soap_login(s, err);
}

enum vsg_err vsg_soap_relogin(struct vsg_soap_session *s, struct vsg_error *err)
{
    VSG_LOG_INFO(LOGGER, "logging in to vCenter again");
    s->logged_in = 0;
    vsg_http_client_clear_cookies(s->http);
    return vsg_soap_login(s, err);
}

enum vsg_err vsg_soap_logout(struct vsg_soap_session *s, struct vsg_error *err)
{
    struct vsg_soap_result res;
    enum vsg_err rc = VSG_OK;

    if (!s->logged_in) return VSG_OK;
    vsg_soap_result_init(&res);
    rc = call_this(s, "Logout", &s->sc.session_manager, &res, err);
    vsg_soap_result_cleanup(&res);
    vsg_http_client_clear_cookies(s->http);
    s->logged_in = 0;
    if (rc == VSG_OK) VSG_LOG_INFO(LOGGER, "logged out of vCenter");
    if (rc == VSG_OK && s->session_file) (void)unlink(s->session_file);
    return rc;
}

void vsg_soap_cancel(struct vsg_soap_session *s)
{
    atomic_store(&s->cancel_flag, 1);
}

void vsg_soap_wind_down(struct vsg_soap_session *s, long budget_ms)
{
    s->deadline_ms = vsg_time_mono_ms() + (budget_ms > 0 ? budget_ms : 0);
    atomic_store(&s->cancel_flag, 0);
}

int vsg_soap_logged_in(const struct vsg_soap_session *s)
{
    return s->logged_in;
}

unsigned long vsg_soap_generation(const struct vsg_soap_session *s)
{
    return s->generation;
}

enum vsg_err vsg_soap_current_time(struct vsg_soap_session *s, struct vsg_time *out,
                                   struct vsg_error *err)
{
    struct vsg_soap_result res;
    enum vsg_err rc;
    char *t = NULL;

    vsg_soap_result_init(&res);
    rc = call_this(s, "CurrentTime", &service_instance, &res, err);
    if (rc != VSG_OK) goto done;
    t = res.returnval ? vsg_soap_text(res.returnval) : NULL;
    if (!res.returnval) {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "CurrentTime: empty response");
        goto done;
    }
    if (!t) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "CurrentTime: out of memory");
        goto done;
    }
    /* Trim XML whitespace around the value. */
    char *p = t;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
        p[--n] = '\0';
    if (vsg_time_parse_rfc3339(p, out) != VSG_OK) {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "CurrentTime: bad time \"%.64s\"", p);
        goto done;
    }
done:
    vsg_free(t);
    vsg_soap_result_cleanup(&res);
    return rc;
}

/* ====================================================================
 * Keep-alive
 * ==================================================================== */

int64_t vsg_soap_keepalive_deadline(const struct vsg_soap_session *s)
{
    if (!s->logged_in || s->keepalive_ms <= 0) return INT64_MAX;
    return s->last_ok_ms + s->keepalive_ms;
}

int vsg_soap_keepalive_due(const struct vsg_soap_session *s, int64_t now_ms)
{
    return now_ms >= vsg_soap_keepalive_deadline(s);
}

enum vsg_err vsg_soap_keepalive(struct vsg_soap_session *s, int64_t now_ms, struct vsg_error *err)
{
    struct vsg_time t;
    char ts[VSG_TIME_RFC3339_BUFSZ];
    enum vsg_err rc;

    if (!vsg_soap_keepalive_due(s, now_ms)) return VSG_OK;
    VSG_LOG_DEBUG(LOGGER, "Executing SOAP keep-alive handler");
    rc = vsg_soap_current_time(s, &t, err);
    if (rc != VSG_OK) {
        if (rc != VSG_ERR_CANCELLED)
            VSG_LOG_WARN(LOGGER, "keep-alive failed: %s", err ? err->msg : vsg_strerror(rc));
        return rc;
    }
    if (vsg_time_format_rfc3339(t, VSG_TIME_NANO, ts, sizeof ts) == VSG_OK)
        VSG_LOG_DEBUG(LOGGER, "vCenter current time: %s", ts);
    return VSG_OK;
}

/*
 * kube/client.c - see client.h.
 */
#include "kube/client.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/mem.h"
#include "base/vtime.h"
#include "http/client.h"

/* Largest response body accepted (lists of big objects fit). */
#define MAX_BODY (64u * 1024 * 1024)
/* Largest URL built (server + path). */
#define MAX_URL (64u * 1024)

struct vsg_kube_client {
    struct vsg_http_client *http; /* The connection (pool) to the API server. */
    char *server;                 /* Base URL without trailing slash. */
    char *ns;                     /* Default namespace. */
    char *token;                  /* Current bearer token, or NULL. */
    char *token_file;             /* File to re-read the token from, or NULL. */
    struct stat token_st;         /* What token_file looked like when last read. */
    long last_status;             /* HTTP status of the last request. */
    struct vsg_kube_stats *stats; /* Counters to bump, or NULL. */
    char last_reason[64];         /* Status reason of the last failure, or "". */
    long timeout_ms;              /* Overrides the default when > 0 (set_timeout). */
};

/* ====================================================================
 * Life cycle
 * ==================================================================== */

struct vsg_kube_client *vsg_kube_client_new(const struct vsg_kube_config *cfg,
                                            struct vsg_error *err)
{
    struct vsg_kube_client *c = NULL;
    if (!cfg || !cfg->server) {
        vsg_error_set(err, VSG_ERR_INVAL, "kube client: no server configured");
        return NULL;
    }
    if (!(c = vsg_calloc(1, sizeof *c))) goto nomem;
    struct vsg_http_opts o = {
        .timeout_ms = VSG_KUBE_TIMEOUT_MS,
        .max_body = MAX_BODY,
        .insecure = cfg->insecure,
        .ca_file = cfg->ca_file,
        .ca_pem = cfg->ca_pem,
        .cert_file = cfg->cert_file,
        .key_file = cfg->key_file,
        .cert_pem = cfg->cert_pem,
        .key_pem = cfg->key_pem,
    };
    if (!(c->http = vsg_http_client_new(&o, err))) goto fail;
    if (!(c->server = vsg_strdup(cfg->server))) goto nomem;
    if (!(c->ns = vsg_strdup(cfg->ns ? cfg->ns : "default"))) goto nomem;
    if (cfg->token && !(c->token = vsg_strdup(cfg->token))) goto nomem;
    if (cfg->token_file) {
        if (!(c->token_file = vsg_strdup(cfg->token_file))) goto nomem;
        /* The loader just read it: remember its state, so the first request
         * does not read it again. */
        if (stat(c->token_file, &c->token_st) != 0) memset(&c->token_st, 0, sizeof c->token_st);
    }
    return c;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "kube client: out of memory");
fail:
    vsg_kube_client_free(c);
    return NULL;
}

void vsg_kube_client_set_timeout(struct vsg_kube_client *c, long timeout_ms)
{
    if (c) c->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

void vsg_kube_client_free(struct vsg_kube_client *c)
{
    if (!c) return;
    vsg_http_client_free(c->http);
    vsg_free(c->server);
    vsg_free(c->ns);
    vsg_free(c->token);
    vsg_free(c->token_file);
    vsg_free(c);
}

void vsg_kube_client_set_stats(struct vsg_kube_client *c, struct vsg_kube_stats *stats)
{
    c->stats = stats;
}

const char *vsg_kube_client_namespace(const struct vsg_kube_client *c)
{
    return c->ns;
}

const char *vsg_kube_client_server(const struct vsg_kube_client *c)
{
    return c->server;
}

const char *vsg_kube_last_reason(const struct vsg_kube_client *c)
{
    return c->last_reason;
}

long vsg_kube_last_status(const struct vsg_kube_client *c)
{
    return c->last_status;
}

/* ====================================================================
 * Token refresh
 * ==================================================================== */

/* Re-reads the token file when its inode, size or mtime changed (projected
 * service account tokens are rotated by swapping a symlink). A file that
 * cannot be read keeps the old token, as client-go does. */
static void refresh_token(struct vsg_kube_client *c)
{
    struct stat st;
    if (!c->token_file || stat(c->token_file, &st) != 0) return;
    if (st.st_ino == c->token_st.st_ino && st.st_size == c->token_st.st_size &&
        st.st_mtim.tv_sec == c->token_st.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == c->token_st.st_mtim.tv_nsec)
        return;
    FILE *f = fopen(c->token_file, "rb");
    if (!f) return;
    struct vsg_buf b;
    char chunk[4096];
    size_t n;
    int ok = 1;
    vsg_buf_init(&b, VSG_KUBE_CONFIG_MAX_FILE);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (vsg_buf_append(&b, chunk, n) != VSG_OK) {
            ok = 0;
            break;
        }
    if (ferror(f)) ok = 0;
    fclose(f);
    if (ok && b.len > 0) {
        const char *s = b.data;
        size_t len = b.len;
        while (len > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) s++, len--;
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\r' ||
                           s[len - 1] == '\t'))
            len--;
        char *tok = len ? vsg_strndup(s, len) : NULL;
        if (tok) {
            vsg_free(c->token);
            c->token = tok;
            c->token_st = st;
        }
    }
    vsg_buf_cleanup(&b);
}

/* ====================================================================
 * Requests
 * ==================================================================== */

/* The error code for a non-2xx HTTP status. */
static enum vsg_err map_status(long status)
{
    switch (status) {
    case 400: return VSG_ERR_INVAL;
    case 401: return VSG_ERR_UNAUTHORIZED;
    case 403: return VSG_ERR_FORBIDDEN;
    case 404: return VSG_ERR_NOTFOUND;
    case 408: return VSG_ERR_TIMEOUT;
    case 409: return VSG_ERR_CONFLICT;
    case 410: return VSG_ERR_GONE;
    case 422: return VSG_ERR_INVAL;
    case 429: return VSG_ERR_TRANSPORT;
    default: return status >= 500 ? VSG_ERR_TRANSPORT : VSG_ERR_HTTP;
    }
}

/* The string member `key` of `obj`, or NULL. */
static const char *str_member(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * Turns a failed response into `err`: the Status message (plus the causes
 * that it does not already mention) or the start of the body, and records
 * the Status reason.
 */
static enum vsg_err status_error(struct vsg_kube_client *c, const char *method, const char *path,
                                 const struct vsg_http_response *r, struct vsg_error *err)
{
    enum vsg_err code = map_status(r->status);
    cJSON *st = NULL;
    struct vsg_buf m;
    /* Kept whole here; the error keeps its start (a longer Status message, e.g. an
     * immutable pod template echoed back, would otherwise leave the message empty). */
    vsg_buf_init(&m, 64 * 1024);

    if (r->body.len > 0) st = cJSON_ParseWithLength(r->body.data, r->body.len);
    const char *kind = str_member(st, "kind");
    if (st && kind && strcmp(kind, "Status") == 0) {
        const char *reason = str_member(st, "reason");
        const char *msg = str_member(st, "message");
        if (reason) snprintf(c->last_reason, sizeof c->last_reason, "%s", reason);
        /* Each piece cut to what an error can hold anyway. */
        (void)vsg_buf_printf(&m, "%.*s", VSG_ERROR_MSG_MAX, msg ? msg : "");
        const cJSON *causes =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(st, "details"),
                                             "causes");
        const cJSON *cause;
        cJSON_ArrayForEach(cause, causes) {
            const char *cm = str_member(cause, "message");
            const char *cf = str_member(cause, "field");
            if (!cm || (msg && strstr(msg, cm))) continue;
            (void)vsg_buf_printf(&m, "%s%.*s%s%.*s", m.len ? "; " : "", VSG_ERROR_MSG_MAX, cf ? cf : "",
                                 cf ? ": " : "", VSG_ERROR_MSG_MAX, cm);
        }
    } else if (r->body.len > 0) {
        size_t n = r->body.len < 200 ? r->body.len : 200;
        (void)vsg_buf_append(&m, r->body.data, n);
    }
    vsg_error_set(err, code, "%s %s: %ld%s%s: %s", method, path, r->status,
                  c->last_reason[0] ? " " : "", c->last_reason, m.data ? m.data : "");
    vsg_buf_cleanup(&m);
    cJSON_Delete(st);
    return code;
}

/* A streamed body: forwarded to the caller's callback once the status is
 * known to be 2xx, kept in the response (for the error) otherwise. */
struct stream {
    vsg_http_body_fn fn;             /* The caller's callback. */
    void *ud;                        /* Its user data. */
    struct vsg_http_response *resp;  /* The response being received. */
};

static int stream_body(void *ud, const char *data, size_t len)
{
    struct stream *st = ud;
    if (st->resp->status >= 200 && st->resp->status <= 299) return st->fn(st->ud, data, len);
    /* An error Status is small; keep the start of it. */
    if (st->resp->body.len < 64 * 1024) (void)vsg_buf_append(&st->resp->body, data, len);
    return 0;
}

const double vsg_kube_latency_bounds[VSG_KUBE_LATENCY_BUCKETS] = {1e-05, 0.0001, 0.001, 0.01, 0.1, 1, 10, 100};

/* vsg_kube_request(), optionally streaming a 2xx body to `st`. */
static enum vsg_err do_request(struct vsg_kube_client *c, const struct vsg_kube_request *req,
                               struct stream *st, atomic_int *cancel, cJSON **out,
                               struct vsg_error *err)
{
    const char *method = req->method ? req->method : "GET";
    struct vsg_buf url, auth, ctype;
    struct vsg_http_response resp;
    char *body = NULL;
    const char *headers[5];
    size_t nh = 0;
    enum vsg_err rc;

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (out) *out = NULL;
    c->last_status = 0;
    c->last_reason[0] = '\0';
    vsg_buf_init(&url, MAX_URL);
    vsg_buf_init(&auth, VSG_KUBE_CONFIG_MAX_FILE + 64);
    vsg_buf_init(&ctype, 256);
    vsg_http_response_init(&resp);

    if (!req->path || req->path[0] != '/') {
        rc = vsg_error_set(err, VSG_ERR_INVAL, "kube: request path must start with '/'");
        goto done;
    }
    if ((rc = vsg_buf_printf(&url, "%s%s", c->server, req->path)) != VSG_OK) {
        vsg_error_set(err, rc, "kube: URL too long");
        goto done;
    }
    headers[nh++] = "Accept: application/json";
    refresh_token(c);
    if (c->token) {
        if ((rc = vsg_buf_printf(&auth, "Authorization: Bearer %s", c->token)) != VSG_OK) {
            vsg_error_set(err, rc, "kube: token too long");
            goto done;
        }
        headers[nh++] = auth.data;
    }
    if (req->body) {
        if (!(body = cJSON_PrintUnformatted(req->body))) {
            rc = vsg_error_set(err, VSG_ERR_NOMEM, "kube: out of memory");
            goto done;
        }
    }
    const char *payload = body ? body : req->body_str;
    if (payload) {
        rc = vsg_buf_printf(&ctype, "Content-Type: %s",
                            req->content_type ? req->content_type : VSG_KUBE_CT_JSON);
        if (rc != VSG_OK) {
            vsg_error_set(err, rc, "kube: content type too long");
            goto done;
        }
        headers[nh++] = ctype.data;
    }
    headers[nh] = NULL;

    struct vsg_http_request hr = {
        .method = method,
        .url = url.data,
        .headers = headers,
        .body = payload,
        .body_len = payload ? strlen(payload) : 0,
        .timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : c->timeout_ms,
        .cancel = cancel,
    };
    if (st) {
        st->resp = &resp;
        hr.on_body = stream_body;
        hr.on_body_ud = st;
    }
    rc = vsg_http_do(c->http, &hr, &resp, err);
    c->last_status = resp.status;
    if (rc != VSG_OK) goto done;
    if (resp.status < 200 || resp.status > 299) {
        rc = status_error(c, method, req->path, &resp, err);
        goto done;
    }
    if (out && resp.body.len > 0) {
        vsg_mem_cjson_reset();
        *out = cJSON_ParseWithLength(resp.body.data, resp.body.len);
        if (!*out && vsg_mem_cjson_failed()) {
            rc = vsg_error_set(err, VSG_ERR_NOMEM, "%s %s: out of memory", method, req->path);
            goto done;
        }
        if (!*out) {
            rc = vsg_error_set(err, VSG_ERR_PARSE, "%s %s: %ld: the response is not JSON", method,
                               req->path, resp.status);
            goto done;
        }
    }
done:
    if (c->stats) {
        atomic_fetch_add_explicit(&c->stats->requests, 1, memory_order_relaxed);
        if (rc != VSG_OK && rc < VSG_ERR__COUNT_)
            atomic_fetch_add_explicit(&c->stats->errors[rc], 1, memory_order_relaxed);
        if (!st) {
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            int64_t ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
            size_t b = 0;
            while (b < VSG_KUBE_LATENCY_BUCKETS && (double)ns / 1e9 > vsg_kube_latency_bounds[b]) b++;
            atomic_fetch_add_explicit(&c->stats->latency[b], 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&c->stats->latency_ns, (unsigned long long)(ns > 0 ? ns : 0),
                                      memory_order_relaxed);
        }
    }
    if (body) cJSON_free(body);
    /* The Authorization line holds the secret: wipe it before freeing. */
    if (auth.data) memset(auth.data, 0, auth.cap);
    vsg_buf_cleanup(&auth);
    vsg_buf_cleanup(&url);
    vsg_buf_cleanup(&ctype);
    vsg_http_response_cleanup(&resp);
    return rc;
}

enum vsg_err vsg_kube_request(struct vsg_kube_client *c, const struct vsg_kube_request *req,
                              cJSON **out, struct vsg_error *err)
{
    return do_request(c, req, NULL, NULL, out, err);
}

enum vsg_err vsg_kube_stream(struct vsg_kube_client *c, const char *path, long timeout_ms,
                             vsg_http_body_fn fn, void *ud, atomic_int *cancel,
                             struct vsg_error *err)
{
    struct vsg_kube_request r = {.method = "GET", .path = path, .timeout_ms = timeout_ms};
    struct stream st = {fn, ud, NULL};
    if (timeout_ms <= 0) r.timeout_ms = 365L * 24 * 3600 * 1000; /* "none" */
    return do_request(c, &r, &st, cancel, NULL, err);
}

enum vsg_err vsg_kube_get(struct vsg_kube_client *c, const char *path, cJSON **out,
                          struct vsg_error *err)
{
    struct vsg_kube_request r = {.method = "GET", .path = path};
    return vsg_kube_request(c, &r, out, err);
}

enum vsg_err vsg_kube_create(struct vsg_kube_client *c, const char *path, const cJSON *obj,
                             cJSON **out, struct vsg_error *err)
{
    struct vsg_kube_request r = {.method = "POST", .path = path, .body = obj};
    return vsg_kube_request(c, &r, out, err);
}

enum vsg_err vsg_kube_update(struct vsg_kube_client *c, const char *path, const cJSON *obj,
                             cJSON **out, struct vsg_error *err)
{
    struct vsg_kube_request r = {.method = "PUT", .path = path, .body = obj};
    return vsg_kube_request(c, &r, out, err);
}

enum vsg_err vsg_kube_patch(struct vsg_kube_client *c, const char *path,
                            const char *content_type, const char *patch, cJSON **out,
                            struct vsg_error *err)
{
    struct vsg_kube_request r = {
        .method = "PATCH", .path = path, .body_str = patch, .content_type = content_type};
    return vsg_kube_request(c, &r, out, err);
}

enum vsg_err vsg_kube_delete(struct vsg_kube_client *c, const char *path, struct vsg_error *err)
{
    struct vsg_kube_request r = {.method = "DELETE", .path = path};
    return vsg_kube_request(c, &r, NULL, err);
}

enum vsg_err vsg_kube_path(struct vsg_buf *out, const char *api_version, const char *ns,
                           const char *resource, const char *name, const char *sub)
{
    enum vsg_err rc;
    if (!api_version || !*api_version || !resource || !*resource) return VSG_ERR_INVAL;
    if ((ns && !*ns) || (name && !*name)) return VSG_ERR_INVAL;
    rc = vsg_buf_printf(out, "%s/%s", strchr(api_version, '/') ? "/apis" : "/api", api_version);
    if (rc == VSG_OK && ns) rc = vsg_buf_puts(out, "/namespaces/");
    if (rc == VSG_OK && ns) rc = vsg_http_escape(ns, out);
    if (rc == VSG_OK) rc = vsg_buf_printf(out, "/%s", resource);
    if (rc == VSG_OK && name) rc = vsg_buf_putc(out, '/');
    if (rc == VSG_OK && name) rc = vsg_http_escape(name, out);
    if (rc == VSG_OK && sub) rc = vsg_buf_printf(out, "/%s", sub);
    return rc;
}

/* ====================================================================
 * ConfigMaps
 * ==================================================================== */

/* Builds the ConfigMap path for ns (and name, may be NULL) into `b`. */
static enum vsg_err cm_path(struct vsg_buf *b, const char *ns, const char *name,
                            struct vsg_error *err)
{
    enum vsg_err rc = vsg_kube_path(b, "v1", ns, "configmaps", name, NULL);
    if (rc != VSG_OK)
        vsg_error_set(err, rc, "kube: bad ConfigMap path \"%s/%s\"", ns ? ns : "",
                      name ? name : "");
    return rc;
}

enum vsg_err vsg_kube_configmap_get(struct vsg_kube_client *c, const char *ns, const char *name,
                                    cJSON **out, struct vsg_error *err)
{
    struct vsg_buf p;
    vsg_buf_init(&p, MAX_URL);
    enum vsg_err rc = cm_path(&p, ns, name, err);
    if (rc == VSG_OK) rc = vsg_kube_get(c, p.data, out, err);
    vsg_buf_cleanup(&p);
    return rc;
}

/* A copy of `cm` with apiVersion v1 and kind ConfigMap filled in. */
static cJSON *cm_with_kind(const cJSON *cm)
{
    cJSON *o = cJSON_Duplicate(cm, 1);
    if (!o) return NULL;
    if (!cJSON_HasObjectItem(o, "apiVersion") && !cJSON_AddStringToObject(o, "apiVersion", "v1"))
        goto fail;
    if (!cJSON_HasObjectItem(o, "kind") && !cJSON_AddStringToObject(o, "kind", "ConfigMap"))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

enum vsg_err vsg_kube_configmap_create(struct vsg_kube_client *c, const char *ns, const cJSON *cm,
                                       cJSON **out, struct vsg_error *err)
{
    struct vsg_buf p;
    cJSON *o = NULL;
    enum vsg_err rc;
    if (out) *out = NULL;
    vsg_buf_init(&p, MAX_URL);
    if ((rc = cm_path(&p, ns, NULL, err)) != VSG_OK) goto done;
    if (!(o = cm_with_kind(cm))) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "kube: out of memory");
        goto done;
    }
    rc = vsg_kube_create(c, p.data, o, out, err);
done:
    cJSON_Delete(o);
    vsg_buf_cleanup(&p);
    return rc;
}

enum vsg_err vsg_kube_configmap_update(struct vsg_kube_client *c, const char *ns, const cJSON *cm,
                                       cJSON **out, struct vsg_error *err)
{
    struct vsg_buf p;
    cJSON *o = NULL;
    enum vsg_err rc;
    const char *name = str_member(cJSON_GetObjectItemCaseSensitive(cm, "metadata"), "name");
    if (out) *out = NULL;
    if (!name) return vsg_error_set(err, VSG_ERR_INVAL, "kube: ConfigMap update without metadata.name");
    vsg_buf_init(&p, MAX_URL);
    if ((rc = cm_path(&p, ns, name, err)) != VSG_OK) goto done;
    if (!(o = cm_with_kind(cm))) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "kube: out of memory");
        goto done;
    }
    rc = vsg_kube_update(c, p.data, o, out, err);
done:
    cJSON_Delete(o);
    vsg_buf_cleanup(&p);
    return rc;
}

/* ====================================================================
 * Events
 * ==================================================================== */

/*
 * Repeated Events are counted, not repeated (client-go's EventCorrelator):
 * an Event equal to one recorded in this process less than
 * VSG_KUBE_EVENT_SERIES_MS ago (same object, type, reason, message and
 * component) raises that Event's count and lastTimestamp with a merge
 * patch. The table is process-wide and small; the oldest entry makes room.
 */
#define SERIES_SLOTS 256

struct series {
    uint64_t hash;       /* Of the fields that make two Events the same; 0 = free. */
    char name[256];      /* The Event recorded. */
    char ns[64];         /* Its namespace (the hash may collide: compared too). */
    long count;          /* Its count so far. */
    int64_t last_ms;     /* Monotonic time of the last one. */
};

static struct series series_tab[SERIES_SLOTS];
static pthread_mutex_t series_mu = PTHREAD_MUTEX_INITIALIZER;

/* FNV-1a over the strings, each with its terminating NUL. */
static uint64_t event_hash(const struct vsg_kube_event *ev)
{
    const char *parts[] = {ev->ns, ev->api_version, ev->kind, ev->name, ev->uid, ev->type,
                           ev->reason, ev->message, ev->component};
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        const unsigned char *p = (const unsigned char *)(parts[i] ? parts[i] : "");
        do {
            h ^= *p;
            h *= 1099511628211u;
        } while (*p++);
    }
    return h ? h : 1;
}

/* The series an Event continues: copies its name and count, 1 when found. */
static int series_find(uint64_t h, const char *ns, int64_t now, char *name, size_t namesz, long *count)
{
    int found = 0;
    pthread_mutex_lock(&series_mu);
    for (size_t i = 0; i < SERIES_SLOTS; i++) {
        struct series *s = &series_tab[i];
        if (s->hash != h || strcmp(s->ns, ns) != 0) continue;
        if (now - s->last_ms < VSG_KUBE_EVENT_SERIES_MS) {
            snprintf(name, namesz, "%s", s->name);
            *count = s->count;
            found = 1;
        } else {
            s->hash = 0;
        }
        break;
    }
    pthread_mutex_unlock(&series_mu);
    return found;
}

/* Records that Event `name` now has `count`. */
static void series_put(uint64_t h, const char *ns, const char *name, long count, int64_t now)
{
    pthread_mutex_lock(&series_mu);
    struct series *slot = NULL, *oldest = &series_tab[0];
    for (size_t i = 0; i < SERIES_SLOTS && !slot; i++) {
        struct series *s = &series_tab[i];
        if (s->hash == h && strcmp(s->ns, ns) == 0) slot = s;
        else if (s->last_ms < oldest->last_ms) oldest = s;
    }
    if (!slot) slot = oldest;
    slot->hash = h;
    snprintf(slot->name, sizeof slot->name, "%s", name);
    snprintf(slot->ns, sizeof slot->ns, "%s", ns);
    slot->count = count;
    slot->last_ms = now;
    pthread_mutex_unlock(&series_mu);
}

/* Raises the count of Event ns/name to `count`, lastTimestamp `ts`. */
static enum vsg_err event_bump(struct vsg_kube_client *c, const char *ns, const char *name, long count,
                               const char *ts, struct vsg_error *err)
{
    struct vsg_buf p, body;
    vsg_buf_init(&p, MAX_URL);
    vsg_buf_init(&body, 256);
    enum vsg_err rc = vsg_kube_path(&p, "v1", ns, "events", name, NULL);
    if (rc == VSG_OK)
        rc = vsg_buf_printf(&body, "{\"count\":%ld,\"lastTimestamp\":\"%s\"}", count, ts);
    if (rc == VSG_OK)
        rc = vsg_kube_patch(c, p.data, VSG_KUBE_CT_MERGE_PATCH, body.data, NULL, err);
    else
        vsg_error_set(err, rc, "kube: cannot patch the event");
    vsg_buf_cleanup(&p);
    vsg_buf_cleanup(&body);
    return rc;
}

enum vsg_err vsg_kube_create_event(struct vsg_kube_client *c, const struct vsg_kube_event *ev,
                                   struct vsg_error *err)
{
    struct vsg_buf p, name;
    cJSON *o = NULL, *meta, *inv, *src;
    char ts[VSG_TIME_RFC3339_BUFSZ];
    enum vsg_err rc;
    struct vsg_time now = vsg_time_now();
    const char *comp = ev->component ? ev->component : "vsgate";

    vsg_buf_init(&p, MAX_URL);
    vsg_buf_init(&name, 512);
    if (!ev->ns || !*ev->ns || !ev->name || !*ev->name || !ev->kind || !ev->reason) {
        rc = vsg_error_set(err, VSG_ERR_INVAL,
                           "kube: an event needs the object's namespace, name and kind, and a reason");
        goto done;
    }
    if ((rc = vsg_kube_path(&p, "v1", ev->ns, "events", NULL, NULL)) != VSG_OK) {
        vsg_error_set(err, rc, "kube: bad event namespace");
        goto done;
    }
    /* The same Event again: its count goes up. */
    uint64_t h = event_hash(ev);
    int64_t mono = vsg_time_mono_ms();
    long count = 0;
    char prev[256];
    if (series_find(h, ev->ns, mono, prev, sizeof prev, &count) &&
        vsg_time_format_rfc3339(now, VSG_TIME_SECONDS, ts, sizeof ts) == VSG_OK) {
        rc = event_bump(c, ev->ns, prev, count + 1, ts, err);
        if (rc == VSG_OK) {
            series_put(h, ev->ns, prev, count + 1, mono);
            goto done;
        }
        if (rc != VSG_ERR_NOTFOUND) goto done; /* Gone (expired): a new one below. */
    }
    /* "<name>.<hex nanoseconds>", the name cut so the whole fits 253. */
    uint64_t ns = (uint64_t)now.sec * 1000000000u + (uint64_t)now.nsec;
    int nl = (int)strlen(ev->name);
    if (nl > 236) nl = 236;
    if ((rc = vsg_buf_printf(&name, "%.*s.%" PRIx64, nl, ev->name, ns)) != VSG_OK ||
        (rc = vsg_time_format_rfc3339(now, VSG_TIME_SECONDS, ts, sizeof ts)) != VSG_OK) {
        vsg_error_set(err, rc, "kube: cannot name the event");
        goto done;
    }
    rc = VSG_ERR_NOMEM;
    if (!(o = cJSON_CreateObject())) goto nomem;
    if (!cJSON_AddStringToObject(o, "apiVersion", "v1") ||
        !cJSON_AddStringToObject(o, "kind", "Event") ||
        !(meta = cJSON_AddObjectToObject(o, "metadata")) ||
        !cJSON_AddStringToObject(meta, "name", name.data) ||
        !cJSON_AddStringToObject(meta, "namespace", ev->ns) ||
        !(inv = cJSON_AddObjectToObject(o, "involvedObject")) ||
        !cJSON_AddStringToObject(inv, "apiVersion", ev->api_version ? ev->api_version : "v1") ||
        !cJSON_AddStringToObject(inv, "kind", ev->kind) ||
        !cJSON_AddStringToObject(inv, "namespace", ev->ns) ||
        !cJSON_AddStringToObject(inv, "name", ev->name) ||
        (ev->uid && !cJSON_AddStringToObject(inv, "uid", ev->uid)) ||
        !cJSON_AddStringToObject(o, "reason", ev->reason) ||
        !cJSON_AddStringToObject(o, "message", ev->message ? ev->message : "") ||
        !cJSON_AddStringToObject(o, "type", ev->type ? ev->type : "Normal") ||
        !(src = cJSON_AddObjectToObject(o, "source")) ||
        !cJSON_AddStringToObject(src, "component", comp) ||
        !cJSON_AddStringToObject(o, "reportingComponent", comp) ||
        !cJSON_AddStringToObject(o, "firstTimestamp", ts) ||
        !cJSON_AddStringToObject(o, "lastTimestamp", ts) || !cJSON_AddNumberToObject(o, "count", 1))
        goto nomem;
    rc = vsg_kube_create(c, p.data, o, NULL, err);
    if (rc == VSG_OK) series_put(h, ev->ns, name.data, 1, mono);
    goto done;
nomem:
    rc = vsg_error_set(err, VSG_ERR_NOMEM, "kube: out of memory");
done:
    cJSON_Delete(o);
    vsg_buf_cleanup(&p);
    vsg_buf_cleanup(&name);
    return rc;
}

/*
 * client/rest.c - libvsgate's vSphere Automation (REST) session, the way
 * govmomi's vapi/rest client does it: POST /rest/com/vmware/cis/session
 * with basic auth and `vmware-use-header-authn: true`, the id from
 * {"value":"<id>"} sent back as `vmware-api-session-id`; a 401 logs in
 * again once; DELETE on close. The session id and the Authorization header
 * are wiped after use and never appear in a message.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "base/buf.h"
#include "base/mem.h"
#include "client/env.h"
#include "client/internal.h"
#include "http/client.h"

#define SESSION_PATH "/rest/com/vmware/cis/session"
#define DEFAULT_TIMEOUT_MS 120000L
/* Largest session id accepted (vCenter's are 32 hex digits). */
#define ID_MAX 512

struct vsgate_rest {
    pthread_mutex_t mu;            /* Serialises every request. */
    struct vsg_http_client *http;  /* No cookies: the id goes in a header. */
    char *base;                    /* "https://vc.example.com[:port]". */
    char *username, *password;     /* For logging in again; wiped on free. */
    char *id;                      /* The session id, NULL when logged out. */
};

/* Standard base64 of `n` bytes into `out` (4 * ((n + 2) / 3) + 1 bytes). */
static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0u);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}

static void wipe_free(char *s)
{
    if (!s) return;
    vsg_client_wipe(s, strlen(s));
    vsg_free(s);
}

/* "https://host:port" from the cleaned SDK URL. */
static char *base_of(const char *sdk_url)
{
    char *s = NULL, *r = NULL;
    CURLU *u = curl_url();
    if (!u) return NULL;
    if (curl_url_set(u, CURLUPART_URL, sdk_url, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_PATH, "/", 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK && s) {
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '/') n--;
        r = vsg_strndup(s, n);
    }
    curl_free(s);
    curl_url_cleanup(u);
    return r;
}

/* The session id out of a login answer: {"value":"<id>"} (legacy /rest)
 * or a bare JSON string (/api). NULL when it is neither. */
static char *parse_id(const struct vsg_buf *body)
{
    char *id = NULL;
    cJSON *j = cJSON_ParseWithLength(body->data ? body->data : "", body->len);
    if (!j) return NULL;
    const cJSON *v = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "value") : j;
    if (cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) < ID_MAX &&
        !strpbrk(v->valuestring, "\r\n"))
        id = vsg_strdup(v->valuestring);
    cJSON_Delete(j);
    return id;
}

/* POSTs the login. `mu` held. Sets r->id. */
static vsgate_status login_locked(struct vsgate_rest *r, vsgate_error *err)
{
    struct vsg_http_response resp;
    struct vsg_error e = {0};
    struct vsg_buf cred, url;
    vsgate_status st = VSGATE_OK;
    char *auth = NULL;

    wipe_free(r->id);
    r->id = NULL;
    vsg_buf_init(&cred, 64 * 1024);
    vsg_buf_init(&url, 16 * 1024);
    vsg_http_response_init(&resp);
    if (vsg_buf_printf(&cred, "%s:%s", r->username, r->password) != VSG_OK ||
        vsg_buf_printf(&url, "%s" SESSION_PATH, r->base) != VSG_OK ||
        !(auth = vsg_malloc(sizeof "Authorization: Basic " + 4 * ((cred.len + 2) / 3) + 1))) {
        st = vsg_client_fail(err, VSGATE_ENOMEM, NULL, NULL, 0);
        goto out;
    }
    strcpy(auth, "Authorization: Basic ");
    base64((const unsigned char *)cred.data, cred.len, auth + strlen(auth));
    const char *hdrs[] = {auth, "vmware-use-header-authn: true", "Accept: application/json",
                          "Content-Type: application/json", NULL};
    struct vsg_http_request req = {.method = "POST", .url = url.data, .headers = hdrs,
                                   .body = "", .body_len = 0};
    enum vsg_err rc = vsg_http_do(r->http, &req, &resp, &e);
    if (rc != VSG_OK) {
        vsg_error_set(&e, rc, "REST login: %s", e.msg);
        st = vsg_client_fail(err, vsg_client_status(rc), &e, NULL, 0);
        goto out;
    }
    if (resp.status == 401 || resp.status == 403) {
        vsg_error_set(&e, VSG_ERR_UNAUTHORIZED,
                      "REST login to %s: HTTP %ld: the user name or password was rejected",
                      r->base, resp.status);
        st = vsg_client_fail(err, VSGATE_ELOGIN, &e, NULL, resp.status);
        goto out;
    }
    if (resp.status < 200 || resp.status > 299) {
        vsg_error_set(&e, VSG_ERR_HTTP, "REST login: POST %s: HTTP %ld%s", url.data,
                      resp.status,
                      resp.status == 404 ? " (no vSphere Automation API at this address)" : "");
        st = vsg_client_fail(err, VSGATE_EHTTP, &e, NULL, resp.status);
        goto out;
    }
    if (!(r->id = parse_id(&resp.body))) {
        vsg_error_set(&e, VSG_ERR_PARSE, "REST login: POST %s: no session id in the answer",
                      url.data);
        st = vsg_client_fail(err, VSGATE_EPROTO, &e, NULL, resp.status);
        goto out;
    }
out:
    if (resp.body.data) vsg_client_wipe(resp.body.data, resp.body.len);
    vsg_http_response_cleanup(&resp);
    if (cred.data) vsg_client_wipe(cred.data, cred.len);
    vsg_buf_cleanup(&cred);
    vsg_buf_cleanup(&url);
    wipe_free(auth);
    return st;
}

static void rest_free(struct vsgate_rest *r)
{
    if (!r) return;
    vsg_http_client_free(r->http);
    vsg_free(r->base);
    wipe_free(r->username);
    wipe_free(r->password);
    wipe_free(r->id);
    pthread_mutex_destroy(&r->mu);
    vsg_free(r);
}

VSGATE_API vsgate_rest *vsgate_rest_session_from_env(const vsgate_options *opts,
                                                     vsgate_error *err)
{
    static const vsgate_options none;
    struct vsg_client_env env;
    struct vsg_error e = {0};
    struct vsgate_rest *r = NULL;
    enum vsg_err rc;
    char ua[64];

    if (!opts) opts = &none;
    if (vsg_client_global_init(err) != VSGATE_OK) return NULL;
    if ((rc = vsg_client_env_read(opts->secret_path, &env, &e)) != VSG_OK) {
        vsg_client_fail(err, rc == VSG_ERR_NOMEM ? VSGATE_ENOMEM : VSGATE_ECONFIG, &e, NULL, 0);
        return NULL;
    }
    if (!(r = vsg_calloc(1, sizeof *r))) {
        vsg_client_env_cleanup(&env);
        vsg_client_fail(err, VSGATE_ENOMEM, NULL, NULL, 0);
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    snprintf(ua, sizeof ua, "libvsgate/%s", vsgate_version());
    struct vsg_http_opts ho = {
        .timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS,
        .user_agent = opts->user_agent ? opts->user_agent : ua,
        .insecure = env.insecure,
        .extra_ca_pem = env.ca_pem,
    };
    r->base = base_of(env.url);
    r->username = env.username;
    r->password = env.password;
    env.username = env.password = NULL;
    /* The client copies ho.extra_ca_pem (env.ca_pem). */
    if (r->base && !(r->http = vsg_http_client_new(&ho, &e)))
        vsg_client_fail(err, vsg_client_status(e.code), &e, NULL, 0);
    vsg_client_env_cleanup(&env);
    if (!r->base) {
        vsg_error_set(&e, VSG_ERR_NOMEM, "REST: cannot derive the base URL");
        vsg_client_fail(err, VSGATE_ENOMEM, &e, NULL, 0);
        goto fail;
    }
    if (!r->http) goto fail;
    if (login_locked(r, err) != VSGATE_OK) goto fail;
    vsg_client_ok(err);
    return r;
fail:
    rest_free(r);
    return NULL;
}

/* One request with the session header. `mu` held. */
static enum vsg_err send_locked(struct vsgate_rest *r, const char *method, const char *url,
                                const char *json_body, struct vsg_http_response *resp,
                                struct vsg_error *e)
{
    char idh[ID_MAX + 32];
    const char *hdrs[4] = {idh, "Accept: application/json", NULL, NULL};
    if (json_body) hdrs[2] = "Content-Type: application/json";
    snprintf(idh, sizeof idh, "vmware-api-session-id: %s", r->id ? r->id : "");
    struct vsg_http_request req = {.method = method, .url = url, .headers = hdrs,
                                   .body = json_body,
                                   .body_len = json_body ? strlen(json_body) : 0};
    enum vsg_err rc = vsg_http_do(r->http, &req, resp, e);
    vsg_client_wipe(idh, sizeof idh);
    return rc;
}

VSGATE_API vsgate_status vsgate_rest_request(vsgate_rest *r, const char *method,
                                             const char *path, const char *json_body,
                                             long *http_status, char **body,
                                             vsgate_error *err)
{
    struct vsg_http_response resp;
    struct vsg_error e = {0};
    struct vsg_buf url;
    vsgate_status st = VSGATE_OK;
    enum vsg_err rc;

    if (http_status) *http_status = 0;
    if (body) *body = NULL;
    if (!r || !method || !*method || !path || path[0] != '/' || strpbrk(path, " \r\n") ||
        strpbrk(method, " \r\n")) {
        vsg_error_set(&e, VSG_ERR_INVAL, "vsgate_rest_request: need a method and a path "
                                         "starting with '/' (no spaces)");
        return vsg_client_fail(err, VSGATE_EINVAL, &e, NULL, 0);
    }
    vsg_buf_init(&url, 64 * 1024);
    vsg_http_response_init(&resp);
    if (vsg_buf_printf(&url, "%s%s", r->base, path) != VSG_OK) {
        vsg_buf_cleanup(&url);
        return vsg_client_fail(err, VSGATE_ENOMEM, NULL, NULL, 0);
    }
    pthread_mutex_lock(&r->mu);
    if (!r->id) st = login_locked(r, err);
    if (st == VSGATE_OK) {
        rc = send_locked(r, method, url.data, json_body, &resp, &e);
        if (rc == VSG_OK && resp.status == 401) {
            /* Expired or deleted: log in again, repeat once. */
            if ((st = login_locked(r, err)) == VSGATE_OK)
                rc = send_locked(r, method, url.data, json_body, &resp, &e);
        }
        if (st == VSGATE_OK && rc != VSG_OK)
            st = vsg_client_fail(err, vsg_client_status(rc), &e, NULL, 0);
    }
    pthread_mutex_unlock(&r->mu);
    if (st == VSGATE_OK) {
        if (http_status) *http_status = resp.status;
        if (body && !(*body = vsg_buf_steal(&resp.body)))
            st = vsg_client_fail(err, VSGATE_ENOMEM, NULL, NULL, 0);
        else
            vsg_client_ok(err);
    }
    vsg_http_response_cleanup(&resp);
    vsg_buf_cleanup(&url);
    return st;
}

VSGATE_API vsgate_status vsgate_rest_get(vsgate_rest *r, const char *path, char **body,
                                         vsgate_error *err)
{
    long status = 0;
    char *b = NULL;
    if (body) *body = NULL;
    vsgate_status st = vsgate_rest_request(r, "GET", path, NULL, &status, &b, err);
    if (st != VSGATE_OK) return st;
    if (status < 200 || status > 299) {
        struct vsg_error e;
        vsg_error_set(&e, VSG_ERR_HTTP, "GET %s%s: HTTP %ld", r->base, path, status);
        vsg_free(b);
        return vsg_client_fail(err, VSGATE_EHTTP, &e, NULL, status);
    }
    if (body) *body = b;
    else vsg_free(b);
    return VSGATE_OK;
}

VSGATE_API const char *vsgate_rest_url(const vsgate_rest *r)
{
    return r ? r->base : "";
}

VSGATE_API void vsgate_rest_close(vsgate_rest *r)
{
    if (!r) return;
    pthread_mutex_lock(&r->mu);
    if (r->id) {
        struct vsg_http_response resp;
        struct vsg_error ignored;
        struct vsg_buf url;
        vsg_buf_init(&url, 16 * 1024);
        vsg_http_response_init(&resp);
        if (vsg_buf_printf(&url, "%s" SESSION_PATH, r->base) == VSG_OK)
            send_locked(r, "DELETE", url.data, NULL, &resp, &ignored);
        vsg_http_response_cleanup(&resp);
        vsg_buf_cleanup(&url);
    }
    pthread_mutex_unlock(&r->mu);
    rest_free(r);
}

/*
 * cmd/util.c - see util.h.
 */
#include "cmd/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/url.h"
#include "soap/session.h"

char *vsg_read_file(const char *path, size_t max, size_t *len, struct vsg_error *err)
{
    struct vsg_buf b;
    char chunk[8192];
    FILE *f = fopen(path, "rb");
    if (!f) {
        vsg_error_set(err, VSG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    vsg_buf_init(&b, max);
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        enum vsg_err rc = vsg_buf_append(&b, chunk, n);
        if (rc != VSG_OK) {
            vsg_error_set(err, rc, "%s: %s", path,
                          rc == VSG_ERR_TOOBIG ? "file too large" : "out of memory");
            fclose(f);
            vsg_buf_cleanup(&b);
            return NULL;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        vsg_error_set(err, VSG_ERR_IO, "cannot read %s", path);
        vsg_buf_cleanup(&b);
        return NULL;
    }
    if (len) *len = b.len;
    return vsg_buf_steal(&b);
}

#define SECRET_MAX (64u * 1024)

enum vsg_err vsg_read_credentials(const char *secret_path, const char *username,
                                  const char *password_file, char **user, char **pass,
                                  struct vsg_error *err)
{
    char *path = NULL;
    enum vsg_err rc = VSG_OK;
    *user = *pass = NULL;
    if (secret_path) {
        size_t n = strlen(secret_path) + sizeof "/username";
        if (!(path = vsg_malloc(n))) { rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory"); goto fail; }
        snprintf(path, n, "%s/username", secret_path);
        if (!(*user = vsg_read_file(path, SECRET_MAX, NULL, err))) { rc = err ? err->code : VSG_ERR_IO; goto fail; }
        snprintf(path, n, "%s/password", secret_path);
        if (!(*pass = vsg_read_file(path, SECRET_MAX, NULL, err))) { rc = err ? err->code : VSG_ERR_IO; goto fail; }
    } else {
        if (!username || !password_file) {
            rc = vsg_error_set(err, VSG_ERR_INVAL,
                               "credentials: give --secret-path, or --username and --password-file");
            goto fail;
        }
        if (!(*user = vsg_strdup(username))) { rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory"); goto fail; }
        if (!(*pass = vsg_read_file(password_file, SECRET_MAX, NULL, err))) { rc = err ? err->code : VSG_ERR_IO; goto fail; }
    }
    vsg_free(path);
    return VSG_OK;
fail:
    vsg_free(path);
    vsg_free(*user);
    if (*pass) memset(*pass, 0, strlen(*pass));
    vsg_free(*pass);
    *user = *pass = NULL;
    return rc;
}

enum vsg_err vsg_parse_bool(const char *s, int *out)
{
    static const char *yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcmp(s, yes[i]) == 0) { *out = 1; return VSG_OK; }
        if (strcmp(s, no[i]) == 0) { *out = 0; return VSG_OK; }
    }
    return VSG_ERR_INVAL;
}

enum vsg_err vsg_parse_int(const char *setting, const char *s, long long min, long long max,
                           const char *what, long long *out, struct vsg_error *err)
{
    char *end;
    long long v;

    errno = 0;
    v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || errno == ERANGE || v < min || v > max)
        return vsg_error_set(err, VSG_ERR_INVAL, "%s: must be %s from %lld to %lld, got \"%s\"", setting,
                             what, min, max, s ? s : "");
    *out = v;
    return VSG_OK;
}

/* `url` for a message: quoted and redacted; not at all when it has no
 * "scheme://" but an '@' (vsg_url_redact would not see its user info). */
static const char *shown(const char *url, char *buf, size_t n)
{
    if (!strstr(url, "://") && strchr(url, '@')) return "(not shown: it may hold credentials)";
    buf[0] = '"';
    size_t len = vsg_url_redact(url, buf + 1, n - 2);
    if (len > n - 3) len = n - 3;
    buf[len + 1] = '"';
    buf[len + 2] = '\0';
    return buf;
}

/* Checks the scheme (http or https) and the host of the parsed `u`. */
static enum vsg_err check_parsed(CURLU *u, const char *setting, const char *kind, const char *text,
                                 struct vsg_error *err)
{
    char *scheme = NULL, *host = NULL, buf[256];
    enum vsg_err rc = VSG_OK;

    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    if (!scheme || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        rc = vsg_error_set(err, VSG_ERR_INVAL, "%s: %s must be http:// or https://, got %s", setting,
                           kind, shown(text, buf, sizeof buf));
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host)
        rc = vsg_error_set(err, VSG_ERR_INVAL, "%s: %s has no host: %s", setting, kind,
                           shown(text, buf, sizeof buf));
    curl_free(scheme);
    curl_free(host);
    return rc;
}

enum vsg_err vsg_check_http_url(const char *setting, const char *url, struct vsg_error *err)
{
    char buf[256];
    enum vsg_err rc;
    CURLUcode uc;
    CURLU *u;
    const char *sep = url ? strstr(url, "://") : NULL;

    if (!url || !*url) return vsg_error_set(err, VSG_ERR_INVAL, "%s: the URL is empty", setting);
    if (!(u = curl_url())) return vsg_error_set(err, VSG_ERR_NOMEM, "%s: out of memory", setting);
    uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK)
        rc = vsg_error_set(err, VSG_ERR_INVAL, "%s: not an http:// or https:// URL: %s (%s)", setting,
                           shown(url, buf, sizeof buf), curl_url_strerror(uc));
    else if ((rc = check_parsed(u, setting, "the URL", url, err)) != VSG_OK)
        ;
    /* libcurl reads "http:/h" and "http:///h" as host h: want "scheme://host". */
    else if (!sep || sep[3] == '/' || strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                  "0123456789+-.") != (size_t)(sep - url))
        rc = vsg_error_set(err, VSG_ERR_INVAL, "%s: not an http:// or https:// URL with a host: %s",
                           setting, shown(url, buf, sizeof buf));
    curl_url_cleanup(u);
    return rc;
}

enum vsg_err vsg_check_vcenter_url(const char *setting, const char *url, struct vsg_error *err)
{
    struct vsg_error e = {0};
    char *clean = NULL, buf[256];
    enum vsg_err rc;
    CURLU *u = NULL;

    if (!url || !*url) return vsg_error_set(err, VSG_ERR_INVAL, "%s: the vCenter URL is empty", setting);
    if (vsg_soap_clean_url(url, &clean, &e) != VSG_OK)
        return vsg_error_set(err, e.code == VSG_ERR_NOMEM ? VSG_ERR_NOMEM : VSG_ERR_INVAL,
                             "%s: not a vCenter URL: %s (%s)", setting, shown(url, buf, sizeof buf),
                             e.msg);
    /* The cleaned URL has no user info left; it parses (clean_url did). */
    if (!(u = curl_url()) || curl_url_set(u, CURLUPART_URL, clean, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "%s: out of memory", setting);
    else
        rc = check_parsed(u, setting, "the vCenter URL", clean, err);
    if (u) curl_url_cleanup(u);
    vsg_free(clean);
    return rc;
}

enum vsg_err vsg_check_pem_certs(const char *setting, const char *pem, size_t len, const char *what,
                                 struct vsg_error *err)
{
    int n = 0;
    X509 *x;
    BIO *bio;

    if (len > INT_MAX) return vsg_error_set(err, VSG_ERR_INVAL, "%s: too large", setting);
    if (!(bio = BIO_new_mem_buf(pem, (int)len))) return vsg_error_set(err, VSG_ERR_NOMEM, "%s: out of memory", setting);
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        n++;
        X509_free(x);
    }
    BIO_free(bio);
    ERR_clear_error(); /* The expected "no start line" at the end, or the bad block. */
    if (n == 0)
        return vsg_error_set(err, VSG_ERR_INVAL, "%s: %s%sholds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                             setting, what ? what : "", what ? " " : "");
    return VSG_OK;
}

enum vsg_err vsg_check_ca_file(const char *setting, const char *path, char **pem, struct vsg_error *err)
{
    struct vsg_error e = {0};
    size_t len = 0;
    enum vsg_err rc;
    char *text = vsg_read_file(path, 1u << 20, &len, &e);

    if (pem) *pem = NULL;
    if (!text) return vsg_error_set(err, e.code, "%s: %s", setting, e.msg);
    rc = vsg_check_pem_certs(setting, text, len, path, err);
    if (rc == VSG_OK && pem) *pem = text;
    else vsg_free(text);
    return rc;
}

int vsg_log_level_from_json(const char *json, const char *component)
{
    cJSON *root = json && *json ? cJSON_Parse(json) : NULL;
    int set = 0;
    if (!root) return 0;
    /* loglevel.<name> for each comma-separated name, in order. */
    for (const char *c = component; *c && !set;) {
        size_t n = strcspn(c, ",");
        char key[128];
        snprintf(key, sizeof key, "loglevel.%.*s", (int)n, c);
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(root, key);
        if (cJSON_IsString(lv) && vsg_log_set_level_from_string(lv->valuestring) == VSG_OK) set = 1;
        c += n + (c[n] == ',');
    }
    if (!set) {
        const cJSON *zc = cJSON_GetObjectItemCaseSensitive(root, "zap-logger-config");
        cJSON *z = cJSON_IsString(zc) ? cJSON_Parse(zc->valuestring) : NULL;
        const cJSON *level = z ? cJSON_GetObjectItemCaseSensitive(z, "level") : NULL;
        if (cJSON_IsString(level) && vsg_log_set_level_from_string(level->valuestring) == VSG_OK) set = 1;
        cJSON_Delete(z);
    }
    cJSON_Delete(root);
    return set;
}

void vsg_log_level_from_env(const char *component)
{
    const char *v = getenv("VSG_LOG_LEVEL");
    if (v && *v) {
        if (vsg_log_set_level_from_string(v) != VSG_OK)
            VSG_LOG_WARN("vsgate", "ignoring VSG_LOG_LEVEL=%s: unknown level", v);
        return;
    }
    const char *lc = getenv("K_LOGGING_CONFIG");
    if (!lc || !*lc) return;
    cJSON *root = cJSON_Parse(lc);
    if (!root) {
        VSG_LOG_WARN("vsgate", "ignoring K_LOGGING_CONFIG: not JSON");
        return;
    }
    cJSON_Delete(root);
    (void)vsg_log_level_from_json(lc, component);
}

enum vsg_err vsg_parse_header_encoding(const char *setting, const char *value, int *percent,
                                       struct vsg_error *err)
{
    if (!value || !*value || strcmp(value, "raw") == 0) {
        *percent = 0;
        return VSG_OK;
    }
    if (strcmp(value, "percent") == 0) {
        *percent = 1;
        return VSG_OK;
    }
    return vsg_error_set(err, VSG_ERR_INVAL, "%s must be raw or percent, not \"%.64s\"", setting, value);
}

enum vsg_err vsg_parse_tracing_config(const char *json, double *rate, struct vsg_error *err)
{
    *rate = 0;
    if (!json || !*json) return VSG_OK;
    cJSON *root = cJSON_Parse(json);
    enum vsg_err rc = VSG_OK;
    if (!cJSON_IsObject(root)) {
        rc = vsg_error_set(err, VSG_ERR_INVAL, "K_TRACING_CONFIG is not a JSON object");
        goto done;
    }
    const char *backend = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "backend"));
    const char *debug = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "debug"));
    const char *sr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "sample-rate"));
    if (!backend || !*backend || strcmp(backend, "none") == 0) goto done;
    if (debug && strcmp(debug, "true") == 0) {
        *rate = 1;
        goto done;
    }
    if (sr && *sr) {
        char *end;
        errno = 0;
        double v = strtod(sr, &end);
        if (errno || *end || !(v >= 0 && v <= 1)) {
            rc = vsg_error_set(err, VSG_ERR_INVAL, "K_TRACING_CONFIG: sample-rate must be a number from 0 to 1, not \"%.32s\"", sr);
            goto done;
        }
        *rate = v;
    }
done:
    cJSON_Delete(root);
    return rc;
}

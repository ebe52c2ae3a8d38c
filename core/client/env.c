/*
 * client/env.c - see env.h.
 */
#include "client/env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "soap/session.h"

void vsg_client_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--) *v++ = 0;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Go's strconv.ParseBool. */
static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (strcmp(s, yes[i]) == 0) { *out = 1; return 0; }
        if (strcmp(s, no[i]) == 0) { *out = 0; return 0; }
    }
    return -1;
}

/*
 * Reads `path` verbatim into *out. VSG_ERR_NOTFOUND (no message) when it
 * does not exist; other failures set `err`.
 */
static enum vsg_err read_file(const char *path, char **out, struct vsg_error *err)
{
    struct vsg_buf b;
    char chunk[4096];
    size_t n;
    enum vsg_err rc = VSG_OK;

    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return VSG_ERR_NOTFOUND;
        return vsg_error_set(err, VSG_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }
    vsg_buf_init(&b, VSG_CLIENT_FILE_MAX);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        rc = vsg_buf_append(&b, chunk, n);
        if (rc != VSG_OK) {
            vsg_error_set(err, rc, "%s: %s", path,
                          rc == VSG_ERR_TOOBIG ? "file too large" : "out of memory");
            break;
        }
    }
    if (rc == VSG_OK && ferror(f)) rc = vsg_error_set(err, VSG_ERR_IO, "cannot read %s", path);
    fclose(f);
    vsg_client_wipe(chunk, sizeof chunk);
    if (rc == VSG_OK && memchr(b.data ? b.data : "", '\0', b.len) != NULL)
        rc = vsg_error_set(err, VSG_ERR_INVAL, "%s contains a NUL byte", path);
    if (rc == VSG_OK && !(*out = vsg_buf_steal(&b)))
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "%s: out of memory", path);
    if (b.data) vsg_client_wipe(b.data, b.cap);
    vsg_buf_cleanup(&b);
    return rc;
}

/* One credential: <dir>/<key>, else the env var `var`. */
static enum vsg_err read_cred(const char *dir, const char *key, const char *var, char **out,
                              enum vsg_client_src *src, struct vsg_error *err)
{
    struct vsg_buf path;
    enum vsg_err rc;

    vsg_buf_init(&path, 8192);
    if (vsg_buf_printf(&path, "%s/%s", dir, key) != VSG_OK)
        return vsg_error_set(err, VSG_ERR_INVAL, "VC_SECRET_PATH is too long");
    rc = read_file(path.data, out, err);
    if (rc == VSG_OK) {
        *src = VSG_CLIENT_SRC_FILE;
        if (**out == '\0')
            rc = vsg_error_set(err, VSG_ERR_INVAL, "the %s in %s is empty", key, path.data);
    } else if (rc == VSG_ERR_NOTFOUND) {
        const char *v = env(var);
        if (!v) {
            rc = vsg_error_set(err, VSG_ERR_INVAL,
                               "no vCenter %s: %s does not exist and %s is not set",
                               key, path.data, var);
        } else if (!(*out = vsg_strdup(v))) {
            rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
        } else {
            *src = VSG_CLIENT_SRC_ENV;
            rc = VSG_OK;
        }
    }
    vsg_buf_cleanup(&path);
    return rc;
}

/* VC_CA_CERTS: PEM text, or a file holding it. */
static enum vsg_err read_ca(const char *v, char **out, struct vsg_error *err)
{
    enum vsg_err rc;
    if (strstr(v, "-----BEGIN") != NULL) {
        if (!(*out = vsg_strdup(v))) return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
    } else {
        rc = read_file(v, out, err);
        if (rc == VSG_ERR_NOTFOUND)
            return vsg_error_set(err, VSG_ERR_INVAL,
                                 "VC_CA_CERTS is neither PEM text nor an existing file");
        if (rc != VSG_OK) return vsg_error_set(err, rc, "VC_CA_CERTS: %s", err ? err->msg : "");
    }
    if (strstr(*out, "-----BEGIN CERTIFICATE-----") == NULL) {
        vsg_free(*out);
        *out = NULL;
        return vsg_error_set(err, VSG_ERR_INVAL, "VC_CA_CERTS holds no PEM certificate");
    }
    return VSG_OK;
}

enum vsg_err vsg_client_env_read(const char *secret_path, struct vsg_client_env *out,
                                 struct vsg_error *err)
{
    enum vsg_err rc;
    const char *v;

    memset(out, 0, sizeof *out);
    if (!(v = env("VC_URL"))) {
        rc = vsg_error_set(err, VSG_ERR_INVAL, "VC_URL is required");
        goto fail;
    }
    /* clean_url's messages never echo the URL (it may hold credentials). */
    if ((rc = vsg_soap_clean_url(v, &out->url, err)) != VSG_OK) {
        vsg_error_set(err, rc, "VC_URL: %s", err ? err->msg : "invalid");
        goto fail;
    }
    if ((v = env("VC_INSECURE")) && parse_bool(v, &out->insecure) != 0) {
        /* Go's ParseBool error names the value; it is not a secret. */
        rc = vsg_error_set(err, VSG_ERR_INVAL, "VC_INSECURE: invalid boolean \"%.40s\"", v);
        goto fail;
    }
    if (secret_path && *secret_path) v = secret_path;
    else if (!(v = env("VC_SECRET_PATH"))) v = VSG_CLIENT_SECRET_PATH;
    if (!(out->secret_path = vsg_strdup(v))) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = read_cred(out->secret_path, "username", "VC_USERNAME", &out->username,
                        &out->username_src, err)) != VSG_OK ||
        (rc = read_cred(out->secret_path, "password", "VC_PASSWORD", &out->password,
                        &out->password_src, err)) != VSG_OK)
        goto fail;
    if ((v = env("VC_CA_CERTS")) && (rc = read_ca(v, &out->ca_pem, err)) != VSG_OK) goto fail;
    return VSG_OK;
fail:
    vsg_client_env_cleanup(out);
    return rc;
}

static void wipe_free(char *s)
{
    if (!s) return;
    vsg_client_wipe(s, strlen(s));
    vsg_free(s);
}

void vsg_client_env_cleanup(struct vsg_client_env *e)
{
    if (!e) return;
    vsg_free(e->url);
    vsg_free(e->secret_path);
    wipe_free(e->username);
    wipe_free(e->password);
    vsg_free(e->ca_pem);
    memset(e, 0, sizeof *e);
}

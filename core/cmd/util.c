/*
 * cmd/util.c - see util.h.
 */
#include "cmd/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

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
    char key[128];
    snprintf(key, sizeof key, "loglevel.%s", component);
    const cJSON *lv = cJSON_GetObjectItemCaseSensitive(root, key);
    if (cJSON_IsString(lv) && vsg_log_set_level_from_string(lv->valuestring) == VSG_OK) {
        cJSON_Delete(root);
        return;
    }
    const cJSON *zc = cJSON_GetObjectItemCaseSensitive(root, "zap-logger-config");
    if (cJSON_IsString(zc)) {
        cJSON *z = cJSON_Parse(zc->valuestring);
        const cJSON *level = z ? cJSON_GetObjectItemCaseSensitive(z, "level") : NULL;
        if (cJSON_IsString(level)) vsg_log_set_level_from_string(level->valuestring);
        cJSON_Delete(z);
    }
    cJSON_Delete(root);
}

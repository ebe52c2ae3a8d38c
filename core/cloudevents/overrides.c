/*
 * cloudevents/overrides.c - see overrides.h.
 */
#include "cloudevents/overrides.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "base/mem.h"

void vsg_ce_overrides_init(struct vsg_ce_overrides *o)
{
    memset(o, 0, sizeof *o);
}

void vsg_ce_overrides_cleanup(struct vsg_ce_overrides *o)
{
    if (!o) return;
    for (size_t i = 0; i < o->n_ext; i++) {
        vsg_free(o->ext[i].name);
        vsg_free(o->ext[i].value);
    }
    vsg_free(o->ext);
    vsg_ce_overrides_init(o);
}

static int blank(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return 0;
    return 1;
}

enum vsg_err vsg_ce_overrides_parse(const char *json, struct vsg_ce_overrides *o,
                                    struct vsg_error *err)
{
    struct vsg_ce_overrides n;
    cJSON *root = NULL, *exts, *it;
    enum vsg_err rc = VSG_OK;
    size_t count = 0;

    vsg_ce_overrides_init(&n);
    if (blank(json)) goto done;
    vsg_mem_cjson_reset();
    root = cJSON_Parse(json);
    if (!root && vsg_mem_cjson_failed()) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!root) {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "K_CE_OVERRIDES is not valid JSON near \"%.20s\"",
                           cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
        goto fail;
    }
    if (cJSON_IsNull(root)) goto done;
    if (!cJSON_IsObject(root)) {
        rc = vsg_error_set(err, VSG_ERR_PARSE,
                           "K_CE_OVERRIDES must be a JSON object like {\"extensions\":{...}}");
        goto fail;
    }
    exts = cJSON_GetObjectItemCaseSensitive(root, "extensions");
    if (!exts || cJSON_IsNull(exts)) goto done;
    if (!cJSON_IsObject(exts)) {
        rc = vsg_error_set(err, VSG_ERR_PARSE,
                           "K_CE_OVERRIDES: \"extensions\" must be an object of strings");
        goto fail;
    }
    cJSON_ArrayForEach(it, exts) count++;
    if (count && !(n.ext = vsg_calloc(count, sizeof *n.ext))) goto nomem;
    cJSON_ArrayForEach(it, exts) {
        const char *name = it->string ? it->string : "";
        size_t j;
        if (!vsg_ce_attr_name_valid(name)) {
            rc = vsg_error_set(err, VSG_ERR_INVAL,
                               "K_CE_OVERRIDES: invalid extension name \"%s\": names must be one "
                               "or more lower-case letters a-z or digits 0-9",
                               name);
            goto fail;
        }
        if (strlen(name) > VSG_CE_NAME_RECOMMENDED_MAX) {
            rc = vsg_error_set(err, VSG_ERR_INVAL,
                               "K_CE_OVERRIDES: invalid extension name \"%s\": longer than %d "
                               "characters",
                               name, VSG_CE_NAME_RECOMMENDED_MAX);
            goto fail;
        }
        if (vsg_ce_attr_reserved(name)) {
            rc = vsg_error_set(err, VSG_ERR_INVAL,
                               "K_CE_OVERRIDES: extension name \"%s\" is a reserved CloudEvents "
                               "attribute",
                               name);
            goto fail;
        }
        if (!cJSON_IsString(it)) {
            rc = vsg_error_set(err, VSG_ERR_INVAL,
                               "K_CE_OVERRIDES: extension \"%s\" must have a string value", name);
            goto fail;
        }
        /* A repeated key: the last one wins, as in Go's encoding/json. */
        for (j = 0; j < n.n_ext; j++)
            if (strcmp(n.ext[j].name, name) == 0) break;
        char *v = vsg_strdup(it->valuestring);
        if (!v) goto nomem;
        if (j < n.n_ext) {
            vsg_free(n.ext[j].value);
            n.ext[j].value = v;
            continue;
        }
        n.ext[n.n_ext].value = v;
        if (!(n.ext[n.n_ext].name = vsg_strdup(name))) {
            vsg_free(v);
            goto nomem;
        }
        n.n_ext++;
    }
done:
    cJSON_Delete(root);
    vsg_ce_overrides_cleanup(o);
    *o = n;
    return VSG_OK;
nomem:
    rc = vsg_error_set(err, VSG_ERR_NOMEM, "K_CE_OVERRIDES: out of memory");
fail:
    cJSON_Delete(root);
    vsg_ce_overrides_cleanup(&n);
    return rc;
}

enum vsg_err vsg_ce_overrides_apply(const struct vsg_ce_overrides *o, struct vsg_ce *ce,
                                    struct vsg_error *err)
{
    enum vsg_err rc;

    for (size_t i = 0; o && i < o->n_ext; i++)
        if ((rc = vsg_ce_set_ext(ce, o->ext[i].name, o->ext[i].value, err)) != VSG_OK) return rc;
    return VSG_OK;
}

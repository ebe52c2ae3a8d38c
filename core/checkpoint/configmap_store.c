/*
 * checkpoint/configmap_store.c - see configmap_store.h.
 */
#include "checkpoint/configmap_store.h"

#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

struct cm_store {
    struct vsg_checkpoint_store base; /* Must be first: the public head. */
    struct vsg_kube_client *kc;       /* Borrowed API client. */
    char *ns;                         /* Namespace of the ConfigMap. */
    char *name;                       /* Name of the ConfigMap. */
    char *where;                      /* "configmap <ns>/<name>", for messages. */
};

/* A new ConfigMap object named like the store, with .data {key: json} when
 * `json` is not NULL (and no data at all otherwise). */
static cJSON *new_cm(const struct cm_store *s, const char *json)
{
    cJSON *o = cJSON_CreateObject(), *meta, *data;
    if (!o || !(meta = cJSON_AddObjectToObject(o, "metadata")) ||
        !cJSON_AddStringToObject(meta, "name", s->name) ||
        !cJSON_AddStringToObject(meta, "namespace", s->ns))
        goto fail;
    if (json && (!(data = cJSON_AddObjectToObject(o, "data")) ||
                 !cJSON_AddStringToObject(data, VSG_CHECKPOINT_CM_KEY, json)))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

static enum vsg_err cm_load(struct vsg_checkpoint_store *base, struct vsg_checkpoint *cp,
                            int *found, struct vsg_error *err)
{
    struct cm_store *s = (struct cm_store *)base;
    cJSON *cm = NULL;
    enum vsg_err rc = vsg_kube_configmap_get(s->kc, s->ns, s->name, &cm, err);
    if (rc == VSG_ERR_NOTFOUND) {
        rc = vsg__checkpoint_load_text(NULL, 0, s->where, cp, found, err);
        goto done;
    }
    if (rc != VSG_OK) goto done;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cm, "data"),
                                                      VSG_CHECKPOINT_CM_KEY);
    const char *text = cJSON_IsString(v) ? v->valuestring : NULL;
    rc = vsg__checkpoint_load_text(text, text ? strlen(text) : 0, s->where, cp, found, err);
done:
    cJSON_Delete(cm);
    return rc;
}

/* Sets data.<key> = json in the ConfigMap object `cm` (from a GET),
 * creating .data when it is absent or null. */
static enum vsg_err put_key(cJSON *cm, const char *json)
{
    cJSON *data = cJSON_GetObjectItemCaseSensitive(cm, "data");
    cJSON *str;
    if (!cJSON_IsObject(data)) {
        cJSON_DeleteItemFromObjectCaseSensitive(cm, "data");
        if (!(data = cJSON_AddObjectToObject(cm, "data"))) return VSG_ERR_NOMEM;
    }
    if (!(str = cJSON_CreateString(json))) return VSG_ERR_NOMEM;
    if (cJSON_HasObjectItem(data, VSG_CHECKPOINT_CM_KEY)) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(data, VSG_CHECKPOINT_CM_KEY, str)) {
            cJSON_Delete(str);
            return VSG_ERR_NOMEM;
        }
    } else if (!cJSON_AddItemToObject(data, VSG_CHECKPOINT_CM_KEY, str)) {
        cJSON_Delete(str);
        return VSG_ERR_NOMEM;
    }
    return VSG_OK;
}

static enum vsg_err cm_save(struct vsg_checkpoint_store *base, const struct vsg_checkpoint *cp,
                            struct vsg_error *err)
{
    struct cm_store *s = (struct cm_store *)base;
    struct vsg_buf json;
    cJSON *cm = NULL;
    enum vsg_err rc;

    vsg_buf_init(&json, VSG_CHECKPOINT_MAX_JSON);
    if ((rc = vsg_checkpoint_encode(cp, &json)) != VSG_OK) {
        vsg_error_set(err, rc, "checkpoint: cannot encode: %s", vsg_strerror(rc));
        goto done;
    }
    for (int attempt = 1; attempt <= VSG_CHECKPOINT_CM_ATTEMPTS; attempt++) {
        cJSON_Delete(cm);
        cm = NULL;
        rc = vsg_kube_configmap_get(s->kc, s->ns, s->name, &cm, err);
        if (rc == VSG_ERR_NOTFOUND) {
            /* Deleted behind our back: put it back, with the checkpoint. */
            if (!(cm = new_cm(s, json.data))) goto nomem;
            rc = vsg_kube_configmap_create(s->kc, s->ns, cm, NULL, err);
            if (rc == VSG_ERR_CONFLICT) continue; /* AlreadyExists: someone was faster. */
            goto done;
        }
        if (rc != VSG_OK) goto done;
        if (!cJSON_IsObject(cm)) {
            rc = vsg_error_set(err, VSG_ERR_PARSE, "%s: the API server sent no object", s->where);
            goto done;
        }
        if (put_key(cm, json.data) != VSG_OK) goto nomem;
        rc = vsg_kube_configmap_update(s->kc, s->ns, cm, NULL, err);
        if (rc != VSG_ERR_CONFLICT) goto done;
    }
    vsg_error_set(err, VSG_ERR_CONFLICT, "%s: still conflicting after %d attempts: %s", s->where,
                  VSG_CHECKPOINT_CM_ATTEMPTS, err ? err->msg : "");
    rc = VSG_ERR_CONFLICT;
    goto done;
nomem:
    rc = vsg_error_set(err, VSG_ERR_NOMEM, "%s: out of memory", s->where);
done:
    cJSON_Delete(cm);
    vsg_buf_cleanup(&json);
    return rc;
}

static void cm_free(struct vsg_checkpoint_store *base)
{
    struct cm_store *s = (struct cm_store *)base;
    vsg_free(s->ns);
    vsg_free(s->name);
    vsg_free(s->where);
    vsg_free(s);
}

static void cm_set_timeout(struct vsg_checkpoint_store *base, long ms)
{
    vsg_kube_client_set_timeout(((struct cm_store *)base)->kc, ms);
}

static const struct vsg_checkpoint_store_ops cm_ops = {
    .kind = "configmap",
    .load = cm_load,
    .save = cm_save,
    .free = cm_free,
    .set_timeout = cm_set_timeout,
};

struct vsg_checkpoint_store *vsg_checkpoint_configmap_store_new(struct vsg_kube_client *kc,
                                                                const char *ns,
                                                                const char *name,
                                                                struct vsg_error *err)
{
    struct cm_store *s = NULL;
    struct vsg_buf w;
    cJSON *cm = NULL;
    enum vsg_err rc;

    vsg_buf_init(&w, 1024);
    if (!kc || !ns || !*ns || !name || !*name) {
        vsg_error_set(err, VSG_ERR_INVAL, "checkpoint ConfigMap: namespace and name are required");
        goto fail;
    }
    if (!(s = vsg_calloc(1, sizeof *s))) goto nomem;
    s->base.ops = &cm_ops;
    s->kc = kc;
    if (!(s->ns = vsg_strdup(ns)) || !(s->name = vsg_strdup(name))) goto nomem;
    if (vsg_buf_printf(&w, "configmap %s/%s", ns, name) != VSG_OK ||
        !(s->where = vsg_buf_steal(&w)))
        goto nomem;

    /* Go's Init: GET, and CREATE an empty one when it is missing. */
    rc = vsg_kube_configmap_get(kc, ns, name, &cm, err);
    if (rc == VSG_ERR_NOTFOUND) {
        cJSON_Delete(cm);
        if (!(cm = new_cm(s, NULL))) goto nomem;
        rc = vsg_kube_configmap_create(kc, ns, cm, NULL, err);
        if (rc == VSG_ERR_CONFLICT && strcmp(vsg_kube_last_reason(kc), "AlreadyExists") == 0)
            rc = VSG_OK;
    }
    if (rc != VSG_OK) {
        vsg_error_set(err, rc, "checkpoint %s: %s", s->where, err ? err->msg : vsg_strerror(rc));
        goto fail;
    }
    cJSON_Delete(cm);
    vsg_buf_cleanup(&w);
    return &s->base;
nomem:
    vsg_error_set(err, VSG_ERR_NOMEM, "checkpoint ConfigMap: out of memory");
fail:
    cJSON_Delete(cm);
    vsg_buf_cleanup(&w);
    if (s) cm_free(&s->base);
    return NULL;
}

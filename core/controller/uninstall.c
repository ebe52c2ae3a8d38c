/*
 * uninstall.c - see uninstall.h.
 */
#include "controller/uninstall.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/vtime.h"

#define LOGGER "vsgate.uninstall"
#define BINDINGS_API "sources.tanzu.vmware.com/v1alpha1"

static const cJSON *md_of(const cJSON *o)
{
    return cJSON_GetObjectItemCaseSensitive(o, "metadata");
}

/* A merge patch that sets metadata.finalizers to those of `obj` without `f`, guarded by the
 * object's resourceVersion; NULL when `obj` does not carry `f` (or out of memory: *nomem). */
static char *finalizer_patch(const cJSON *obj, const char *f, int *nomem)
{
    const cJSON *fins = cJSON_GetObjectItemCaseSensitive(md_of(obj), "finalizers"), *it;
    const char *rv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md_of(obj), "resourceVersion"));
    int found = 0;
    cJSON_ArrayForEach(it, fins) found |= cJSON_IsString(it) && strcmp(it->valuestring, f) == 0;
    *nomem = 0;
    if (!found) return NULL;
    cJSON *p = cJSON_CreateObject(), *md = cJSON_AddObjectToObject(p, "metadata");
    cJSON *list = cJSON_AddArrayToObject(md, "finalizers");
    char *text = NULL;
    if (!p || !md || !list || (rv && !cJSON_AddStringToObject(md, "resourceVersion", rv))) goto out;
    cJSON_ArrayForEach(it, fins) {
        if (!cJSON_IsString(it) || strcmp(it->valuestring, f) == 0) continue;
        if (!cJSON_AddItemToArray(list, cJSON_CreateString(it->valuestring))) goto out;
    }
    text = cJSON_PrintUnformatted(p);
out:
    if (!text) *nomem = 1;
    cJSON_Delete(p);
    return text;
}

/* Removes `f` from one binding, re-reading it after a Conflict. 1: removed, 0: it had none. */
static enum vsg_err release_one(struct vsg_kube_client *c, const cJSON *item, const char *f, int *removed,
                                struct vsg_error *err)
{
    const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md_of(item), "namespace"));
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md_of(item), "name"));
    struct vsg_buf path;
    cJSON *cur = NULL;
    enum vsg_err rc = VSG_ERR_INVAL;
    *removed = 0;
    vsg_buf_init(&path, 2048);
    if (!ns || !name) return vsg_error_set(err, VSG_ERR_INVAL, "a VSphereBinding without namespace or name");
    if ((rc = vsg_kube_path(&path, BINDINGS_API, ns, "vspherebindings", name, NULL)) != VSG_OK) goto out;
    const cJSON *obj = item;
    for (int attempt = 0; attempt < 5; attempt++) {
        int nomem;
        char *patch = finalizer_patch(obj, f, &nomem);
        if (!patch) {
            rc = nomem ? vsg_error_set(err, VSG_ERR_NOMEM, "out of memory") : VSG_OK;
            goto out;
        }
        rc = vsg_kube_patch(c, path.data, VSG_KUBE_CT_MERGE_PATCH, patch, NULL, err);
        cJSON_free(patch);
        if (rc == VSG_OK) {
            *removed = 1;
            goto out;
        }
        if (rc == VSG_ERR_NOTFOUND) {
            rc = VSG_OK;
            goto out;
        }
        if (strcmp(vsg_kube_last_reason(c), "Conflict") != 0) goto out;
        cJSON_Delete(cur);
        cur = NULL;
        if ((rc = vsg_kube_get(c, path.data, &cur, err)) != VSG_OK) {
            if (rc == VSG_ERR_NOTFOUND) rc = VSG_OK;
            goto out;
        }
        obj = cur;
    }
out:
    cJSON_Delete(cur);
    vsg_buf_cleanup(&path);
    return rc;
}

enum vsg_err vsg_uninstall_release(struct vsg_kube_client *c, const char *system_ns,
                                   const char *finalizer, size_t *released, struct vsg_error *err)
{
    struct vsg_buf path;
    struct vsg_error e;
    cJSON *list = NULL;
    enum vsg_err rc, first = VSG_OK;
    *released = 0;
    char now[VSG_TIME_RFC3339_BUFSZ], mark[256];
    vsg_buf_init(&path, 2048);
    /* The mark first: from here on the reconciler adds no finalizer (and a worker that added one
     * just before checks again after, see vsg_uninstall_in_progress()). */
    (void)vsg_time_format_rfc3339(vsg_time_now(), VSG_TIME_SECONDS, now, sizeof now);
    snprintf(mark, sizeof mark, "{\"metadata\":{\"annotations\":{\"%s\":\"%s\"}}}", VSG_UNINSTALL_ANNOTATION,
             now);
    if ((rc = vsg_kube_path(&path, "v1", NULL, "namespaces", system_ns, NULL)) != VSG_OK ||
        (rc = vsg_kube_patch(c, path.data, VSG_KUBE_CT_MERGE_PATCH, mark, NULL, err)) != VSG_OK) {
        if (rc != VSG_ERR_NOTFOUND) goto out;
        vsg_error_clear(err);
    }
    vsg_buf_reset(&path);
    if ((rc = vsg_kube_path(&path, BINDINGS_API, NULL, "vspherebindings", NULL, NULL)) != VSG_OK ||
        (rc = vsg_kube_get(c, path.data, &list, err)) != VSG_OK) {
        if (rc == VSG_ERR_NOTFOUND) rc = VSG_OK; /* no CRD: nothing holds */
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(list, "items")) {
        int removed = 0;
        vsg_error_clear(&e);
        rc = release_one(c, it, finalizer, &removed, &e);
        if (rc != VSG_OK) {
            VSG_LOG_WARN(LOGGER, "uninstall: VSphereBinding keeps its finalizer: %s", e.msg);
            if (first == VSG_OK) {
                first = rc;
                *err = e;
            }
        }
        *released += (size_t)removed;
    }
    rc = first;
out:
    cJSON_Delete(list);
    vsg_buf_cleanup(&path);
    return rc;
}

int vsg_uninstall_in_progress(struct vsg_kube_client *c, const char *system_ns)
{
    struct vsg_buf path;
    struct vsg_error err;
    cJSON *ns = NULL;
    int yes = 0;
    vsg_buf_init(&path, 1024);
    if (vsg_kube_path(&path, "v1", NULL, "namespaces", system_ns, NULL) == VSG_OK) {
        enum vsg_err rc = vsg_kube_get(c, path.data, &ns, &err);
        if (rc == VSG_OK) {
            const cJSON *md = md_of(ns);
            const char *mark = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(md, "annotations"), VSG_UNINSTALL_ANNOTATION));
            struct vsg_time t;
            yes = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(md, "deletionTimestamp")) ||
                  (mark && vsg_time_parse_rfc3339(mark, &t) == VSG_OK &&
                   vsg_time_now().sec - t.sec < VSG_UNINSTALL_MARK_SECONDS);
        } else if (rc != VSG_ERR_NOTFOUND && rc != VSG_ERR_FORBIDDEN) {
            VSG_LOG_WARN(LOGGER, "reading namespace %s: %s", system_ns, err.msg);
            yes = -1;
        }
    }
    cJSON_Delete(ns);
    vsg_buf_cleanup(&path);
    return yes;
}

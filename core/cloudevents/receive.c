/*
 * receive.c - reading a received CloudEvent (see receive.h).
 */
#include "cloudevents/receive.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "base/mem.h"
#include "cloudevents/event.h"

enum vsg_err vsg_ce_kvlist_add(struct vsg_ce_kvlist *l, const char *name, size_t name_len,
                               const char *value, size_t value_len)
{
    struct vsg_ce_kv e;

    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        struct vsg_ce_kv *nv = vsg_realloc(l->v, ncap * sizeof *nv);
        if (!nv) return VSG_ERR_NOMEM;
        l->v = nv;
        l->cap = ncap;
    }
    e.name = vsg_strndup(name, name_len);
    e.value = vsg_malloc(value_len + 1);
    if (!e.name || !e.value) {
        vsg_free(e.name);
        vsg_free(e.value);
        return VSG_ERR_NOMEM;
    }
    memcpy(e.value, value, value_len);
    e.value[value_len] = '\0';
    for (char *p = e.name; *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    /* A repeated name: the last one wins. */
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].name, e.name) != 0) continue;
        vsg_free(l->v[i].value);
        l->v[i].value = e.value;
        vsg_free(e.name);
        return VSG_OK;
    }
    l->v[l->n++] = e;
    return VSG_OK;
}

const char *vsg_ce_kvlist_get(const struct vsg_ce_kvlist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0) return l->v[i].value;
    return NULL;
}

void vsg_ce_kvlist_cleanup(struct vsg_ce_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        vsg_free(l->v[i].name);
        vsg_free(l->v[i].value);
    }
    vsg_free(l->v);
    memset(l, 0, sizeof *l);
}

enum vsg_err vsg_ce_received_header(struct vsg_ce_received *r, const char *name,
                                    const char *value, int raw)
{
    const char *v = value ? value : "";
    enum vsg_err rc;

    if (strncasecmp(name, "ce-", 3) == 0 && name[3]) {
        struct vsg_buf dec;
        vsg_buf_init(&dec, VSG_CE_RECEIVE_VALUE_MAX);
        rc = raw ? vsg_buf_puts(&dec, v) : vsg_ce_pct_decode(&dec, v);
        if (rc == VSG_OK)
            rc = vsg_ce_kvlist_add(&r->attrs, name + 3, strlen(name + 3), dec.data ? dec.data : "",
                                   dec.len);
        vsg_buf_cleanup(&dec);
        return rc;
    }
    return vsg_ce_kvlist_add(&r->headers, name, strlen(name), v, strlen(v));
}

int vsg_ce_parse_structured(const char *body, size_t len, struct vsg_ce_received *rcv, char *why,
                            size_t whysz)
{
    cJSON *root = cJSON_ParseWithLength(body, len), *it;
    int status = 0;

    if (!cJSON_IsObject(root)) {
        snprintf(why, whysz, "structured mode: body is not a JSON object");
        status = 400;
        goto done;
    }
    cJSON_ArrayForEach(it, root) {
        const char *name = it->string ? it->string : "";
        if (strcmp(name, "data") == 0) {
            char *d = cJSON_IsString(it) ? vsg_strdup(it->valuestring) : NULL;
            if (!cJSON_IsString(it)) {
                char *p = cJSON_PrintUnformatted(it);
                d = p ? vsg_strdup(p) : NULL;
                cJSON_free(p);
            }
            if (!d) goto nomem;
            vsg_free(rcv->data);
            rcv->data = d;
            rcv->data_len = strlen(d);
        } else if (strcmp(name, "data_base64") == 0 && cJSON_IsString(it)) {
            size_t in = strlen(it->valuestring);
            unsigned char *d = vsg_malloc(in / 4 * 3 + 4);
            int n;
            if (!d) goto nomem;
            n = in ? EVP_DecodeBlock(d, (const unsigned char *)it->valuestring, (int)in) : 0;
            if (n < 0 || in % 4) {
                vsg_free(d);
                snprintf(why, whysz, "structured mode: data_base64 is not base64");
                status = 400;
                goto done;
            }
            /* EVP_DecodeBlock counts padding bytes as data. */
            if (in >= 1 && it->valuestring[in - 1] == '=') n--;
            if (in >= 2 && it->valuestring[in - 2] == '=') n--;
            d[n] = '\0';
            vsg_free(rcv->data);
            rcv->data = (char *)d;
            rcv->data_len = (size_t)n;
        } else {
            char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
            const char *s = cJSON_IsString(it) ? it->valuestring : (v ? v : "");
            enum vsg_err rc = vsg_ce_kvlist_add(&rcv->attrs, name, strlen(name), s, strlen(s));
            cJSON_free(v);
            if (rc != VSG_OK) goto nomem;
        }
    }
    goto done;
nomem:
    snprintf(why, whysz, "out of memory");
    status = 500;
done:
    cJSON_Delete(root);
    return status;
}

const char *vsg_ce_received_missing(const struct vsg_ce_received *r)
{
    static const char *const required[] = {"specversion", "id", "source", "type", NULL};
    for (const char *const *q = required; *q; q++) {
        const char *v = vsg_ce_kvlist_get(&r->attrs, *q);
        if (!v || !*v) return *q;
    }
    return NULL;
}

void vsg_ce_received_cleanup(struct vsg_ce_received *r)
{
    vsg_ce_kvlist_cleanup(&r->attrs);
    vsg_ce_kvlist_cleanup(&r->headers);
    vsg_free(r->data);
    memset(r, 0, sizeof *r);
}

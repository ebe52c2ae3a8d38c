/*
 * webhook/jsonpatch.c - see jsonpatch.h.
 */
#include "webhook/jsonpatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

/* Appends "/" and the escaped token to p; returns the previous length. */
static int push_token(struct vsg_buf *p, const char *tok, size_t *old)
{
    *old = p->len;
    if (vsg_buf_append(p, "/", 1) != VSG_OK) return -1;
    for (const char *c = tok; *c; c++) {
        enum vsg_err rc = *c == '~'   ? vsg_buf_append(p, "~0", 2)
                          : *c == '/' ? vsg_buf_append(p, "~1", 2)
                                      : vsg_buf_append(p, c, 1);
        if (rc != VSG_OK) return -1;
    }
    return 0;
}

static void pop_token(struct vsg_buf *p, size_t old)
{
    p->len = old;
    if (p->data) p->data[old] = '\0';
}

static int add_op(cJSON *ops, const char *op, const char *path, const cJSON *value)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return -1;
    if (!cJSON_AddItemToArray(ops, o)) {
        cJSON_Delete(o);
        return -1;
    }
    if (!cJSON_AddStringToObject(o, "op", op) || !cJSON_AddStringToObject(o, "path", path))
        return -1;
    if (value) {
        cJSON *v = cJSON_Duplicate(value, 1);
        if (!v) return -1;
        if (!cJSON_AddItemToObject(o, "value", v)) {
            cJSON_Delete(v);
            return -1;
        }
    }
    return 0;
}

static int kind_of(const cJSON *v)
{
    return v->type & 0xFF & ~(cJSON_False | cJSON_True) ? (v->type & 0xFF) : cJSON_True;
}

static int diff(cJSON *ops, struct vsg_buf *p, const cJSON *a, const cJSON *b)
{
    const char *path = p->data ? p->data : "";
    if (kind_of(a) != kind_of(b)) return add_op(ops, "replace", path, b);
    if (cJSON_IsObject(a)) {
        const cJSON *it;
        size_t old;
        /* Removed and changed keys, in `before`'s order. */
        cJSON_ArrayForEach(it, a) {
            const cJSON *other = cJSON_GetObjectItemCaseSensitive(b, it->string);
            if (push_token(p, it->string, &old) != 0) return -1;
            int rc = other ? diff(ops, p, it, other) : add_op(ops, "remove", p->data, NULL);
            pop_token(p, old);
            if (rc != 0) return -1;
        }
        cJSON_ArrayForEach(it, b) {
            if (cJSON_GetObjectItemCaseSensitive(a, it->string)) continue;
            if (push_token(p, it->string, &old) != 0) return -1;
            int rc = add_op(ops, "add", p->data, it);
            pop_token(p, old);
            if (rc != 0) return -1;
        }
        return 0;
    }
    if (cJSON_IsArray(a)) {
        int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
        if (na != nb) return add_op(ops, "replace", path, b);
        const cJSON *x = a->child, *y = b->child;
        for (int i = 0; x && y; i++, x = x->next, y = y->next) {
            char idx[24];
            size_t old;
            snprintf(idx, sizeof idx, "%d", i);
            if (push_token(p, idx, &old) != 0) return -1;
            int rc = diff(ops, p, x, y);
            pop_token(p, old);
            if (rc != 0) return -1;
        }
        return 0;
    }
    if (cJSON_IsString(a)) {
        if (strcmp(a->valuestring, b->valuestring) == 0) return 0;
        return add_op(ops, "replace", path, b);
    }
    if (cJSON_IsNumber(a)) {
        if (a->valuedouble == b->valuedouble) return 0;
        return add_op(ops, "replace", path, b);
    }
    if (cJSON_IsBool(a)) {
        if (cJSON_IsTrue(a) == cJSON_IsTrue(b)) return 0;
        return add_op(ops, "replace", path, b);
    }
    return 0; /* null == null */
}

cJSON *vsg_jsonpatch_diff(const cJSON *before, const cJSON *after)
{
    cJSON *ops = cJSON_CreateArray();
    struct vsg_buf p;
    if (!ops) return NULL;
    vsg_buf_init(&p, 64 * 1024);
    if (vsg_buf_append(&p, "", 0) != VSG_OK) {
        /* p.data may stay NULL: diff() copes ("" path). */
    }
    int rc;
    if (!before || !after) rc = after ? add_op(ops, "replace", "", after) : 0;
    else rc = diff(ops, &p, before, after);
    vsg_buf_cleanup(&p);
    if (rc != 0) {
        cJSON_Delete(ops);
        return NULL;
    }
    return ops;
}

/* ---- apply (tests) ---- */

/* Unescapes one token of `ptr` starting after a '/' into buf. */
static const char *next_token(const char *s, char *buf, size_t n)
{
    size_t i = 0;
    while (*s && *s != '/') {
        char c = *s++;
        if (c == '~' && (*s == '0' || *s == '1')) c = *s++ == '0' ? '~' : '/';
        if (i + 1 < n) buf[i++] = c;
    }
    buf[i] = '\0';
    return s;
}

enum vsg_err vsg_jsonpatch_apply(cJSON **doc, const cJSON *patch)
{
    const cJSON *op;
    cJSON_ArrayForEach(op, patch) {
        const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "op"));
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(op, "path"));
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(op, "value");
        char tok[1024];
        if (!kind || !path) return VSG_ERR_INVAL;
        if (!*path) {
            if (strcmp(kind, "replace") != 0 || !value) return VSG_ERR_INVAL;
            cJSON_Delete(*doc);
            *doc = cJSON_Duplicate(value, 1);
            continue;
        }
        cJSON *parent = *doc;
        const char *s = path;
        if (*s != '/') return VSG_ERR_INVAL;
        for (;;) {
            s = next_token(s + 1, tok, sizeof tok);
            if (!*s) break;
            parent = cJSON_IsArray(parent) ? cJSON_GetArrayItem(parent, atoi(tok))
                                           : cJSON_GetObjectItemCaseSensitive(parent, tok);
            if (!parent) return VSG_ERR_INVAL;
        }
        int arr = cJSON_IsArray(parent);
        if (!arr && !cJSON_IsObject(parent)) return VSG_ERR_INVAL;
        cJSON *v = value ? cJSON_Duplicate(value, 1) : NULL;
        if (strcmp(kind, "remove") == 0) {
            if (arr) cJSON_DeleteItemFromArray(parent, atoi(tok));
            else if (!cJSON_GetObjectItemCaseSensitive(parent, tok)) return VSG_ERR_INVAL;
            else cJSON_DeleteItemFromObjectCaseSensitive(parent, tok);
        } else if (strcmp(kind, "add") == 0 && v) {
            if (arr) {
                if (strcmp(tok, "-") == 0) cJSON_AddItemToArray(parent, v);
                else cJSON_InsertItemInArray(parent, atoi(tok), v);
            } else {
                cJSON_DeleteItemFromObjectCaseSensitive(parent, tok);
                cJSON_AddItemToObject(parent, tok, v);
            }
        } else if (strcmp(kind, "replace") == 0 && v) {
            cJSON_bool ok = arr ? cJSON_ReplaceItemInArray(parent, atoi(tok), v)
                                : cJSON_ReplaceItemInObjectCaseSensitive(parent, tok, v);
            if (!ok) {
                cJSON_Delete(v);
                return VSG_ERR_INVAL;
            }
        } else {
            cJSON_Delete(v);
            return VSG_ERR_INVAL;
        }
    }
    return VSG_OK;
}

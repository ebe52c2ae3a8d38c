/*
 * kube/watch.c - see watch.h.
 */
#include "kube/watch.h"

#include "base/mem.h"

#include <string.h>

static const char *const type_names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};

const char *vsg_kube_watch_type_name(enum vsg_kube_watch_type t)
{
    return (unsigned)t < sizeof type_names / sizeof type_names[0] ? type_names[t] : "?";
}

void vsg_kube_watch_parser_init(struct vsg_kube_watch_parser *p, size_t max_line,
                                vsg_kube_watch_fn fn, void *ud)
{
    memset(p, 0, sizeof *p);
    vsg_buf_init(&p->line, max_line ? max_line : VSG_KUBE_WATCH_LINE_MAX);
    p->fn = fn;
    p->ud = ud;
}

void vsg_kube_watch_parser_cleanup(struct vsg_kube_watch_parser *p)
{
    vsg_buf_cleanup(&p->line);
}

size_t vsg_kube_watch_parser_pending(const struct vsg_kube_watch_parser *p)
{
    return p->line.len;
}

int vsg_kube_watch_status(const cJSON *status)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(status, "code");
    return cJSON_IsNumber(c) ? c->valueint : 0;
}

/* Parses one complete line and calls back. */
static enum vsg_err one_line(struct vsg_kube_watch_parser *p, const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
    if (n == 0) return VSG_OK;
    vsg_mem_cjson_reset();
    cJSON *ev = cJSON_ParseWithLength(s, n);
    if (!ev && vsg_mem_cjson_failed())
        return vsg_error_set(&p->err, VSG_ERR_NOMEM, "watch: out of memory");
    if (!ev)
        return vsg_error_set(&p->err, VSG_ERR_PARSE, "watch: event %lu is not JSON: %.*s",
                             p->events + 1, (int)(n < 80 ? n : 80), s);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "type");
    cJSON *obj = cJSON_DetachItemFromObjectCaseSensitive(ev, "object");
    int type = -1;
    for (int i = 0; cJSON_IsString(t) && i < (int)(sizeof type_names / sizeof type_names[0]); i++)
        if (strcmp(t->valuestring, type_names[i]) == 0) type = i;
    cJSON_Delete(ev);
    if (type < 0 || !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return vsg_error_set(&p->err, VSG_ERR_PARSE,
                             "watch: event %lu has %s", p->events + 1,
                             type < 0 ? "no known type" : "no object");
    }
    p->events++;
    int stop = p->fn(p->ud, (enum vsg_kube_watch_type)type, &obj);
    cJSON_Delete(obj);
    if (stop) return vsg_error_set(&p->err, VSG_ERR_CANCELLED, "watch: stopped");
    return VSG_OK;
}

enum vsg_err vsg_kube_watch_parser_feed(struct vsg_kube_watch_parser *p, const char *data,
                                        size_t len)
{
    enum vsg_err rc;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        if (!nl) {
            if ((rc = vsg_buf_append(&p->line, data, len)) != VSG_OK)
                return vsg_error_set(&p->err, rc, "watch: event line longer than %zu bytes",
                                     p->line.max);
            return VSG_OK;
        }
        size_t n = (size_t)(nl - data);
        if (p->line.len > 0) {
            if ((rc = vsg_buf_append(&p->line, data, n)) != VSG_OK)
                return vsg_error_set(&p->err, rc, "watch: event line longer than %zu bytes",
                                     p->line.max);
            rc = one_line(p, p->line.data, p->line.len);
            vsg_buf_reset(&p->line);
        } else {
            rc = one_line(p, data, n);
        }
        if (rc != VSG_OK) return rc;
        data = nl + 1;
        len -= n + 1;
    }
    return VSG_OK;
}

/*
 * checkpoint/checkpoint.c - see checkpoint.h.
 */
#include "checkpoint/checkpoint.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

#define LOGGER "vsgate.checkpoint"

/* ====================================================================
 * The record
 * ==================================================================== */

void vsg_checkpoint_init(struct vsg_checkpoint *cp)
{
    memset(cp, 0, sizeof *cp);
    cp->last_event_key_ts.sec = VSG_CHECKPOINT_ZERO_SEC;
    cp->created_ts.sec = VSG_CHECKPOINT_ZERO_SEC;
}

void vsg_checkpoint_cleanup(struct vsg_checkpoint *cp)
{
    if (!cp) return;
    vsg_free(cp->vcenter);
    vsg_free(cp->last_event_type);
    vsg_checkpoint_init(cp);
}

enum vsg_err vsg_checkpoint_set(struct vsg_checkpoint *cp, const char *vcenter, int64_t key,
                                const char *type, struct vsg_time key_ts,
                                struct vsg_time created_ts)
{
    char *v = NULL, *t = NULL;
    int same_v = vcenter == NULL ? cp->vcenter == NULL
                                 : (cp->vcenter && strcmp(cp->vcenter, vcenter) == 0);
    int same_t = type == NULL ? cp->last_event_type == NULL
                              : (cp->last_event_type && strcmp(cp->last_event_type, type) == 0);
    if ((!same_v && vcenter && !(v = vsg_strdup(vcenter))) ||
        (!same_t && type && !(t = vsg_strdup(type)))) {
        vsg_free(v);
        vsg_free(t);
        return VSG_ERR_NOMEM;
    }
    if (!same_v) {
        vsg_free(cp->vcenter);
        cp->vcenter = v;
    }
    if (!same_t) {
        vsg_free(cp->last_event_type);
        cp->last_event_type = t;
    }
    cp->last_event_key = key;
    cp->last_event_key_ts = key_ts;
    cp->created_ts = created_ts;
    return VSG_OK;
}

int vsg_checkpoint_time_is_zero(struct vsg_time ts)
{
    return ts.sec == VSG_CHECKPOINT_ZERO_SEC && ts.nsec == 0;
}

/* ====================================================================
 * Encoding
 * ==================================================================== */

/* Appends `s` as a JSON string exactly as Go's json.Marshal writes it
 * (HTML escaping on). NULL is written as "". */
static enum vsg_err go_json_string(struct vsg_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), i = 0, start = 0;
    enum vsg_err rc = vsg_buf_putc(b, '"');
    while (rc == VSG_OK && i < n) {
        unsigned char c = p[i];
        const char *esc = NULL;
        char ubuf[7];
        size_t adv = 1;
        if (c < 0x80) {
            if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
                i++;
                continue;
            }
            switch (c) {
            case '"': esc = "\\\""; break;
            case '\\': esc = "\\\\"; break;
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            default:
                memcpy(ubuf, "\\u00", 4);
                ubuf[4] = hex[c >> 4];
                ubuf[5] = hex[c & 15];
                ubuf[6] = '\0';
                esc = ubuf;
            }
        } else {
            uint32_t r = 0;
            size_t len = vsg_utf8_decode(p + i, n - i, &r);
            if (len == 0) {
                esc = "\\ufffd";
            } else if (r == 0x2028) {
                esc = "\\u2028";
                adv = len;
            } else if (r == 0x2029) {
                esc = "\\u2029";
                adv = len;
            } else {
                i += len;
                continue;
            }
        }
        rc = vsg_buf_append(b, p + start, i - start);
        if (rc == VSG_OK) rc = vsg_buf_puts(b, esc);
        i += adv;
        start = i;
    }
    if (rc == VSG_OK) rc = vsg_buf_append(b, p + start, i - start);
    if (rc == VSG_OK) rc = vsg_buf_putc(b, '"');
    return rc;
}

/* Appends `t` as a JSON string in Go's RFC3339Nano (UTC). */
static enum vsg_err go_json_time(struct vsg_buf *b, struct vsg_time t)
{
    char s[VSG_TIME_RFC3339_BUFSZ];
    enum vsg_err rc = vsg_time_format_rfc3339(t, VSG_TIME_NANO, s, sizeof s);
    if (rc != VSG_OK) return rc;
    return vsg_buf_printf(b, "\"%s\"", s);
}

enum vsg_err vsg_checkpoint_encode(const struct vsg_checkpoint *cp, struct vsg_buf *out)
{
    size_t mark = out->len;
    enum vsg_err rc = vsg_buf_puts(out, "{\"vCenter\":");
    if (rc == VSG_OK) rc = go_json_string(out, cp->vcenter);
    if (rc == VSG_OK)
        rc = vsg_buf_printf(out, ",\"lastEventKey\":%" PRId64 ",\"lastEventType\":",
                            cp->last_event_key);
    if (rc == VSG_OK) rc = go_json_string(out, cp->last_event_type);
    if (rc == VSG_OK) rc = vsg_buf_puts(out, ",\"lastEventKeyTimestamp\":");
    if (rc == VSG_OK) rc = go_json_time(out, cp->last_event_key_ts);
    if (rc == VSG_OK) rc = vsg_buf_puts(out, ",\"createdTimestamp\":");
    if (rc == VSG_OK) rc = go_json_time(out, cp->created_ts);
    if (rc == VSG_OK) rc = vsg_buf_putc(out, '}');
    if (rc != VSG_OK) vsg_buf_truncate(out, mark);
    return rc;
}

/* ====================================================================
 * Decoding
 * ==================================================================== */

/* Parses exactly `len` bytes of JSON: like cJSON_ParseWithLength, but
 * anything except white space after the value is an error (as in Go). */
static cJSON *parse_exact(const char *json, size_t len)
{
    const char *end = NULL;
    cJSON *o;

    vsg_mem_cjson_reset();
    o = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!o) return NULL;
    for (const char *p = end; p && p < json + len; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

/* Copies string member `key` (case-insensitive, as Go) into *dst; any
 * other type leaves *dst NULL. */
static enum vsg_err take_string(const cJSON *o, const char *key, char **dst)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    if (!cJSON_IsString(v)) return VSG_OK;
    return (*dst = vsg_strdup(v->valuestring)) ? VSG_OK : VSG_ERR_NOMEM;
}

enum vsg_err vsg_checkpoint_decode(const char *json, size_t len, struct vsg_checkpoint *cp,
                                   struct vsg_error *err)
{
    cJSON *o = NULL;
    const cJSON *v;
    enum vsg_err rc = VSG_OK;

    vsg_checkpoint_cleanup(cp);
    if (!json || !(o = parse_exact(json, len))) {
        if (json && vsg_mem_cjson_failed()) {
            rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
            goto fail;
        }
        rc = vsg_error_set(err, VSG_ERR_PARSE, "checkpoint is not valid JSON");
        goto fail;
    }
    if (!cJSON_IsObject(o)) {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "checkpoint is not a JSON object");
        goto fail;
    }
    v = cJSON_GetObjectItem(o, "lastEventKeyTimestamp");
    if (!v || cJSON_IsNull(v)) {
        rc = vsg_error_set(err, VSG_ERR_NOTFOUND, "checkpoint has no lastEventKeyTimestamp");
        goto fail;
    }
    if (!cJSON_IsString(v) ||
        vsg_time_parse_rfc3339(v->valuestring, &cp->last_event_key_ts) != VSG_OK) {
        rc = vsg_error_set(err, VSG_ERR_PARSE,
                           "checkpoint lastEventKeyTimestamp is not an RFC 3339 time string");
        goto fail;
    }
    if (vsg_checkpoint_time_is_zero(cp->last_event_key_ts)) {
        rc = vsg_error_set(err, VSG_ERR_NOTFOUND, "checkpoint lastEventKeyTimestamp is zero");
        goto fail;
    }
    /* The rest is informational: a wrong type leaves the zero value. */
    if ((rc = take_string(o, "vCenter", &cp->vcenter)) != VSG_OK ||
        (rc = take_string(o, "lastEventType", &cp->last_event_type)) != VSG_OK) {
        vsg_error_set(err, rc, "out of memory");
        goto fail;
    }
    v = cJSON_GetObjectItem(o, "lastEventKey");
    if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) &&
        v->valuedouble >= INT32_MIN && v->valuedouble <= INT32_MAX)
        cp->last_event_key = (int64_t)v->valuedouble;
    v = cJSON_GetObjectItem(o, "createdTimestamp");
    if (cJSON_IsString(v) && vsg_time_parse_rfc3339(v->valuestring, &cp->created_ts) != VSG_OK)
        cp->created_ts = (struct vsg_time){VSG_CHECKPOINT_ZERO_SEC, 0};
    cJSON_Delete(o);
    return VSG_OK;
fail:
    cJSON_Delete(o);
    vsg_checkpoint_cleanup(cp);
    return rc;
}

/* ====================================================================
 * Begin time and configuration
 * ==================================================================== */

enum vsg_checkpoint_begin_from vsg_checkpoint_begin(const struct vsg_checkpoint *cp,
                                                    struct vsg_time vc_now, int64_t max_age_ns,
                                                    struct vsg_time *begin)
{
    if (!cp || vsg_checkpoint_time_is_zero(cp->last_event_key_ts)) {
        *begin = vc_now;
        return VSG_CHECKPOINT_BEGIN_NOW;
    }
    if (max_age_ns < 0) max_age_ns = 0;
    struct vsg_time max_time = vsg_time_add_ns(vc_now, -max_age_ns);
    /* Go: if maxTime.Unix() > cp.LastEventKeyTimestamp.Unix() (seconds). */
    if (max_time.sec > cp->last_event_key_ts.sec) {
        *begin = max_time;
        return VSG_CHECKPOINT_BEGIN_MAX_AGE;
    }
    if (vsg_time_cmp(cp->last_event_key_ts, vc_now) > 0) {
        *begin = vc_now;
        return VSG_CHECKPOINT_BEGIN_FUTURE;
    }
    *begin = cp->last_event_key_ts;
    return VSG_CHECKPOINT_BEGIN_CHECKPOINT;
}

/* One duration member of the checkpoint configuration into *ns. */
static enum vsg_err config_duration(const cJSON *o, const char *key, int64_t def, int64_t *ns,
                                    struct vsg_error *err)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    if (!v || cJSON_IsNull(v) || (cJSON_IsString(v) && v->valuestring[0] == '\0')) {
        *ns = def;
        return VSG_OK;
    }
    if (!cJSON_IsString(v))
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "VSPHERE_CHECKPOINT_CONFIG: %s must be a duration string such as "
                             "\"5m0s\" or \"10s\"",
                             key);
    if (vsg_duration_parse(v->valuestring, ns) != VSG_OK)
        return vsg_error_set(err, VSG_ERR_PARSE, "VSPHERE_CHECKPOINT_CONFIG: %s: invalid duration \"%s\"",
                             key, v->valuestring);
    if (*ns < 0)
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "VSPHERE_CHECKPOINT_CONFIG: %s: invalid checkpoint time interval", key);
    return VSG_OK;
}

enum vsg_err vsg_checkpoint_config_parse(const char *json, struct vsg_checkpoint_config *out,
                                         struct vsg_error *err)
{
    struct vsg_checkpoint_config c = {VSG_CHECKPOINT_DEFAULT_MAX_AGE,
                                      VSG_CHECKPOINT_DEFAULT_PERIOD};
    cJSON *o = NULL;
    enum vsg_err rc = VSG_OK;

    if (!json || !*json) goto ok;
    if (!(o = parse_exact(json, strlen(json)))) {
        if (vsg_mem_cjson_failed()) {
            rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
            goto done;
        }
        rc = vsg_error_set(err, VSG_ERR_PARSE, "VSPHERE_CHECKPOINT_CONFIG is not valid JSON: %s",
                           json);
        goto done;
    }
    if (cJSON_IsNull(o)) goto ok;
    if (!cJSON_IsObject(o)) {
        rc = vsg_error_set(err, VSG_ERR_INVAL, "VSPHERE_CHECKPOINT_CONFIG must be a JSON object");
        goto done;
    }
    if ((rc = config_duration(o, "maxAge", VSG_CHECKPOINT_DEFAULT_MAX_AGE, &c.max_age_ns, err)) !=
            VSG_OK ||
        (rc = config_duration(o, "period", VSG_CHECKPOINT_DEFAULT_PERIOD, &c.period_ns, err)) !=
            VSG_OK)
        goto done;
    if (c.period_ns == 0) c.period_ns = VSG_CHECKPOINT_DEFAULT_PERIOD;
ok:
    *out = c;
done:
    cJSON_Delete(o);
    return rc;
}

/* ====================================================================
 * Store interface
 * ==================================================================== */

enum vsg_err vsg_checkpoint_store_load(struct vsg_checkpoint_store *s, struct vsg_checkpoint *cp,
                                       int *found, struct vsg_error *err)
{
    *found = 0;
    vsg_checkpoint_cleanup(cp);
    return s->ops->load(s, cp, found, err);
}

enum vsg_err vsg_checkpoint_store_save(struct vsg_checkpoint_store *s,
                                       const struct vsg_checkpoint *cp, struct vsg_error *err)
{
    return s->ops->save(s, cp, err);
}

void vsg_checkpoint_store_set_timeout(struct vsg_checkpoint_store *s, long ms)
{
    if (s && s->ops->set_timeout) s->ops->set_timeout(s, ms);
}

void vsg_checkpoint_store_free(struct vsg_checkpoint_store *s)
{
    if (s) s->ops->free(s);
}

enum vsg_err vsg__checkpoint_load_text(const char *json, size_t len, const char *where,
                                       struct vsg_checkpoint *cp, int *found,
                                       struct vsg_error *err)
{
    struct vsg_error why;
    enum vsg_err rc;
    *found = 0;
    vsg_error_clear(&why);
    if (!json) {
        vsg_error_set(&why, VSG_ERR_NOTFOUND, "no checkpoint stored");
        rc = VSG_ERR_NOTFOUND;
    } else {
        rc = vsg_checkpoint_decode(json, len, cp, &why);
    }
    if (rc == VSG_OK) {
        *found = 1;
        return VSG_OK;
    }
    if (rc == VSG_ERR_NOMEM) return vsg_error_set(err, rc, "checkpoint: out of memory");
    VSG_LOGF_WARN(LOGGER, ((const char *[]){"error", why.msg, "store", where, NULL}),
                  "could not retrieve checkpoint configuration");
    return VSG_OK;
}

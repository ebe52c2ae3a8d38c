/*
 * encode.c - the event payloads: Go encoding/json and encoding/xml of a
 * struct vsg_value tree, byte for byte.
 *
 * The Go behaviour copied here (Go 1.26 standard library, which the
 * oracle in tools/oracle checks): encoding/json encode.go appendString
 * (HTML-safe escaping, \ufffd for invalid UTF-8, \u2028/\u2029) and
 * floatEncoder (ES6-style cutoffs); time.Time MarshalJSON/MarshalText
 * (RFC 3339 with up to 9 fraction digits, trailing zeros trimmed, in the
 * time's own offset, "Z" for UTC); encoding/xml marshal.go (omitempty via
 * isEmptyValue, nil pointers and interfaces omitted, slices as repeated
 * elements with the field's omitempty applied to each element, []byte as
 * escaped raw text, EscapeString/EscapeText, strconv 'g' floats).
 */
#include "vsphere/event.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ====================================================================
 * UTF-8, as Go's utf8.DecodeRuneInString sees it
 * ==================================================================== */

/* The rune at s[0..n) (n > 0) and its width in *w; -1 with *w == 1 for
 * an invalid or truncated sequence. */
static long decode_rune(const unsigned char *s, size_t n, size_t *w)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    long r;

    *w = 1;
    if (c < 0x80) return c;
    if (c < 0xC2) return -1;
    if (c < 0xE0) {
        need = 1, r = c & 0x1F;
    } else if (c < 0xF0) {
        need = 2, r = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c < 0xF5) {
        need = 3, r = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return -1;
    }
    if (n < need + 1 || s[1] < lo || s[1] > hi) return -1;
    r = (r << 6) | (s[1] & 0x3F);
    for (size_t i = 2; i <= need; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) return -1;
        r = (r << 6) | (s[i] & 0x3F);
    }
    *w = need + 1;
    return r;
}

/* ====================================================================
 * Scalars shared by both encoders
 * ==================================================================== */

/* Go's time.Time.Format(time.RFC3339Nano) of instant `t` at `offset`
 * seconds east of UTC. */
static enum vsg_err format_time(struct vsg_time t, int32_t offset,
                                char *out, size_t size)
{
    struct vsg_time local = vsg_time_add_ns(t, (int64_t)offset * VSG_SECOND);
    enum vsg_err rc =
        vsg_time_format_rfc3339(local, VSG_TIME_NANO, out, size);
    size_t n;
    int32_t a = offset < 0 ? -offset : offset;

    if (rc != VSG_OK || offset == 0) return rc;
    n = strlen(out);
    if (n == 0 || n + 6 >= size) return VSG_ERR_TOOBIG;
    snprintf(out + n - 1, size - (n - 1), "%c%02d:%02d",
             offset < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
    return VSG_OK;
}

/*
 * The shortest decimal digits that read back as `v` (a float32 when bits
 * is 32): digits without dot in `dig` (NUL-terminated), and the decimal
 * point position: v = 0.dig × 10^dp. `v` must be finite and nonzero.
 */
static void shortest_digits(double v, unsigned bits, char *dig, int *dp)
{
    char buf[40];
    int prec, exp = 0;
    size_t n = 0;

    for (prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
        if (bits == 32 ? strtof(buf, NULL) == (float)v
                       : strtod(buf, NULL) == v)
            break;
    }
    for (const char *p = buf; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') dig[n++] = *p;
    while (n > 1 && dig[n - 1] == '0') n--;
    dig[n] = '\0';
    exp = atoi(strchr(buf, 'e') + 1);
    *dp = exp + 1;
}

/*
 * Writes `v` as strconv.FormatFloat(v, fmt, -1, bits) does, for fmt 'f',
 * 'e' or 'g'; `json` applies encoding/json's exponent clean-up. A
 * non-finite value (Go: an error) is written as 0.
 */
static void format_float(double v, unsigned bits, char fmt, int json,
                         char *out, size_t size)
{
    char dig[40], tmp[400];
    int dp, nd, exp;
    size_t o = 0;

    if (!isfinite(v)) v = 0;
    if (v == 0) {
        snprintf(out, size, "%s0", signbit(v) ? "-" : "");
        return;
    }
    shortest_digits(v, bits, dig, &dp);
    nd = (int)strlen(dig);
    exp = dp - 1;
    if (fmt == 'g') fmt = (exp < -4 || exp >= 6) ? 'e' : 'f';
    if (v < 0) tmp[o++] = '-';
    if (fmt == 'e') {
        tmp[o++] = dig[0];
        if (nd > 1) {
            tmp[o++] = '.';
            memcpy(tmp + o, dig + 1, (size_t)nd - 1);
            o += (size_t)nd - 1;
        }
        o += (size_t)snprintf(tmp + o, sizeof tmp - o, "e%c%02d",
                              exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        if (json && o >= 4 && tmp[o - 4] == 'e' && tmp[o - 3] == '-' &&
            tmp[o - 2] == '0') {
            tmp[o - 2] = tmp[o - 1];
            o--;
        }
    } else if (dp <= 0) {
        tmp[o++] = '0';
        tmp[o++] = '.';
        for (int i = 0; i < -dp; i++) tmp[o++] = '0';
        memcpy(tmp + o, dig, (size_t)nd);
        o += (size_t)nd;
    } else if (dp >= nd) {
        memcpy(tmp + o, dig, (size_t)nd);
        o += (size_t)nd;
        for (int i = nd; i < dp; i++) tmp[o++] = '0';
    } else {
        memcpy(tmp + o, dig, (size_t)dp);
        o += (size_t)dp;
        tmp[o++] = '.';
        memcpy(tmp + o, dig + dp, (size_t)(nd - dp));
        o += (size_t)(nd - dp);
    }
    tmp[o] = '\0';
    snprintf(out, size, "%s", tmp);
}

/* encoding/json: 'e' below 1e-6 and from 1e21 on (float32 compares as
 * float32), else 'f'. */
static void format_json_float(double v, unsigned bits, char *out,
                              size_t size)
{
    double a = fabs(v);
    char fmt = 'f';

    if (a != 0 && isfinite(a)) {
        if (bits == 32 ? ((float)a < 1e-6f || (float)a >= 1e21f)
                       : (a < 1e-6 || a >= 1e21))
            fmt = 'e';
    }
    format_float(v, bits, fmt, 1, out, size);
}

/* strconv.FormatFloat(v, 'g', -1, bits): %e when the decimal exponent is
 * below -4 or at least 6 (Go's eprec for shortest formatting). */
static void format_xml_float(double v, unsigned bits, char *out, size_t size)
{
    format_float(v, bits, 'g', 0, out, size);
}

/* ====================================================================
 * JSON
 * ==================================================================== */

/* Bytes that encoding/json copies as they are: printable ASCII except
 * the quote, the backslash and the HTML-sensitive < > &. */
static const unsigned char json_plain[256] = {
#define P16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    P16(0), P16(0),                                              /* 0x00-0x1f */
    1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1,              /* 0x20-0x2f: " & */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1,              /* 0x30-0x3f: < > */
    P16(1),                                                      /* 0x40-0x4f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,              /* 0x50-0x5f: \ */
    P16(1), P16(1),                                              /* 0x60-0x7f */
    P16(0), P16(0), P16(0), P16(0), P16(0), P16(0), P16(0), P16(0) /* 0x80-0xff */
#undef P16
};

/* Go's encoding/json appendString with escapeHTML, without the quotes. */
static enum vsg_err json_string_body(struct vsg_buf *b, const char *s,
                                     size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t start = 0, i = 0;
    enum vsg_err rc;

    while (i < n) {
        char esc[8];
        size_t elen = 0, w = 1;
        unsigned char c;
        /* Skip the run of bytes that need nothing (most of them). */
        while (i < n && json_plain[p[i]]) i++;
        if (i == n) break;
        c = p[i];
        if (c < 0x80) {
            esc[0] = '\\';
            switch (c) {
            case '"': case '\\': esc[1] = (char)c; elen = 2; break;
            case '\b': esc[1] = 'b'; elen = 2; break;
            case '\f': esc[1] = 'f'; elen = 2; break;
            case '\n': esc[1] = 'n'; elen = 2; break;
            case '\r': esc[1] = 'r'; elen = 2; break;
            case '\t': esc[1] = 't'; elen = 2; break;
            default:
                memcpy(esc + 1, "u00", 3);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 0xF];
                elen = 6;
            }
        } else {
            long r = decode_rune(p + i, n - i, &w);
            if (r == -1) {
                memcpy(esc, "\\ufffd", 6);
                elen = 6;
            } else if (r == 0x2028 || r == 0x2029) {
                memcpy(esc, "\\u202", 5);
                esc[5] = hex[r & 0xF];
                elen = 6;
            } else {
                i += w;
                continue;
            }
        }
        if ((rc = vsg_buf_append(b, s + start, i - start)) != VSG_OK ||
            (rc = vsg_buf_append(b, esc, elen)) != VSG_OK)
            return rc;
        i += w;
        start = i;
    }
    return vsg_buf_append(b, s + start, n - start);
}

static enum vsg_err json_string(struct vsg_buf *b, const char *s, size_t n)
{
    enum vsg_err rc = vsg_buf_putc(b, '"');

    if (rc == VSG_OK) rc = json_string_body(b, s, n);
    if (rc == VSG_OK) rc = vsg_buf_putc(b, '"');
    return rc;
}

/* The JSON key of field `name`: its Go name (the xml name with the first
 * ASCII letter upper-cased), quoted and escaped, and the colon. `plain`:
 * the name is a schema identifier, which needs no escaping. */
static enum vsg_err json_key(struct vsg_buf *b, const char *name, int plain)
{
    enum vsg_err rc = vsg_buf_putc(b, '"');

    if (rc == VSG_OK && name[0] >= 'a' && name[0] <= 'z') {
        rc = vsg_buf_putc(b, (char)(name[0] - 'a' + 'A'));
        name++;
    }
    if (rc == VSG_OK)
        rc = plain ? vsg_buf_puts(b, name) : json_string_body(b, name, strlen(name));
    if (rc == VSG_OK) rc = vsg_buf_append(b, "\":", 2);
    return rc;
}

static enum vsg_err json_cstring(struct vsg_buf *b, const char *s)
{
    return json_string(b, s, strlen(s));
}

static enum vsg_err json_base64(struct vsg_buf *b, const unsigned char *s,
                                size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    enum vsg_err rc = vsg_buf_putc(b, '"');

    for (size_t i = 0; rc == VSG_OK && i < n; i += 3) {
        unsigned long v = (unsigned long)s[i] << 16;
        char q[4];
        if (i + 1 < n) v |= (unsigned long)s[i + 1] << 8;
        if (i + 2 < n) v |= s[i + 2];
        q[0] = tab[(v >> 18) & 63];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        rc = vsg_buf_append(b, q, 4);
    }
    return rc == VSG_OK ? vsg_buf_putc(b, '"') : rc;
}

/* Decimal digits of `u`, with a leading '-' when `neg` (no printf: keys
 * and counts are on every event). */
static enum vsg_err put_uint(struct vsg_buf *b, unsigned long long u, int neg)
{
    char tmp[24], *p = tmp + sizeof tmp;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg) *--p = '-';
    return vsg_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

static enum vsg_err put_int(struct vsg_buf *b, long long i)
{
    return i < 0 ? put_uint(b, 0ULL - (unsigned long long)i, 1) : put_uint(b, (unsigned long long)i, 0);
}

static enum vsg_err json_value(struct vsg_buf *b, const struct vsg_value *v)
{
    char tmp[64];
    enum vsg_err rc = VSG_OK;

    switch (v->kind) {
    case VSG_VALUE_NULL:
        return vsg_buf_puts(b, "null");
    case VSG_VALUE_STRING:
        return json_string(b, v->u.str.ptr, v->u.str.len);
    case VSG_VALUE_BINARY:
        return json_base64(b, (const unsigned char *)v->u.str.ptr,
                           v->u.str.len);
    case VSG_VALUE_INT:
        return put_int(b, (long long)v->u.i);
    case VSG_VALUE_UINT:
        return put_uint(b, (unsigned long long)v->u.u, 0);
    case VSG_VALUE_BOOL:
        return vsg_buf_puts(b, v->u.b ? "true" : "false");
    case VSG_VALUE_DOUBLE:
        format_json_float(v->u.d, v->bits == 32 ? 32 : 64, tmp, sizeof tmp);
        return vsg_buf_puts(b, tmp);
    case VSG_VALUE_TIME:
        if ((rc = format_time(v->u.time.t, v->u.time.offset, tmp,
                              sizeof tmp)) != VSG_OK)
            return rc;
        return json_cstring(b, tmp);
    case VSG_VALUE_MOREF:
        if ((rc = vsg_buf_puts(b, "{\"Type\":")) != VSG_OK ||
            (rc = json_cstring(b, v->u.moref.type)) != VSG_OK ||
            (rc = vsg_buf_puts(b, ",\"Value\":")) != VSG_OK ||
            (rc = json_cstring(b, v->u.moref.value)) != VSG_OK)
            return rc;
        return vsg_buf_putc(b, '}');
    case VSG_VALUE_OBJECT:
        if ((rc = vsg_buf_putc(b, '{')) != VSG_OK) return rc;
        for (size_t i = 0; i < v->u.list.len; i++) {
            const struct vsg_value *f = &v->u.list.items[i];
            if (i > 0 && (rc = vsg_buf_putc(b, ',')) != VSG_OK) return rc;
            if ((rc = json_key(b, f->name ? f->name : "",
                               f->borrow & VSG_VALUE_B_NAME)) != VSG_OK ||
                (rc = json_value(b, f)) != VSG_OK)
                return rc;
        }
        return vsg_buf_putc(b, '}');
    case VSG_VALUE_ARRAY:
        if ((rc = vsg_buf_putc(b, '[')) != VSG_OK) return rc;
        for (size_t i = 0; i < v->u.list.len; i++) {
            if (i > 0 && (rc = vsg_buf_putc(b, ',')) != VSG_OK) return rc;
            if ((rc = json_value(b, &v->u.list.items[i])) != VSG_OK) return rc;
        }
        return vsg_buf_putc(b, ']');
    }
    return VSG_ERR_INTERNAL;
}

enum vsg_err vsg_value_encode_json(const struct vsg_value *v,
                                   struct vsg_buf *out)
{
    size_t mark = out->len;
    enum vsg_err rc = json_value(out, v);

    if (rc != VSG_OK) vsg_buf_truncate(out, mark);
    return rc;
}

/* ====================================================================
 * XML
 * ==================================================================== */

static int xml_char_ok(long r)
{
    return r == 0x09 || r == 0x0A || r == 0x0D ||
           (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) ||
           (r >= 0x10000 && r <= 0x10FFFF);
}

/* Go's (*printer).EscapeString / EscapeText (same table). */
static enum vsg_err xml_escape(struct vsg_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = 0, i = 0;
    enum vsg_err rc;

    while (i < n) {
        size_t w;
        long r = decode_rune(p + i, n - i, &w);
        const char *esc;
        switch (r) {
        case '"': esc = "&#34;"; break;
        case '\'': esc = "&#39;"; break;
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '\t': esc = "&#x9;"; break;
        case '\n': esc = "&#xA;"; break;
        case '\r': esc = "&#xD;"; break;
        default:
            if (r == -1 || !xml_char_ok(r)) {
                esc = "\xEF\xBF\xBD";
                break;
            }
            i += w;
            continue;
        }
        if ((rc = vsg_buf_append(b, s + start, i - start)) != VSG_OK ||
            (rc = vsg_buf_puts(b, esc)) != VSG_OK)
            return rc;
        i += w;
        start = i;
    }
    return vsg_buf_append(b, s + start, n - start);
}

static enum vsg_err xml_cescape(struct vsg_buf *b, const char *s)
{
    return xml_escape(b, s, strlen(s));
}

static enum vsg_err xml_open(struct vsg_buf *b, const char *name)
{
    enum vsg_err rc = vsg_buf_putc(b, '<');

    if (rc == VSG_OK) rc = vsg_buf_puts(b, name);
    return rc;
}

static enum vsg_err xml_close(struct vsg_buf *b, const char *name)
{
    enum vsg_err rc = vsg_buf_puts(b, "</");

    if (rc == VSG_OK) rc = vsg_buf_puts(b, name);
    if (rc == VSG_OK) rc = vsg_buf_putc(b, '>');
    return rc;
}

/* isEmptyValue of a value held directly in a field or slice. */
static int xml_is_empty(const struct vsg_value *v)
{
    switch (v->kind) {
    case VSG_VALUE_STRING:
    case VSG_VALUE_BINARY: return v->u.str.len == 0;
    case VSG_VALUE_INT: return v->u.i == 0;
    case VSG_VALUE_UINT: return v->u.u == 0;
    case VSG_VALUE_BOOL: return !v->u.b;
    case VSG_VALUE_DOUBLE: return v->u.d == 0;
    case VSG_VALUE_ARRAY: return v->u.list.len == 0;
    default: return 0;
    }
}

static enum vsg_err xml_fields(struct vsg_buf *b, const struct vsg_value *obj);

/* Element `name` for value `v`; `omit` is the field's omitempty. */
static enum vsg_err xml_element(struct vsg_buf *b, const char *name,
                                const struct vsg_value *v, int omit)
{
    char tmp[64];
    enum vsg_err rc = VSG_OK;

    if (v->kind == VSG_VALUE_ARRAY) {
        /* No enclosing tag; the field's omitempty applies per item. */
        for (size_t i = 0; rc == VSG_OK && i < v->u.list.len; i++)
            rc = xml_element(b, name, &v->u.list.items[i], omit);
        return rc;
    }
    if (v->kind == VSG_VALUE_NULL) {
        if (!(v->flags & VSG_VALUE_F_XMLEMPTY) || omit) return VSG_OK;
        if ((rc = xml_open(b, name)) != VSG_OK ||
            (rc = vsg_buf_putc(b, '>')) != VSG_OK)
            return rc;
        return xml_close(b, name);
    }
    if (omit && xml_is_empty(v)) return VSG_OK;
    if ((rc = xml_open(b, name)) != VSG_OK) return rc;
    if (v->kind == VSG_VALUE_MOREF) {
        if ((rc = vsg_buf_puts(b, " type=\"")) != VSG_OK ||
            (rc = xml_cescape(b, v->u.moref.type)) != VSG_OK ||
            (rc = vsg_buf_putc(b, '"')) != VSG_OK)
            return rc;
    }
    if ((rc = vsg_buf_putc(b, '>')) != VSG_OK) return rc;
    switch (v->kind) {
    case VSG_VALUE_STRING:
    case VSG_VALUE_BINARY:
        rc = xml_escape(b, v->u.str.ptr, v->u.str.len);
        break;
    case VSG_VALUE_INT:
        rc = put_int(b, (long long)v->u.i);
        break;
    case VSG_VALUE_UINT:
        rc = put_uint(b, (unsigned long long)v->u.u, 0);
        break;
    case VSG_VALUE_BOOL:
        rc = vsg_buf_puts(b, v->u.b ? "true" : "false");
        break;
    case VSG_VALUE_DOUBLE:
        format_xml_float(v->u.d, v->bits == 32 ? 32 : 64, tmp, sizeof tmp);
        rc = vsg_buf_puts(b, tmp);
        break;
    case VSG_VALUE_TIME:
        rc = format_time(v->u.time.t, v->u.time.offset, tmp, sizeof tmp);
        if (rc == VSG_OK) rc = xml_cescape(b, tmp);
        break;
    case VSG_VALUE_MOREF:
        rc = xml_cescape(b, v->u.moref.value);
        break;
    case VSG_VALUE_OBJECT:
        rc = xml_fields(b, v);
        break;
    default:
        rc = VSG_ERR_INTERNAL;
    }
    if (rc != VSG_OK) return rc;
    return xml_close(b, name);
}

static enum vsg_err xml_fields(struct vsg_buf *b, const struct vsg_value *obj)
{
    enum vsg_err rc = VSG_OK;

    for (size_t i = 0; rc == VSG_OK && i < obj->u.list.len; i++) {
        const struct vsg_value *f = &obj->u.list.items[i];
        rc = xml_element(b, f->name ? f->name : "", f,
                         (f->flags & VSG_VALUE_F_OMITEMPTY) != 0);
    }
    return rc;
}

enum vsg_err vsg_value_encode_xml(const struct vsg_value *v, const char *root,
                                  struct vsg_buf *out)
{
    size_t mark = out->len;
    enum vsg_err rc = xml_element(out, root, v, 0);

    if (rc != VSG_OK) vsg_buf_truncate(out, mark);
    return rc;
}

/* ====================================================================
 * Events
 * ==================================================================== */

enum vsg_err vsg_event_encode_json(const struct vsg_event *ev,
                                   struct vsg_buf *out)
{
    return vsg_value_encode_json(&ev->root, out);
}

enum vsg_err vsg_event_encode_xml(const struct vsg_event *ev,
                                  struct vsg_buf *out)
{
    const char *root = ev->root.kind == VSG_VALUE_OBJECT &&
                               ev->root.u.list.type != NULL
                           ? ev->root.u.list.type
                           : (ev->class_name ? ev->class_name : "Event");
    return vsg_value_encode_xml(&ev->root, root, out);
}

/*
 * event.c - decode a vSphere event element into a struct vsg_value tree.
 *
 * The rules (Go zero values, merge semantics, generic fallback for what
 * the schema does not know, limits) are documented in event.h. The
 * decoder mirrors govmomi's vim25/xml decoder (read.go: unmarshal,
 * typeForElement, copyValue) for the vendored types; the comments name
 * the Go behaviour each branch copies.
 */
#include "vsphere/event.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "vsphere/schema.h"

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

/* ====================================================================
 * Value tree helpers
 * ==================================================================== */

static void value_free_contents(struct vsg_value *v)
{
    switch (v->kind) {
    case VSG_VALUE_STRING:
    case VSG_VALUE_BINARY:
        if (!(v->borrow & VSG_VALUE_B_STR)) vsg_free(v->u.str.ptr);
        break;
    case VSG_VALUE_TIME:
        if (!(v->borrow & VSG_VALUE_B_STR)) vsg_free(v->u.time.text);
        break;
    case VSG_VALUE_MOREF:
        if (!(v->borrow & VSG_VALUE_B_TYPE)) vsg_free(v->u.moref.type);
        if (!(v->borrow & VSG_VALUE_B_STR)) vsg_free(v->u.moref.value);
        break;
    case VSG_VALUE_OBJECT:
    case VSG_VALUE_ARRAY:
        for (size_t i = 0; i < v->u.list.len; i++)
            vsg_value_cleanup(&v->u.list.items[i]);
        vsg_free(v->u.list.items);
        if (!(v->borrow & VSG_VALUE_B_TYPE)) vsg_free(v->u.list.type);
        break;
    default:
        break;
    }
    memset(&v->u, 0, sizeof v->u);
    v->kind = VSG_VALUE_NULL;
    v->bits = 0;
    v->borrow &= VSG_VALUE_B_NAME;
}

void vsg_value_cleanup(struct vsg_value *v)
{
    if (v == NULL) return;
    value_free_contents(v);
    if (!(v->borrow & VSG_VALUE_B_NAME)) vsg_free(v->name);
    v->name = NULL;
    v->flags = 0;
    v->borrow = 0;
}

enum vsg_err vsg_value_init_object(struct vsg_value *v, const char *type)
{
    char *t = NULL;

    if (type != NULL && (t = vsg_strdup(type)) == NULL) return VSG_ERR_NOMEM;
    memset(v, 0, sizeof *v);
    v->kind = VSG_VALUE_OBJECT;
    v->u.list.type = t;
    return VSG_OK;
}

void vsg_value_init_array(struct vsg_value *v)
{
    memset(v, 0, sizeof *v);
    v->kind = VSG_VALUE_ARRAY;
}

enum vsg_err vsg_value_set_object(struct vsg_value *v, const char *type)
{
    char *t = NULL;

    if (type != NULL && (t = vsg_strdup(type)) == NULL) return VSG_ERR_NOMEM;
    value_free_contents(v);
    v->kind = VSG_VALUE_OBJECT;
    v->u.list.type = t;
    return VSG_OK;
}

void vsg_value_set_array(struct vsg_value *v)
{
    value_free_contents(v);
    v->kind = VSG_VALUE_ARRAY;
}

static enum vsg_err set_bytes(struct vsg_value *v, enum vsg_value_kind kind,
                              const char *s, size_t n)
{
    char *p = vsg_malloc(n + 1);

    if (p == NULL) return VSG_ERR_NOMEM;
    if (n > 0) memcpy(p, s, n);
    p[n] = '\0';
    value_free_contents(v);
    v->kind = kind;
    v->u.str.ptr = p;
    v->u.str.len = n;
    return VSG_OK;
}

enum vsg_err vsg_value_set_string(struct vsg_value *v, const char *s,
                                  size_t n)
{
    return set_bytes(v, VSG_VALUE_STRING, s, n);
}

enum vsg_err vsg_value_set_binary(struct vsg_value *v, const char *s,
                                  size_t n)
{
    return set_bytes(v, VSG_VALUE_BINARY, s, n);
}

enum vsg_err vsg_value_append(struct vsg_value *list, const char *name,
                              struct vsg_value **out)
{
    struct vsg_value *item;
    char *nm = NULL;

    if (list->kind != VSG_VALUE_OBJECT && list->kind != VSG_VALUE_ARRAY)
        return VSG_ERR_INVAL;
    if (name != NULL && (nm = vsg_strdup(name)) == NULL) return VSG_ERR_NOMEM;
    if (list->u.list.len == list->u.list.cap) {
        size_t cap = list->u.list.cap ? list->u.list.cap * 2 : 4;
        struct vsg_value *items =
            vsg_realloc(list->u.list.items, cap * sizeof *items);
        if (items == NULL) {
            vsg_free(nm);
            return VSG_ERR_NOMEM;
        }
        list->u.list.items = items;
        list->u.list.cap = cap;
    }
    item = &list->u.list.items[list->u.list.len++];
    memset(item, 0, sizeof *item);
    item->name = nm;
    *out = item;
    return VSG_OK;
}

struct vsg_value *vsg_value_field(const struct vsg_value *obj,
                                  const char *name)
{
    if (obj == NULL || obj->kind != VSG_VALUE_OBJECT) return NULL;
    for (size_t i = 0; i < obj->u.list.len; i++) {
        struct vsg_value *f = &obj->u.list.items[i];
        if (f->name != NULL && strcmp(f->name, name) == 0) return f;
    }
    return NULL;
}

/* ====================================================================
 * Decoder state and XML helpers
 * ==================================================================== */

struct dec {
    struct vsg_event_limits lim; /* Effective limits. */
    size_t nodes;                /* Tree nodes made so far. */
    unsigned warnings;           /* Values zeroed because Go rejects them. */
    const xmlNode *top;          /* The event element (for error paths). */
    struct vsg_error *err;       /* Caller's error detail, may be NULL. */
};

/* Writes "a/b/c" (local names from the event element down to `n`). */
static void node_path(const struct dec *d, const xmlNode *n, char *out,
                      size_t size)
{
    const xmlNode *chain[32];
    size_t depth = 0, len = 0;

    for (; n != NULL && depth < 32; n = n->parent) {
        chain[depth++] = n;
        if (n == d->top) break;
    }
    out[0] = '\0';
    if (depth == 32 && chain[31] != d->top) {
        snprintf(out, size, "...");
        len = 3;
    }
    while (depth > 0 && len + 1 < size) {
        const char *name = (const char *)chain[--depth]->name;
        int w = snprintf(out + len, size - len, "%s%s", len ? "/" : "",
                         name ? name : "?");
        if (w < 0) break;
        len += (size_t)w;
    }
}

static enum vsg_err fail_at(struct dec *d, const xmlNode *n, enum vsg_err code,
                            const char *what)
{
    char path[200];

    node_path(d, n, path, sizeof path);
    return vsg_error_set(d->err, code, "event element <%s>: %s", path, what);
}

static enum vsg_err count_node(struct dec *d, const xmlNode *at)
{
    if (++d->nodes > d->lim.max_nodes)
        return fail_at(d, at, VSG_ERR_TOOBIG, "too many values in one event");
    return VSG_OK;
}

static int is_element(const xmlNode *n)
{
    return n != NULL && n->type == XML_ELEMENT_NODE;
}

static int has_element_children(const xmlNode *n)
{
    for (const xmlNode *c = n->children; c != NULL; c = c->next)
        if (is_element(c)) return 1;
    return 0;
}

/*
 * The element's own character data (text and CDATA children, not those
 * of child elements), as Go's decoder collects it. Sets *out to a new
 * string (vsg_free) and *len.
 */
static enum vsg_err text_of(struct dec *d, const xmlNode *n, char **out,
                            size_t *len)
{
    size_t total = 0;
    char *p;

    for (const xmlNode *c = n->children; c != NULL; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            c->content != NULL)
            total += strlen((const char *)c->content);
    if (total > d->lim.max_text)
        return fail_at(d, n, VSG_ERR_TOOBIG, "text too long");
    if ((p = vsg_malloc(total + 1)) == NULL) return VSG_ERR_NOMEM;
    total = 0;
    for (const xmlNode *c = n->children; c != NULL; c = c->next)
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
            c->content != NULL) {
            size_t l = strlen((const char *)c->content);
            memcpy(p + total, c->content, l);
            total += l;
        }
    p[total] = '\0';
    *out = p;
    *len = total;
    return VSG_OK;
}

/*
 * Like text_of(), without a copy in the common case of one text child (or
 * none): *view then points into the tree (valid while it lives) and
 * *owned is NULL. Otherwise *owned is the new string text_of() made and
 * *view is *owned.
 */
static enum vsg_err text_view(struct dec *d, const xmlNode *n,
                              const char **view, size_t *len, char **owned)
{
    const xmlNode *c = n->children;
    enum vsg_err rc;

    *owned = NULL;
    if (c == NULL) {
        *view = "";
        *len = 0;
        return VSG_OK;
    }
    if (c->next == NULL &&
        (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
        c->content != NULL) {
        size_t l = strlen((const char *)c->content);
        if (l > d->lim.max_text)
            return fail_at(d, n, VSG_ERR_TOOBIG, "text too long");
        *view = (const char *)c->content;
        *len = l;
        return VSG_OK;
    }
    rc = text_of(d, n, owned, len);
    *view = *owned;
    return rc;
}

/* The value of attribute `a` as a new string, or NULL when out of
 * memory. */
static char *attr_value(const xmlAttr *a)
{
    const xmlNode *c = a->children;
    xmlChar *v;
    char *s;

    /* One text child (the usual case) is the whole value. */
    if (c == NULL) return vsg_strdup("");
    if (c->next == NULL && c->type == XML_TEXT_NODE && c->content != NULL)
        return vsg_strdup((const char *)c->content);
    v = xmlNodeListGetString(a->doc, a->children, 1);
    s = vsg_strdup(v ? (const char *)v : "");
    xmlFree(v);
    return s;
}

static int attr_is_xsi(const xmlAttr *a)
{
    return a->ns != NULL && a->ns->href != NULL &&
           strcmp((const char *)a->ns->href, XSI_NS) == 0;
}

/*
 * The element's xsi:type without its prefix, as a new string in *out, or
 * NULL in *out when there is none. The attribute is found by namespace
 * URI; an undeclared literal "xsi:type" (which Go also accepts) counts.
 */
static enum vsg_err xsi_type(const xmlNode *n, char **out)
{
    const char *colon;
    char *v = NULL;

    *out = NULL;
    for (const xmlAttr *a = n->properties; a != NULL; a = a->next) {
        if ((attr_is_xsi(a) && strcmp((const char *)a->name, "type") == 0) ||
            (a->ns == NULL && strcmp((const char *)a->name, "xsi:type") == 0)) {
            if ((v = attr_value(a)) == NULL) return VSG_ERR_NOMEM;
            break;
        }
    }
    if (v == NULL) return VSG_OK;
    colon = strrchr(v, ':');
    if (colon != NULL) memmove(v, colon + 1, strlen(colon + 1) + 1);
    *out = v;
    return VSG_OK;
}

/* The last attribute named "type" that is not xsi:type (Go's MoRef
 * Type), or NULL. */
static const xmlAttr *moref_type_attr(const xmlNode *n)
{
    const xmlAttr *found = NULL;

    for (const xmlAttr *a = n->properties; a != NULL; a = a->next)
        if (strcmp((const char *)a->name, "type") == 0 && !attr_is_xsi(a))
            found = a;
    return found;
}

/* ====================================================================
 * Scalars, as Go's strconv parses them (copyValue)
 * ==================================================================== */

/* Bytes of the Unicode white space (unicode.IsSpace) starting at p[0..n),
 * or 0. */
static size_t space_at(const unsigned char *p, size_t n)
{
    if (n >= 1 && (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r'))) return 1;
    if (n >= 2 && p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0)) return 2;
    if (n >= 3 && ((p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80) ||
                   (p[0] == 0xE2 && p[1] == 0x80 &&
                    (p[2] <= 0x8A || p[2] == 0xA8 || p[2] == 0xA9 ||
                     p[2] == 0xAF) && p[2] >= 0x80) ||
                   (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) ||
                   (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)))
        return 3;
    return 0;
}

/* Go's strings.TrimSpace. */
static void trim_space(const char **s, size_t *n)
{
    const unsigned char *p = (const unsigned char *)*s;
    size_t len = *n, w;

    while ((w = space_at(p, len)) > 0) p += w, len -= w;
    for (;;) {
        if (len >= 1 && space_at(p + len - 1, 1) == 1) {
            len--;
        } else if (len >= 2 && space_at(p + len - 2, 2) == 2) {
            len -= 2;
        } else if (len >= 3 && space_at(p + len - 3, 3) == 3) {
            len -= 3;
        } else {
            break;
        }
    }
    *s = (const char *)p;
    *n = len;
}

/* strconv.ParseUint(s, 10, bits) without trimming; 0 on success. */
static int parse_u64(const char *s, size_t n, unsigned bits, uint64_t *out)
{
    uint64_t v = 0, max = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;

    if (n == 0) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned digit;
        if (s[i] < '0' || s[i] > '9') return -1;
        digit = (unsigned)(s[i] - '0');
        if (v > (max - digit) / 10) return -1;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

/* strconv.ParseInt(s, 10, bits) without trimming; 0 on success. */
static int parse_i64(const char *s, size_t n, unsigned bits, int64_t *out)
{
    uint64_t u, lim = UINT64_C(1) << (bits - 1);
    int neg = 0;

    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++, n--;
    }
    if (parse_u64(s, n, 64, &u) != 0) return -1;
    if (neg ? u > lim : u >= lim) return -1;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

static int parse_bool(const char *s, size_t n, int *out)
{
    static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};

    for (size_t i = 0; i < 6; i++) {
        if (strlen(t[i]) == n && memcmp(t[i], s, n) == 0) return *out = 1, 0;
        if (strlen(f[i]) == n && memcmp(f[i], s, n) == 0) return *out = 0, 0;
    }
    return -1;
}

/* strconv.ParseFloat(s, bits) for decimal syntax; NaN, infinities (which
 * Go's JSON encoder rejects), hex floats and overflow fail. */
static int parse_float(const char *s, size_t n, unsigned bits, double *out)
{
    char buf[512], *end;
    size_t i = 0, digits = 0;
    double v;

    if (n == 0 || n >= sizeof buf) return -1;
    if (s[i] == '+' || s[i] == '-') i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) digits++;
    if (digits == 0) return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp = 0;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) exp++;
        if (exp == 0) return -1;
    }
    if (i != n) return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    if (bits == 32) {
        float f = strtof(buf, &end);
        if (isinf(f)) return -1;
        v = (double)f;
    } else {
        v = strtod(buf, &end);
        if (isinf(v)) return -1;
    }
    *out = v;
    return 0;
}

/* Splits the zone offset off an RFC 3339 text that already parsed. */
static int32_t zone_offset(const char *s)
{
    size_t n = strlen(s);
    int32_t off;

    if (n < 6 || s[n - 1] == 'Z' || s[n - 1] == 'z') return 0;
    off = ((s[n - 5] - '0') * 10 + (s[n - 4] - '0')) * 3600 +
          ((s[n - 2] - '0') * 10 + (s[n - 1] - '0')) * 60;
    return s[n - 6] == '-' ? -off : off;
}

/* RFC 3339 as Go's time.Time.UnmarshalText accepts it: like
 * vsg_time_parse_rfc3339(), but fraction digits past the ninth are
 * dropped (Go truncates them). */
static enum vsg_err parse_time(const char *s, size_t n, struct vsg_time *out)
{
    const char *dot = n > 19 && s[19] == '.' ? s + 19 : NULL;
    char buf[64];
    size_t digits = 0;

    if (dot != NULL)
        while (dot + 1 + digits < s + n && dot[1 + digits] >= '0' &&
               dot[1 + digits] <= '9')
            digits++;
    if (dot == NULL || digits <= 9) return vsg_time_parse_rfc3339(s, out);
    if (n - (digits - 9) >= sizeof buf) return VSG_ERR_PARSE;
    memcpy(buf, s, 19 + 1 + 9);
    memcpy(buf + 29, dot + 1 + digits, n - (size_t)(dot + 1 + digits - s));
    buf[n - (digits - 9)] = '\0';
    return vsg_time_parse_rfc3339(buf, out);
}

/* The zero time.Time, 0001-01-01T00:00:00Z. */
static const struct vsg_time zero_time = {INT64_C(-62135596800), 0};

static void set_time_zero(struct vsg_value *v)
{
    value_free_contents(v);
    v->kind = VSG_VALUE_TIME;
    v->u.time.t = zero_time;
}

/* Kinds of scalar a text can be decoded as (schema kinds plus the xsd
 * types only an AnyType slot can name). */
enum scalar {
    SC_STRING, SC_BOOL, SC_INT, SC_UINT, SC_FLOAT, SC_TIME, SC_BINARY
};

/* Makes `v` a STRING or BINARY of text[0..len): `owned` (the same bytes
 * in a string of the caller's, or NULL) is adopted; else `text` (in the
 * element's tree) is borrowed when `borrow`, copied otherwise. */
static enum vsg_err take_bytes(struct vsg_value *v, enum vsg_value_kind kind,
                               const char *text, size_t len, char **owned, int borrow)
{
    if (*owned == NULL && !borrow) return set_bytes(v, kind, text, len);
    value_free_contents(v);
    v->kind = kind;
    v->u.str.ptr = *owned ? *owned : (char *)text;
    v->u.str.len = len;
    if (*owned == NULL) v->borrow |= VSG_VALUE_B_STR;
    *owned = NULL;
    return VSG_OK;
}

/*
 * Replaces `v` by the scalar decoded from text[0..len), as copyValue
 * does. `text` is NUL-terminated; `owned` is NULL or the string `text`
 * lives in, which this takes over (kept in `v` or freed).
 */
static enum vsg_err set_scalar(struct dec *d, struct vsg_value *v,
                               enum scalar sc, unsigned bits,
                               const char *text, size_t len, char *owned)
{
    const char *s = text;
    size_t n = len;
    int ok = 1;
    enum vsg_err rc = VSG_OK;

    switch (sc) {
    case SC_STRING:
        rc = take_bytes(v, VSG_VALUE_STRING, text, len, &owned, d->lim.borrow_text);
        break;
    case SC_BINARY:
        /* Go stores the raw text (no base64 decoding) in the []byte. */
        rc = take_bytes(v, VSG_VALUE_BINARY, text, len, &owned, d->lim.borrow_text);
        break;
    case SC_BOOL:
        value_free_contents(v);
        v->kind = VSG_VALUE_BOOL;
        if (len == 0) break;
        trim_space(&s, &n);
        ok = parse_bool(s, n, &v->u.b) == 0;
        if (!ok) v->u.b = 0;
        break;
    case SC_INT:
        value_free_contents(v);
        v->kind = VSG_VALUE_INT;
        v->bits = (uint8_t)bits;
        if (len == 0) break;
        trim_space(&s, &n);
        ok = parse_i64(s, n, bits, &v->u.i) == 0;
        if (!ok) v->u.i = 0;
        break;
    case SC_UINT:
        value_free_contents(v);
        v->kind = VSG_VALUE_UINT;
        v->bits = (uint8_t)bits;
        if (len > 0 && s[0] == '-') {
            /* Go: a negative value is two's complement (no trimming). */
            int64_t i;
            ok = parse_i64(s, n, bits, &i) == 0;
            v->u.u = ok ? (uint64_t)i &
                              (bits >= 64 ? UINT64_MAX
                                          : (UINT64_C(1) << bits) - 1)
                        : 0;
            break;
        }
        if (len == 0) break;
        trim_space(&s, &n);
        ok = parse_u64(s, n, bits, &v->u.u) == 0;
        if (!ok) v->u.u = 0;
        break;
    case SC_FLOAT:
        value_free_contents(v);
        v->kind = VSG_VALUE_DOUBLE;
        v->bits = (uint8_t)bits;
        if (len == 0) break;
        trim_space(&s, &n);
        ok = parse_float(s, n, bits, &v->u.d) == 0;
        if (!ok) v->u.d = 0;
        break;
    case SC_TIME: {
        struct vsg_time t;
        /* Go: time.Time.UnmarshalText, RFC 3339, no trimming. */
        int borrowed = owned == NULL && d->lim.borrow_text;
        if (owned == NULL && !borrowed && (owned = vsg_strndup(text, len)) == NULL)
            return VSG_ERR_NOMEM;
        set_time_zero(v);
        v->flags &= (uint8_t)~VSG_VALUE_F_BADTEXT;
        v->u.time.text = borrowed ? (char *)text : owned;
        if (borrowed) v->borrow |= VSG_VALUE_B_STR;
        owned = NULL;
        if (parse_time(v->u.time.text, len, &t) == VSG_OK) {
            v->u.time.t = t;
            v->u.time.offset = zone_offset(v->u.time.text);
        } else {
            v->flags |= VSG_VALUE_F_BADTEXT;
            ok = 0;
        }
        break;
    }
    }
    vsg_free(owned);
    if (!ok) d->warnings++;
    return rc;
}

/* The scalar for an xsd type name (prefix stripped), or -1. */
static int xsd_scalar(const char *name, unsigned *bits)
{
    static const struct {
        const char *name;
        enum scalar sc;
        unsigned bits;
    } map[] = {
        {"boolean", SC_BOOL, 0},       {"byte", SC_INT, 8},
        {"short", SC_INT, 16},         {"int", SC_INT, 32},
        {"long", SC_INT, 64},          {"unsignedByte", SC_UINT, 8},
        {"unsignedShort", SC_UINT, 16}, {"unsignedInt", SC_UINT, 32},
        {"unsignedLong", SC_UINT, 64}, {"float", SC_FLOAT, 32},
        {"double", SC_FLOAT, 64},      {"string", SC_STRING, 0},
        {"dateTime", SC_TIME, 0},      {"base64Binary", SC_BINARY, 0},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, name) == 0) {
            *bits = map[i].bits;
            return (int)map[i].sc;
        }
    return -1;
}

/* The scalar for a schema kind, or -1 for MOREF/OBJECT/IFACE/ANY. */
static int kind_scalar(unsigned kind, unsigned *bits)
{
    *bits = 0;
    switch (kind) {
    case VSG_SCHEMA_STRING:
    case VSG_SCHEMA_ENUM: return SC_STRING;
    case VSG_SCHEMA_BOOL: return SC_BOOL;
    case VSG_SCHEMA_UINT8: *bits = 8; return SC_UINT;
    case VSG_SCHEMA_INT16: *bits = 16; return SC_INT;
    case VSG_SCHEMA_INT32: *bits = 32; return SC_INT;
    case VSG_SCHEMA_INT64: *bits = 64; return SC_INT;
    case VSG_SCHEMA_FLOAT32: *bits = 32; return SC_FLOAT;
    case VSG_SCHEMA_FLOAT64: *bits = 64; return SC_FLOAT;
    case VSG_SCHEMA_TIME: return SC_TIME;
    case VSG_SCHEMA_BINARY: return SC_BINARY;
    default: return -1;
    }
}

/* ====================================================================
 * Zero values
 * ==================================================================== */

static enum vsg_err zero_fill(struct dec *d, const xmlNode *at,
                              struct vsg_value *obj,
                              const struct vsg_schema_type *t,
                              const char *type_name);

/* encoding/xml's omitempty applies to a value held directly. */
static uint8_t field_flags(const struct vsg_schema_field *f)
{
    uint8_t flags = 0;

    if ((f->flags & VSG_SCHEMA_F_OMITEMPTY) && !(f->flags & VSG_SCHEMA_F_PTR) &&
        f->kind != VSG_SCHEMA_IFACE && f->kind != VSG_SCHEMA_ANY)
        flags |= VSG_VALUE_F_OMITEMPTY;
    if (f->kind == VSG_SCHEMA_BINARY && !(f->flags & VSG_SCHEMA_F_ARRAY) &&
        !(f->flags & VSG_SCHEMA_F_OMITEMPTY))
        flags |= VSG_VALUE_F_XMLEMPTY;
    return flags;
}

/* The zero string and MoRef parts, borrowed (VSG_VALUE_B_STR/TYPE): never
 * written to or freed. */
static char empty[1];

/* Sets field value `v` (name already set, contents NULL) to the Go zero
 * value of `f`. */
static enum vsg_err zero_value(struct dec *d, const xmlNode *at,
                               struct vsg_value *v,
                               const struct vsg_schema_field *f)
{
    unsigned bits;
    int sc;

    v->flags = field_flags(f);
    if (f->flags & (VSG_SCHEMA_F_ARRAY | VSG_SCHEMA_F_PTR) ||
        f->kind == VSG_SCHEMA_IFACE || f->kind == VSG_SCHEMA_ANY ||
        f->kind == VSG_SCHEMA_BINARY)
        return VSG_OK; /* nil */
    if (f->kind == VSG_SCHEMA_OBJECT)
        return zero_fill(d, at, v, vsg_schema_type_at(f->type), NULL);
    if (f->kind == VSG_SCHEMA_MOREF) {
        v->kind = VSG_VALUE_MOREF;
        v->u.moref.type = empty;
        v->u.moref.value = empty;
        v->borrow |= VSG_VALUE_B_TYPE | VSG_VALUE_B_STR;
        return VSG_OK;
    }
    if (f->kind == VSG_SCHEMA_TIME) {
        set_time_zero(v);
        return VSG_OK;
    }
    sc = kind_scalar(f->kind, &bits);
    switch (sc) {
    case SC_STRING:
        v->kind = VSG_VALUE_STRING;
        v->u.str.ptr = empty;
        v->u.str.len = 0;
        v->borrow |= VSG_VALUE_B_STR;
        return VSG_OK;
    case SC_BOOL: v->kind = VSG_VALUE_BOOL; break;
    case SC_INT: v->kind = VSG_VALUE_INT; break;
    case SC_UINT: v->kind = VSG_VALUE_UINT; break;
    case SC_FLOAT: v->kind = VSG_VALUE_DOUBLE; break;
    default: return VSG_ERR_INTERNAL;
    }
    v->bits = (uint8_t)bits;
    return VSG_OK;
}

/*
 * Makes `obj` (NULL or already cleaned contents; its name and flags are
 * kept) an OBJECT of type `t` with every field at its zero value. The
 * object's type name is `type_name` (copied) when given, else t's name.
 * Names from the schema are borrowed, and the fields are allocated at
 * once, with room for a few unknown ones.
 */
static enum vsg_err zero_fill(struct dec *d, const xmlNode *at,
                              struct vsg_value *obj,
                              const struct vsg_schema_type *t,
                              const char *type_name)
{
    const struct vsg_schema_field *fields[VSG_SCHEMA_MAX_FIELDS];
    size_t n;
    enum vsg_err rc;

    if (type_name != NULL) {
        if ((rc = vsg_value_set_object(obj, type_name)) != VSG_OK) return rc;
    } else {
        value_free_contents(obj);
        obj->kind = VSG_VALUE_OBJECT;
        obj->u.list.type = (char *)vsg_schema_type_name(t);
        obj->borrow |= VSG_VALUE_B_TYPE;
    }
    n = vsg_schema_flatten(t, fields, sizeof fields / sizeof fields[0]);
    if (n > sizeof fields / sizeof fields[0]) return VSG_ERR_INTERNAL;
    if ((obj->u.list.items = vsg_calloc(n + 4, sizeof *obj->u.list.items)) ==
        NULL)
        return VSG_ERR_NOMEM;
    obj->u.list.cap = n + 4;
    for (size_t i = 0; i < n; i++) {
        struct vsg_value *v = &obj->u.list.items[i];
        if ((rc = count_node(d, at)) != VSG_OK) return rc;
        v->name = (char *)vsg_schema_field_name(fields[i]);
        v->borrow = VSG_VALUE_B_NAME;
        obj->u.list.len = i + 1;
        if ((rc = zero_value(d, at, v, fields[i])) != VSG_OK) return rc;
    }
    return VSG_OK;
}

/* ====================================================================
 * Decoding
 * ==================================================================== */

static enum vsg_err decode_object(struct dec *d, const xmlNode *n,
                                  struct vsg_value *obj,
                                  const struct vsg_schema_type *t,
                                  size_t depth);
static enum vsg_err decode_generic(struct dec *d, const xmlNode *n,
                                   struct vsg_value *v, size_t depth);

/* A MoRef from `n` into `v`; when `v` already is one, merge as Go does
 * (the type only changes when the attribute is there). */
static enum vsg_err decode_moref(struct dec *d, const xmlNode *n,
                                 struct vsg_value *v)
{
    const xmlAttr *a = moref_type_attr(n);
    char *type = NULL, *text = NULL;
    uint8_t borrowed = 0;
    size_t len;
    enum vsg_err rc;

    if ((rc = text_of(d, n, &text, &len)) != VSG_OK) return rc;
    if (a != NULL) {
        if ((type = attr_value(a)) == NULL) goto nomem;
        if (strlen(type) > d->lim.max_text) {
            vsg_free(type);
            vsg_free(text);
            return fail_at(d, n, VSG_ERR_TOOBIG, "type attribute too long");
        }
    } else if (v->kind == VSG_VALUE_MOREF) {
        type = v->u.moref.type;
        borrowed = v->borrow & VSG_VALUE_B_TYPE;
        v->u.moref.type = NULL;
        v->borrow &= (uint8_t)~VSG_VALUE_B_TYPE;
    } else {
        type = empty;
        borrowed = VSG_VALUE_B_TYPE;
    }
    value_free_contents(v);
    v->kind = VSG_VALUE_MOREF;
    v->u.moref.type = type;
    v->u.moref.value = text;
    v->borrow |= borrowed;
    return VSG_OK;
nomem:
    vsg_free(text);
    return VSG_ERR_NOMEM;
}

/* Decodes scalar `sc` from the text of `n` into `v`. */
static enum vsg_err decode_scalar(struct dec *d, const xmlNode *n,
                                  struct vsg_value *v, int sc, unsigned bits)
{
    const char *text = "";
    char *owned = NULL;
    size_t len = 0;
    enum vsg_err rc = text_view(d, n, &text, &len, &owned);

    if (rc != VSG_OK) return rc;
    return set_scalar(d, v, (enum scalar)sc, bits, text, len, owned);
}

/*
 * Resolves the dynamic type of an element in a Base<base> slot: its
 * xsi:type when that is `base` or a subclass; else `base` itself. An
 * unknown name is returned in *type_name (owned by the caller) to be kept
 * as the object's type name; a known but incompatible one (Go panics) is
 * dropped and counted as a warning.
 */
static enum vsg_err iface_type(struct dec *d, const xmlNode *n,
                               const struct vsg_schema_type *base,
                               const struct vsg_schema_type **out,
                               char **type_name)
{
    const struct vsg_schema_type *t;
    enum vsg_err rc = xsi_type(n, type_name);

    *out = base;
    if (rc != VSG_OK || *type_name == NULL) return rc;
    t = vsg_schema_find_type(*type_name);
    if (t != NULL && vsg_schema_type_is_a(t, base)) {
        *out = t;
        vsg_free(*type_name);
        *type_name = NULL;
    } else if (t != NULL) {
        /* A known type that cannot live here (Go panics): the base. */
        d->warnings++;
        vsg_free(*type_name);
        *type_name = NULL;
    }
    return VSG_OK;
}

/* Decodes one element `n` of schema field `f` into `v` (a field value or
 * an array item). Non-array repeats merge as Go's decoder does. */
static enum vsg_err decode_single(struct dec *d, const xmlNode *n,
                                  const struct vsg_schema_field *f,
                                  struct vsg_value *v, size_t depth)
{
    const struct vsg_schema_type *t;
    char *type_name = NULL;
    unsigned bits;
    int sc;
    enum vsg_err rc;

    switch (f->kind) {
    case VSG_SCHEMA_MOREF:
        return decode_moref(d, n, v);
    case VSG_SCHEMA_OBJECT:
        t = vsg_schema_type_at(f->type);
        /* xsi:type is ignored on a concrete struct field, as in Go. */
        if (v->kind != VSG_VALUE_OBJECT &&
            (rc = zero_fill(d, n, v, t, NULL)) != VSG_OK)
            return rc;
        return decode_object(d, n, v, t, depth);
    case VSG_SCHEMA_IFACE:
        t = vsg_schema_type_at(f->type);
        if (v->kind == VSG_VALUE_OBJECT) {
            /* Go decodes a repeat into the value already there. */
            const struct vsg_schema_type *have =
                vsg_schema_find_type(v->u.list.type);
            if (have != NULL && vsg_schema_type_is_a(have, t)) t = have;
            return decode_object(d, n, v, t, depth);
        }
        if ((rc = iface_type(d, n, t, &t, &type_name)) != VSG_OK) return rc;
        rc = zero_fill(d, n, v, t, type_name);
        vsg_free(type_name);
        if (rc != VSG_OK) return rc;
        return decode_object(d, n, v, t, depth);
    case VSG_SCHEMA_ANY:
        /* Go: a non-nil AnyType holds a value, and a repeat is skipped. */
        if (v->kind != VSG_VALUE_NULL) return VSG_OK;
        return decode_generic(d, n, v, depth);
    default:
        sc = kind_scalar(f->kind, &bits);
        if (sc < 0) return VSG_ERR_INTERNAL;
        return decode_scalar(d, n, v, sc, bits);
    }
}

/* Decodes element `n` into known field `v` of schema field `f`. */
static enum vsg_err decode_field(struct dec *d, const xmlNode *n,
                                 const struct vsg_schema_field *f,
                                 struct vsg_value *v, size_t depth)
{
    struct vsg_value *item;
    enum vsg_err rc;

    if (!(f->flags & VSG_SCHEMA_F_ARRAY)) return decode_single(d, n, f, v, depth);
    if (v->kind != VSG_VALUE_ARRAY) vsg_value_set_array(v);
    if ((rc = count_node(d, n)) != VSG_OK) return rc;
    if ((rc = vsg_value_append(v, NULL, &item)) != VSG_OK) return rc;
    return decode_single(d, n, f, item, depth);
}

/* Stores element `n`, unknown to the object's type, generically: a first
 * occurrence is a new field, repeats make it an array. */
static enum vsg_err decode_unknown(struct dec *d, const xmlNode *n,
                                   struct vsg_value *obj, size_t depth)
{
    const char *name = (const char *)n->name;
    struct vsg_value *v = NULL, *item;
    enum vsg_err rc;

    for (size_t i = 0; i < obj->u.list.len; i++) {
        struct vsg_value *f = &obj->u.list.items[i];
        if ((f->flags & VSG_VALUE_F_UNKNOWN) && strcmp(f->name, name) == 0) {
            v = f;
            break;
        }
    }
    if ((rc = count_node(d, n)) != VSG_OK) return rc;
    if (v == NULL) {
        if ((rc = vsg_value_append(obj, name, &v)) != VSG_OK) return rc;
        v->flags = VSG_VALUE_F_UNKNOWN;
        return decode_generic(d, n, v, depth);
    }
    if (v->kind != VSG_VALUE_ARRAY) {
        /* Second occurrence: the field becomes an array of both. */
        struct vsg_value first = *v;
        first.name = NULL;
        first.flags = 0;
        first.borrow &= (uint8_t)~VSG_VALUE_B_NAME;
        memset(&v->u, 0, sizeof v->u);
        v->kind = VSG_VALUE_ARRAY;
        v->borrow &= VSG_VALUE_B_NAME;
        if ((rc = vsg_value_append(v, NULL, &item)) != VSG_OK) {
            value_free_contents(&first);
            return rc;
        }
        *item = first;
    }
    if ((rc = vsg_value_append(v, NULL, &item)) != VSG_OK) return rc;
    return decode_generic(d, n, item, depth);
}

/* The schema field of slot `at` of `obj` (filled by zero_fill from `t`)
 * when that slot is the known field `name`, else NULL. */
static const struct vsg_schema_field *field_hint(const struct vsg_schema_type *t,
                                                 const struct vsg_value *obj, size_t at,
                                                 const char *name, size_t *index)
{
    const struct vsg_value *x;
    const struct vsg_schema_field *f;

    if (at >= obj->u.list.len) return NULL;
    x = &obj->u.list.items[at];
    if ((x->flags & VSG_VALUE_F_UNKNOWN) || x->name == NULL || strcmp(x->name, name) != 0)
        return NULL;
    f = vsg_schema_field_at_index(t, at);
    if (f == NULL || vsg_schema_field_name(f) != x->name) return NULL;
    *index = at;
    return f;
}

/*
 * Decodes the child elements of `n` into OBJECT `obj`, whose known fields
 * are those of schema type `t` (NULL: a generic object, every child is
 * unknown). `depth` is the nesting of `n` below the event element.
 */
static enum vsg_err decode_object(struct dec *d, const xmlNode *n,
                                  struct vsg_value *obj,
                                  const struct vsg_schema_type *t,
                                  size_t depth)
{
    enum vsg_err rc;
    size_t next = 0; /* the slot after the previous known child's */

    if (depth > d->lim.max_depth)
        return fail_at(d, n, VSG_ERR_TOOBIG, "nested too deep");
    for (const xmlNode *c = n->children; c != NULL; c = c->next) {
        const struct vsg_schema_field *f = NULL;
        struct vsg_value *v = NULL;
        size_t at = 0;

        if (!is_element(c)) continue;
        /* Children come in schema order: try the slot after the previous
         * child's, then that one again (an array's next item), before a
         * search. Field names are unique along a type's parents (the
         * generator refuses shadowing), so a match is the search's answer. */
        if (t != NULL) f = field_hint(t, obj, next, (const char *)c->name, &at);
        if (t != NULL && f == NULL && next > 0)
            f = field_hint(t, obj, next - 1, (const char *)c->name, &at);
        if (t != NULL && f == NULL)
            f = vsg_schema_find_field_at(t, (const char *)c->name, &at);
        /* zero_fill() put the known fields first, in schema order. */
        if (f != NULL && at < obj->u.list.len &&
            !(obj->u.list.items[at].flags & VSG_VALUE_F_UNKNOWN) &&
            obj->u.list.items[at].name == vsg_schema_field_name(f))
            v = &obj->u.list.items[at];
        if (f != NULL && v == NULL) {
            for (size_t i = 0; i < obj->u.list.len; i++) {
                struct vsg_value *x = &obj->u.list.items[i];
                if (!(x->flags & VSG_VALUE_F_UNKNOWN) &&
                    strcmp(x->name, (const char *)c->name) == 0) {
                    v = x;
                    break;
                }
            }
        }
        if (v != NULL && at < obj->u.list.len && v == &obj->u.list.items[at]) next = at + 1;
        if (v != NULL)
            rc = decode_field(d, c, f, v, depth + 1);
        else
            rc = decode_unknown(d, c, obj, depth + 1);
        if (rc != VSG_OK) return rc;
    }
    return VSG_OK;
}

/*
 * Decodes `n` without a schema field: by its xsi:type when that names an
 * xsd primitive, ManagedObjectReference or a known type (as Go fills an
 * AnyType); else children make an object, a `type` attribute with text a
 * MoRef, anything else a string.
 */
static enum vsg_err decode_generic(struct dec *d, const xmlNode *n,
                                   struct vsg_value *v, size_t depth)
{
    const struct vsg_schema_type *t = NULL;
    char *xt = NULL;
    unsigned bits;
    int sc = -1;
    enum vsg_err rc;

    if (depth > d->lim.max_depth)
        return fail_at(d, n, VSG_ERR_TOOBIG, "nested too deep");
    if ((rc = xsi_type(n, &xt)) != VSG_OK) return rc;
    if (xt != NULL) {
        sc = xsd_scalar(xt, &bits);
        if (sc < 0 && strcmp(xt, "ManagedObjectReference") != 0)
            t = vsg_schema_find_type(xt);
    }
    if (sc >= 0) {
        rc = decode_scalar(d, n, v, sc, bits);
    } else if (xt != NULL && strcmp(xt, "ManagedObjectReference") == 0) {
        rc = decode_moref(d, n, v);
    } else if (t != NULL) {
        rc = zero_fill(d, n, v, t, NULL);
        if (rc == VSG_OK) rc = decode_object(d, n, v, t, depth);
    } else if (has_element_children(n)) {
        rc = vsg_value_set_object(v, xt);
        if (rc == VSG_OK) rc = decode_object(d, n, v, NULL, depth);
    } else if (moref_type_attr(n) != NULL) {
        rc = decode_moref(d, n, v);
    } else {
        rc = decode_scalar(d, n, v, SC_STRING, 0);
    }
    vsg_free(xt);
    return rc;
}

/* ====================================================================
 * Events
 * ==================================================================== */

const char *vsg_event_class_str(enum vsg_event_class c)
{
    switch (c) {
    case VSG_EVENT_CLASS_EVENTEX: return "eventex";
    case VSG_EVENT_CLASS_EXTENDED: return "extendedevent";
    default: return "event";
    }
}

void vsg_event_cleanup(struct vsg_event *ev)
{
    if (ev == NULL) return;
    vsg_free(ev->class_name);
    vsg_free(ev->detail);
    vsg_value_cleanup(&ev->root);
    memset(ev, 0, sizeof *ev);
}

enum vsg_err vsg_event_refresh(struct vsg_event *ev)
{
    const struct vsg_value *key = vsg_value_field(&ev->root, "key");
    const struct vsg_value *created =
        vsg_value_field(&ev->root, "createdTime");
    const struct vsg_value *tid = NULL;
    const char *detail = ev->class_name ? ev->class_name : "";
    char *copy;

    ev->key = key && key->kind == VSG_VALUE_INT ? key->u.i : 0;
    ev->created = zero_time;
    ev->created_offset = 0;
    ev->created_text = NULL;
    if (created && created->kind == VSG_VALUE_TIME) {
        ev->created = created->u.time.t;
        ev->created_offset = created->u.time.offset;
        ev->created_text = created->u.time.text;
    }
    ev->eventclass = VSG_EVENT_CLASS_EVENT;
    if (ev->known && strcmp(detail, "EventEx") == 0)
        ev->eventclass = VSG_EVENT_CLASS_EVENTEX;
    else if (ev->known && strcmp(detail, "ExtendedEvent") == 0)
        ev->eventclass = VSG_EVENT_CLASS_EXTENDED;
    if (ev->eventclass != VSG_EVENT_CLASS_EVENT) {
        tid = vsg_value_field(&ev->root, "eventTypeId");
        detail = tid && tid->kind == VSG_VALUE_STRING ? tid->u.str.ptr : "";
    }
    if ((copy = vsg_strdup(detail)) == NULL) return VSG_ERR_NOMEM;
    vsg_free(ev->detail);
    ev->detail = copy;
    return VSG_OK;
}

enum vsg_err vsg_event_decode(const xmlNode *node,
                              const struct vsg_event_limits *lim,
                              struct vsg_event *ev, struct vsg_error *err)
{
    static const struct vsg_event_limits defaults = {
        VSG_EVENT_MAX_DEPTH, VSG_EVENT_MAX_TEXT, VSG_EVENT_MAX_NODES, 0};
    const struct vsg_schema_type *event_t = vsg_schema_find_type("Event");
    const struct vsg_schema_type *t;
    struct dec d;
    enum vsg_err rc;

    memset(ev, 0, sizeof *ev);
    if (!is_element(node) || event_t == NULL)
        return vsg_error_set(err, VSG_ERR_INVAL, "not an event element");
    memset(&d, 0, sizeof d);
    d.lim = lim ? *lim : defaults;
    d.top = node;
    d.err = err;

    if ((rc = xsi_type(node, &ev->class_name)) != VSG_OK) goto fail;
    if (ev->class_name == NULL) {
        /* No xsi:type: the element's own name if it is an Event class
         * (vsgate's XML payload), else plain Event. */
        t = vsg_schema_find_type((const char *)node->name);
        ev->class_name = vsg_strdup(t && vsg_schema_type_is_a(t, event_t)
                                        ? (const char *)node->name
                                        : "Event");
        if (ev->class_name == NULL) goto nomem;
    }
    if (strlen(ev->class_name) > d.lim.max_text) {
        rc = fail_at(&d, node, VSG_ERR_TOOBIG, "xsi:type too long");
        goto fail;
    }
    t = vsg_schema_find_type(ev->class_name);
    ev->known = t != NULL && vsg_schema_type_is_a(t, event_t);
    if (!ev->known) t = event_t;
    if ((rc = count_node(&d, node)) != VSG_OK) goto fail;
    /* A known class's name is the schema's; keep an unknown one. */
    if ((rc = zero_fill(&d, node, &ev->root, t,
                        ev->known ? NULL : ev->class_name)) != VSG_OK)
        goto fail;
    if ((rc = decode_object(&d, node, &ev->root, t, 0)) != VSG_OK) goto fail;
    if ((rc = vsg_event_refresh(ev)) != VSG_OK) goto fail;
    ev->warnings = d.warnings;
    return VSG_OK;
nomem:
    rc = VSG_ERR_NOMEM;
fail:
    /* Limits were reported with their path by fail_at(). */
    if (rc != VSG_ERR_TOOBIG)
        vsg_error_set(err, rc, "decoding event: %s", vsg_strerror(rc));
    vsg_event_cleanup(ev);
    return rc;
}

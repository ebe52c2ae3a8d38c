/*
 * cloudevents/event.c - see event.h.
 */
#include "cloudevents/event.h"

#include <string.h>

#include "base/mem.h"

/* ====================================================================
 * Life cycle
 * ==================================================================== */

void vsg_ce_init(struct vsg_ce *ce)
{
    memset(ce, 0, sizeof *ce);
}

void vsg_ce_cleanup(struct vsg_ce *ce)
{
    if (!ce) return;
    vsg_free(ce->id);
    vsg_free(ce->source);
    vsg_free(ce->type);
    vsg_free(ce->time);
    vsg_free(ce->datacontenttype);
    vsg_free(ce->dataschema);
    vsg_free(ce->subject);
    for (size_t i = 0; i < ce->n_ext; i++) {
        vsg_free(ce->ext[i].name);
        vsg_free(ce->ext[i].value);
    }
    vsg_free(ce->ext);
    vsg_free(ce->data);
    vsg_ce_init(ce);
}

/* Copies an optional string: VSG_OK with *dst NULL for a NULL src. */
static enum vsg_err dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (!src) return VSG_OK;
    *dst = vsg_strdup(src);
    return *dst ? VSG_OK : VSG_ERR_NOMEM;
}

enum vsg_err vsg_ce_copy(struct vsg_ce *dst, const struct vsg_ce *src)
{
    struct vsg_ce c;

    vsg_ce_init(&c);
    if (dup_opt(&c.id, src->id) || dup_opt(&c.source, src->source) ||
        dup_opt(&c.type, src->type) || dup_opt(&c.time, src->time) ||
        dup_opt(&c.datacontenttype, src->datacontenttype) ||
        dup_opt(&c.dataschema, src->dataschema) || dup_opt(&c.subject, src->subject))
        goto nomem;
    if (src->n_ext) {
        c.ext = vsg_calloc(src->n_ext, sizeof *c.ext);
        if (!c.ext) goto nomem;
        c.cap_ext = src->n_ext;
        for (size_t i = 0; i < src->n_ext; i++) {
            c.n_ext = i + 1;
            if (dup_opt(&c.ext[i].name, src->ext[i].name) ||
                dup_opt(&c.ext[i].value, src->ext[i].value))
                goto nomem;
        }
    }
    if (src->data && vsg_ce_set_data(&c, src->data, src->data_len) != VSG_OK) goto nomem;
    vsg_ce_cleanup(dst);
    *dst = c;
    return VSG_OK;
nomem:
    vsg_ce_cleanup(&c);
    vsg_ce_cleanup(dst);
    return VSG_ERR_NOMEM;
}

/* ====================================================================
 * Attributes
 * ==================================================================== */

int vsg_ce_attr_name_valid(const char *name)
{
    if (!name || !*name) return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) return 0;
    return 1;
}

int vsg_ce_attr_reserved(const char *name)
{
    static const char *const reserved[] = {"specversion", "id",         "source",  "type",
                                           "time",        "datacontenttype", "dataschema",
                                           "subject",     "data",       "data_base64", NULL};
    for (const char *const *r = reserved; *r; r++)
        if (strcmp(*r, name) == 0) return 1;
    return 0;
}

/* The slot of context attribute `name`, or NULL for anything else. */
static char **context_slot(struct vsg_ce *ce, const char *name)
{
    /* By first letter: one or two comparisons, not seven (this runs for
     * every attribute of every event). */
    switch (name[0]) {
    case 'i':
        if (strcmp(name, "id") == 0) return &ce->id;
        break;
    case 's':
        if (strcmp(name, "source") == 0) return &ce->source;
        if (strcmp(name, "subject") == 0) return &ce->subject;
        break;
    case 't':
        if (strcmp(name, "type") == 0) return &ce->type;
        if (strcmp(name, "time") == 0) return &ce->time;
        break;
    case 'd':
        if (strcmp(name, "datacontenttype") == 0) return &ce->datacontenttype;
        if (strcmp(name, "dataschema") == 0) return &ce->dataschema;
        break;
    default:
        break;
    }
    return NULL;
}

static int has_ctl(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 1;
    return 0;
}

enum vsg_err vsg_ce_set(struct vsg_ce *ce, const char *name, const char *value,
                        struct vsg_error *err)
{
    char **slot, *copy = NULL;

    if (!name) return vsg_error_set(err, VSG_ERR_INVAL, "CloudEvent attribute name missing");
    if (strcmp(name, "specversion") == 0) {
        if (value && strcmp(value, VSG_CE_SPECVERSION) == 0) return VSG_OK;
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "CloudEvent attribute \"specversion\" must be \"" VSG_CE_SPECVERSION
                             "\"");
    }
    slot = context_slot(ce, name);
    if (!slot) return vsg_ce_set_ext(ce, name, value, err);
    if (value && slot == &ce->datacontenttype && has_ctl(value))
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "CloudEvent attribute \"datacontenttype\" holds a control character");
    if (value && !(copy = vsg_strdup(value)))
        return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
    vsg_free(*slot);
    *slot = copy;
    return VSG_OK;
}

const char *vsg_ce_get(const struct vsg_ce *ce, const char *name)
{
    char **slot;

    if (!name) return NULL;
    if (strcmp(name, "specversion") == 0) return VSG_CE_SPECVERSION;
    slot = context_slot((struct vsg_ce *)ce, name);
    if (slot) return *slot;
    for (size_t i = 0; i < ce->n_ext; i++)
        if (strcmp(ce->ext[i].name, name) == 0) return ce->ext[i].value;
    return NULL;
}

enum vsg_err vsg_ce_set_ext(struct vsg_ce *ce, const char *name, const char *value,
                            struct vsg_error *err)
{
    struct vsg_ce_ext e;

    if (!vsg_ce_attr_name_valid(name))
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "invalid CloudEvent extension name \"%s\": attribute names must be "
                             "one or more lower-case letters a-z or digits 0-9",
                             name ? name : "");
    if (vsg_ce_attr_reserved(name))
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "invalid CloudEvent extension name \"%s\": reserved for a context "
                             "attribute",
                             name);
    for (size_t i = 0; i < ce->n_ext; i++) {
        if (strcmp(ce->ext[i].name, name) != 0) continue;
        if (!value) {
            vsg_free(ce->ext[i].name);
            vsg_free(ce->ext[i].value);
            memmove(&ce->ext[i], &ce->ext[i + 1], (ce->n_ext - i - 1) * sizeof *ce->ext);
            ce->n_ext--;
            return VSG_OK;
        }
        char *v = vsg_strdup(value);
        if (!v) return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
        vsg_free(ce->ext[i].value);
        ce->ext[i].value = v;
        return VSG_OK;
    }
    if (!value) return VSG_OK;
    if (ce->n_ext == ce->cap_ext) {
        size_t ncap = ce->cap_ext ? ce->cap_ext * 2 : 8;
        struct vsg_ce_ext *n = vsg_realloc(ce->ext, ncap * sizeof *n);
        if (!n) return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
        ce->ext = n;
        ce->cap_ext = ncap;
    }
    e.name = vsg_strdup(name);
    e.value = vsg_strdup(value);
    if (!e.name || !e.value) {
        vsg_free(e.name);
        vsg_free(e.value);
        return vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
    }
    ce->ext[ce->n_ext++] = e;
    return VSG_OK;
}

enum vsg_err vsg_ce_set_data(struct vsg_ce *ce, const void *data, size_t len)
{
    char *copy = NULL;

    if (data) {
        if (len == (size_t)-1 || !(copy = vsg_malloc(len + 1))) return VSG_ERR_NOMEM;
        memcpy(copy, data, len);
        copy[len] = '\0';
    }
    vsg_ce_take_data(ce, copy, data ? len : 0);
    return VSG_OK;
}

void vsg_ce_take_data(struct vsg_ce *ce, char *data, size_t len)
{
    vsg_free(ce->data);
    ce->data = data;
    ce->data_len = data ? len : 0;
}

enum vsg_err vsg_ce_validate(const struct vsg_ce *ce, struct vsg_error *err)
{
    if (!ce->id || !*ce->id)
        return vsg_error_set(err, VSG_ERR_INVAL, "CloudEvent is missing required attribute \"id\"");
    if (!ce->source || !*ce->source)
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "CloudEvent is missing required attribute \"source\"");
    if (!ce->type || !*ce->type)
        return vsg_error_set(err, VSG_ERR_INVAL,
                             "CloudEvent is missing required attribute \"type\"");
    return VSG_OK;
}

/* ====================================================================
 * Percent-encoding (CloudEvents HTTP binding, "HTTP Header Values")
 * ==================================================================== */

/* The bytes a header value carries as they are: printable ASCII but the
 * quote and the percent sign (NUL is not one: scans stop there). */
static const unsigned char pct_plain_tab[256] = {
#define P16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
    P16(0), P16(0),                                 /* 0x00-0x1f */
    0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20-0x2f: SP " % */
    P16(1), P16(1), P16(1), P16(1),                 /* 0x30-0x6f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 0x70-0x7f: DEL */
    P16(0), P16(0), P16(0), P16(0), P16(0), P16(0), P16(0), P16(0) /* 0x80-0xff */
#undef P16
};

/* What raw header values still encode: control characters, which no
 * header may carry (Go's net/http refuses such a header outright). */
static int raw_plain(unsigned char c)
{
    return c >= 0x20 && c != 0x7f;
}

static int pct_plain(unsigned char c)
{
    return pct_plain_tab[c];
}

enum vsg_err vsg_ce_pct_encode(struct vsg_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *run = p;
    enum vsg_err rc;

    for (; *p; p++) {
        if (pct_plain(*p)) continue;
        if (p > run && (rc = vsg_buf_append(out, run, (size_t)(p - run))) != VSG_OK) return rc;
        char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        if ((rc = vsg_buf_append(out, e, 3)) != VSG_OK) return rc;
        run = p + 1;
    }
    if (p > run) return vsg_buf_append(out, run, (size_t)(p - run));
    return VSG_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

enum vsg_err vsg_ce_pct_decode(struct vsg_buf *out, const char *s)
{
    enum vsg_err rc;

    for (const char *p = s; *p; p++) {
        int hi, lo;
        if (*p == '%' && (hi = hexval(p[1])) >= 0 && (lo = hexval(p[2])) >= 0) {
            rc = vsg_buf_putc(out, (char)(hi << 4 | lo));
            p += 2;
        } else {
            rc = vsg_buf_putc(out, *p);
        }
        if (rc != VSG_OK) return rc;
    }
    return VSG_OK;
}

/* ====================================================================
 * Header lines
 * ==================================================================== */

void vsg_ce_headers_init(struct vsg_ce_headers *h)
{
    h->lines = h->line_space;
    h->lines[0] = NULL;
    h->n = 0;
    h->cap = VSG_CE_HEADERS_INLINE_LINES;
    h->block = h->byte_space;
    h->used = 0;
    h->size = VSG_CE_HEADERS_INLINE_BYTES;
}

void vsg_ce_headers_cleanup(struct vsg_ce_headers *h)
{
    if (!h) return;
    if (h->lines != h->line_space) vsg_free(h->lines);
    if (h->block != h->byte_space) vsg_free(h->block);
    vsg_ce_headers_init(h);
}

/* Room for one more line of `len` bytes plus its NUL. */
static enum vsg_err reserve_line(struct vsg_ce_headers *h, size_t len)
{
    if (h->lines == NULL) vsg_ce_headers_init(h); /* Zero-initialised. */
    if (len >= (size_t)-1 / 4) return VSG_ERR_NOMEM;
    if (h->n + 2 > h->cap) {
        size_t ncap = h->cap * 2;
        char **n = vsg_malloc(ncap * sizeof *n);
        if (!n) return VSG_ERR_NOMEM;
        memcpy(n, h->lines, (h->n + 1) * sizeof *n);
        if (h->lines != h->line_space) vsg_free(h->lines);
        h->lines = n;
        h->cap = ncap;
    }
    if (h->size - h->used < len + 1) {
        size_t nsize = h->size * 2;
        while (nsize - h->used < len + 1) nsize *= 2;
        char *nb = vsg_malloc(nsize);
        if (!nb) return VSG_ERR_NOMEM;
        memcpy(nb, h->block, h->used);
        for (size_t i = 0; i < h->n; i++) h->lines[i] = nb + (h->lines[i] - h->block);
        if (h->block != h->byte_space) vsg_free(h->block);
        h->block = nb;
        h->size = nsize;
    }
    return VSG_OK;
}

/* Appends the line "<prefix><name>: <value>": the value verbatim
 * (pct 0), percent-encoded as the CloudEvents HTTP binding asks (pct 1),
 * or raw with only control characters encoded (pct 2). */
static enum vsg_err add_line(struct vsg_ce_headers *h, const char *prefix, const char *name,
                             const char *value, int pct)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t pl = strlen(prefix), nl = strlen(name), vl = value ? strlen(value) : 0;
    /* Room for the worst case: every byte of the value encoded. */
    enum vsg_err rc = vl > (size_t)-1 / 8 ? VSG_ERR_NOMEM : reserve_line(h, pl + nl + 2 + 3 * vl);
    char *line, *p;

    if (rc != VSG_OK) return rc;
    line = p = h->block + h->used;
    memcpy(p, prefix, pl), p += pl;
    memcpy(p, name, nl), p += nl;
    *p++ = ':', *p++ = ' ';
    if (value && !pct) {
        memcpy(p, value, vl), p += vl;
    } else if (value) {
        const unsigned char *v = (const unsigned char *)value;
        for (;;) {
            const unsigned char *run = v;
            if (pct == 2)
                while (*v && raw_plain(*v)) v++;
            else
                while (pct_plain_tab[*v]) v++;
            memcpy(p, run, (size_t)(v - run)), p += v - run;
            if (!*v) break;
            *p++ = '%', *p++ = hex[*v >> 4], *p++ = hex[*v & 15];
            v++;
        }
    }
    *p = '\0';
    h->used += (size_t)(p - line) + 1;
    h->lines[h->n++] = line;
    h->lines[h->n] = NULL;
    return VSG_OK;
}

enum vsg_err vsg_ce_headers_add(struct vsg_ce_headers *h, const char *name, const char *value)
{
    return add_line(h, "", name, value, 0);
}

enum vsg_err vsg_ce_binary_headers(const struct vsg_ce *ce, const char *ns, int percent,
                                   struct vsg_ce_headers *h, struct vsg_error *err)
{
    enum vsg_err rc;

    if ((rc = vsg_ce_validate(ce, err)) != VSG_OK) return rc;
    if (ns && has_ctl(ns))
        return vsg_error_set(err, VSG_ERR_INVAL, "Kn-Namespace value holds a control character");
    if (ce->datacontenttype && has_ctl(ce->datacontenttype))
        return vsg_error_set(err, VSG_ERR_INVAL, "datacontenttype holds a control character");
#define CE_LINE(name, value) add_line(h, "ce-", (name), (value), percent ? 1 : 2)
    if ((rc = CE_LINE("specversion", VSG_CE_SPECVERSION)) || (rc = CE_LINE("id", ce->id)) ||
        (rc = CE_LINE("source", ce->source)) || (rc = CE_LINE("type", ce->type)) ||
        (ce->time && (rc = CE_LINE("time", ce->time))) ||
        (ce->dataschema && (rc = CE_LINE("dataschema", ce->dataschema))) ||
        (ce->subject && (rc = CE_LINE("subject", ce->subject))))
        goto fail;
    for (size_t i = 0; i < ce->n_ext; i++)
        if ((rc = CE_LINE(ce->ext[i].name, ce->ext[i].value))) goto fail;
#undef CE_LINE
    if ((ce->datacontenttype && (rc = add_line(h, "", "Content-Type", ce->datacontenttype, 0))) ||
        (ns && *ns && (rc = add_line(h, "", "Kn-Namespace", ns, 0))))
        goto fail;
    return VSG_OK;
fail:
    return vsg_error_set(err, rc, "encoding CloudEvent headers: %s", vsg_strerror(rc));
}

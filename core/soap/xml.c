/*
 * soap/xml.c - see xml.h.
 */
#include "soap/xml.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "base/mem.h"

/* ====================================================================
 * Parsing
 * ==================================================================== */

/* Parse-time state reachable from the SAX hooks through ctxt->_private. */
struct guard {
    int saw_dtd;    /* A <!DOCTYPE> (or an entity declaration) was seen. */
    int huge_text;  /* A text node passed XML_MAX_TEXT_LENGTH. */
};

/* SAX hook for <!DOCTYPE ...>: SOAP forbids it, so stop right here. */
static void reject_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                          const xmlChar *sys_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct guard *g = ctxt->_private;
    (void)name;
    (void)ext_id;
    (void)sys_id;
    g->saw_dtd = 1;
    xmlStopParser(ctxt);
}

/* SAX hook for <!ENTITY ...>: never reached without a DTD, but be sure. */
static void reject_entity(void *ctx, const xmlChar *name, int type,
                          const xmlChar *public_id, const xmlChar *system_id,
                          xmlChar *content)
{
    xmlParserCtxtPtr ctxt = ctx;
    struct guard *g = ctxt->_private;
    (void)name;
    (void)type;
    (void)public_id;
    (void)system_id;
    (void)content;
    g->saw_dtd = 1;
    xmlStopParser(ctxt);
}

/* libxml2's error callback: nothing printed; notes the tree builder's
 * "huge text node" (it then stops, and later errors hide it). */
static void quiet_error(void *ud, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ud;
    struct guard *g = ctxt ? ctxt->_private : NULL;
    if (g && e && e->message && strstr(e->message, "huge text node")) g->huge_text = 1;
}

enum vsg_err vsg_soap_parse(const char *data, size_t len, xmlDocPtr *out,
                            struct vsg_error *err)
{
    struct guard g = {0};
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    enum vsg_err rc = VSG_OK;

    *out = NULL;
    if (len > INT_MAX)
        return vsg_error_set(err, VSG_ERR_TOOBIG, "XML document of %zu bytes is too large", len);
    ctxt = xmlNewParserCtxt();
    if (!ctxt || !ctxt->sax) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "XML parser: out of memory");
        goto done;
    }
    ctxt->_private = &g;
    ctxt->sax->internalSubset = reject_subset;
    ctxt->sax->externalSubset = reject_subset;
    ctxt->sax->entityDecl = reject_entity;
    /* Errors are read back below; none goes to libxml2's stderr printer
     * (XML_PARSE_NOERROR does not cover the tree builder's). */
    ctxt->sax->serror = quiet_error;
    /* Deliberately absent: XML_PARSE_NOENT (substitute entities),
     * XML_PARSE_DTDLOAD/DTDATTR/DTDVALID, XML_PARSE_HUGE, XML_PARSE_XINCLUDE. */
    doc = xmlCtxtReadMemory(ctxt, len ? data : "", (int)len, "soap.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_COMPACT |
                                XML_PARSE_NOCDATA);
    if (g.saw_dtd) {
        rc = vsg_error_set(err, VSG_ERR_PARSE,
                           "XML document has a DTD, which SOAP does not allow; refusing it");
        goto done;
    }
    /* disableSAX: the tree builder gave up part way (a text node over
     * libxml2's limit), leaving a document without the rest of the body. */
    if (!doc || !ctxt->wellFormed || ctxt->disableSAX) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        char msg[200] = "malformed XML";
        int line = 0;
        if (e && e->message) {
            size_t n = strlen(e->message);
            while (n > 0 && (e->message[n - 1] == '\n' || e->message[n - 1] == ' ')) n--;
            if (n >= sizeof msg) n = sizeof msg - 1;
            memcpy(msg, e->message, n);
            msg[n] = '\0';
            line = e->line;
        }
        if (g.huge_text)
            rc = vsg_error_set(err, VSG_ERR_TOOBIG, "XML text node of more than %d bytes",
                               XML_MAX_TEXT_LENGTH);
        else if (e && e->code == XML_ERR_NO_MEMORY)
            rc = vsg_error_set(err, VSG_ERR_NOMEM, "XML parser: out of memory");
        else if (len == 0)
            rc = vsg_error_set(err, VSG_ERR_PARSE, "empty XML document");
        else
            rc = vsg_error_set(err, VSG_ERR_PARSE, "malformed XML (line %d): %s", line, msg);
        goto done;
    }
    if (doc->intSubset || doc->extSubset) {
        rc = vsg_error_set(err, VSG_ERR_PARSE,
                           "XML document has a DTD, which SOAP does not allow; refusing it");
        goto done;
    }
    *out = doc;
    doc = NULL;
done:
    if (doc) xmlFreeDoc(doc);
    if (ctxt) {
        ctxt->_private = NULL;
        xmlFreeParserCtxt(ctxt);
    }
    return rc;
}

/* ====================================================================
 * Walking
 * ==================================================================== */

int vsg_soap_is_elem(const xmlNode *n, const char *ns, const char *local)
{
    if (!n || n->type != XML_ELEMENT_NODE) return 0;
    if (strcmp((const char *)n->name, local) != 0) return 0;
    if (!ns) return n->ns == NULL || n->ns->href == NULL;
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

xmlNodePtr vsg_soap_first_elem(const xmlNode *parent)
{
    if (!parent) return NULL;
    for (xmlNodePtr c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE) return c;
    return NULL;
}

xmlNodePtr vsg_soap_next_elem(const xmlNode *n)
{
    if (!n) return NULL;
    for (xmlNodePtr c = n->next; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE) return c;
    return NULL;
}

xmlNodePtr vsg_soap_child(const xmlNode *parent, const char *local)
{
    if (!parent) return NULL;
    for (xmlNodePtr c = parent->children; c; c = c->next)
        if (vsg_soap_is_elem(c, VSG_SOAP_NS_VIM25, local)) return c;
    return NULL;
}

xmlNodePtr vsg_soap_next(const xmlNode *n, const char *local)
{
    if (!n) return NULL;
    for (xmlNodePtr c = n->next; c; c = c->next)
        if (vsg_soap_is_elem(c, VSG_SOAP_NS_VIM25, local)) return c;
    return NULL;
}

const char *vsg_soap_xsi_type(const xmlNode *n)
{
    if (!n || n->type != XML_ELEMENT_NODE) return NULL;
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        if (!a->ns || !a->ns->href || strcmp((const char *)a->ns->href, VSG_SOAP_NS_XSI) != 0)
            continue;
        if (strcmp((const char *)a->name, "type") != 0) continue;
        /* Attribute values are a single text node once parsed (no DTD, so
         * no entity references survive). Anything else is not a type. */
        const xmlNode *t = a->children;
        if (!t || t->type != XML_TEXT_NODE || t->next || !t->content) return NULL;
        const char *v = (const char *)t->content;
        const char *colon = strrchr(v, ':');
        return colon ? colon + 1 : v;
    }
    return NULL;
}

/* ====================================================================
 * Values
 * ==================================================================== */

char *vsg_soap_text(const xmlNode *n)
{
    struct vsg_buf b;
    vsg_buf_init(&b, (size_t)INT_MAX);
    if (n) {
        for (const xmlNode *c = n->children; c; c = c->next) {
            if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) || !c->content)
                continue;
            if (vsg_buf_puts(&b, (const char *)c->content) != VSG_OK) {
                vsg_buf_cleanup(&b);
                return NULL;
            }
        }
    }
    return vsg_buf_steal(&b);
}

enum vsg_err vsg_soap_child_text(const xmlNode *parent, const char *local, char **out)
{
    xmlNodePtr c = vsg_soap_child(parent, local);
    *out = NULL;
    if (!c) return VSG_ERR_NOTFOUND;
    *out = vsg_soap_text(c);
    return *out ? VSG_OK : VSG_ERR_NOMEM;
}

static int is_xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A decimal int64 in s (NUL-terminated), with XML white space around it. */
static enum vsg_err parse_int64(const char *s, int64_t *out)
{
    while (is_xml_space(*s)) s++;
    if (!((*s >= '0' && *s <= '9') || *s == '-' || *s == '+')) return VSG_ERR_PARSE;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE) return VSG_ERR_RANGE;
    if (end == s) return VSG_ERR_PARSE;
    while (is_xml_space(*end)) end++;
    if (*end != '\0') return VSG_ERR_PARSE;
    *out = (int64_t)v;
    return VSG_OK;
}

enum vsg_err vsg_soap_text_int64(const xmlNode *n, int64_t *out)
{
    /* One text child, as an event's <key> always has: read in place. */
    if (n && n->children && n->children == n->last && n->children->type == XML_TEXT_NODE &&
        n->children->content)
        return parse_int64((const char *)n->children->content, out);
    char *t = vsg_soap_text(n);
    if (!t) return VSG_ERR_NOMEM;
    enum vsg_err rc = parse_int64(t, out);
    vsg_free(t);
    return rc;
}

enum vsg_err vsg_soap_moref_parse(const xmlNode *n, struct vsg_soap_moref *out,
                                  struct vsg_error *err)
{
    xmlChar *type = NULL;
    enum vsg_err rc = VSG_OK;

    out->type = NULL;
    out->value = NULL;
    if (!n || n->type != XML_ELEMENT_NODE)
        return vsg_error_set(err, VSG_ERR_PARSE, "managed object reference missing");
    type = xmlGetNoNsProp(n, BAD_CAST "type");
    if (!type || !*type) {
        rc = vsg_error_set(err, VSG_ERR_PARSE,
                           "managed object reference <%s> has no type attribute",
                           (const char *)n->name);
        goto fail;
    }
    out->type = vsg_strdup((const char *)type);
    out->value = vsg_soap_text(n);
    if (!out->type || !out->value) {
        rc = vsg_error_set(err, VSG_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!*out->value) {
        rc = vsg_error_set(err, VSG_ERR_PARSE, "managed object reference <%s> is empty",
                           (const char *)n->name);
        goto fail;
    }
    xmlFree(type);
    return VSG_OK;
fail:
    if (type) xmlFree(type);
    vsg_soap_moref_cleanup(out);
    return rc;
}

enum vsg_err vsg_soap_moref_copy(struct vsg_soap_moref *dst, const struct vsg_soap_moref *src)
{
    dst->type = vsg_strdup(src->type ? src->type : "");
    dst->value = vsg_strdup(src->value ? src->value : "");
    if (!dst->type || !dst->value) {
        vsg_soap_moref_cleanup(dst);
        return VSG_ERR_NOMEM;
    }
    return VSG_OK;
}

void vsg_soap_moref_cleanup(struct vsg_soap_moref *m)
{
    if (!m) return;
    vsg_free(m->type);
    vsg_free(m->value);
    m->type = NULL;
    m->value = NULL;
}

int vsg_soap_moref_valid(const struct vsg_soap_moref *m)
{
    return m && m->type && *m->type && m->value && *m->value;
}

/* ====================================================================
 * Writing
 * ==================================================================== */

/* Decodes one UTF-8 character at `p` (n bytes available). Returns its
 * length and stores it in *cp, or returns 0 for an invalid sequence
 * (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *p, size_t n, unsigned long *cp)
{
    unsigned long c;
    size_t len;
    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    } else if ((p[0] & 0xE0) == 0xC0) {
        c = p[0] & 0x1F;
        len = 2;
    } else if ((p[0] & 0xF0) == 0xE0) {
        c = p[0] & 0x0F;
        len = 3;
    } else if ((p[0] & 0xF8) == 0xF0) {
        c = p[0] & 0x07;
        len = 4;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000))
        return 0;
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

/* XML 1.0 Char production. */
static int xml_char_ok(unsigned long c)
{
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

enum vsg_err vsg_soap_escape(struct vsg_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    size_t start = 0, i = 0;
    enum vsg_err rc;

    while (i < n) {
        const char *rep = NULL;
        unsigned long cp = 0;
        size_t len = 1;
        switch (p[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&#34;"; break;
        case '\'': rep = "&#39;"; break;
        case '\t': rep = "&#x9;"; break;
        case '\n': rep = "&#xA;"; break;
        case '\r': rep = "&#xD;"; break;
        default:
            len = utf8_decode(p + i, n - i, &cp);
            if (len == 0) {
                len = 1;
                rep = "\xEF\xBF\xBD";
            } else if (!xml_char_ok(cp)) {
                rep = "\xEF\xBF\xBD";
            }
            break;
        }
        if (rep) {
            if ((rc = vsg_buf_append(b, p + start, i - start)) != VSG_OK) return rc;
            if ((rc = vsg_buf_puts(b, rep)) != VSG_OK) return rc;
            start = i + len;
        }
        i += len;
    }
    return vsg_buf_append(b, p + start, n - start);
}

enum vsg_err vsg_soap_put_text(struct vsg_buf *b, const char *name, const char *text)
{
    enum vsg_err rc;
    if ((rc = vsg_buf_printf(b, "<%s>", name)) != VSG_OK) return rc;
    if ((rc = vsg_soap_escape(b, text)) != VSG_OK) return rc;
    return vsg_buf_printf(b, "</%s>", name);
}

enum vsg_err vsg_soap_put_moref(struct vsg_buf *b, const char *name,
                                const struct vsg_soap_moref *m)
{
    enum vsg_err rc;
    if ((rc = vsg_buf_printf(b, "<%s type=\"", name)) != VSG_OK) return rc;
    if ((rc = vsg_soap_escape(b, m->type)) != VSG_OK) return rc;
    if ((rc = vsg_buf_puts(b, "\">")) != VSG_OK) return rc;
    if ((rc = vsg_soap_escape(b, m->value)) != VSG_OK) return rc;
    return vsg_buf_printf(b, "</%s>", name);
}

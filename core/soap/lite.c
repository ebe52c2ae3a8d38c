/*
 * soap/lite.c - see vsg_soap_parse_lite() in xml.h.
 *
 * libxml2 parses with its SAX2 interface and these callbacks build the
 * element tree in an arena: the same xmlNode/xmlAttr/xmlNs fields
 * xmlSAX2StartElementNs() would fill for this subset of XML, without a
 * malloc and a free per node. Names are the parser dictionary's strings
 * (the tree keeps a reference to the dictionary). Whatever the subset
 * does not model makes the parse give up (VSG_ERR_UNSUPPORTED), and the
 * caller parses again with vsg_soap_parse(), which handles (or rejects)
 * it exactly as always.
 */
#include "soap/xml.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <libxml/dict.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "base/mem.h"

/* ====================================================================
 * Arena
 * ==================================================================== */

#define BLOCK_SIZE (64 * 1024)

struct block {
    struct block *next; /* The previous block. */
    size_t used;        /* Bytes handed out from `data`. */
    size_t size;        /* Bytes in `data`. */
    max_align_t data[]; /* The memory. */
};

struct vsg_soap_lite {
    struct block *blocks; /* Newest first. */
    xmlDictPtr dict;      /* Holds the names; referenced. */
    xmlNodePtr root;      /* The document element. */
};

/* `n` zeroed bytes, aligned for any node, or NULL. */
static void *arena_alloc(struct vsg_soap_lite *d, size_t n)
{
    struct block *b = d->blocks;
    size_t al = sizeof(max_align_t);

    n = (n + al - 1) / al * al;
    if (b == NULL || b->size - b->used < n) {
        size_t size = n > BLOCK_SIZE ? n : BLOCK_SIZE;
        if ((b = vsg_malloc(sizeof *b + size)) == NULL) return NULL;
        b->size = size;
        b->used = 0;
        b->next = d->blocks;
        d->blocks = b;
    }
    void *p = (unsigned char *)b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

/* A NUL-terminated copy of s[0..n) in the arena, or NULL. */
static xmlChar *arena_strndup(struct vsg_soap_lite *d, const xmlChar *s, size_t n)
{
    xmlChar *p = n < SIZE_MAX ? arena_alloc(d, n + 1) : NULL;
    if (p != NULL && n > 0) memcpy(p, s, n);
    return p;
}

void vsg_soap_lite_free(struct vsg_soap_lite *d)
{
    if (d == NULL) return;
    while (d->blocks != NULL) {
        struct block *b = d->blocks;
        d->blocks = b->next;
        vsg_free(b);
    }
    if (d->dict != NULL) xmlDictFree(d->dict);
    vsg_free(d);
}

xmlNodePtr vsg_soap_lite_root(const struct vsg_soap_lite *d)
{
    return d ? d->root : NULL;
}

/* ====================================================================
 * SAX callbacks
 * ==================================================================== */

struct build {
    struct vsg_soap_lite *doc; /* What is being built. */
    xmlNodePtr cur;            /* The open element, NULL outside the root. */
    struct vsg_buf text;       /* Character data not yet in a text node. */
    int give_up;               /* Outside the subset: parse the full way. */
    int nomem;                 /* An allocation failed. */
    xmlNsPtr ns[8];            /* Namespaces made so far (by href). */
    size_t n_ns;
};

static struct build *build_of(void *ctx)
{
    return ((xmlParserCtxtPtr)ctx)->_private;
}

static void stop(void *ctx, int nomem)
{
    struct build *b = build_of(ctx);
    if (nomem) b->nomem = 1;
    b->give_up = 1;
    xmlStopParser(ctx);
}

/* The xmlNs for namespace `href` (a dictionary string), shared. */
static xmlNsPtr ns_for(struct build *b, const xmlChar *href, const xmlChar *prefix)
{
    for (size_t i = 0; i < b->n_ns; i++)
        if (b->ns[i]->href == href && b->ns[i]->prefix == prefix) return b->ns[i];
    xmlNsPtr ns = arena_alloc(b->doc, sizeof *ns);
    if (ns == NULL) return NULL;
    ns->type = XML_NAMESPACE_DECL;
    ns->href = href;
    ns->prefix = prefix;
    if (b->n_ns < sizeof b->ns / sizeof b->ns[0]) b->ns[b->n_ns++] = ns;
    return ns;
}

/* A text node holding s[0..n), child of `parent` (appended). */
static xmlNodePtr add_text(struct build *b, xmlNodePtr parent, const xmlChar *s, size_t n)
{
    xmlNodePtr t = arena_alloc(b->doc, sizeof *t);
    if (t == NULL || (t->content = arena_strndup(b->doc, s, n)) == NULL) return NULL;
    t->type = XML_TEXT_NODE;
    t->name = xmlStringText;
    t->parent = parent;
    if (parent->last != NULL) {
        parent->last->next = t;
        t->prev = parent->last;
    } else {
        parent->children = t;
    }
    parent->last = t;
    return t;
}

/* Turns the pending character data into a text child of the open
 * element (as libxml2 merges adjacent character data into one node). */
static int flush_text(struct build *b)
{
    if (b->text.len == 0 || b->cur == NULL) return 1;
    if (add_text(b, b->cur, (const xmlChar *)b->text.data, b->text.len) == NULL) return 0;
    vsg_buf_reset(&b->text);
    return 1;
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    struct build *b = build_of(ctx);
    xmlNodePtr n, parent = b->cur;
    xmlAttrPtr last = NULL;

    (void)nb_namespaces;
    (void)namespaces;
    if (b->give_up) return;
    /* An undeclared prefix (libxml2 then keeps the qualified name) or
     * attributes defaulted by a DTD: not modelled. */
    if ((prefix != NULL && uri == NULL) || nb_defaulted > 0) { stop(ctx, 0); return; }
    if (parent == NULL && b->doc->root != NULL) { stop(ctx, 0); return; }
    if (!flush_text(b) || (n = arena_alloc(b->doc, sizeof *n)) == NULL) { stop(ctx, 1); return; }
    n->type = XML_ELEMENT_NODE;
    n->name = localname;
    if (uri != NULL && (n->ns = ns_for(b, uri, prefix)) == NULL) { stop(ctx, 1); return; }
    n->parent = parent;
    if (parent == NULL) {
        b->doc->root = n;
    } else if (parent->last != NULL) {
        parent->last->next = n;
        n->prev = parent->last;
        parent->last = n;
    } else {
        parent->children = parent->last = n;
    }
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attributes + 5 * i;
        size_t len = (size_t)(a[4] - a[3]);
        xmlAttrPtr at;
        /* Undeclared prefix; entity references left in the value (libxml2
         * decodes those when it builds the node); an empty value. */
        if ((a[1] != NULL && a[2] == NULL) || len == 0 || memchr(a[3], '&', len) != NULL)
            { stop(ctx, 0); return; }
        if ((at = arena_alloc(b->doc, sizeof *at)) == NULL) { stop(ctx, 1); return; }
        at->type = XML_ATTRIBUTE_NODE;
        at->name = a[0];
        at->parent = n;
        if (a[2] != NULL && (at->ns = ns_for(b, a[2], a[1])) == NULL) { stop(ctx, 1); return; }
        if (add_text(b, (xmlNodePtr)at, a[3], len) == NULL) { stop(ctx, 1); return; }
        if (last != NULL) {
            last->next = at;
            at->prev = last;
        } else {
            n->properties = at;
        }
        last = at;
    }
    b->cur = n;
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    struct build *b = build_of(ctx);

    (void)localname;
    (void)prefix;
    (void)uri;
    if (b->give_up || b->cur == NULL) return;
    if (!flush_text(b)) { stop(ctx, 1); return; }
    b->cur = b->cur->parent;
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
    struct build *b = build_of(ctx);

    /* Outside the root only white space can occur (else the document is
     * not well-formed), and the full DOM keeps none there either. */
    if (b->give_up || b->cur == NULL || len <= 0) return;
    /* libxml2's tree builder stops at a text node of more than
     * XML_MAX_TEXT_LENGTH bytes (without XML_PARSE_HUGE): leave that to
     * the full parse, which reports it. */
    if ((size_t)len > XML_MAX_TEXT_LENGTH - b->text.len) {
        stop(ctx, 0);
        return;
    }
    if (vsg_buf_append(&b->text, ch, (size_t)len) != VSG_OK) stop(ctx, 1);
}

/* Entity references (a DTD's), comments, processing instructions, a DTD:
 * the full DOM has nodes for them; not modelled. */
static void on_reference(void *ctx, const xmlChar *name)
{
    (void)name;
    stop(ctx, 0);
}

static void on_comment(void *ctx, const xmlChar *value)
{
    (void)value;
    stop(ctx, 0);
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
    (void)target;
    (void)data;
    stop(ctx, 0);
}

static void on_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
    (void)name;
    (void)ext_id;
    (void)sys_id;
    stop(ctx, 0);
}

static void on_error(void *ud, xmlErrorPtr e)
{
    /* Silent: the caller parses again the full way to report it. */
    (void)ud;
    (void)e;
}

/* ====================================================================
 * Parsing
 * ==================================================================== */

/* The SAX2 callbacks of a lite parse; every other event is ignored. */
static const xmlSAXHandler lite_sax = {
    .initialized = XML_SAX2_MAGIC,
    .startElementNs = on_start,
    .endElementNs = on_end,
    .characters = on_chars,
    .ignorableWhitespace = on_chars,
    .reference = on_reference,
    .comment = on_comment,
    .processingInstruction = on_pi,
    .internalSubset = on_subset,
    .externalSubset = on_subset,
    .serror = on_error,
};

enum vsg_err vsg_soap_parse_lite(const char *data, size_t len, struct vsg_soap_lite **out)
{
    xmlParserCtxtPtr ctxt;
    struct build b;
    enum vsg_err rc = VSG_ERR_UNSUPPORTED;

    *out = NULL;
    if (len == 0 || len > INT_MAX) return VSG_ERR_UNSUPPORTED;
    memset(&b, 0, sizeof b);
    vsg_buf_init(&b.text, (size_t)INT_MAX);
    if ((b.doc = vsg_calloc(1, sizeof *b.doc)) == NULL) return VSG_ERR_NOMEM;
    if ((ctxt = xmlNewParserCtxt()) == NULL || ctxt->sax == NULL) {
        if (ctxt) xmlFreeParserCtxt(ctxt);
        vsg_soap_lite_free(b.doc);
        return VSG_ERR_NOMEM;
    }
    /* Only these callbacks: no document, no nodes of libxml2's. */
    memcpy(ctxt->sax, &lite_sax, sizeof lite_sax);
    ctxt->_private = &b;
    /* The options of vsg_soap_parse(); no entity is ever substituted. */
    xmlCtxtReadMemory(ctxt, data, (int)len, "soap.xml", NULL,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                          XML_PARSE_NOCDATA);
    if (b.nomem) {
        rc = VSG_ERR_NOMEM;
    } else if (!b.give_up && ctxt->wellFormed && ctxt->nsWellFormed && b.doc->root != NULL &&
               b.cur == NULL && ctxt->dict != NULL) {
        b.doc->dict = ctxt->dict;
        xmlDictReference(ctxt->dict);
        *out = b.doc;
        b.doc = NULL;
        rc = VSG_OK;
    }
    ctxt->_private = NULL;
    xmlFreeParserCtxt(ctxt);
    vsg_buf_cleanup(&b.text);
    vsg_soap_lite_free(b.doc);
    return rc;
}

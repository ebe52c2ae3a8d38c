/*
 * soap/xml.h - safe parsing, walking and writing of vSphere SOAP XML.
 *
 * Provides: vsg_soap_parse() (libxml2 with network access, DTDs and
 * entity expansion all off), element lookup by local name in urn:vim25,
 * text extraction, xsi:type resolution by namespace URI (never by
 * prefix), managed object references (struct vsg_soap_moref), and XML
 * escaping into a struct vsg_buf for building request bodies.
 * Uses: libxml2, base/err.h, base/buf.h, base/mem.h.
 * Owns: a parsed document belongs to the caller (xmlFreeDoc). Nodes and
 * `const char *` results documented as "borrowed" live exactly as long as
 * their document. Strings documented as "owned" are freed with vsg_free().
 *
 * Why the parser is strict: SOAP 1.1 forbids a document type declaration,
 * so any <!DOCTYPE> is rejected before an entity can be declared or
 * expanded ("billion laughs", external entities). XML_PARSE_HUGE stays off
 * (libxml2's depth and text-size limits apply) and the network is never
 * touched.
 */
#ifndef VSG_SOAP_XML_H
#define VSG_SOAP_XML_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "base/buf.h"
#include "base/err.h"

/* Namespace URIs. */
#define VSG_SOAP_NS_VIM25 "urn:vim25"
#define VSG_SOAP_NS_ENV "http://schemas.xmlsoap.org/soap/envelope/"
#define VSG_SOAP_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define VSG_SOAP_NS_XSD "http://www.w3.org/2001/XMLSchema"

/* A managed object reference: <x type="Folder">group-d1</x>. */
struct vsg_soap_moref {
    char *type;  /* Owned: the managed object type, e.g. "EventManager". */
    char *value; /* Owned: the opaque id, e.g. "session[...]...". */
};

/* ====================================================================
 * Parsing
 * ==================================================================== */

/*
 * Parses `len` bytes at `data` into *out (owned, xmlFreeDoc) with the safe
 * options described above. VSG_ERR_PARSE for malformed or truncated XML
 * and for any DTD (message says which and where), VSG_ERR_TOOBIG for
 * more than INT_MAX bytes, VSG_ERR_NOMEM. *out is NULL on error.
 */
enum vsg_err vsg_soap_parse(const char *data, size_t len, xmlDocPtr *out,
                            struct vsg_error *err);

/*
 * The fast path of vsg_soap_parse() for documents of plain elements,
 * attributes and text (every SOAP response in practice): the same
 * element tree (node types, names, namespaces, attributes, text; nodes
 * have no `doc`), built in an arena without a malloc per node, for code
 * that only reads node fields (this header's walkers, the event decoder);
 * not for libxml2's tree functions (xmlNodeDump, xmlGetProp...).
 * VSG_ERR_UNSUPPORTED when the document is outside that subset or not
 * well-formed (a DTD, entity references, comments, processing
 * instructions, undeclared prefixes, empty attribute values, a parse
 * error): parse it with vsg_soap_parse(), which accepts or rejects it as
 * always. VSG_ERR_NOMEM. *out (vsg_soap_lite_free()) is NULL on error.
 */
struct vsg_soap_lite;
enum vsg_err vsg_soap_parse_lite(const char *data, size_t len, struct vsg_soap_lite **out);

/* The document element of a lite tree (valid until it is freed). */
xmlNodePtr vsg_soap_lite_root(const struct vsg_soap_lite *d);

/* Frees a lite tree. NULL is a no-op. */
void vsg_soap_lite_free(struct vsg_soap_lite *d);

/* ====================================================================
 * Walking (all returned nodes are borrowed)
 * ==================================================================== */

/* Nonzero when `n` is an element named `local` in namespace `ns` (NULL
 * `ns` means "no namespace"). */
int vsg_soap_is_elem(const xmlNode *n, const char *ns, const char *local);

/* The first element child of `parent` (any name), or NULL. */
xmlNodePtr vsg_soap_first_elem(const xmlNode *parent);

/* The next element sibling of `n` (any name), or NULL. */
xmlNodePtr vsg_soap_next_elem(const xmlNode *n);

/* The first child of `parent` named `local` in urn:vim25, or NULL. */
xmlNodePtr vsg_soap_child(const xmlNode *parent, const char *local);

/* The next sibling of `n` named `local` in urn:vim25, or NULL (for
 * walking repeated elements: for (c = child(p, x); c; c = next(c, x))). */
xmlNodePtr vsg_soap_next(const xmlNode *n, const char *local);

/*
 * The xsi:type of element `n` resolved by namespace URI (any prefix, e.g.
 * xsi:, _XMLSchema-instance:, XMLSchema-instance:), with any "prefix:"
 * stripped from the value ("xsd:string" gives "string"). Borrowed; NULL
 * when `n` has no such attribute.
 */
const char *vsg_soap_xsi_type(const xmlNode *n);

/* ====================================================================
 * Values
 * ==================================================================== */

/* The text of element `n` (its text and CDATA children, concatenated),
 * owned; "" when it has none. NULL only when out of memory. */
char *vsg_soap_text(const xmlNode *n);

/* Owned text of the urn:vim25 child `local` of `parent` in *out.
 * VSG_ERR_NOTFOUND (and *out NULL) when there is no such child. */
enum vsg_err vsg_soap_child_text(const xmlNode *parent, const char *local,
                                 char **out);

/* Parses the text of `n` (surrounding XML whitespace allowed) as a
 * decimal integer. VSG_ERR_PARSE (or VSG_ERR_RANGE) otherwise. */
enum vsg_err vsg_soap_text_int64(const xmlNode *n, int64_t *out);

/* Reads the moref in element `n` (attribute `type`, text = value) into
 * *out, which must be empty or cleaned up. VSG_ERR_PARSE when the type or
 * value is missing or empty. */
enum vsg_err vsg_soap_moref_parse(const xmlNode *n, struct vsg_soap_moref *out,
                                  struct vsg_error *err);

/* Copies `src` into `dst` (which must be empty or cleaned up). */
enum vsg_err vsg_soap_moref_copy(struct vsg_soap_moref *dst,
                                 const struct vsg_soap_moref *src);

/* Frees the strings and leaves `m` empty. NULL is a no-op. */
void vsg_soap_moref_cleanup(struct vsg_soap_moref *m);

/* Nonzero when `m` holds a type and a value. */
int vsg_soap_moref_valid(const struct vsg_soap_moref *m);

/* ====================================================================
 * Writing
 * ==================================================================== */

/*
 * Appends `s` XML-escaped for text or a double-quoted attribute, the way
 * Go's xml.EscapeText does: & < > " ' as entities, tab, newline and
 * carriage return as character references (so they survive exactly), and
 * every character XML 1.0 cannot carry (other control characters, invalid
 * UTF-8 bytes) as U+FFFD.
 */
enum vsg_err vsg_soap_escape(struct vsg_buf *b, const char *s);

/* Appends <name>escaped text</name>. */
enum vsg_err vsg_soap_put_text(struct vsg_buf *b, const char *name,
                               const char *text);

/* Appends <name type="T">V</name> for the moref `m`, escaped. */
enum vsg_err vsg_soap_put_moref(struct vsg_buf *b, const char *name,
                                const struct vsg_soap_moref *m);

#endif

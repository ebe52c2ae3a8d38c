/*
 * event.h - one vSphere event: its decoded value tree and its payloads.
 *
 * Provides: struct vsg_value, a self-describing ordered value tree (the
 * shape of a govmomi Go struct: objects with their vSphere type name and
 * fields in Go order, arrays, typed scalars, MoRefs, times, null);
 * struct vsg_event (class, key, createdTime, the CloudEvent type detail and
 * eventclass, and the tree); the decoder of one <returnval>/<Event>
 * element (vsg_event_decode()) and the two payload encoders, which write
 * byte for byte what the Go adapter's encoding/json and encoding/xml made
 * of the govmomi struct (vsg_value_encode_json(), vsg_value_encode_xml()).
 * Uses: base/err.h, base/buf.h, base/vtime.h, vsphere/schema.h, libxml2.
 * Owns: a struct vsg_value owns its strings and children; a struct
 * vsg_event owns its strings and tree. Both are caller-allocated and
 * released with vsg_value_cleanup() / vsg_event_cleanup().
 *
 * Decoding follows govmomi's vim25/xml decoder into the vendored types
 * (govmomi v0.24.1-0.20210127152625-854ba4efe87e), with these rules:
 *
 *  - Every field of the declared type is present, in Go order (parent
 *    fields first). Absent fields get the Go zero value: NULL for
 *    pointers, slices, interfaces and []byte; "" for strings; 0; false;
 *    0001-01-01T00:00:00Z for a plain time.Time; a plain nested struct is
 *    an object whose fields are all zero; a plain MoRef is {"",""}.
 *  - Element names match fields by local name, any namespace. xsi:type is
 *    found by namespace URI (any prefix, or a literal undeclared "xsi:")
 *    and its value's prefix is stripped.
 *  - Repeated elements of a non-array field behave as in Go: scalars are
 *    replaced, objects and MoRefs are merged into, an AnyType keeps the
 *    first value.
 *  - Values Go would reject (an int that does not parse or overflows, a
 *    bad bool or float, a bad time) make Go fail the whole page; here they
 *    become the zero value of the field and count in `warnings`.
 *
 * Where Go would lose data, vsgate keeps it (additive, documented
 * deviations; Go's output for such input would be missing or an error):
 *
 *  - Elements unknown to the schema (newer API fields such as `tgw`,
 *    `auditId`) are kept generically, after the known fields, in document
 *    order: repeated siblings become an array, children an object, a
 *    `type` attribute plus text a MoRef, else a string; an xsi:type of xsd
 *    primitives or of a known type gives that type. Their field nodes have
 *    VSG_VALUE_F_UNKNOWN. JSON key = xml name with first letter
 *    upper-cased, as for known fields.
 *  - An event class unknown to the schema (or a known type that is not an
 *    Event) is decoded as Event (the base fields, typed) plus the generic
 *    rest, with the class name kept as the tree's type name; CloudEvent
 *    type detail = that class name, eventclass "event". Go's decoder
 *    would have returned nil for it (and the adapter could not send it).
 *  - An AnyType value without a known xsi:type is decoded generically (Go:
 *    nil). A BaseX interface value without xsi:type, or with an unknown or
 *    incompatible one, is decoded as X plus the generic rest (Go: nil or a
 *    panic).
 *  - A root element without xsi:type is decoded as the Event class its
 *    element name names, if any (so vsgate's own XML payload decodes
 *    back), else as Event.
 *
 * Limits (struct vsg_event_limits) bound element depth, the size of one
 * text and the number of tree nodes (zero-filled fields included); going
 * over is VSG_ERR_TOOBIG with the path in the error detail.
 */
#ifndef VSG_VSPHERE_EVENT_H
#define VSG_VSPHERE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/vtime.h"

/* ====================================================================
 * Value tree
 * ==================================================================== */

enum vsg_value_kind {
    VSG_VALUE_NULL,   /* Go nil: pointer, slice, interface, []byte. */
    VSG_VALUE_STRING, /* string or enumeration; u.str. */
    VSG_VALUE_INT,    /* signed integer of `bits` 8/16/32/64; u.i. */
    VSG_VALUE_UINT,   /* unsigned integer (Go byte, xsd:unsigned*); u.u. */
    VSG_VALUE_BOOL,   /* u.b is 0 or 1. */
    VSG_VALUE_DOUBLE, /* float of `bits` 32 or 64; u.d. */
    VSG_VALUE_TIME,   /* time.Time; u.time. */
    VSG_VALUE_BINARY, /* []byte: the raw element text; u.str. */
    VSG_VALUE_MOREF,  /* ManagedObjectReference; u.moref. */
    VSG_VALUE_OBJECT, /* struct: named fields in order; u.list. */
    VSG_VALUE_ARRAY   /* slice: unnamed items; u.list. */
};

/* The field's xml tag has omitempty and the value is held directly (not
 * through a pointer or interface), so encoding/xml leaves it out when it
 * is the zero value; on an ARRAY it applies to each item. */
#define VSG_VALUE_F_OMITEMPTY 0x01u
/* The field is not in the schema; it was kept generically. */
#define VSG_VALUE_F_UNKNOWN 0x02u
/* A NULL that encoding/xml writes as an empty element (a nil []byte
 * without omitempty). */
#define VSG_VALUE_F_XMLEMPTY 0x04u
/* TIME: the original text did not parse; `t` is the zero time. */
#define VSG_VALUE_F_BADTEXT 0x08u

/* Ownership exceptions (struct vsg_value.borrow), set only by the
 * decoder: the pointer is a static string (a schema name, or "") that
 * must not be freed. vsg_value_cleanup() and the setters honour them;
 * code that builds or copies trees leaves `borrow` 0 and owns everything. */
#define VSG_VALUE_B_NAME 0x01u /* `name`. */
#define VSG_VALUE_B_TYPE 0x02u /* u.list.type, u.moref.type. */
#define VSG_VALUE_B_STR 0x04u  /* u.str.ptr, u.moref.value, u.time.text
                                  (may point into the decoded XML tree,
                                  see vsg_event_limits.borrow_text). */

struct vsg_value {
    enum vsg_value_kind kind; /* What `u` holds. */
    uint8_t flags;            /* VSG_VALUE_F_* bits. */
    uint8_t bits;             /* INT/UINT: 8..64; DOUBLE: 32 or 64. */
    uint8_t borrow;           /* VSG_VALUE_B_* bits (see above). */
    char *name;               /* xml name when a field, else NULL. */
    union {
        struct {
            char *ptr;  /* Bytes plus a NUL (never NULL). */
            size_t len; /* Length without the NUL. */
        } str;          /* STRING, BINARY. */
        int64_t i;      /* INT. */
        uint64_t u;     /* UINT. */
        int b;          /* BOOL. */
        double d;       /* DOUBLE. */
        struct {
            struct vsg_time t; /* The instant (UTC). */
            int32_t offset;    /* Zone offset in seconds east of UTC. */
            char *text;        /* Original text, or NULL when built. */
        } time;                /* TIME. */
        struct {
            char *type;  /* The `type` attribute (never NULL). */
            char *value; /* The text (never NULL). */
        } moref;         /* MOREF. */
        struct {
            char *type;              /* OBJECT: vSphere type name. */
            struct vsg_value *items; /* Fields or items, owned. */
            size_t len;              /* Used entries. */
            size_t cap;              /* Allocated entries. */
        } list;                      /* OBJECT, ARRAY. */
    } u;
};

/* Frees everything `v` owns (name included) and makes it NULL.
 * NULL `v` is a no-op. */
void vsg_value_cleanup(struct vsg_value *v);

/* Makes `v` (uninitialised: its old contents are not freed) an empty
 * OBJECT of `type` (copied; NULL for none) or an empty ARRAY, with name
 * NULL and no flags. */
enum vsg_err vsg_value_init_object(struct vsg_value *v, const char *type);
void vsg_value_init_array(struct vsg_value *v);

/* Replaces the value of `v` (keeping its name and flags) by an empty
 * OBJECT of `type` (copied; NULL for none) or an empty ARRAY. */
enum vsg_err vsg_value_set_object(struct vsg_value *v, const char *type);
void vsg_value_set_array(struct vsg_value *v);

/* Replaces the value of `v` (keeping its name and flags) by a string /
 * binary copy of s[0..n). */
enum vsg_err vsg_value_set_string(struct vsg_value *v, const char *s,
                                  size_t n);
enum vsg_err vsg_value_set_binary(struct vsg_value *v, const char *s,
                                  size_t n);

/* Appends a NULL child to an OBJECT (`name` copied) or ARRAY (`name`
 * NULL) and returns it through *out (valid until the next append). */
enum vsg_err vsg_value_append(struct vsg_value *list, const char *name,
                              struct vsg_value **out);

/* The field of OBJECT `obj` named `name`, or NULL. */
struct vsg_value *vsg_value_field(const struct vsg_value *obj,
                                  const char *name);

/* ====================================================================
 * Events
 * ==================================================================== */

enum vsg_event_class {
    VSG_EVENT_CLASS_EVENT,   /* Any class but these two: "event". */
    VSG_EVENT_CLASS_EVENTEX, /* Exactly EventEx: "eventex". */
    VSG_EVENT_CLASS_EXTENDED /* Exactly ExtendedEvent: "extendedevent". */
};

struct vsg_event {
    char *class_name;          /* xsi:type without prefix, as sent. */
    int known;                 /* class_name is an Event type we know. */
    int64_t key;               /* Event.key. */
    struct vsg_time created;   /* Event.createdTime (UTC). */
    int32_t created_offset;    /* Its zone offset, seconds east of UTC. */
    const char *created_text;  /* Its original text, borrowed from the
                                  tree; NULL when there is none. */
    char *detail;              /* CloudEvent type X (class / eventTypeId). */
    enum vsg_event_class eventclass; /* From the exact class. */
    unsigned warnings;         /* Values Go would reject, zeroed. */
    struct vsg_value root;     /* OBJECT whose type is class_name. */
};

struct vsg_event_limits {
    size_t max_depth; /* Element nesting below the event element. */
    size_t max_text;  /* Bytes of one text value. */
    size_t max_nodes; /* Tree nodes, zero-filled fields included. */
    int borrow_text;  /* Nonzero: a string, []byte or time whose element
                         holds one text node points at that node's text
                         (VSG_VALUE_B_STR) instead of a copy; the element's
                         tree must then outlive the event. */
};

#define VSG_EVENT_MAX_DEPTH 64
#define VSG_EVENT_MAX_TEXT (1u << 20)
#define VSG_EVENT_MAX_NODES 200000u

/*
 * Decodes the event element `node` (a <returnval> or <Event> with
 * xsi:type) into `ev`, which need not be initialised. `lim` NULL means
 * the VSG_EVENT_MAX_* defaults. On error `ev` is left empty (safe to
 * clean up) and `err` says why: VSG_ERR_TOOBIG for a limit, VSG_ERR_NOMEM,
 * VSG_ERR_INVAL for a NULL or non-element node.
 */
enum vsg_err vsg_event_decode(const xmlNode *node,
                              const struct vsg_event_limits *lim,
                              struct vsg_event *ev, struct vsg_error *err);

/* Recomputes key, created*, detail and eventclass from ev->root and
 * ev->class_name (after the tree was changed, e.g. by a filter). */
enum vsg_err vsg_event_refresh(struct vsg_event *ev);

/* Frees what `ev` owns and zeroes it. NULL is a no-op. */
void vsg_event_cleanup(struct vsg_event *ev);

/* "event", "eventex" or "extendedevent". */
const char *vsg_event_class_str(enum vsg_event_class c);

/* ====================================================================
 * Payload encoders
 * ==================================================================== */

/*
 * Appends `v` as Go's encoding/json.Marshal writes the struct: compact,
 * keys = field names with the first letter upper-cased, every field,
 * null for NULL, MoRefs {"Type":..,"Value":..}, times RFC 3339 with
 * nanoseconds (trailing zeros trimmed) in their own zone offset, []byte
 * as base64, floats as Go formats them, and Go's string escaping (<, >, &,
 * U+2028, U+2029 as \u escapes; invalid UTF-8 as \ufffd). A NaN or
 * infinite float (Go: an error) is written as 0. VSG_ERR_TOOBIG when `out`
 * is full (its contents are then truncated to where they were).
 */
enum vsg_err vsg_value_encode_json(const struct vsg_value *v,
                                   struct vsg_buf *out);

/*
 * Appends `v` as Go's encoding/xml.Marshal writes the struct, as element
 * `root` (the Go type name for an event): no namespace, fields as
 * elements by xml name, omitempty honoured, NULL fields and empty arrays
 * left out, array items as repeated elements, MoRefs as
 * <name type="T">value</name>, interface values as plain elements, and
 * Go's escaping (&#34; &#39; &amp; &lt; &gt; &#x9; &#xA; &#xD;).
 */
enum vsg_err vsg_value_encode_xml(const struct vsg_value *v, const char *root,
                                  struct vsg_buf *out);

/* The payloads of an event: JSON of ev->root; XML of ev->root as an
 * element named after its type (the class). */
enum vsg_err vsg_event_encode_json(const struct vsg_event *ev,
                                   struct vsg_buf *out);
enum vsg_err vsg_event_encode_xml(const struct vsg_event *ev,
                                  struct vsg_buf *out);

#endif

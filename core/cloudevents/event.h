/*
 * cloudevents/event.h - a CloudEvents 1.0 event and its HTTP binary-mode
 * encoding.
 *
 * Provides: struct vsg_ce (context attributes, ordered extensions, data),
 * attribute get/set by name, attribute-name validation, the header-value
 * percent-encoding of the CloudEvents HTTP binding (encode and decode),
 * and vsg_ce_binary_headers(), which turns an event into the request
 * header lines of binary mode (`ce-<attr>`, `Content-Type`,
 * `Kn-Namespace`).
 * Uses: base/ (errors, buffers, allocation).
 * Owns: a struct vsg_ce is caller-allocated (vsg_ce_init/vsg_ce_cleanup)
 * and owns copies of every string and of the data given to it. A struct
 * vsg_ce_headers owns its lines (vsg_ce_headers_cleanup).
 *
 * specversion is always "1.0". Attribute values are kept as strings: the
 * caller formats `time` (RFC 3339, UTC) and any typed extension.
 */
#ifndef VSG_CLOUDEVENTS_EVENT_H
#define VSG_CLOUDEVENTS_EVENT_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define VSG_CE_SPECVERSION "1.0"

/* Longest attribute name the CloudEvents spec recommends (SHOULD). */
#define VSG_CE_NAME_RECOMMENDED_MAX 20

/* One extension attribute. */
struct vsg_ce_ext {
    char *name;  /* Lower-case a-z0-9 name, owned. */
    char *value; /* Its value as a string, owned. */
};

struct vsg_ce {
    char *id;              /* Required: unique with `source`. */
    char *source;          /* Required: URI-reference of the producer. */
    char *type;            /* Required: e.g. com.vmware.vsphere.VmPoweredOffEvent.v0. */
    char *time;            /* Optional RFC 3339 timestamp, or NULL. */
    char *datacontenttype; /* Optional media type of `data`, or NULL. */
    char *dataschema;      /* Optional URI, or NULL. */
    char *subject;         /* Optional, or NULL. */
    struct vsg_ce_ext *ext; /* Extensions in the order first set. */
    size_t n_ext;          /* How many. */
    size_t cap_ext;        /* Slots allocated at `ext`. */
    char *data;            /* The payload bytes (NUL-terminated copy), or NULL. */
    size_t data_len;       /* Its length in bytes. */
};

/* ====================================================================
 * Life cycle
 * ==================================================================== */

/* Makes `ce` an empty event (no attributes, no data). */
void vsg_ce_init(struct vsg_ce *ce);

/* Frees everything `ce` holds; it is then empty again. NULL is a no-op. */
void vsg_ce_cleanup(struct vsg_ce *ce);

/* Makes `dst` (initialised, any content replaced) a deep copy of `src`.
 * On failure `dst` is left empty. */
enum vsg_err vsg_ce_copy(struct vsg_ce *dst, const struct vsg_ce *src);

/* ====================================================================
 * Attributes
 * ==================================================================== */

/*
 * 1 when `name` is a valid CloudEvents attribute name: one or more of
 * a-z and 0-9 (ASCII). Length is not checked here (the spec only says
 * SHOULD NOT exceed 20; see VSG_CE_NAME_RECOMMENDED_MAX).
 */
int vsg_ce_attr_name_valid(const char *name);

/* 1 for the names the spec reserves for context attributes and the
 * structured-mode members (specversion, id, source, type, time,
 * datacontenttype, dataschema, subject, data, data_base64). */
int vsg_ce_attr_reserved(const char *name);

/*
 * Sets attribute `name` to a copy of `value`: a context attribute
 * (id, source, type, time, datacontenttype, dataschema, subject) or an
 * extension. A NULL `value` removes it. "specversion" accepts only "1.0".
 * VSG_ERR_INVAL, with `err` naming the attribute, for an invalid or
 * reserved-but-unsupported name, or a datacontenttype holding a control
 * character (it is sent as a raw Content-Type header).
 */
enum vsg_err vsg_ce_set(struct vsg_ce *ce, const char *name, const char *value,
                        struct vsg_error *err);

/* The value of attribute `name` ("specversion" gives "1.0"), or NULL.
 * Borrowed from `ce`. */
const char *vsg_ce_get(const struct vsg_ce *ce, const char *name);

/*
 * Sets (adds or overwrites) extension `name`, keeping its first position.
 * VSG_ERR_INVAL with a message naming it when the name is not valid or is
 * reserved. A NULL `value` removes the extension.
 */
enum vsg_err vsg_ce_set_ext(struct vsg_ce *ce, const char *name, const char *value,
                            struct vsg_error *err);

/* Replaces the data with a copy of `len` bytes at `data` (NULL: no data). */
enum vsg_err vsg_ce_set_data(struct vsg_ce *ce, const void *data, size_t len);

/* Replaces the data, taking ownership of `data` (vsg_malloc'd, with a NUL
 * at data[len]; NULL: no data). Never fails. */
void vsg_ce_take_data(struct vsg_ce *ce, char *data, size_t len);

/* VSG_OK when id, source and type are set and non-empty; otherwise
 * VSG_ERR_INVAL naming the first missing one. */
enum vsg_err vsg_ce_validate(const struct vsg_ce *ce, struct vsg_error *err);

/* ====================================================================
 * HTTP binding
 * ==================================================================== */

/*
 * Appends `s` percent-encoded for an HTTP header value as the CloudEvents
 * HTTP binding requires: the UTF-8 bytes of space, '"', '%' and anything
 * outside U+0021..U+007E become %XX (upper-case hex); the rest is copied.
 */
enum vsg_err vsg_ce_pct_encode(struct vsg_buf *out, const char *s);

/*
 * Appends the percent-decoded form of `s` (a header value as received):
 * every %XX with two hex digits becomes that byte; a '%' not followed by
 * two hex digits is kept as is (lenient, like the SDKs).
 */
enum vsg_err vsg_ce_pct_decode(struct vsg_buf *out, const char *s);

/*
 * NULL-terminated "Name: value" lines, usable as vsg_http_request.headers.
 * The lines live in one block; a usual event's fit in the struct itself
 * (no allocation per event), so it must not be copied or moved once
 * initialised. Lines may be edited in place within their length.
 */
#define VSG_CE_HEADERS_INLINE_LINES 16
#define VSG_CE_HEADERS_INLINE_BYTES 1024

struct vsg_ce_headers {
    char **lines; /* n lines then NULL. */
    size_t n;     /* Number of lines. */
    size_t cap;   /* Slots in `lines` (including the NULL). */
    char *block;  /* The lines' bytes, each NUL-terminated. */
    size_t used;  /* Bytes used in `block`. */
    size_t size;  /* Bytes in `block`. */
    char *line_space[VSG_CE_HEADERS_INLINE_LINES]; /* First `lines`. */
    char byte_space[VSG_CE_HEADERS_INLINE_BYTES];  /* First `block`. */
};

void vsg_ce_headers_init(struct vsg_ce_headers *h);
void vsg_ce_headers_cleanup(struct vsg_ce_headers *h);

/* Appends the line "name: value" (value copied verbatim). */
enum vsg_err vsg_ce_headers_add(struct vsg_ce_headers *h, const char *name, const char *value);

/*
 * Appends to `h` the binary-mode headers for `ce`: ce-specversion, ce-id,
 * ce-source, ce-type, then ce-time, ce-dataschema, ce-subject when set,
 * then one ce-<name> per extension in order; the values percent-encoded
 * as the CloudEvents HTTP binding asks when `percent`, else as the Go
 * adapter sent them (raw UTF-8 bytes, which Go's CloudEvents SDK and so
 * Knative's brokers read as they are) with only control characters
 * percent-encoded;
 * `Content-Type: <datacontenttype>` when set (there is no
 * ce-datacontenttype in binary mode); `Kn-Namespace: <ns>` when `ns` is
 * neither NULL nor empty. The event must pass vsg_ce_validate(); VSG_ERR_INVAL
 * when `ns` or datacontenttype holds a control character.
 */
enum vsg_err vsg_ce_binary_headers(const struct vsg_ce *ce, const char *ns, int percent,
                                   struct vsg_ce_headers *h, struct vsg_error *err);

#endif

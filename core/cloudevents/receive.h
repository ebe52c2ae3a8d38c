/*
 * cloudevents/receive.h - reading a CloudEvent a receiver got over HTTP
 * (`vsgate sink`): binary mode (ce-* headers, percent-decoded) and
 * structured mode (application/cloudevents+json).
 *
 * Provides: struct vsg_ce_kvlist (names lower-cased, the last of a
 * repeated name wins, arrival order kept), struct vsg_ce_received and
 * the readers vsg_ce_received_header(), vsg_ce_parse_structured() and
 * vsg_ce_received_missing().
 * Uses: cloudevents/event.h (percent-decoding), cJSON, OpenSSL (base64),
 * base/.
 * Owns: every string in a list or a struct vsg_ce_received; free them
 * with the cleanup functions.
 */
#ifndef VSG_CLOUDEVENTS_RECEIVE_H
#define VSG_CLOUDEVENTS_RECEIVE_H

#include <stddef.h>

#include "base/err.h"

/* Largest decoded attribute value. */
#define VSG_CE_RECEIVE_VALUE_MAX (256u * 1024 * 1024)

/* A name (lower case) and its value, owned. */
struct vsg_ce_kv {
    char *name;
    char *value;
};

/* Name/value pairs in arrival order. Zero-initialise it. */
struct vsg_ce_kvlist {
    struct vsg_ce_kv *v; /* Items. */
    size_t n;            /* How many. */
    size_t cap;          /* Slots allocated. */
};

/* Adds `name` (lower-cased) = `value`; a name already there gets the new
 * value. VSG_ERR_NOMEM. */
enum vsg_err vsg_ce_kvlist_add(struct vsg_ce_kvlist *l, const char *name, size_t name_len,
                               const char *value, size_t value_len);

/* The value of `name` (lower case), borrowed, or NULL. */
const char *vsg_ce_kvlist_get(const struct vsg_ce_kvlist *l, const char *name);

/* Frees everything and zeroes `l`. */
void vsg_ce_kvlist_cleanup(struct vsg_ce_kvlist *l);

/* What was received. Zero-initialise it. */
struct vsg_ce_received {
    const char *mode;             /* "binary" or "structured" (static). */
    struct vsg_ce_kvlist attrs;   /* Attributes (decoded). */
    struct vsg_ce_kvlist headers; /* Other headers, lower-case names. */
    char *data;                   /* The data as bytes (NUL after), owned, or NULL. */
    size_t data_len;              /* Its length. */
};

/*
 * One HTTP header of a binary-mode request: "ce-<attr>" (any case, a
 * non-empty <attr>) becomes attribute <attr>, its value percent-decoded
 * (vsg_ce_pct_decode) unless `raw`; any other header is kept in
 * r->headers as is. A NULL value is "". VSG_ERR_NOMEM, VSG_ERR_TOOBIG.
 */
enum vsg_err vsg_ce_received_header(struct vsg_ce_received *r, const char *name,
                                    const char *value, int raw);

/*
 * Reads a structured-mode body (a JSON object): "data" (a string as is,
 * any other JSON value as its text), "data_base64" (decoded) and every
 * other member as an attribute (strings as is, other values as their
 * JSON text). Returns 0, or the HTTP status to answer (400 not a JSON
 * object or bad base64, 500 out of memory) with a reason in `why`.
 */
int vsg_ce_parse_structured(const char *body, size_t len, struct vsg_ce_received *r, char *why,
                            size_t whysz);

/* The first of the required attributes (specversion, id, source, type)
 * that is missing or empty, or NULL. */
const char *vsg_ce_received_missing(const struct vsg_ce_received *r);

/* Frees the lists and the data and zeroes `r`. */
void vsg_ce_received_cleanup(struct vsg_ce_received *r);

#endif

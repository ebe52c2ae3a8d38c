/*
 * kube/watch.h - Kubernetes watch streams: newline-delimited JSON events
 * ({"type":"ADDED","object":{...}}) split out of arbitrary body chunks.
 *
 * Provides: struct vsg_kube_watch_parser (feed it body chunks in any
 * sizes; it calls back once per complete event line, keeping a partial
 * line for the next chunk), the event types, and vsg_kube_watch_status()
 * to read the code of an ERROR event's Status (410 = the resourceVersion
 * is too old: relist).
 * Uses: cJSON, base/.
 * Owns: the parser owns its line buffer; the callback borrows the event
 * object and may take it with cJSON_DetachItemFromObject...
 * (see vsg_kube_watch_fn).
 */
#ifndef VSG_KUBE_WATCH_H
#define VSG_KUBE_WATCH_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"

/* Longest event line accepted (one object). */
#define VSG_KUBE_WATCH_LINE_MAX (16u * 1024 * 1024)

enum vsg_kube_watch_type {
    VSG_KUBE_WATCH_ADDED,    /* "ADDED". */
    VSG_KUBE_WATCH_MODIFIED, /* "MODIFIED". */
    VSG_KUBE_WATCH_DELETED,  /* "DELETED". */
    VSG_KUBE_WATCH_BOOKMARK, /* "BOOKMARK": only metadata.resourceVersion matters. */
    VSG_KUBE_WATCH_ERROR     /* "ERROR": the object is a Status. */
};

/*
 * One event. `*object` is the event's object; the callback may take it
 * (set *object to NULL and own it), otherwise the parser frees it. Return
 * 0 to go on, nonzero to stop the stream (feed then returns
 * VSG_ERR_CANCELLED).
 */
typedef int (*vsg_kube_watch_fn)(void *ud, enum vsg_kube_watch_type type, cJSON **object);

struct vsg_kube_watch_parser {
    struct vsg_buf line;  /* The partial line carried between chunks. */
    vsg_kube_watch_fn fn; /* The callback. */
    void *ud;             /* Its user data. */
    unsigned long events; /* Events delivered so far. */
    struct vsg_error err; /* Why feed failed, when it did. */
};

/* Readies `p`; `max_line` 0 means VSG_KUBE_WATCH_LINE_MAX. */
void vsg_kube_watch_parser_init(struct vsg_kube_watch_parser *p, size_t max_line,
                                vsg_kube_watch_fn fn, void *ud);

/* Frees the line buffer. */
void vsg_kube_watch_parser_cleanup(struct vsg_kube_watch_parser *p);

/*
 * Feeds `len` bytes. Calls back for each complete line. VSG_ERR_PARSE for
 * a line that is not a watch event (bad JSON, unknown type, no object),
 * VSG_ERR_TOOBIG for a line over the limit, VSG_ERR_CANCELLED when the
 * callback stopped; p->err says more. Blank lines are skipped.
 */
enum vsg_err vsg_kube_watch_parser_feed(struct vsg_kube_watch_parser *p, const char *data,
                                        size_t len);

/* Bytes of an unfinished line held (a stream that ends with some is
 * truncated). */
size_t vsg_kube_watch_parser_pending(const struct vsg_kube_watch_parser *p);

/* The numeric `code` of a Status object (410 for Gone/Expired), or 0. */
int vsg_kube_watch_status(const cJSON *status);

/* The type's name ("ADDED", ...). */
const char *vsg_kube_watch_type_name(enum vsg_kube_watch_type t);

#endif

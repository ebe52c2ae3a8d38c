/*
 * kube/client.h - a small, generic Kubernetes REST client.
 *
 * Provides: struct vsg_kube_client (made from a struct vsg_kube_config),
 * one request helper (method + API path + JSON body, any content type for
 * patches) that returns the parsed JSON, thin verbs on top (get, create,
 * update, patch, delete), an API path builder, the ConfigMap operations
 * the checkpoint store needs, and core/v1 Event creation.
 * Uses: http/client.h (libcurl), cJSON, kube/config.h, base/.
 * Owns: the client owns its HTTP client and a copy of every configuration
 * string. JSON handed back in `*out` is owned by the caller (cJSON_Delete).
 * A client is used by one thread at a time; make one per thread.
 *
 * Errors come from the API server's Status object: 404 VSG_ERR_NOTFOUND,
 * 409 VSG_ERR_CONFLICT (both reason Conflict - a stale resourceVersion - and
 * reason AlreadyExists - a create of an existing name; tell them apart with
 * vsg_kube_last_reason()), 403 VSG_ERR_FORBIDDEN, 401
 * VSG_ERR_UNAUTHORIZED, 410 VSG_ERR_GONE, 400 and 422 VSG_ERR_INVAL (the
 * message lists the field causes), 408 VSG_ERR_TIMEOUT, 429 and 5xx
 * VSG_ERR_TRANSPORT (retryable), any other status VSG_ERR_HTTP; failures to
 * connect are the http layer's TRANSPORT/TIMEOUT/TLS. The message reads
 * "GET /api/v1/...: 404 NotFound: configmaps \"x\" not found".
 */
#ifndef VSG_KUBE_CLIENT_H
#define VSG_KUBE_CLIENT_H

#include <stdatomic.h>

#include <cjson/cJSON.h>

#include "base/buf.h"
#include "base/err.h"
#include "http/client.h"
#include "kube/config.h"

/* Content types for request bodies. */
#define VSG_KUBE_CT_JSON "application/json"
#define VSG_KUBE_CT_MERGE_PATCH "application/merge-patch+json"
#define VSG_KUBE_CT_JSON_PATCH "application/json-patch+json"
#define VSG_KUBE_CT_STRATEGIC_PATCH "application/strategic-merge-patch+json"

/* Default whole-request timeout of a client, in milliseconds. */
#define VSG_KUBE_TIMEOUT_MS 30000L

struct vsg_kube_client;

/* Bounds (seconds) of the request latency histogram: knative pkg's
 * client_latency buckets, 1e-05 s to 100 s by factors of 10. */
#define VSG_KUBE_LATENCY_BUCKETS 8
extern const double vsg_kube_latency_bounds[VSG_KUBE_LATENCY_BUCKETS];

/* Counters shared by the clients of one process (for /metrics): every
 * request made, the failed ones by error code, and how long the requests
 * that are not watches (streams) took. */
struct vsg_kube_stats {
    atomic_ulong requests;                /* Requests sent (watches too). */
    atomic_ulong errors[VSG_ERR__COUNT_]; /* Failures by enum vsg_err. */
    atomic_ulong latency[VSG_KUBE_LATENCY_BUCKETS + 1]; /* Non-watch requests by duration bucket. */
    atomic_ullong latency_ns;             /* Their total duration. */
};

/* One request. Paths are absolute API paths with any query string, already
 * escaped (vsg_kube_path() builds them). */
struct vsg_kube_request {
    const char *method;       /* "GET", "POST", "PUT", "PATCH", "DELETE"; NULL means GET. */
    const char *path;         /* e.g. "/api/v1/namespaces/ns/configmaps/name?x=y". */
    const cJSON *body;        /* JSON body, or NULL. */
    const char *body_str;     /* Ready-made body, used when `body` is NULL; or NULL. */
    const char *content_type; /* Body type; NULL means VSG_KUBE_CT_JSON. */
    long timeout_ms;          /* Overrides the client's timeout when > 0. */
};

/* One event for vsg_kube_create_event(): involvedObject plus what happened. */
struct vsg_kube_event {
    const char *api_version; /* involvedObject.apiVersion, e.g. "v1". */
    const char *kind;        /* involvedObject.kind, e.g. "ConfigMap". */
    const char *ns;          /* involvedObject.namespace; also the Event's namespace. */
    const char *name;        /* involvedObject.name. */
    const char *uid;         /* involvedObject.uid, or NULL. */
    const char *type;        /* "Normal" or "Warning"; NULL means "Normal". */
    const char *reason;      /* UpperCamelCase reason, e.g. "FilterInvalid". */
    const char *message;     /* Human-readable message. */
    const char *component;   /* source.component / reportingComponent, e.g.
                                "vsphere-source-adapter"; NULL means "vsgate". */
};

/* ====================================================================
 * Life cycle
 * ==================================================================== */

/* Makes a client for `cfg` (copied; cfg may be cleaned up afterwards).
 * NULL on failure with `err` set. */
struct vsg_kube_client *vsg_kube_client_new(const struct vsg_kube_config *cfg,
                                            struct vsg_error *err);

/* Frees the client. NULL is a no-op. */
void vsg_kube_client_free(struct vsg_kube_client *c);

/* Bounds every later request without a timeout of its own to `timeout_ms`
 * (0: back to VSG_KUBE_TIMEOUT_MS), e.g. a last save while stopping. Not
 * thread-safe against requests running on `c`. */
void vsg_kube_client_set_timeout(struct vsg_kube_client *c, long timeout_ms);

/* Counts this client's requests into `stats` (borrowed; NULL stops). */
void vsg_kube_client_set_stats(struct vsg_kube_client *c, struct vsg_kube_stats *stats);

/* The configuration's default namespace (borrowed, never NULL). */
const char *vsg_kube_client_namespace(const struct vsg_kube_client *c);

/* The API server base URL (borrowed). */
const char *vsg_kube_client_server(const struct vsg_kube_client *c);

/* ====================================================================
 * Requests
 * ==================================================================== */

/*
 * Performs `req`. On a 2xx answer returns VSG_OK and, when `out` is not
 * NULL, the parsed body in *out (NULL for an empty body; VSG_ERR_PARSE when
 * the body is not JSON). On any other answer returns the mapped error with
 * the Status message in `err`, and *out is NULL. When the configuration has
 * a token file, it is re-read first if it changed since the last request.
 */
enum vsg_err vsg_kube_request(struct vsg_kube_client *c, const struct vsg_kube_request *req,
                              cJSON **out, struct vsg_error *err);

/*
 * GET `path` and stream a 2xx body to `fn` as it arrives (watches: the
 * caller splits the lines). `fn` returning nonzero stops the request
 * (VSG_ERR_CANCELLED), as does `*cancel` becoming nonzero (checked about
 * once a second). A non-2xx answer is not streamed: its Status becomes
 * the error, as in vsg_kube_request(). `timeout_ms` bounds the whole
 * request (0: none).
 */
enum vsg_err vsg_kube_stream(struct vsg_kube_client *c, const char *path, long timeout_ms,
                             vsg_http_body_fn fn, void *ud, atomic_int *cancel,
                             struct vsg_error *err);

/* The Status `reason` of the last failed request ("NotFound", "Conflict",
 * "AlreadyExists", "Invalid", "Forbidden", ...), "" after a success or when
 * the server sent no Status. Borrowed; valid until the next request. */
const char *vsg_kube_last_reason(const struct vsg_kube_client *c);

/* The HTTP status of the last request, 0 when none was received. */
long vsg_kube_last_status(const struct vsg_kube_client *c);

/* GET `path` into *out. */
enum vsg_err vsg_kube_get(struct vsg_kube_client *c, const char *path, cJSON **out,
                          struct vsg_error *err);

/* POST `obj` to the collection `path`; the created object in *out (may be NULL). */
enum vsg_err vsg_kube_create(struct vsg_kube_client *c, const char *path, const cJSON *obj,
                             cJSON **out, struct vsg_error *err);

/* PUT `obj` to `path`; the stored object in *out (may be NULL). Include
 * metadata.resourceVersion for optimistic concurrency (409 CONFLICT). */
enum vsg_err vsg_kube_update(struct vsg_kube_client *c, const char *path, const cJSON *obj,
                             cJSON **out, struct vsg_error *err);

/* PATCH `path` with `patch` of `content_type` (one of the VSG_KUBE_CT_*
 * patch types); the patched object in *out (may be NULL). */
enum vsg_err vsg_kube_patch(struct vsg_kube_client *c, const char *path,
                            const char *content_type, const char *patch, cJSON **out,
                            struct vsg_error *err);

/* DELETE `path`. */
enum vsg_err vsg_kube_delete(struct vsg_kube_client *c, const char *path, struct vsg_error *err);

/*
 * Appends to `out` the API path of a resource: "/api/<v>" for the core group
 * (api_version without a slash, e.g. "v1") or "/apis/<group>/<v>", then
 * "/namespaces/<ns>" when `ns` is not NULL, "/<resource>" (plural, e.g.
 * "configmaps"), "/<name>" and "/<sub>" when given (NULL to leave out).
 * ns and name are percent-escaped.
 */
enum vsg_err vsg_kube_path(struct vsg_buf *out, const char *api_version, const char *ns,
                           const char *resource, const char *name, const char *sub);

/* ====================================================================
 * ConfigMaps and Events
 * ==================================================================== */

/* GET ConfigMap ns/name into *out. */
enum vsg_err vsg_kube_configmap_get(struct vsg_kube_client *c, const char *ns, const char *name,
                                    cJSON **out, struct vsg_error *err);

/* Creates the ConfigMap `cm` in `ns` (apiVersion/kind are added when
 * missing); the created object in *out (may be NULL). */
enum vsg_err vsg_kube_configmap_create(struct vsg_kube_client *c, const char *ns, const cJSON *cm,
                                       cJSON **out, struct vsg_error *err);

/* Replaces ConfigMap `cm` (named by its metadata.name) in `ns` with PUT;
 * with metadata.resourceVersion set, a concurrent change gives
 * VSG_ERR_CONFLICT (reason "Conflict"). The stored object in *out (may be
 * NULL). */
enum vsg_err vsg_kube_configmap_update(struct vsg_kube_client *c, const char *ns, const cJSON *cm,
                                       cJSON **out, struct vsg_error *err);

/* How long an Event's series lasts: the same Event again within this
 * time raises the first one's count (client-go's EventCorrelator). */
#define VSG_KUBE_EVENT_SERIES_MS (10L * 60 * 1000)

/* Records a core/v1 Event about ev->ns/ev->name (count 1, first and last
 * timestamp now, named "<name>.<hex nanoseconds>" as client-go does). The
 * same Event again (object, type, reason, message, component) within
 * VSG_KUBE_EVENT_SERIES_MS, from this process, raises that Event's count
 * and lastTimestamp instead (a merge patch), as client-go's recorder does. */
enum vsg_err vsg_kube_create_event(struct vsg_kube_client *c, const struct vsg_kube_event *ev,
                                   struct vsg_error *err);

#endif

/*
 * webhook/webhook.h - the admission webhooks of `vsgate controller`
 * (/defaulting, /resource-validation, /vspherebindings) and their
 * certificates.
 *
 * Provides: struct vsg_webhook: an HTTPS server (libmicrohttpd, a pool of
 * N threads) answering admission.k8s.io/v1 AdmissionReviews with a pool
 * of N Lua states (kind ADMISSION) that run lua/admission/driver.lua
 * (each version passes the driver's selftest() before use); a JSON Patch
 * computed in C from the object before and after the Lua handler;
 * informers of VSphereBindings and Namespaces for the binding webhook; a
 * manager thread. The configurations are Lua's
 * (lua/webhook/configurations.lua, built once at start for this mode,
 * namespace and Service). While this replica leads (vsg_ctl_leading();
 * always without a controller) the manager keeps Secret
 * vsphere-webhook-certs (create, reuse, rotate before expiry) and the
 * webhook configurations in line: the caBundle of each, and the fields
 * the module names as the leader's of the binding webhook, with its rules
 * grown by the kinds the live VSphereBindings target (webhook/whrules.h,
 * resources from discovery); in URL mode (url_base set) it creates the
 * configurations the module builds for URL mode, and deletes them at stop.
 * A replica that does not lead writes nothing: it serves the certificates
 * the Secret holds (an informer) and reloads its TLS when they change. A
 * pass runs every cert_check_ms and at once when a binding, the Secret or
 * the leadership changes. Lua overrides of the controller
 * (vsg_ctl_overrides()) are applied to each state between two requests;
 * a broken one is never used.
 * Uses: controller/controller.h, webhook/certs.h, webhook/jsonpatch.h, webhook/whrules.h,
 * http/server.h, kube/, lua/, base/, pthreads.
 * Owns: everything it makes; the kube config and the controller given in
 * the options are borrowed and must outlive it.
 */
#ifndef VSG_WEBHOOK_H
#define VSG_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"
#include "controller/controller.h"
#include "kube/config.h"

#define VSG_WH_SERVICE "vsphere-source-webhook"
#define VSG_WH_SECRET "vsphere-webhook-certs"
/* The webhook configurations themselves (names, paths, rules, selectors,
 * policies; the uninstall webhook, Service mode only, see controller/uninstall.h)
 * are lua/webhook/configurations.lua's. */

struct vsg_webhook_opts {
    const struct vsg_kube_config *cfg; /* API server (borrowed). */
    struct vsg_ctl *ctl;               /* Source of Lua overrides, or NULL. */
    const char *system_ns;             /* Namespace of the Secret and Service. */
    const char *lua_root;              /* vsgate's lua/ folder. */
    const char *addr;                  /* Listen address; NULL: 0.0.0.0. */
    unsigned port;                     /* Listen port (0: any). */
    unsigned threads;                  /* Server threads = Lua states; 0: 4. */
    const char *url_base;              /* "https://127.0.0.1:8443": register
                                          by URL; NULL: Service mode. */
    int64_t cert_validity_s;           /* 0: 7 days. */
    int64_t cert_check_ms;             /* How often the Secret and the
                                          configurations are checked
                                          (besides on changes); 0: 60 s. */
    const char *selection_mode;        /* "exclusion" (NULL) or "inclusion". */
    const char *service_name;          /* The webhook Service, named in the
                                          serving certificate; NULL or "":
                                          VSG_WH_SERVICE. */
    struct vsg_lua_limits admission_limits; /* Of each admission call; zero
                                          fields: the ADMISSION defaults. */
    struct vsg_lua_limits filter_max;  /* The most spec.filter.limits may ask
                                          for (validation). */
};

struct vsg_webhook;

struct vsg_webhook *vsg_webhook_new(const struct vsg_webhook_opts *o, struct vsg_error *err);

/* Starts the informers, loads the certificates (the leader reuses or
 * makes them; another replica waits up to a minute for the Secret to hold
 * usable ones), starts the server and the manager (which, leading,
 * registers the configurations in URL mode). */
enum vsg_err vsg_webhook_start(struct vsg_webhook *wh, struct vsg_error *err);

/* Stops: the manager, then (URL mode, when leading) the configurations
 * that point at this replica are deleted, then the server. The informers
 * are told to stop and wind down meanwhile (so call it before the
 * controller's stop, whose leadership it still uses). */
void vsg_webhook_stop(struct vsg_webhook *wh);

/* The pod is leaving its Service: admission requests are still answered,
 * each with "Connection: close", so that kube-apiserver opens its next
 * connection to another replica instead of reusing one that the stop
 * will close. NULL or not started is a no-op. */
void vsg_webhook_drain(struct vsg_webhook *wh);

/* Stops, joins the informers, frees. NULL is a no-op. */
void vsg_webhook_free(struct vsg_webhook *wh);

/* Bound port (after start). */
unsigned vsg_webhook_port(const struct vsg_webhook *wh);

/* Appends the webhook's metrics in Prometheus text: ours,
 * vsgate_webhook_requests_total{path,result} (result allowed, denied or
 * error: a Lua failure, a request that is not an AdmissionReview) and
 * vsgate_webhook_request_duration_seconds{path}; and Knative's (knative
 * pkg webhook) for every AdmissionReview answered, under the controller's
 * component: <component>_request_count and _request_latencies (ms), tags
 * admission_allowed, kind_group, kind_kind, kind_version,
 * request_operation, resource_group, resource_namespace,
 * resource_resource, resource_version. Any thread. */
enum vsg_err vsg_webhook_metrics(struct vsg_webhook *wh, struct vsg_buf *out);

/* An AdmissionReview as the handlers read it (webhook/webhook_review.c). The
 * pointers borrow from `root`. */
struct vsg_webhook_review {
    cJSON *root;           /* The parsed body; owned. */
    const cJSON *request;  /* .request, an object. */
    const char *uid;       /* .request.uid, never NULL after a decode. */
    const char *operation; /* .request.operation, or NULL. */
    const char *name;      /* .request.name, or NULL. */
    const char *ns;        /* .request.namespace, or NULL. */
    const cJSON *object;   /* .request.object when an object, else NULL. */
    const cJSON *old;      /* .request.oldObject when an object, else NULL. */
    int dry_run;           /* .request.dryRun is true. */
};

/*
 * Decodes `len` bytes of an AdmissionReview into `r` (clean it up). With
 * `v1`, apiVersion must be admission.k8s.io/v1 (the admission routes);
 * without, only a request with a uid is needed (the uninstall route, as
 * before). VSG_ERR_PARSE when it is not such a review, or holds a
 * number beyond a double's range, as Go's encoding/json refuses (the
 * handlers answer 400), VSG_ERR_NOMEM; `r` is empty then.
 */
enum vsg_err vsg_webhook_review_decode(const char *body, size_t len, int v1,
                                       struct vsg_webhook_review *r);

/* Frees the tree and zeroes `r`. */
void vsg_webhook_review_cleanup(struct vsg_webhook_review *r);

#endif

/*
 * vsgate/vsgate.h - libvsgate, the client library for workloads bound by a
 * VSphereBinding: a logged-in vSphere SOAP client and a vSphere Automation
 * (REST) session built from nothing but what the binding injected.
 *
 * What a binding injects (CONTRACTS §5), and what this library reads:
 *   VC_URL          the vCenter address. "https://" is assumed when it has
 *                   no scheme, path "/sdk" when it has none; user info in
 *                   it is ignored. Required.
 *   VC_INSECURE     Go strconv.ParseBool syntax (1 t T TRUE true True /
 *                   0 f F FALSE false False); unset or empty means false.
 *                   True: the server's certificate is not verified.
 *   VC_SECRET_PATH  folder holding the files `username` and `password`
 *                   (the mounted Secret); default /var/bindings/vsphere.
 *                   The files are used verbatim (no trimming), like the Go
 *                   library. Fallback (ours): when a file does not exist,
 *                   the env var VC_USERNAME / VC_PASSWORD (which a binding
 *                   also injects, from the same Secret) is used instead. A
 *                   file that exists but cannot be read is an error, and
 *                   so is an empty user name or password.
 *   VC_CA_CERTS     optional (ours): PEM text, or the path of a PEM file,
 *                   of CA certificates to trust besides the system roots
 *                   (the `caCerts` of a VSphereSource).
 *   VSGATE_LOG_LEVEL optional: the library's own log lines on stderr
 *                   (debug, info, warn, error); default warn.
 *
 * SOAP: vsgate_client_from_env() connects and logs in. The client sends a
 * keep-alive (CurrentTime) after keepalive_ms of idleness from a
 * background thread (or from vsgate_client_keepalive() in manual mode),
 * logs in again when vCenter answers NotAuthenticated, and then repeats
 * the failed call once, so a lost session is invisible to the caller.
 * One client may be used from several threads: calls are serialised.
 *
 * REST: vsgate_rest_session_from_env() POSTs
 * <scheme>://<host>/rest/com/vmware/cis/session with HTTP basic auth and
 * sends the session id back in the `vmware-api-session-id` header (what
 * govmomi's vapi/rest client does). A 401 on a later request logs in again
 * and repeats the request once. vsgate_rest_close() DELETEs the session.
 *
 * Naming: the installed API uses the prefix `vsgate_` (vsgate's internal
 * modules use `vsg_`, which libvsgate.so does not export), so the public
 * names cannot clash with the internal ones linked into the library.
 *
 * Errors: every fallible call returns a vsgate_status and fills an
 * optional vsgate_error (code, message, and the SOAP fault type or HTTP
 * status when there is one). Messages never contain the password, the
 * session cookie or the REST session id.
 *
 * Memory: strings returned through `char **` out-params belong to the
 * caller (vsgate_free()); `const char *` results are borrowed from their
 * object and live as long as it does. Structs are opaque.
 *
 * Link: pkg-config --cflags --libs vsgate (shared libvsgate.so.0), or
 * --static for libvsgate.a.
 */
#ifndef VSGATE_VSGATE_H
#define VSGATE_VSGATE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define VSGATE_API __attribute__((visibility("default")))
#else
#define VSGATE_API
#endif

#define VSGATE_VERSION_MAJOR 0
#define VSGATE_VERSION_MINOR 1
#define VSGATE_VERSION_PATCH 0

/* Status codes. Values are stable (append only). */
typedef enum vsgate_status {
    VSGATE_OK = 0,
    VSGATE_EINVAL = 1,    /* A bad argument (NULL client, bad method name...). */
    VSGATE_ECONFIG = 2,   /* The environment or the secret files are missing
                             or invalid (message names the variable/file). */
    VSGATE_ENOMEM = 3,    /* Out of memory. */
    VSGATE_ECONNECT = 4,  /* vCenter cannot be reached (refused, reset, DNS,
                             HTTP 502/503/504). */
    VSGATE_ETIMEOUT = 5,  /* A call took longer than the time limit. */
    VSGATE_ETLS = 6,      /* TLS handshake or certificate verification failed. */
    VSGATE_ELOGIN = 7,    /* The credentials were rejected (SOAP InvalidLogin,
                             REST 401 at login). */
    VSGATE_ESESSION = 8,  /* Still not authenticated after logging in again. */
    VSGATE_EFAULT = 9,    /* The call ended in a SOAP fault: see error.fault. */
    VSGATE_EHTTP = 10,    /* Unexpected HTTP status: see error.http_status. */
    VSGATE_EPROTO = 11,   /* A response that could not be understood, or one
                             over the size limit. */
    VSGATE_EINTERNAL = 12 /* Anything else. */
} vsgate_status;

#define VSGATE_ERROR_MESSAGE_MAX 512

/* Error detail. Caller-allocated; never needs freeing. */
typedef struct vsgate_error {
    vsgate_status code;                      /* VSGATE_OK when nothing failed. */
    long http_status;                        /* HTTP status for VSGATE_EHTTP (and
                                                REST login failures), else 0. */
    char fault[128];                         /* SOAP fault type ("InvalidLogin",
                                                "ManagedObjectNotFound"...) or "". */
    char message[VSGATE_ERROR_MESSAGE_MAX];  /* One line, human readable. */
} vsgate_error;

/* Options. Zero-initialise (vsgate_options o = {0};) or pass NULL: every
 * zero field means its default. New fields are only ever appended. */
typedef struct vsgate_options {
    const char *secret_path; /* NULL: VC_SECRET_PATH, else /var/bindings/vsphere. */
    const char *user_agent;  /* NULL: "libvsgate/<version>". */
    long timeout_ms;         /* Per call; 0: 120000. */
    long keepalive_ms;       /* SOAP idle time before a keep-alive; 0: 300000
                                (5 minutes, as the Go library); < 0: none. */
    int manual_keepalive;    /* Nonzero: no background thread; the caller
                                calls vsgate_client_keepalive() itself. */
} vsgate_options;

typedef struct vsgate_client vsgate_client; /* A logged-in SOAP client. */
typedef struct vsgate_rest vsgate_rest;     /* A REST (vAPI) session. */

/* ====================================================================
 * General
 * ==================================================================== */

/* "0.1.0". */
VSGATE_API const char *vsgate_version(void);

/* A short static description of `code`, e.g. "invalid login". */
VSGATE_API const char *vsgate_strerror(vsgate_status code);

/* The symbolic name of `code`, e.g. "ELOGIN" ("OK" for VSGATE_OK). */
VSGATE_API const char *vsgate_status_name(vsgate_status code);

/* Frees a string this library returned. NULL is a no-op. */
VSGATE_API void vsgate_free(void *p);

/* ====================================================================
 * SOAP client
 * ==================================================================== */

/* Reads the environment described at the top, connects and logs in.
 * NULL on failure, with `err` set (VSGATE_ECONFIG, VSGATE_ELOGIN,
 * VSGATE_ETLS, VSGATE_ECONNECT...). `opts` may be NULL. */
VSGATE_API vsgate_client *vsgate_client_from_env(const vsgate_options *opts,
                                                 vsgate_error *err);

/* Stops the keep-alive, logs out (errors ignored) and frees. NULL is a
 * no-op. No other thread may be using `c` (or use it afterwards). */
VSGATE_API void vsgate_client_close(vsgate_client *c);

/* The SDK URL in use, e.g. "https://vc.example.com/sdk" (borrowed). */
VSGATE_API const char *vsgate_client_url(const vsgate_client *c);

/* The server's about.apiVersion, e.g. "8.0.3.0" (borrowed). */
VSGATE_API const char *vsgate_client_api_version(const vsgate_client *c);

/* The server's about.fullName (borrowed, may be ""). */
VSGATE_API const char *vsgate_client_full_name(const vsgate_client *c);

/* Looks up the managed object reference `property` of ServiceContent
 * ("rootFolder", "propertyCollector", "viewManager", "sessionManager",
 * "eventManager"...): *type and *value are borrowed. Returns 1 when
 * found, 0 when the server has no such property. */
VSGATE_API int vsgate_client_service_ref(const vsgate_client *c, const char *property,
                                         const char **type, const char **value);

/*
 * Calls the urn:vim25 method `method` (letters, digits, '_'). `body` is
 * the XML of the method's parameters, already escaped, starting with
 * <_this type="...">...</_this>; it may use the prefixes xsi: and xsd:.
 * On success *response_xml (owned, vsgate_free) is the method's response
 * element as a standalone document, e.g.
 *   <CurrentTimeResponse xmlns="urn:vim25"><returnval>...</returnval>...
 * A NotAuthenticated fault logs in again and repeats the call once.
 */
VSGATE_API vsgate_status vsgate_soap_call(vsgate_client *c, const char *method,
                                          const char *body, char **response_xml,
                                          vsgate_error *err);

/* Sends a keep-alive (CurrentTime) now, logging in again if the session
 * is gone. For manual_keepalive mode: call it at least every
 * keepalive_ms; harmless otherwise. */
VSGATE_API vsgate_status vsgate_client_keepalive(vsgate_client *c, vsgate_error *err);

/* Called once per virtual machine with its managed object id ("vm-42"),
 * its name and its runtime.powerState ("poweredOn", "poweredOff",
 * "suspended"). Strings are borrowed for the call. Return 0 to go on,
 * nonzero to stop (vsgate_list_vms then returns VSGATE_OK). */
typedef int (*vsgate_vm_fn)(void *ud, const char *id, const char *name,
                            const char *power_state);

/*
 * Lists every virtual machine of the inventory: a ContainerView of type
 * VirtualMachine on the root folder (recursive), read with the property
 * collector's RetrievePropertiesEx/ContinueRetrievePropertiesEx, then
 * destroyed. All pages are read before `fn` is first called, so a
 * session lost half-way (the listing is then redone once after logging in
 * again) never calls `fn` twice for a VM.
 */
VSGATE_API vsgate_status vsgate_list_vms(vsgate_client *c, vsgate_vm_fn fn, void *ud,
                                         vsgate_error *err);

/* ====================================================================
 * REST (vSphere Automation API) session
 * ==================================================================== */

/* Reads the same environment as vsgate_client_from_env() and logs in at
 * POST <scheme>://<host>/rest/com/vmware/cis/session (basic auth). No SOAP
 * login is made. NULL on failure with `err` set (VSGATE_ELOGIN for 401). */
VSGATE_API vsgate_rest *vsgate_rest_session_from_env(const vsgate_options *opts,
                                                     vsgate_error *err);

/* GETs `path` ("/rest/com/vmware/cis/tagging/category", "/api/...";
 * relative to <scheme>://<host>; may carry a query). A 2xx gives the body
 * in *body (owned, vsgate_free); any other status is VSGATE_EHTTP with
 * err->http_status set. A 401 logs in again and repeats once. */
VSGATE_API vsgate_status vsgate_rest_get(vsgate_rest *r, const char *path, char **body,
                                         vsgate_error *err);

/* Any method ("GET", "POST", "PATCH", "PUT", "DELETE"), with an optional
 * JSON request body. Succeeds for every HTTP status (after the one
 * re-login on 401): *http_status and *body (owned; may be NULL to ignore)
 * tell the outcome. */
VSGATE_API vsgate_status vsgate_rest_request(vsgate_rest *r, const char *method,
                                             const char *path, const char *json_body,
                                             long *http_status, char **body,
                                             vsgate_error *err);

/* The REST base, e.g. "https://vc.example.com" (borrowed). */
VSGATE_API const char *vsgate_rest_url(const vsgate_rest *r);

/* DELETEs the session (errors ignored) and frees. NULL is a no-op. No
 * other thread may be using `r`. Requests on one session are serialised. */
VSGATE_API void vsgate_rest_close(vsgate_rest *r);

#ifdef __cplusplus
}
#endif

#endif

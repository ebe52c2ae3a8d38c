/*
 * soap/session.h - a vSphere Web Services (SOAP, urn:vim25) session:
 * connect, log in, call methods, keep alive, log in again, log out.
 *
 * Provides: struct vsg_soap_session; the session calls
 * RetrieveServiceContent, Login, CurrentTime and Logout; version
 * negotiation through /sdk/vimServiceVersions.xml; a generic
 * vsg_soap_call() that wraps a method body in a SOAP 1.1 envelope, POSTs
 * it and returns the parsed response or a typed fault; a keep-alive that
 * the (single-threaded) engine drives; the SDK URL cleaned the way
 * govmomi's soap.ParseURL does (the CloudEvent `source`).
 * Uses: http/client.h (libcurl: one connection, cookie engine for the
 * vmware_soap_session cookie, TLS options), soap/xml.h (libxml2),
 * base/ (errors, memory, buffers, time, logging).
 * Owns: the session owns its HTTP client, a copy of every option string
 * (password included, wiped on free) and the ServiceContent it read. A
 * struct vsg_soap_result owns its xmlDoc (vsg_soap_result_cleanup).
 *
 * Errors of every call:
 *   - a SOAP fault (HTTP 500 or a Fault body) is mapped by the detail's
 *     xsi:type (resolved by namespace URI): NotAuthenticated ->
 *     VSG_ERR_NOTAUTHENTICATED (session lost: relogin, then re-create
 *     collectors); InvalidLogin -> VSG_ERR_INVALIDLOGIN; InvalidState ->
 *     VSG_ERR_INVALIDSTATE; ManagedObjectNotFound -> VSG_ERR_NOTFOUND (the
 *     object, typically a collector of a dead session, is gone: re-create
 *     it; if it keeps happening, relogin); any other type -> VSG_ERR_FAULT.
 *     The message is "<Method>: ServerFaultCode: <faultstring or type>
 *     (<type>)", and vsg_soap_last_fault() gives the type name.
 *   - HTTP 502/503/504 and connection failures -> VSG_ERR_TRANSPORT
 *     (retryable); time-outs VSG_ERR_TIMEOUT; certificate problems
 *     VSG_ERR_TLS; a body over max_body VSG_ERR_TOOBIG; any other status
 *     -> VSG_ERR_HTTP; a 200 whose body is not a well-formed SOAP response
 *     -> VSG_ERR_PARSE.
 *   - after vsg_soap_cancel() (a stop signal) -> VSG_ERR_CANCELLED.
 *   Messages never contain the password or the session cookie: the
 *   password (if 3 bytes or longer) is masked as "***", and
 *   "session[<key>]" in moref values (vcsim's session key equals its
 *   cookie) is shown as "session[***]"; the cookie itself lives only in
 *   libcurl's cookie engine and is sent back exactly as received.
 *
 * Session loss: nothing here logs in again by itself, because collectors
 * and property filters die with the session and only the caller can
 * rebuild them. On VSG_ERR_NOTAUTHENTICATED call vsg_soap_relogin(),
 * which clears the cookies first (vcsim answers a Login that carries a
 * live cookie with InvalidLogin), then re-create collectors;
 * vsg_soap_generation() tells objects which login they belong to.
 */
#ifndef VSG_SOAP_SESSION_H
#define VSG_SOAP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "base/err.h"
#include "base/vtime.h"
#include "soap/xml.h"

/* The SOAPAction version the Go adapter pinned (urn:vim25/7.0). */
#define VSG_SOAP_DEFAULT_VERSION "7.0"
/* Largest response body accepted unless opts.max_body says otherwise. */
#define VSG_SOAP_DEFAULT_MAX_BODY ((size_t)32 * 1024 * 1024)
/* Default whole-call time limit. */
#define VSG_SOAP_DEFAULT_TIMEOUT_MS 120000L
/* Default idle time before the keep-alive sends CurrentTime (as upstream). */
#define VSG_SOAP_DEFAULT_KEEPALIVE_MS (5L * 60 * 1000)

/* How to reach and log in to a vCenter. Strings are copied. */
struct vsg_soap_opts {
    const char *url;          /* VC_URL: https:// assumed, path /sdk if none,
                                 user info ignored. Required. */
    const char *username;     /* Used verbatim (no trimming). */
    const char *password;     /* Used verbatim; never logged. */
    int insecure;             /* Nonzero: do not verify the TLS certificate. */
    const char *ca_file;      /* PEM file trusted instead of the system roots. */
    const char *extra_ca_pem; /* PEM text (caCerts) trusted besides the roots. */
    const char *version;      /* SOAPAction version to pin, e.g. "8.0.3.0"; NULL
                                 or "" negotiates (see vsg_soap_negotiate). */
    const char *user_agent;   /* NULL means the HTTP client's default. */
    long connect_timeout_ms;  /* 0 means 30 s. */
    long timeout_ms;          /* Per call; 0 means VSG_SOAP_DEFAULT_TIMEOUT_MS. */
    size_t max_body;          /* Response limit; 0 means VSG_SOAP_DEFAULT_MAX_BODY. */
    long keepalive_ms;        /* Idle time before CurrentTime; 0 means 5 min,
                                 negative disables the keep-alive. */
    const char *session_file; /* Where the session cookie is kept while logged
                                 in (mode 0600), or NULL; see below. */
};

/*
 * The session file. A process killed without its Logout leaves its vCenter
 * session, and the event collector that session made, until the session
 * expires; vCenter refuses new collectors once too many are open. With a
 * session file, each Login writes the session's cookie (with the URL and
 * user) there, Logout removes it, and the first connect of a new process
 * that finds one for the same URL and user logs that session out first
 * (vCenter then ends its collectors), bounded to VSG_SOAP_STALE_LOGOUT_MS.
 * The file holds a live credential: it is created 0600, and belongs in a
 * private place (vsgate run: next to the checkpoint; the adapter Pod: an
 * in-memory emptyDir).
 */
#define VSG_SOAP_STALE_LOGOUT_MS 5000L

/* The parts of ServiceContent vsgate uses (never hard-coded: ESXi and
 * vCenter name these objects differently). */
struct vsg_soap_service_content {
    struct vsg_soap_moref root_folder;        /* rootFolder. */
    struct vsg_soap_moref property_collector; /* propertyCollector. */
    struct vsg_soap_moref session_manager;    /* sessionManager (may be empty). */
    struct vsg_soap_moref event_manager;      /* eventManager (may be empty). */
    char *api_version;                        /* about.apiVersion, e.g. "8.0.3.0"; owned. */
    char *api_type;                           /* about.apiType: VirtualCenter|HostAgent; owned. */
    char *instance_uuid;                      /* about.instanceUuid, may be ""; owned. */
    char *full_name;                          /* about.fullName, may be ""; owned. */
};

/* A successful call's response. */
struct vsg_soap_lite;

struct vsg_soap_result {
    xmlDocPtr doc;        /* The parsed response envelope; owned. */
    struct vsg_soap_lite *lite; /* Or, after vsg_soap_call_lite(), the
                             envelope as a lite tree; owned. */
    xmlNodePtr response;  /* The <MethodResponse> element (borrowed). */
    xmlNodePtr returnval; /* Its first element child, usually <returnval>;
                             NULL for void methods and empty arrays. */
};

struct vsg_soap_session;

/* ====================================================================
 * Life cycle
 * ==================================================================== */

/* Makes a session (no network traffic yet). NULL on failure with `err`
 * set: VSG_ERR_INVAL for a missing or unparseable URL. */
struct vsg_soap_session *vsg_soap_session_new(const struct vsg_soap_opts *opts,
                                              struct vsg_error *err);

/* Frees the session without logging out (call vsg_soap_logout() first if
 * the server should end it). NULL is a no-op. */
void vsg_soap_session_free(struct vsg_soap_session *s);

/*
 * Cleans a VC_URL like govmomi's soap.ParseURL followed by the client's
 * removal of user info: "https://" prepended when there is no "scheme://",
 * one trailing "/" dropped, path "/sdk" when there is none, user and
 * password removed. *out is owned (vsg_free). VSG_ERR_INVAL when empty or
 * unparseable.
 */
enum vsg_err vsg_soap_clean_url(const char *in, char **out, struct vsg_error *err);

/* The cleaned SDK URL, e.g. "https://vc.example.com/sdk" (borrowed). */
const char *vsg_soap_url(const struct vsg_soap_session *s);

/* ====================================================================
 * Session calls
 * ==================================================================== */

/*
 * Picks the SOAPAction version: GET /sdk/vimServiceVersions.xml and use
 * the server's urn:vim25 version when it is older than 7.0, else "7.0"
 * (what the Go adapter sent, so payloads keep the 7.0 shapes). Any
 * failure of the GET is logged and leaves "7.0"; returns VSG_OK except
 * on VSG_ERR_NOMEM and VSG_ERR_CANCELLED (vsg_soap_cancel()). Does
 * nothing when opts.version pinned a version.
 */
enum vsg_err vsg_soap_negotiate(struct vsg_soap_session *s, struct vsg_error *err);

/* The version sent as SOAPAction "urn:vim25/<version>" (borrowed). */
const char *vsg_soap_version(const struct vsg_soap_session *s);

/* Calls RetrieveServiceContent (no login needed) and stores the result. */
enum vsg_err vsg_soap_retrieve_service_content(struct vsg_soap_session *s,
                                               struct vsg_error *err);

/* The stored ServiceContent (borrowed), NULL before it was retrieved. */
const struct vsg_soap_service_content *
vsg_soap_service_content(const struct vsg_soap_session *s);

/* Clears the cookies and calls Login (retrieving ServiceContent first if
 * needed). Bad credentials give VSG_ERR_INVALIDLOGIN. */
enum vsg_err vsg_soap_login(struct vsg_soap_session *s, struct vsg_error *err);

/* negotiate + retrieve_service_content + login. */
enum vsg_err vsg_soap_connect(struct vsg_soap_session *s, struct vsg_error *err);

/* Drops the current session (cookies cleared, no Logout sent: it is
 * presumed dead) and logs in again. Objects of the old session are gone;
 * vsg_soap_generation() changes on success. */
enum vsg_err vsg_soap_relogin(struct vsg_soap_session *s, struct vsg_error *err);

/* Calls Logout, then clears the cookies whatever the outcome. Nothing is
 * sent when not logged in. */
enum vsg_err vsg_soap_logout(struct vsg_soap_session *s, struct vsg_error *err);

/* ====================================================================
 * Stopping
 * ==================================================================== */

/* Cancels the session: a call in flight fails within about 0.1 s with
 * VSG_ERR_CANCELLED (also one that is still connecting or in the TLS
 * handshake), and every later call fails so at once, without network
 * traffic, until vsg_soap_wind_down(). Async-signal-safe (one lock-free
 * atomic store): for the stop signal's handler. */
void vsg_soap_cancel(struct vsg_soap_session *s);

/* For the calls of a shutdown after a cancel (DestroyCollector, Logout):
 * lifts the cancel and bounds every later call so that all of them end
 * within `budget_ms` from now (an unresponsive server costs the budget
 * once; the calls after it fail at once with VSG_ERR_TIMEOUT). A new
 * vsg_soap_cancel() still aborts them. */
void vsg_soap_wind_down(struct vsg_soap_session *s, long budget_ms);

/* Nonzero between a successful login and logout/relogin failure. */
int vsg_soap_logged_in(const struct vsg_soap_session *s);

/* Counts successful logins (0 before the first one). */
unsigned long vsg_soap_generation(const struct vsg_soap_session *s);

/* Calls CurrentTime: the server's clock in *out. */
enum vsg_err vsg_soap_current_time(struct vsg_soap_session *s, struct vsg_time *out,
                                   struct vsg_error *err);

/* ====================================================================
 * Keep-alive (driven by the engine's loop; no timer thread)
 * ==================================================================== */

/* Monotonic time (vsg_time_mono_ms()) at which the keep-alive is due:
 * the last successful call plus the interval. INT64_MAX when not logged
 * in or disabled. Use it to bound the engine's sleep. */
int64_t vsg_soap_keepalive_deadline(const struct vsg_soap_session *s);

/* Nonzero when logged in and no call succeeded for the interval. */
int vsg_soap_keepalive_due(const struct vsg_soap_session *s, int64_t now_ms);

/* Sends CurrentTime when vsg_soap_keepalive_due(s, now_ms), else does
 * nothing. Returns the call's error (VSG_ERR_NOTAUTHENTICATED: relogin). */
enum vsg_err vsg_soap_keepalive(struct vsg_soap_session *s, int64_t now_ms,
                                struct vsg_error *err);

/* ====================================================================
 * Generic calls
 * ==================================================================== */

void vsg_soap_result_init(struct vsg_soap_result *r);
/* Frees the document and leaves `r` empty. NULL is a no-op. */
void vsg_soap_result_cleanup(struct vsg_soap_result *r);

/*
 * Calls `method` (letters, digits and '_' only) with `body`, the
 * already-escaped children of the method element (starting with
 * <_this type="...">...</_this>), in namespace urn:vim25. On success `res`
 * (initialised; previous content freed) holds the response. On error
 * `res` is empty. See the top of this file for the error mapping.
 */
enum vsg_err vsg_soap_call(struct vsg_soap_session *s, const char *method,
                           const char *body, struct vsg_soap_result *res,
                           struct vsg_error *err);

/* vsg_soap_call() giving the response as a lite tree when it can
 * (soap/xml.h, vsg_soap_parse_lite(): cheaper, for callers that only read
 * node fields), else as a document: `res` holds one or the other, and
 * its nodes read the same either way. */
enum vsg_err vsg_soap_call_lite(struct vsg_soap_session *s, const char *method,
                                const char *body, struct vsg_soap_result *res,
                                struct vsg_error *err);

/* vsg_soap_call() with a whole-call time limit (> 0) for long polls. */
enum vsg_err vsg_soap_call_timeout(struct vsg_soap_session *s, const char *method,
                                   const char *body, long timeout_ms,
                                   struct vsg_soap_result *res, struct vsg_error *err);

/* The fault type (xsi:type, e.g. "NotAuthenticated") of the last call,
 * "" when it did not end in a fault. Borrowed until the next call. */
const char *vsg_soap_last_fault(const struct vsg_soap_session *s);

/*
 * The part of a call after the HTTP exchange, as every call runs it: the
 * answer to `method` with HTTP `status` and `len` bytes of `body` becomes
 * `res` (a lite tree when `lite` and the document allows it), or an error
 * with SOAP faults mapped (see the top of this file) and
 * vsg_soap_last_fault() set. Reads no network. For the SOAP fault fuzzer
 * (spec/fuzz/fuzz_soap_response.c) and tests.
 */
enum vsg_err vsg_soap_read_response(struct vsg_soap_session *s, const char *method, long status,
                                    const char *body, size_t len, int lite,
                                    struct vsg_soap_result *res, struct vsg_error *err);

#endif

/*
 * client/internal.h - glue shared by libvsgate's SOAP client (client.c),
 * REST session (rest.c) and general functions (common.c).
 *
 * Provides: the one-time process setup (libcurl, libxml2, the log level),
 * the mapping of vsgate's internal enum vsg_err onto the public
 * vsgate_status, and filling a public vsgate_error.
 * Uses: base/err.h, the public vsgate/vsgate.h.
 */
#ifndef VSG_CLIENT_INTERNAL_H
#define VSG_CLIENT_INTERNAL_H

#include "base/err.h"
#include "vsgate/vsgate.h"

/* Logger name of the library's own lines. */
#define VSG_CLIENT_LOGGER "libvsgate"

/* Runs the process-wide setup once (thread-safe): curl_global_init,
 * xmlInitParser, log level from VSGATE_LOG_LEVEL (default warn). */
vsgate_status vsg_client_global_init(vsgate_error *err);

/* The public status for an internal code. */
vsgate_status vsg_client_status(enum vsg_err rc);

/*
 * Fills `out` (may be NULL) with `code`, the message of `e` (or the
 * generic text when `e` is NULL or has none), an optional fault type and
 * HTTP status. Returns `code`.
 */
vsgate_status vsg_client_fail(vsgate_error *out, vsgate_status code,
                              const struct vsg_error *e, const char *fault,
                              long http_status);

/* Clears `out` (may be NULL) to VSGATE_OK. */
void vsg_client_ok(vsgate_error *out);

#endif

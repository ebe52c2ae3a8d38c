/*
 * cmd/util.h - small helpers shared by the subcommands.
 *
 * Provides: reading a whole (small) file, Go's strconv.ParseBool, the
 * up-front checks of settings (bounded integers, sink and vCenter URLs, CA
 * certificates), and the log level from env/Knative logging config.
 * Uses: base/, soap/ (vsg_soap_clean_url), libcurl's URL API, OpenSSL.
 * Owns: returned strings are the caller's (vsg_free).
 */
#ifndef VSG_CMD_UTIL_H
#define VSG_CMD_UTIL_H

#include <stddef.h>

#include "base/err.h"

/* Reads the file at `path` (at most `max` bytes) into a NUL-terminated
 * string, verbatim. NULL on error with `err` naming the path. */
char *vsg_read_file(const char *path, size_t max, size_t *len, struct vsg_error *err);

/* Reads vCenter credentials, verbatim: DIR/username and DIR/password when
 * `secret_path` is set (as a VSphereBinding mounts them), else `username`
 * with the password from the file `password_file`. *user and *pass are
 * owned by the caller (vsg_free; wipe the password first). On error both
 * are NULL and `err` names the file or the missing option. */
enum vsg_err vsg_read_credentials(const char *secret_path, const char *username,
                                  const char *password_file, char **user, char **pass,
                                  struct vsg_error *err);

/* Go's strconv.ParseBool: 1 t T TRUE true True / 0 f F FALSE false False.
 * VSG_ERR_INVAL otherwise. */
enum vsg_err vsg_parse_bool(const char *s, int *out);

/*
 * Up-front checks of the settings of `vsgate run` (flags) and `vsgate
 * adapter` (environment): each names `setting` (the flag or variable) in
 * its message, echoes a URL only through vsg_url_redact(), and returns
 * VSG_ERR_INVAL (VSG_ERR_NOMEM) with `err` set, so the command exits 2
 * before anything starts.
 */

/* Largest sink timeout, in seconds (one day: milliseconds stay far from
 * any overflow, in curl's long and in poll()'s int). */
#define VSG_SINK_TIMEOUT_MAX_S 86400

/* Parses all of `s` as a decimal integer in [min, max] (strtoll, ERANGE
 * and the bounds checked); `what` describes the expected value ("a number
 * of seconds"). */
enum vsg_err vsg_parse_int(const char *setting, const char *s, long long min, long long max,
                           const char *what, long long *out, struct vsg_error *err);

/* `url` must be an absolute http:// or https:// URL with a host, as
 * libcurl's URL parser (curl_url) reads it. */
enum vsg_err vsg_check_http_url(const char *setting, const char *url, struct vsg_error *err);

/* A vCenter address as VC_URL takes it (vsg_soap_clean_url: https:// when
 * there is no scheme, /sdk when there is no path): after that, an http://
 * or https:// URL with a host. */
enum vsg_err vsg_check_vcenter_url(const char *setting, const char *url, struct vsg_error *err);

/* `pem` (`len` bytes) must hold at least one PEM certificate that OpenSSL
 * reads; `what` names where it came from in the message (a file name, or
 * NULL for PEM given as text). */
enum vsg_err vsg_check_pem_certs(const char *setting, const char *pem, size_t len, const char *what,
                                 struct vsg_error *err);

/* Reads the PEM file `path` (at most 1 MiB) and checks it as above. The
 * text is returned owned in *pem when `pem` is not NULL. */
enum vsg_err vsg_check_ca_file(const char *setting, const char *path, char **pem,
                               struct vsg_error *err);

/* Sets the log level from VSG_LOG_LEVEL, else from K_LOGGING_CONFIG
 * (Knative's config-logging: "loglevel.<component>" or the "level" of
 * "zap-logger-config"). Unknown values are reported and ignored. */
void vsg_log_level_from_env(const char *component);

/* Sets the log level from Knative's config-logging data as JSON
 * ({"zap-logger-config": "{\"level\": ...}", "loglevel.<component>": ...}):
 * loglevel.<component> (`component` may list several, comma-separated,
 * the first found wins) wins over zap-logger-config's level. Nonzero when
 * it named a level. */
int vsg_log_level_from_json(const char *json, const char *component);

/* How ce-* header values are written: NULL, "" or "raw" (as the Go adapter
 * did) sets *percent to 0, "percent" (the CloudEvents HTTP binding) to 1;
 * anything else is VSG_ERR_INVAL naming `setting`. */
enum vsg_err vsg_parse_header_encoding(const char *setting, const char *value, int *percent,
                                       struct vsg_error *err);

/* K_TRACING_CONFIG (Knative's config-tracing as JSON: backend, debug,
 * sample-rate, all strings): the share of events whose traceparent is
 * marked sampled. Unset, {} or backend "none": 0; debug "true": 1. A bad
 * value is VSG_ERR_INVAL naming K_TRACING_CONFIG. */
enum vsg_err vsg_parse_tracing_config(const char *json, double *rate, struct vsg_error *err);

#endif

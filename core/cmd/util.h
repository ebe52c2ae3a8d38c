/*
 * cmd/util.h - small helpers shared by the subcommands.
 *
 * Provides: reading a whole (small) file, Go's strconv.ParseBool, and
 * the log level from env/Knative logging config.
 * Uses: base/. Owns: returned strings are the caller's (vsg_free).
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

/* Sets the log level from VSG_LOG_LEVEL, else from K_LOGGING_CONFIG
 * (Knative's config-logging: "loglevel.<component>" or the "level" of
 * "zap-logger-config"). Unknown values are reported and ignored. */
void vsg_log_level_from_env(const char *component);

#endif

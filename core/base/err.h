/*
 * err.h - the one error enum of vsgate, and a fixed-size error detail.
 *
 * Provides: enum vsg_err (generated from VSG_ERR_MAP), vsg_strerror(),
 * vsg_errname(), vsg_err_retryable(), struct vsg_error with
 * vsg_error_set()/vsg_error_clear(), and the VSG_PRINTF attribute macro.
 * Uses: stdio/stdarg only; nothing else of ours.
 * Owns: nothing. Strings returned by vsg_strerror()/vsg_errname() are
 * static and borrowed. struct vsg_error is caller-allocated and holds its
 * message inline, so it never needs freeing.
 *
 * Fallible functions return enum vsg_err (VSG_OK == 0) and, when they have
 * human detail to give, take an optional `struct vsg_error *` out-param.
 * Codes are append-only: never reorder or renumber VSG_ERR_MAP, add new
 * entries at its end.
 */
#ifndef VSG_BASE_ERR_H
#define VSG_BASE_ERR_H

#include <stddef.h>

/* printf-style format checking for our variadic functions. */
#if defined(__GNUC__) || defined(__clang__)
#define VSG_PRINTF(fmt_idx, arg_idx) \
    __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define VSG_PRINTF(fmt_idx, arg_idx)
#endif

/* ====================================================================
 * Error codes
 * ==================================================================== */

/*
 * XX(code_name, "ERRNAME", "message"). The enum value is VSG_ERR_<code_name>,
 * numbered from 1 in list order (VSG_OK is 0 and not in the list).
 * APPEND ONLY.
 */
#define VSG_ERR_MAP(XX)                                                      \
    XX(NOMEM, "ENOMEM", "out of memory")                                     \
    XX(INVAL, "EINVAL", "invalid argument")                                  \
    XX(PARSE, "EPARSE", "parse error")                                       \
    XX(RANGE, "ERANGE", "value out of range")                                \
    XX(TOOBIG, "ETOOBIG", "size limit exceeded")                             \
    XX(IO, "EIO", "input/output error")                                      \
    XX(NOTFOUND, "ENOTFOUND", "not found")                                   \
    XX(CONFLICT, "ECONFLICT", "conflict")                                    \
    XX(FORBIDDEN, "EFORBIDDEN", "forbidden")                                 \
    XX(UNAUTHORIZED, "EUNAUTHORIZED", "unauthorized")                        \
    XX(GONE, "EGONE", "gone")                                                \
    XX(TIMEOUT, "ETIMEOUT", "timed out")                                     \
    XX(TRANSPORT, "ETRANSPORT", "connection error")                          \
    XX(HTTP, "EHTTP", "unexpected HTTP status")                              \
    XX(TLS, "ETLS", "TLS error")                                             \
    XX(FAULT, "EFAULT", "SOAP fault")                                        \
    XX(NOTAUTHENTICATED, "ENOTAUTHENTICATED", "session not authenticated")   \
    XX(INVALIDLOGIN, "EINVALIDLOGIN", "invalid login")                       \
    XX(INVALIDSTATE, "EINVALIDSTATE", "invalid state")                       \
    XX(LUA, "ELUA", "script error")                                          \
    XX(LIMIT, "ELIMIT", "script resource limit exceeded")                    \
    XX(CANCELLED, "ECANCELLED", "cancelled")                                 \
    XX(INTERNAL, "EINTERNAL", "internal error")                              \
    XX(UNSUPPORTED, "EUNSUPPORTED", "not supported")

#define VSG__ERR_ENUM(code, name, msg) VSG_ERR_##code,
enum vsg_err {
    VSG_OK = 0,     /* Success; the map's first entry is therefore 1. */
    VSG_ERR_MAP(VSG__ERR_ENUM)
    VSG_ERR__COUNT_ /* One past the last code; not a real error. */
};
#undef VSG__ERR_ENUM

/* The message for `code`, e.g. "out of memory"; "unknown error" for values
 * outside the map. Static string, never NULL. */
const char *vsg_strerror(enum vsg_err code);

/* The symbolic name for `code`, e.g. "ENOMEM" ("OK" for VSG_OK,
 * "EUNKNOWN" for values outside the map). Static string, never NULL. */
const char *vsg_errname(enum vsg_err code);

/* Nonzero when an operation that failed with `code` may succeed if tried
 * again (TRANSPORT, TIMEOUT, NOTAUTHENTICATED after a re-login). */
int vsg_err_retryable(enum vsg_err code);

/* ====================================================================
 * Error detail
 * ==================================================================== */

#define VSG_ERROR_MSG_MAX 512

struct vsg_error {
    enum vsg_err code;           /* The error code; VSG_OK when cleared. */
    char msg[VSG_ERROR_MSG_MAX]; /* NUL-terminated human detail, may be "". */
};

/*
 * Records `code` and a printf-formatted message in `e` and returns `code`,
 * so callers can write `return vsg_error_set(e, VSG_ERR_PARSE, "...")`.
 * `e` may be NULL (then only `code` is returned). A NULL `fmt` stores
 * vsg_strerror(code). Too-long messages are cut at a UTF-8 character
 * boundary and end with "...". `e->msg` may itself be one of the format
 * arguments (to add context: "loading x: %s", e->msg).
 */
enum vsg_err vsg_error_set(struct vsg_error *e, enum vsg_err code,
                           const char *fmt, ...) VSG_PRINTF(3, 4);

/* Resets `e` to VSG_OK with an empty message. NULL is a no-op. */
void vsg_error_clear(struct vsg_error *e);

#endif

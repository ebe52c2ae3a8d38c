/*
 * err.c - names and messages for enum vsg_err, and struct vsg_error.
 */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Indexed by enum vsg_err; entry 0 is VSG_OK. */
struct err_info {
    const char *name; /* Symbolic name, e.g. "ENOMEM". */
    const char *msg;  /* Human message, e.g. "out of memory". */
};

#define ERR_INFO(code, name, msg) {name, msg},
static const struct err_info err_table[] = {
    {"OK", "success"},
    VSG_ERR_MAP(ERR_INFO)
};
#undef ERR_INFO

_Static_assert(sizeof err_table / sizeof err_table[0] == VSG_ERR__COUNT_,
               "err_table must cover every code");

static const struct err_info *lookup(enum vsg_err code)
{
    /* Cast through unsigned so negative out-of-range values are caught. */
    unsigned u = (unsigned)code;
    if (u >= (unsigned)VSG_ERR__COUNT_) return NULL;
    return &err_table[u];
}

const char *vsg_strerror(enum vsg_err code)
{
    const struct err_info *i = lookup(code);
    return i ? i->msg : "unknown error";
}

const char *vsg_errname(enum vsg_err code)
{
    const struct err_info *i = lookup(code);
    return i ? i->name : "EUNKNOWN";
}

int vsg_err_retryable(enum vsg_err code)
{
    switch (code) {
    case VSG_ERR_TRANSPORT:
    case VSG_ERR_TIMEOUT:
    case VSG_ERR_NOTAUTHENTICATED:
        return 1;
    default:
        return 0;
    }
}

/* Cuts a string that vsnprintf truncated to fit `size` bytes so it ends
 * on a UTF-8 character boundary followed by "...". */
static void mark_truncated(char *s, size_t size)
{
    size_t end = size - 4; /* Room for "..." and the NUL. */

    /* Back off over continuation bytes so no character is split: the byte
     * at `end` is the first one dropped, so it must start a character. */
    while (end > 0 && ((unsigned char)s[end] & 0xC0) == 0x80) end--;
    memcpy(s + end, "...", 4);
}

enum vsg_err vsg_error_set(struct vsg_error *e, enum vsg_err code,
                           const char *fmt, ...)
{
    char tmp[VSG_ERROR_MSG_MAX]; /* Formatted here first: fmt args may
                                    point into e->msg. */
    va_list ap;
    int n;

    if (e == NULL) return code;
    if (fmt == NULL) {
        n = snprintf(tmp, sizeof tmp, "%s", vsg_strerror(code));
    } else {
        va_start(ap, fmt);
        n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
    }
    if (n < 0) {
        tmp[0] = '\0';
    } else if ((size_t)n >= sizeof tmp) {
        mark_truncated(tmp, sizeof tmp);
    }
    e->code = code;
    memcpy(e->msg, tmp, sizeof tmp);
    return code;
}

void vsg_error_clear(struct vsg_error *e)
{
    if (e == NULL) return;
    e->code = VSG_OK;
    e->msg[0] = '\0';
}

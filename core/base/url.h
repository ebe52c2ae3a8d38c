/*
 * url.h - redaction of credentials in URLs, for logs and messages.
 *
 * Provides: vsg_url_redact() (into a caller's buffer) and
 * vsg_url_redact_dup() (a new string): a copy of a URL, or of any text
 * holding URLs (an error message), with the user info of every
 * "scheme://user:password@host" replaced by "***".
 * Uses: base/mem.h. Owns: vsg_url_redact_dup()'s result is the caller's
 * (vsg_free).
 *
 * Every URL that may carry credentials (sink and dead-letter sink, vCenter
 * address, API server) goes through this before it reaches a log line, an
 * error message, a status condition, an Event or a CloudEvent extension.
 *
 *   vsg_url_redact("http://u:pw@sink/x", buf, sizeof buf)
 *       gives "http:" "//" "***@sink/x" (split here only for this comment)
 *   vsg_url_redact("POST https://t@h/: refused", buf, sizeof buf)
 *       gives "POST https:" "//" "***@h/: refused"
 *
 * The rule errs on the side of hiding: the user info runs from "://" to
 * the LAST '@' before the URL ends (at white space, a control character,
 * '"', '<', '>', '`', '\', '^', '{', '|', '}' or the end of the text), so
 * a password with an unencoded '/', '?', '#' or '@' is hidden too; the
 * price is that a '@' in a path or query ("http://h/a@b") hides what comes
 * before it (it gives "***@b" after the "//"). Text without "://" is copied
 * unchanged (a scheme-less "user:pw@host" is not recognised: add the scheme
 * first).
 */
#ifndef VSG_BASE_URL_H
#define VSG_BASE_URL_H

#include <stddef.h>

/* What the user info of a URL is replaced with. */
#define VSG_URL_REDACTED "***"

/* Writes `text` (NULL: "") with every URL's user info replaced by
 * VSG_URL_REDACTED to `out` (capacity `outsz`; NUL-terminated whenever
 * outsz > 0, truncated to fit; `out` may be NULL when outsz is 0) and
 * returns the length of the whole result without the NUL, like snprintf:
 * a truncated result is a prefix of the whole one, so it never holds part
 * of a password. `out` must not overlap `text`. */
size_t vsg_url_redact(const char *text, char *out, size_t outsz);

/* The same as a new string (vsg_free), or NULL when out of memory. */
char *vsg_url_redact_dup(const char *text);

#endif

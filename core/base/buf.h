/*
 * buf.h - the growable byte buffer with a hard maximum.
 *
 * Provides: struct vsg_buf and its functions: init/cleanup, append, puts,
 * putc, printf, reset, truncate, steal, and JSON string escaping
 * (vsg_buf_append_json_string()); vsg_utf8_decode(), the one UTF-8
 * decoder (each caller keeps its own policy for invalid bytes on top);
 * vsg_write_all() writes bytes to a file descriptor whole.
 * Uses: base/err.h (error codes), base/mem.h (allocation).
 * Owns: a struct vsg_buf is caller-allocated (usually on the stack or
 * embedded in another struct) and owns `data` until vsg_buf_cleanup() or
 * vsg_buf_steal().
 *
 * Every buffer has a maximum length, fixed at init. An operation that
 * would exceed it fails with VSG_ERR_TOOBIG, one that cannot allocate
 * fails with VSG_ERR_NOMEM, and in both cases the contents and length
 * stay exactly as they were. Read `data` and `len` freely; change them
 * only through these functions.
 *
 *   struct vsg_buf b;
 *   vsg_buf_init(&b, 64 * 1024);
 *   if (vsg_buf_printf(&b, "%d items", n) != VSG_OK) goto fail;
 *   ...
 *   vsg_buf_cleanup(&b);
 */
#ifndef VSG_BASE_BUF_H
#define VSG_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"

struct vsg_buf {
    char *data; /* Contents plus a NUL after them; NULL until first use. */
    size_t len; /* Bytes of content, not counting the trailing NUL. */
    size_t cap; /* Bytes allocated at `data` (0 when data is NULL). */
    size_t max; /* The largest `len` allowed; fixed by vsg_buf_init(). */
};

/* ====================================================================
 * Life cycle
 * ==================================================================== */

/* Makes `b` an empty buffer that may grow to `max` bytes of content.
 * Allocates nothing. */
void vsg_buf_init(struct vsg_buf *b, size_t max);

/* Frees the contents. `b` stays a valid empty buffer with the same max,
 * so it may be reused or cleaned up again. NULL is a no-op. */
void vsg_buf_cleanup(struct vsg_buf *b);

/* Empties `b` but keeps its memory for reuse. */
void vsg_buf_reset(struct vsg_buf *b);

/* Shortens the contents to `len` bytes; a larger `len` is a no-op. */
void vsg_buf_truncate(struct vsg_buf *b, size_t len);

/* Hands the NUL-terminated contents to the caller, who frees them with
 * vsg_free(), and leaves `b` empty. An empty buffer yields "". Returns
 * NULL only when out of memory (then `b` is unchanged). */
char *vsg_buf_steal(struct vsg_buf *b);

/* ====================================================================
 * Appending
 * ==================================================================== */

/* The growing paths of the inline appenders below; call those. */
enum vsg_err vsg_buf_append_slow(struct vsg_buf *b, const void *p, size_t n);

/* Appends `n` bytes from `p` (which may contain NULs). Inline: encoders
 * call it per token, and most calls fit in the room already there. */
static inline enum vsg_err vsg_buf_append(struct vsg_buf *b, const void *p,
                                          size_t n)
{
    if (n > 0 && n < b->cap - b->len && n <= b->max - b->len) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return VSG_OK;
    }
    return vsg_buf_append_slow(b, p, n);
}

/* Appends the NUL-terminated string `s`. */
static inline enum vsg_err vsg_buf_puts(struct vsg_buf *b, const char *s)
{
    return vsg_buf_append(b, s, strlen(s));
}

/* Appends one byte. */
static inline enum vsg_err vsg_buf_putc(struct vsg_buf *b, char c)
{
    if (b->len + 1 < b->cap && b->len < b->max) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return VSG_OK;
    }
    return vsg_buf_append_slow(b, &c, 1);
}

/* Appends printf-formatted text. */
enum vsg_err vsg_buf_printf(struct vsg_buf *b, const char *fmt, ...)
    VSG_PRINTF(2, 3);

/* Appends printf-formatted text from a va_list (which it does not end). */
enum vsg_err vsg_buf_vprintf(struct vsg_buf *b, const char *fmt, va_list ap)
    VSG_PRINTF(2, 0);

/* ====================================================================
 * UTF-8
 * ==================================================================== */

/*
 * Decodes the UTF-8 sequence at the start of `s` (`n` bytes available):
 * its length (1..4) with *rune set to its code point, or 0 when the bytes
 * do not start a valid sequence (*rune untouched): a stray continuation
 * byte, C0/C1/F5..FF, an overlong form, a surrogate (U+D800..U+DFFF), a
 * value above U+10FFFF, a sequence cut short by `n`, or n == 0. These are
 * Unicode's Table 3-7 and exactly what Go's utf8.DecodeRune accepts; Go
 * then reports (U+FFFD, 1), which callers do as their policy needs.
 */
size_t vsg_utf8_decode(const unsigned char *s, size_t n, uint32_t *rune);

/* ====================================================================
 * JSON
 * ==================================================================== */

/*
 * Appends `s` as a JSON string (RFC 8259) the way Go's zap encoder writes
 * it: surrounding quotes, `"` and `\` backslash-escaped, \n \r \t by their
 * short escapes, every other control character (U+0000..U+001F) as
 * \u00XX. Valid UTF-8 is copied through unchanged; each byte that is not
 * part of a valid UTF-8 sequence becomes \ufffd, so the output is always
 * valid JSON. A NULL `s` appends the literal null.
 */
enum vsg_err vsg_buf_append_json_string(struct vsg_buf *b, const char *s);

/* Like vsg_buf_append_json_string() for `n` bytes at `s`; NUL bytes are
 * written as \u0000. `s` may be NULL only when `n` is 0 (gives ""). */
enum vsg_err vsg_buf_append_json_stringn(struct vsg_buf *b, const char *s,
                                         size_t n);

/* ====================================================================
 * Writing bytes out
 * ==================================================================== */

/* Writes all `n` bytes of `p` to `fd`, retrying on EINTR and short writes.
 * 0, or -1 with errno set. */
int vsg_write_all(int fd, const void *p, size_t n);

#endif

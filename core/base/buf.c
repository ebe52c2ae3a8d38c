/*
 * buf.c - growable byte buffer with a hard maximum.
 *
 * Invariants: len <= max; data == NULL implies len == cap == 0; when data
 * is not NULL, len < cap and data[len] == '\0'.
 */
#include "base/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"

#define BUF_MIN_CAP 64 /* First allocation size, if max allows it. */

/* ====================================================================
 * Life cycle
 * ==================================================================== */

void vsg_buf_init(struct vsg_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void vsg_buf_cleanup(struct vsg_buf *b)
{
    if (b == NULL) return;
    vsg_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void vsg_buf_reset(struct vsg_buf *b)
{
    vsg_buf_truncate(b, 0);
}

void vsg_buf_truncate(struct vsg_buf *b, size_t len)
{
    if (b->data == NULL || len >= b->len) return;
    b->len = len;
    b->data[len] = '\0';
}

char *vsg_buf_steal(struct vsg_buf *b)
{
    char *s;

    if (b->data == NULL) return vsg_strdup("");
    s = b->data;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return s;
}

/*
 * Makes room for `extra` more bytes of content (plus the NUL) without
 * changing the contents. TOOBIG when len + extra would pass max.
 */
static enum vsg_err reserve(struct vsg_buf *b, size_t extra)
{
    size_t need, ncap;
    char *p;

    if (extra > b->max - b->len) return VSG_ERR_TOOBIG;
    if (b->len + extra == SIZE_MAX) return VSG_ERR_NOMEM; /* No room for NUL. */
    need = b->len + extra + 1;
    if (need <= b->cap) return VSG_OK;

    ncap = b->cap ? b->cap : BUF_MIN_CAP;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) {
            ncap = need;
            break;
        }
        ncap *= 2;
    }
    /* Never allocate more than the maximum can use (need <= max + 1). */
    if (b->max < SIZE_MAX && ncap > b->max + 1) ncap = b->max + 1;

    p = vsg_realloc(b->data, ncap);
    if (p == NULL) return VSG_ERR_NOMEM;
    p[b->len] = '\0'; /* Only matters for a first allocation. */
    b->data = p;
    b->cap = ncap;
    return VSG_OK;
}

/* ====================================================================
 * Appending
 * ==================================================================== */

enum vsg_err vsg_buf_append_slow(struct vsg_buf *b, const void *p, size_t n)
{
    enum vsg_err err;

    if (n == 0) return VSG_OK;
    err = reserve(b, n);
    if (err != VSG_OK) return err;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return VSG_OK;
}

enum vsg_err vsg_buf_vprintf(struct vsg_buf *b, const char *fmt, va_list ap)
{
    enum vsg_err err = VSG_OK;
    va_list ap2;
    size_t avail;
    int n;

    va_copy(ap2, ap);
    /* First try to format straight into the spare room. */
    avail = b->data ? b->cap - b->len : 0;
    n = vsnprintf(avail ? b->data + b->len : NULL, avail, fmt, ap);
    if (n < 0) {
        err = VSG_ERR_INVAL;
        goto done;
    }
    if ((size_t)n < avail) {
        b->len += (size_t)n;
        goto done;
    }
    /* Did not fit: grow and format again. */
    if (b->data) b->data[b->len] = '\0';
    err = reserve(b, (size_t)n);
    if (err != VSG_OK) goto done;
    n = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
    if (n < 0) {
        err = VSG_ERR_INVAL;
        goto done;
    }
    b->len += (size_t)n;

done:
    /* On failure the NUL at len may have been overwritten: restore it. */
    if (b->data) b->data[b->len] = '\0';
    va_end(ap2);
    return err;
}

enum vsg_err vsg_buf_printf(struct vsg_buf *b, const char *fmt, ...)
{
    enum vsg_err err;
    va_list ap;

    va_start(ap, fmt);
    err = vsg_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return err;
}

/* ====================================================================
 * UTF-8
 * ==================================================================== */

size_t vsg_utf8_decode(const unsigned char *s, size_t n, uint32_t *rune)
{
    unsigned char c, lo = 0x80, hi = 0xBF; /* Range of the 2nd byte. */
    uint32_t r;
    size_t len;

    if (n == 0) return 0;
    c = s[0];
    if (c < 0x80) {
        *rune = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        r = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        r = c & 0x0F;
        if (c == 0xE0) lo = 0xA0; /* No overlongs. */
        if (c == 0xED) hi = 0x9F; /* No surrogates. */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        r = c & 0x07;
        if (c == 0xF0) lo = 0x90; /* No overlongs. */
        if (c == 0xF4) hi = 0x8F; /* Nothing past U+10FFFF. */
    } else {
        return 0; /* Continuation byte, C0/C1 (overlong), F5..FF. */
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        unsigned char b = s[i];

        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
        r = r << 6 | (uint32_t)(b & 0x3F);
    }
    *rune = r;
    return len;
}

/* ====================================================================
 * JSON
 * ==================================================================== */

enum vsg_err vsg_buf_append_json_stringn(struct vsg_buf *b, const char *s,
                                         size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t start = b->len, i = 0, run = 0, w;
    uint32_t r;
    enum vsg_err err;
    char esc[7];

    err = vsg_buf_putc(b, '"');
    if (err != VSG_OK) goto fail;
    while (i < n) {
        unsigned char c = u[i];
        const char *rep;
        size_t replen = 2;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (c >= 0x80 && (w = vsg_utf8_decode(u + i, n - i, &r)) != 0) {
            i += w;
            continue;
        }
        /* Flush the run of plain bytes before this one. */
        if (i > run) {
            err = vsg_buf_append(b, s + run, i - run);
            if (err != VSG_OK) goto fail;
        }
        switch (c) {
        case '"': rep = "\\\""; break;
        case '\\': rep = "\\\\"; break;
        case '\n': rep = "\\n"; break;
        case '\r': rep = "\\r"; break;
        case '\t': rep = "\\t"; break;
        default:
            if (c >= 0x80) {
                rep = "\\ufffd";
                replen = 6;
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 0xF];
                rep = esc;
                replen = 6;
            }
            break;
        }
        err = vsg_buf_append(b, rep, replen);
        if (err != VSG_OK) goto fail;
        i++;
        run = i;
    }
    if (i > run) {
        err = vsg_buf_append(b, s + run, i - run);
        if (err != VSG_OK) goto fail;
    }
    err = vsg_buf_putc(b, '"');
    if (err != VSG_OK) goto fail;
    return VSG_OK;

fail:
    vsg_buf_truncate(b, start);
    return err;
}

enum vsg_err vsg_buf_append_json_string(struct vsg_buf *b, const char *s)
{
    if (s == NULL) return vsg_buf_puts(b, "null");
    return vsg_buf_append_json_stringn(b, s, strlen(s));
}

int vsg_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

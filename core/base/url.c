/*
 * base/url.c - see url.h.
 */
#include "base/url.h"

#include <string.h>

#include "base/mem.h"

/* A character that may end a scheme ("http", "svn+ssh", "a.b-c"). */
static int scheme_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '-' || c == '.';
}

/* A character that ends a URL inside text (never valid in one unencoded). */
static int url_end(char c)
{
    return (unsigned char)c <= 0x20 || c == 0x7f || strchr("\"<>`\\^{|}", c) != NULL;
}

/* The next "://" from `p`, or NULL. A plain loop, not strstr(): under
 * ASan every strstr() checks the whole rest of the text, which made
 * vsg_url_redact() quadratic there. */
static const char *find_sep(const char *p)
{
    for (; *p; p++)
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') return p;
    return NULL;
}

/* Appends `n` bytes of `s` to out[*o...] (truncating), counting them all. */
static void put(char *out, size_t outsz, size_t *o, const char *s, size_t n)
{
    if (*o + 1 < outsz) {
        size_t room = outsz - 1 - *o;
        memcpy(out + *o, s, n < room ? n : room);
    }
    *o += n;
}

size_t vsg_url_redact(const char *text, char *out, size_t outsz)
{
    const char *p = text ? text : "";
    size_t o = 0;

    while (*p) {
        const char *sep = find_sep(p);
        if (!sep) {
            put(out, outsz, &o, p, strlen(p));
            break;
        }
        const char *host = sep + 3;
        put(out, outsz, &o, p, (size_t)(host - p));
        p = host;
        if (sep == text || !scheme_char(sep[-1])) continue; /* Not "scheme://". */
        const char *end = host, *at = NULL;
        for (; *end && !url_end(*end); end++)
            if (*end == '@') at = end;
        if (at && at > host) {
            put(out, outsz, &o, VSG_URL_REDACTED, strlen(VSG_URL_REDACTED));
            p = at; /* The '@' and the rest are copied on the next round. */
        }
    }
    if (outsz > 0) out[o < outsz ? o : outsz - 1] = '\0';
    return o;
}

char *vsg_url_redact_dup(const char *text)
{
    size_t n = vsg_url_redact(text, NULL, 0);
    char *s = vsg_malloc(n + 1);
    if (s) vsg_url_redact(text, s, n + 1);
    return s;
}

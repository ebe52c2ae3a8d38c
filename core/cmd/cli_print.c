/*
 * cmd/cli_print.c - see cli_print.h.
 *
 * Both printers build the whole text in a struct vsg_buf and write it
 * with one fwrite(), so a failure leaves `out` untouched. The YAML one
 * decides each scalar's style as go-yaml v2's encoder does (resolve() and
 * isBase60Float() in its resolve.go / encode.go) and lets libyaml's
 * emitter, of which go-yaml's is a port, fall back from plain to quoted.
 */
#include "cmd/cli_print.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "base/buf.h"
#include "base/mem.h"

#define OUT_MAX (SIZE_MAX / 2) /* No real limit on what we print. */

/* ====================================================================
 * Shared: UTF-8 as Go reads it, Go's float formatting
 * ==================================================================== */

/* Decodes one rune at s (n > 0 bytes left) the way Go's utf8.DecodeRune
 * does: an invalid or truncated sequence is one byte of U+FFFD. Returns
 * the bytes used. */
static size_t utf8_dec(const unsigned char *s, size_t n, uint32_t *r)
{
    size_t len = vsg_utf8_decode(s, n, r);

    if (len == 0) {
        *r = 0xFFFD;
        len = 1;
    }
    return len;
}

/* The shortest decimal digits that read back as the finite, nonzero `d`
 * (what Go's strconv uses with precision -1): sets dig (no point, no
 * sign) and *nd, and returns dp with |d| = 0.dig * 10^dp. */
static int shortest_digits(double d, char dig[24], int *nd)
{
    char tmp[48];
    const char *p;
    int n = 0;

    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d) break;
    }
    for (p = tmp; *p && *p != 'e' && *p != 'E'; p++)
        if (*p >= '0' && *p <= '9' && n < 23) dig[n++] = *p;
    while (n > 1 && dig[n - 1] == '0') n--;
    dig[n] = '\0';
    *nd = n;
    return (int)strtol(*p ? p + 1 : p, NULL, 10) + 1;
}

/* Go's fmtE: d.ddde±XX (at least two exponent digits). */
static void fmt_e(char *out, size_t cap, int neg, const char *dig, int nd, int dp)
{
    int exp = dp - 1;
    snprintf(out, cap, "%s%c%s%.*se%c%02d", neg ? "-" : "", dig[0], nd > 1 ? "." : "",
             nd - 1, dig + 1, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

/* Go's fmtF with exactly the shortest digits (no trailing zeros). */
static void fmt_f(char *out, size_t cap, int neg, const char *dig, int nd, int dp)
{
    size_t o = 0;

#define PUT(c) do { if (o + 1 < cap) out[o++] = (c); } while (0)
    if (neg) PUT('-');
    if (dp <= 0) {
        PUT('0');
        PUT('.');
        for (int i = dp; i < 0; i++) PUT('0');
        for (int i = 0; i < nd; i++) PUT(dig[i]);
    } else {
        for (int i = 0; i < dp; i++) PUT(i < nd ? dig[i] : '0');
        if (nd > dp) {
            PUT('.');
            for (int i = dp; i < nd; i++) PUT(dig[i]);
        }
    }
#undef PUT
    out[o] = '\0';
}

/* `d` as Go's encoding/json writes a float64 ("null" when not finite). */
static void json_number(char *out, size_t cap, double d)
{
    char dig[24];
    int nd, dp;
    double a = d < 0 ? -d : d;

    if (d != d || a > 1.7976931348623157e308) {
        snprintf(out, cap, "null");
        return;
    }
    if (a == 0) {
        snprintf(out, cap, "0");
        return;
    }
    if (a < 9007199254740992.0 && d == (double)(long long)d) { /* < 2^53 */
        snprintf(out, cap, "%lld", (long long)d);
        return;
    }
    dp = shortest_digits(d, dig, &nd);
    if (a < 1e-6 || a >= 1e21) {
        size_t n;
        fmt_e(out, cap, d < 0, dig, nd, dp);
        n = strlen(out); /* Go's clean-up: e-07 -> e-7. */
        if (n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') {
            out[n - 2] = out[n - 1];
            out[n - 1] = '\0';
        }
    } else {
        fmt_f(out, cap, d < 0, dig, nd, dp);
    }
}

/* `d` as kubectl -o yaml shows it: the JSON text when go-yaml reads that
 * back as an integer (int64 or uint64), else Go's %g of the float64. */
static void yaml_number(char *out, size_t cap, double d)
{
    char dig[24];
    int nd, dp;
    const char *p;

    json_number(out, cap, d);
    if (strcmp(out, "null") == 0) return;
    p = out[0] == '-' ? out + 1 : out;
    if (strspn(p, "0123456789") == strlen(p)) {
        size_t n = strlen(p);
        /* Fits uint64 (or, negative, int64)? Compare digit strings. */
        const char *lim = out[0] == '-' ? "9223372036854775808" : "18446744073709551615";
        if (n < strlen(lim) || (n == strlen(lim) && strcmp(p, lim) <= 0)) return;
    }
    dp = shortest_digits(d, dig, &nd);
    if (dp - 1 < -4 || dp - 1 >= 6) fmt_e(out, cap, d < 0, dig, nd, dp);
    else fmt_f(out, cap, d < 0, dig, nd, dp);
}

/* Writes the built text to `out`. */
static enum vsg_err flush_out(FILE *out, const struct vsg_buf *b)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, out) != b->len) return VSG_ERR_IO;
    if (fflush(out) != 0 || ferror(out)) return VSG_ERR_IO;
    return VSG_OK;
}

/* ====================================================================
 * JSON
 * ==================================================================== */

/* Appends `s` as a JSON string escaped as Go's encoding/json does. */
static enum vsg_err json_string(struct vsg_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, run = 0;
    enum vsg_err rc = vsg_buf_putc(b, '"');

    while (rc == VSG_OK && i < n) {
        unsigned char c = p[i];
        char esc[8];
        uint32_t r = 0;
        size_t k;

        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' &&
            c != '&') {
            i++;
            continue;
        }
        k = c < 0x80 ? 1 : utf8_dec(p + i, n - i, &r);
        if (c >= 0x80 && !(r == 0xFFFD && k == 1) && r != 0x2028 && r != 0x2029) {
            i += k; /* Valid non-ASCII stays as UTF-8. */
            continue;
        }
        if (i > run) rc = vsg_buf_append(b, s + run, i - run);
        if (rc != VSG_OK) break;
        if (c >= 0x80) {
            snprintf(esc, sizeof esc, "\\u%04x", (unsigned)(k == 1 ? 0xFFFD : r));
        } else if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c, esc[2] = '\0';
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
            esc[2] = '\0';
        } else {
            snprintf(esc, sizeof esc, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
        }
        rc = vsg_buf_puts(b, esc);
        i += k;
        run = i;
    }
    if (rc == VSG_OK && i > run) rc = vsg_buf_append(b, s + run, i - run);
    if (rc == VSG_OK) rc = vsg_buf_putc(b, '"');
    return rc;
}

static enum vsg_err json_indent(struct vsg_buf *b, int level)
{
    enum vsg_err rc = vsg_buf_putc(b, '\n');
    for (int i = 0; rc == VSG_OK && i < level; i++) rc = vsg_buf_append(b, "    ", 4);
    return rc;
}

static enum vsg_err json_value(struct vsg_buf *b, const cJSON *v, int level)
{
    enum vsg_err rc;
    char num[64];

    switch (v->type & 0xFF) {
    case cJSON_False: return vsg_buf_puts(b, "false");
    case cJSON_True: return vsg_buf_puts(b, "true");
    case cJSON_Number:
        json_number(num, sizeof num, v->valuedouble);
        return vsg_buf_puts(b, num);
    case cJSON_String:
        return v->valuestring ? json_string(b, v->valuestring) : vsg_buf_puts(b, "null");
    case cJSON_Raw: return vsg_buf_puts(b, v->valuestring ? v->valuestring : "null");
    case cJSON_Array:
    case cJSON_Object: {
        int obj = cJSON_IsObject(v);
        if (!v->child) return vsg_buf_puts(b, obj ? "{}" : "[]");
        rc = vsg_buf_putc(b, obj ? '{' : '[');
        for (const cJSON *c = v->child; c && rc == VSG_OK; c = c->next) {
            rc = json_indent(b, level + 1);
            if (rc == VSG_OK && obj) rc = json_string(b, c->string ? c->string : "");
            if (rc == VSG_OK && obj) rc = vsg_buf_append(b, ": ", 2);
            if (rc == VSG_OK) rc = json_value(b, c, level + 1);
            if (rc == VSG_OK && c->next) rc = vsg_buf_putc(b, ',');
        }
        if (rc == VSG_OK) rc = json_indent(b, level);
        if (rc == VSG_OK) rc = vsg_buf_putc(b, obj ? '}' : ']');
        return rc;
    }
    default: return vsg_buf_puts(b, "null"); /* cJSON_NULL, cJSON_Invalid */
    }
}

enum vsg_err vsg_cli_print_json(FILE *out, const cJSON *v)
{
    struct vsg_buf b;
    enum vsg_err rc;

    if (!out || !v) return VSG_ERR_INVAL;
    vsg_buf_init(&b, OUT_MAX);
    rc = json_value(&b, v, 0);
    if (rc == VSG_OK) rc = vsg_buf_putc(&b, '\n');
    if (rc == VSG_OK) rc = flush_out(out, &b);
    vsg_buf_cleanup(&b);
    return rc;
}

/* ====================================================================
 * YAML: how go-yaml v2 reads a plain scalar back (resolve.go)
 * ==================================================================== */

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Reads 1 or 2 digits (Go's time getnum(s, false)); -1 if none. */
static int getnum(const char **p, const char *end)
{
    const char *s = *p;
    int v;

    if (s >= end || !is_digit(*s)) return -1;
    v = *s++ - '0';
    if (s < end && is_digit(*s)) v = v * 10 + (*s++ - '0');
    *p = s;
    return v;
}

/* Exactly two digits; -1 if not. */
static int getnum2(const char *s)
{
    return is_digit(s[0]) && is_digit(s[1]) ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

/* Go time.Parse with go-yaml's layouts: "2006-1-2T15:4:5.999999999Z07:00"
 * (also with 't'), "2006-1-2 15:4:5.999999999" and "2006-1-2". */
static int is_timestamp(const char *s, size_t n)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s + 5, *end = s + n;
    int year, mon, day, h, mi, sec, zoned;

    if (n < 5 || strspn(s, "0123456789") != 4) return 0; /* YYYY- */
    year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    if ((mon = getnum(&p, end)) < 1 || mon > 12) return 0;
    if (p >= end || *p++ != '-') return 0;
    if ((day = getnum(&p, end)) < 0) return 0;
    if (day < 1 || day > mdays[mon - 1] +
                   (mon == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return 0;
    if (p == end) return 1;
    if (*p == 'T' || *p == 't') {
        zoned = 1;
        p++;
    } else if (*p == ' ') {
        zoned = 0;
        while (p < end && *p == ' ') p++;
    } else {
        return 0;
    }
    if ((h = getnum(&p, end)) < 0 || h > 23 || p >= end || *p++ != ':') return 0;
    if ((mi = getnum(&p, end)) < 0 || mi > 59 || p >= end || *p++ != ':') return 0;
    if ((sec = getnum(&p, end)) < 0 || sec > 59) return 0;
    if (end - p >= 2 && (*p == '.' || *p == ',') && is_digit(p[1]))
        for (p++; p < end && is_digit(*p); p++) continue;
    if (!zoned) return p == end;
    if (p < end && *p == 'Z') return p + 1 == end;
    /* ±hh:mm, hh <= 24, mm <= 60, and nothing after it. */
    if (end - p != 6 || (*p != '+' && *p != '-') || p[3] != ':') return 0;
    h = getnum2(p + 1);
    mi = getnum2(p + 4);
    return h >= 0 && mi >= 0 && h <= 24 && mi <= 60;
}

/* Go's strconv.ParseInt(s, 0, 64) or ParseUint(s, 0, 64) succeeds. */
static int is_go_int(const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    int sign = 0, base = 10;
    uint64_t v = 0, lim;

    if (p < end && (*p == '+' || *p == '-')) sign = *p++;
    if (end - p >= 2 && p[0] == '0') {
        char x = (char)(p[1] | 0x20);
        if (x == 'x') base = 16, p += 2;
        else if (x == 'o') base = 8, p += 2;
        else if (x == 'b') base = 2, p += 2;
        else base = 8, p += 1;
    }
    if (p == end) return 0; /* No digits after the sign or prefix. */
    lim = sign == '-' ? (uint64_t)1 << 63 : sign == '+' ? ((uint64_t)1 << 63) - 1 : UINT64_MAX;
    for (; p < end; p++) {
        int c = *p, dv;
        if (is_digit(c)) dv = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') dv = (c | 0x20) - 'a' + 10;
        else return 0;
        if (dv >= base) return 0;
        if (v > (lim - (uint64_t)dv) / (uint64_t)base) return 0;
        v = v * (uint64_t)base + (uint64_t)dv;
    }
    return 1;
}

/* `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` and no
 * overflow (Go's ParseFloat fails with ErrRange on it). */
static int is_go_float(const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    size_t ip, fp = 0;
    double d;

    if (p < end && (*p == '+' || *p == '-')) p++;
    for (ip = 0; p < end && is_digit(*p); p++) ip++;
    if (p < end && *p == '.') {
        for (p++; p < end && is_digit(*p); p++) fp++;
        if (ip == 0 && fp == 0) return 0;
    } else if (ip == 0) {
        return 0;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        size_t ed = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        for (; p < end && is_digit(*p); p++) ed++;
        if (ed == 0) return 0;
    }
    if (p != end) return 0;
    d = strtod(s, NULL); /* s[n] is the NUL: the callers' strings end there. */
    return d == d && d <= 1.7976931348623157e308 && d >= -1.7976931348623157e308;
}

/* go-yaml's isBase60Float: ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static int is_base60(const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    int groups = 0;

    if (p < end && (*p == '+' || *p == '-')) p++;
    if (p >= end || !is_digit(*p)) return 0;
    while (p < end && (is_digit(*p) || *p == '_')) p++;
    while (p < end && *p == ':') {
        p++;
        if (p < end && *p >= '0' && *p <= '5' && p + 1 < end && is_digit(p[1])) p += 2;
        else if (p < end && is_digit(*p)) p++;
        else return 0;
        groups++;
    }
    if (groups == 0) return 0;
    if (p < end && *p == '.')
        for (p++; p < end && (is_digit(*p) || *p == '_'); p++) continue;
    return p == end;
}

/* 1 when go-yaml v2 would read `s` unquoted back as a string and so
 * prints it plain (its encoder's canUsePlain), 0 when not, -1 when out of
 * memory. */
static int plain_reads_as_string(const char *s, size_t n)
{
    static const char *const special[] = {
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
        "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
        "~", "null", "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF",
        "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"};
    char small[256], *plain = small;
    size_t pn = 0;
    int c, str;

    if (n == 0) return 0; /* null */
    c = (unsigned char)s[0];
    if (!strchr("+-0123456789yYnNtTfFoO~.", c)) return 1;
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        if (strlen(special[i]) == n && memcmp(special[i], s, n) == 0) return 0;
    if (is_base60(s, n)) return 0;
    if (c == '.') return !is_go_float(s, n); /* Go's ParseFloat: .5, .5e3 */
    if (!strchr("+-0123456789", c)) return 1;
    if (is_timestamp(s, n)) return 0;
    /* Integer or float, with the underscores removed. */
    if (n >= sizeof small && !(plain = vsg_malloc(n + 1))) return -1;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_') plain[pn++] = s[i];
    plain[pn] = '\0';
    str = !is_go_int(plain, pn) && !is_go_float(plain, pn);
    if (plain != small) vsg_free(plain);
    return str;
}

/* ====================================================================
 * YAML: go-yaml v2's key order (sorter.go, keyList.Less)
 * ==================================================================== */

/* unicode.IsLetter: exact for ASCII, approximate beyond (symbol,
 * punctuation and mark blocks are not letters, the rest is). */
static int is_letter(uint32_t r)
{
    if (r < 0x80) return ((r | 0x20) >= 'a' && (r | 0x20) <= 'z');
    if (r < 0xC0) return r == 0xAA || r == 0xB5 || r == 0xBA;
    if (r == 0xD7 || r == 0xF7) return 0;
    if (r >= 0x2C2 && r <= 0x2FF) return 0;  /* Modifier symbols (approx.). */
    if (r >= 0x300 && r <= 0x36F) return 0;  /* Combining marks. */
    if (r >= 0x2000 && r <= 0x2BFF) return 0; /* Punctuation, symbols. */
    if (r >= 0x3000 && r <= 0x3004) return 0;
    if (r >= 0xD800 && r <= 0xF8FF) return 0; /* Surrogates, private use. */
    if (r >= 0xFE00 && r <= 0xFE6F) return 0;
    if (r >= 0xFF00 && r <= 0xFF20) return 0;
    if (r >= 0xFFF0 && r <= 0xFFFF) return 0; /* Specials, U+FFFD. */
    if (r >= 0x1F000 && r <= 0x1FBFF) return 0; /* Emoji, symbols. */
    return 1;
}

struct ykey {
    const cJSON *item; /* The member. */
    uint32_t *runes;   /* Its key as runes (invalid bytes: U+FFFD). */
    size_t nr;         /* How many. */
    size_t idx;        /* Position in the object, to keep the last duplicate. */
};

/* keyList.Less for two string keys. */
static int key_less(const struct ykey *ka, const struct ykey *kb)
{
    const uint32_t *a = ka->runes, *b = kb->runes;
    size_t na = ka->nr, nb = kb->nr;

    for (size_t i = 0; i < na && i < nb; i++) {
        int al, bl;
        int64_t an = 0, bn = 0;
        size_t ai, bi;

        if (a[i] == b[i]) continue;
        al = is_letter(a[i]);
        bl = is_letter(b[i]);
        if (al && bl) return a[i] < b[i];
        if (al || bl) return bl;
        if (a[i] == '0' || b[i] == '0') {
            for (size_t j = i; j-- > 0 && a[j] < 0x80 && is_digit((int)a[j]);) {
                if (a[j] != '0') {
                    an = bn = 1;
                    break;
                }
            }
        }
        for (ai = i; ai < na && a[ai] < 0x80 && is_digit((int)a[ai]); ai++)
            an = (int64_t)((uint64_t)an * 10 + (a[ai] - '0')); /* Wraps as Go's does. */
        for (bi = i; bi < nb && b[bi] < 0x80 && is_digit((int)b[bi]); bi++)
            bn = (int64_t)((uint64_t)bn * 10 + (b[bi] - '0'));
        if (an != bn) return an < bn;
        if (ai != bi) return ai < bi;
        return a[i] < b[i];
    }
    return na < nb;
}

static int key_cmp(const void *x, const void *y)
{
    const struct ykey *a = x, *b = y;

    if (key_less(a, b)) return -1;
    if (key_less(b, a)) return 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int key_same(const struct ykey *a, const struct ykey *b)
{
    return a->nr == b->nr && memcmp(a->runes, b->runes, a->nr * sizeof a->runes[0]) == 0;
}

/* ====================================================================
 * YAML: the emitter
 * ==================================================================== */

struct yctx {
    yaml_emitter_t em;
    struct vsg_buf out;  /* What the emitter wrote. */
    struct vsg_buf tmp;  /* Scratch: one string with invalid UTF-8 replaced. */
    enum vsg_err werr;   /* First failure of write_handler. */
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    struct yctx *y = data;
    enum vsg_err rc = vsg_buf_append(&y->out, buffer, size);

    if (rc != VSG_OK && y->werr == VSG_OK) y->werr = rc;
    return rc == VSG_OK;
}

/* Emits `ev` (which the emitter owns from here on, even on failure).
 * `ok` is what initialising it returned. */
static enum vsg_err y_emit(struct yctx *y, yaml_event_t *ev, int ok)
{
    if (!ok) return VSG_ERR_NOMEM;
    if (yaml_emitter_emit(&y->em, ev)) return VSG_OK;
    if (y->werr != VSG_OK) return y->werr;
    return y->em.error == YAML_MEMORY_ERROR ? VSG_ERR_NOMEM : VSG_ERR_INTERNAL;
}

static enum vsg_err y_scalar(struct yctx *y, const char *s, size_t n, yaml_scalar_style_t st)
{
    yaml_event_t ev;
    int ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, st);
    return y_emit(y, &ev, ok);
}

/* A string scalar: invalid UTF-8 bytes become U+FFFD (as Go's JSON step
 * makes them), then the style go-yaml's encoder asks for. */
static enum vsg_err y_string(struct yctx *y, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    yaml_scalar_style_t st;
    enum vsg_err rc;
    int plain;

    vsg_buf_reset(&y->tmp);
    for (size_t i = 0; i < n;) {
        uint32_t r;
        size_t k = utf8_dec(p + i, n - i, &r);
        rc = r == 0xFFFD && k == 1 ? vsg_buf_append(&y->tmp, "\xEF\xBF\xBD", 3)
                                   : vsg_buf_append(&y->tmp, s + i, k);
        if (rc != VSG_OK) return rc;
        i += k;
    }
    if (y->tmp.len > (size_t)INT32_MAX) return VSG_ERR_TOOBIG;
    s = y->tmp.data ? y->tmp.data : "";
    n = y->tmp.len;
    if (memchr(s, '\n', n)) st = YAML_LITERAL_SCALAR_STYLE;
    else if ((plain = plain_reads_as_string(s, n)) < 0) return VSG_ERR_NOMEM;
    else st = plain ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    return y_scalar(y, s, n, st);
}

static enum vsg_err y_value(struct yctx *y, const cJSON *v);

static enum vsg_err y_mapping(struct yctx *y, const cJSON *v)
{
    yaml_event_t ev;
    struct ykey *keys = NULL;
    size_t n = 0, i;
    enum vsg_err rc;

    for (const cJSON *c = v->child; c; c = c->next) n++;
    rc = y_emit(y, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                            YAML_BLOCK_MAPPING_STYLE));
    if (rc != VSG_OK || n == 0) goto end;
    if (!(keys = vsg_calloc(n, sizeof *keys))) {
        rc = VSG_ERR_NOMEM;
        goto done;
    }
    i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        const unsigned char *s = (const unsigned char *)(c->string ? c->string : "");
        size_t len = strlen((const char *)s), nr = 0;
        keys[i].item = c;
        keys[i].idx = i;
        if (!(keys[i].runes = vsg_malloc((len + 1) * sizeof(uint32_t)))) {
            rc = VSG_ERR_NOMEM;
            goto done;
        }
        for (size_t j = 0; j < len; nr++) j += utf8_dec(s + j, len - j, &keys[i].runes[nr]);
        keys[i].nr = nr;
    }
    qsort(keys, n, sizeof *keys, key_cmp);
    for (i = 0; i < n && rc == VSG_OK; i++) {
        if (i + 1 < n && key_same(&keys[i], &keys[i + 1])) continue; /* Last one wins. */
        rc = y_string(y, keys[i].item->string ? keys[i].item->string : "");
        if (rc == VSG_OK) rc = y_value(y, keys[i].item);
    }
done:
    if (keys)
        for (i = 0; i < n; i++) vsg_free(keys[i].runes);
    vsg_free(keys);
end:
    if (rc == VSG_OK) rc = y_emit(y, &ev, yaml_mapping_end_event_initialize(&ev));
    return rc;
}

static enum vsg_err y_value(struct yctx *y, const cJSON *v)
{
    yaml_event_t ev;
    enum vsg_err rc;
    char num[64];

    switch (v->type & 0xFF) {
    case cJSON_False: return y_scalar(y, "false", 5, YAML_PLAIN_SCALAR_STYLE);
    case cJSON_True: return y_scalar(y, "true", 4, YAML_PLAIN_SCALAR_STYLE);
    case cJSON_Number:
        yaml_number(num, sizeof num, v->valuedouble);
        return y_scalar(y, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
    case cJSON_String:
        if (!v->valuestring) break;
        return y_string(y, v->valuestring);
    case cJSON_Raw: {
        /* Raw JSON text: print what it parses to. */
        cJSON *p = v->valuestring ? cJSON_Parse(v->valuestring) : NULL;
        if (!p) break;
        rc = y_value(y, p);
        cJSON_Delete(p);
        return rc;
    }
    case cJSON_Object: return y_mapping(y, v);
    case cJSON_Array:
        rc = y_emit(y, &ev, yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                                 YAML_BLOCK_SEQUENCE_STYLE));
        for (const cJSON *c = v->child; c && rc == VSG_OK; c = c->next) rc = y_value(y, c);
        if (rc == VSG_OK) rc = y_emit(y, &ev, yaml_sequence_end_event_initialize(&ev));
        return rc;
    default: break;
    }
    return y_scalar(y, "null", 4, YAML_PLAIN_SCALAR_STYLE);
}

enum vsg_err vsg_cli_print_yaml(FILE *out, const cJSON *v)
{
    struct yctx y;
    yaml_event_t ev;
    enum vsg_err rc;

    if (!out || !v) return VSG_ERR_INVAL;
    memset(&y, 0, sizeof y);
    vsg_buf_init(&y.out, OUT_MAX);
    vsg_buf_init(&y.tmp, OUT_MAX);
    if (!yaml_emitter_initialize(&y.em)) return VSG_ERR_NOMEM;
    yaml_emitter_set_output(&y.em, write_handler, &y);
    yaml_emitter_set_encoding(&y.em, YAML_UTF8_ENCODING);
    yaml_emitter_set_unicode(&y.em, 1); /* é stays UTF-8, as in go-yaml. */
    yaml_emitter_set_indent(&y.em, 2);
    yaml_emitter_set_width(&y.em, -1);  /* Never fold long lines. */
    yaml_emitter_set_break(&y.em, YAML_LN_BREAK);

    rc = y_emit(&y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
    if (rc == VSG_OK)
        rc = y_emit(&y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
    if (rc == VSG_OK) rc = y_value(&y, v);
    if (rc == VSG_OK) rc = y_emit(&y, &ev, yaml_document_end_event_initialize(&ev, 1));
    y.em.open_ended = 0; /* As go-yaml's encoder.finish(): no "..." after |+. */
    if (rc == VSG_OK) rc = y_emit(&y, &ev, yaml_stream_end_event_initialize(&ev));
    if (rc == VSG_OK && !yaml_emitter_flush(&y.em)) rc = y.werr ? y.werr : VSG_ERR_IO;
    yaml_emitter_delete(&y.em);
    if (rc == VSG_OK) rc = flush_out(out, &y.out);
    vsg_buf_cleanup(&y.out);
    vsg_buf_cleanup(&y.tmp);
    return rc;
}

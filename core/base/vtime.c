/*
 * vtime.c - RFC 3339 timestamps, clocks and Go durations.
 *
 * Calendar arithmetic uses Howard Hinnant's days_from_civil /
 * civil_from_days (proleptic Gregorian), so nothing depends on TZ,
 * timegm() or the C library's idea of the local zone.
 */
#include "base/vtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NS_PER_SEC INT64_C(1000000000)
#define SEC_PER_DAY INT64_C(86400)

/* ====================================================================
 * Calendar
 * ==================================================================== */

/* Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The civil date of day `z` since 1970-01-01. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* ====================================================================
 * RFC 3339
 * ==================================================================== */

/* Reads exactly `n` decimal digits at *p into *v and advances *p. */
static int digits(const char **p, int n, int *v)
{
    int x = 0;

    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return 0;
        x = x * 10 + (c - '0');
    }
    *p += n;
    *v = x;
    return 1;
}

/* Consumes the byte `c` at *p. */
static int expect(const char **p, char c)
{
    if (**p != c) return 0;
    (*p)++;
    return 1;
}

enum vsg_err vsg_time_parse_rfc3339(const char *s, struct vsg_time *out)
{
    const char *p = s;
    int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0;
    int32_t nsec = 0;
    int64_t t;

    if (s == NULL) return VSG_ERR_PARSE;
    if (!digits(&p, 4, &year) || !expect(&p, '-') || !digits(&p, 2, &mon) ||
        !expect(&p, '-') || !digits(&p, 2, &day))
        return VSG_ERR_PARSE;
    if (*p != 'T' && *p != 't') return VSG_ERR_PARSE;
    p++;
    if (!digits(&p, 2, &hour) || !expect(&p, ':') || !digits(&p, 2, &min) ||
        !expect(&p, ':') || !digits(&p, 2, &sec))
        return VSG_ERR_PARSE;
    if (*p == '.') {
        int n = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (++n > 9) return VSG_ERR_PARSE;
            nsec = nsec * 10 + (*p++ - '0');
        }
        if (n == 0) return VSG_ERR_PARSE;
        for (; n < 9; n++) nsec *= 10;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '-' ? -1 : 1;
        if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om))
            return VSG_ERR_PARSE;
    } else {
        return VSG_ERR_PARSE;
    }
    if (*p != '\0') return VSG_ERR_PARSE;

    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) ||
        hour > 23 || min > 59 || sec > 59 || oh > 23 || om > 59)
        return VSG_ERR_PARSE;

    t = days_from_civil(year, mon, day) * SEC_PER_DAY + hour * 3600 +
        min * 60 + sec;
    t -= sign * (oh * 3600 + om * 60);
    out->sec = t;
    out->nsec = nsec;
    return VSG_OK;
}

/* Writes `v` (0 <= v < 10^w) as exactly `w` digits at p; returns p + w. */
static char *put_digits(char *p, unsigned long v, int w)
{
    for (int i = w - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + w;
}

/* Hand-formatted (no printf): it runs twice per event on the adapter's
 * hot path (ce-time and the payload's createdTime). */
enum vsg_err vsg_time_format_rfc3339(struct vsg_time t,
                                     enum vsg_time_style style, char *out,
                                     size_t outsz)
{
    char buf[VSG_TIME_RFC3339_BUFSZ], *p = buf;
    int64_t days, sod, year;
    int mon, day;
    size_t n;

    if (out == NULL || outsz == 0) return VSG_ERR_TOOBIG;
    out[0] = '\0';
    if (t.nsec < 0 || t.nsec >= NS_PER_SEC) return VSG_ERR_INVAL;
    if (style != VSG_TIME_SECONDS && style != VSG_TIME_MICRO && style != VSG_TIME_NANO)
        return VSG_ERR_INVAL;

    days = t.sec / SEC_PER_DAY;
    sod = t.sec % SEC_PER_DAY;
    if (sod < 0) {
        sod += SEC_PER_DAY;
        days--;
    }
    civil_from_days(days, &year, &mon, &day);
    if (year < 0 || year > 9999) return VSG_ERR_RANGE;

    p = put_digits(p, (unsigned long)year, 4);
    *p++ = '-';
    p = put_digits(p, (unsigned long)mon, 2);
    *p++ = '-';
    p = put_digits(p, (unsigned long)day, 2);
    *p++ = 'T';
    p = put_digits(p, (unsigned long)(sod / 3600), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned long)(sod / 60 % 60), 2);
    *p++ = ':';
    p = put_digits(p, (unsigned long)(sod % 60), 2);
    if (style == VSG_TIME_MICRO) {
        *p++ = '.';
        p = put_digits(p, (unsigned long)(t.nsec / 1000), 6);
    } else if (style == VSG_TIME_NANO && t.nsec != 0) {
        *p++ = '.';
        p = put_digits(p, (unsigned long)t.nsec, 9);
        while (p[-1] == '0') p--; /* nsec != 0: stops before the dot */
    }
    *p++ = 'Z';
    n = (size_t)(p - buf);
    if (n >= outsz) return VSG_ERR_TOOBIG;
    memcpy(out, buf, n);
    out[n] = '\0';
    return VSG_OK;
}

/* ====================================================================
 * Clocks and arithmetic
 * ==================================================================== */

struct vsg_time vsg_time_now(void)
{
    struct timespec ts;
    struct vsg_time t;

    clock_gettime(CLOCK_REALTIME, &ts);
    t.sec = (int64_t)ts.tv_sec;
    t.nsec = (int32_t)ts.tv_nsec;
    return t;
}

int64_t vsg_time_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vsg_time_cmp(struct vsg_time a, struct vsg_time b)
{
    if (a.sec != b.sec) return a.sec < b.sec ? -1 : 1;
    if (a.nsec != b.nsec) return a.nsec < b.nsec ? -1 : 1;
    return 0;
}

struct vsg_time vsg_time_add_ns(struct vsg_time t, int64_t ns)
{
    static const struct vsg_time tmin = {INT64_MIN, 0};
    static const struct vsg_time tmax = {INT64_MAX, 999999999};
    int64_t s = ns / NS_PER_SEC, nsec = t.nsec + ns % NS_PER_SEC;

    if (nsec < 0) {
        nsec += NS_PER_SEC;
        s--;
    } else if (nsec >= NS_PER_SEC) {
        nsec -= NS_PER_SEC;
        s++;
    }
    if (s > 0 && t.sec > INT64_MAX - s) return tmax;
    if (s < 0 && t.sec < INT64_MIN - s) return tmin;
    t.sec += s;
    t.nsec = (int32_t)nsec;
    return t;
}

int64_t vsg_time_diff_ns(struct vsg_time a, struct vsg_time b)
{
    int64_t ds, dn = (int64_t)a.nsec - b.nsec;

    /* ds = a.sec - b.sec, saturating. */
    if (b.sec < 0 && a.sec > INT64_MAX + b.sec) return INT64_MAX;
    if (b.sec > 0 && a.sec < INT64_MIN + b.sec) return INT64_MIN;
    ds = a.sec - b.sec;
    if (dn < 0) {
        if (ds == INT64_MIN) return INT64_MIN;
        dn += NS_PER_SEC;
        ds--;
    }
    /* Now 0 <= dn < 1e9; the result is ds * 1e9 + dn. */
    if (ds >= 0) {
        if (ds > (INT64_MAX - dn) / NS_PER_SEC) return INT64_MAX;
        return ds * NS_PER_SEC + dn;
    }
    /* Negative: use (ds + 1) * 1e9 + (dn - 1e9) so that no intermediate
     * goes below the result (ds * 1e9 alone may pass INT64_MIN). */
    ds++;
    dn -= NS_PER_SEC; /* -1e9 <= dn < 0. */
    if (ds < INT64_MIN / NS_PER_SEC) return INT64_MIN;
    if (ds * NS_PER_SEC < INT64_MIN - dn) return INT64_MIN;
    return ds * NS_PER_SEC + dn;
}

/* ====================================================================
 * Go durations
 * ==================================================================== */

/* Go's fmtFrac: writes the low `prec` digits of v as a fraction, trailing
 * zeros (and the dot) omitted, backwards ending at buf[w]; returns the new
 * w and stores v / 10^prec in *v. */
static size_t fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
    int print = 0;

    for (int i = 0; i < prec; i++) {
        unsigned digit = (unsigned)(*v % 10);
        print = print || digit != 0;
        if (print) buf[--w] = (char)('0' + digit);
        *v /= 10;
    }
    if (print) buf[--w] = '.';
    return w;
}

/* Go's fmtInt: writes v in decimal backwards ending at buf[w]. */
static size_t fmt_int(char *buf, size_t w, uint64_t v)
{
    if (v == 0) {
        buf[--w] = '0';
        return w;
    }
    while (v > 0) {
        buf[--w] = (char)('0' + v % 10);
        v /= 10;
    }
    return w;
}

enum vsg_err vsg_duration_format(int64_t ns, char *out, size_t outsz)
{
    char buf[VSG_DURATION_BUFSZ];
    size_t w = sizeof buf;
    int neg = ns < 0;
    /* Unsigned negation is well defined, also for INT64_MIN. */
    uint64_t u = neg ? -(uint64_t)ns : (uint64_t)ns;

    if (out == NULL || outsz == 0) return VSG_ERR_TOOBIG;
    out[0] = '\0';
    buf[--w] = '\0';
    if (u < (uint64_t)VSG_SECOND) {
        int prec = 0;
        buf[--w] = 's';
        if (u == 0) {
            buf[--w] = '0';
            goto done; /* Go prints "0s" and never "-0s". */
        } else if (u < (uint64_t)VSG_MICROSECOND) {
            prec = 0;
            buf[--w] = 'n';
        } else if (u < (uint64_t)VSG_MILLISECOND) {
            prec = 3;
            buf[--w] = '\xB5'; /* U+00B5 MICRO SIGN in UTF-8: C2 B5. */
            buf[--w] = '\xC2';
        } else {
            prec = 6;
            buf[--w] = 'm';
        }
        w = fmt_frac(buf, w, &u, prec);
        w = fmt_int(buf, w, u);
    } else {
        buf[--w] = 's';
        w = fmt_frac(buf, w, &u, 9);
        w = fmt_int(buf, w, u % 60);
        u /= 60;
        if (u > 0) {
            buf[--w] = 'm';
            w = fmt_int(buf, w, u % 60);
            u /= 60;
            if (u > 0) {
                buf[--w] = 'h';
                w = fmt_int(buf, w, u);
            }
        }
    }
    if (neg) buf[--w] = '-';

done:
    if (sizeof buf - w > outsz) return VSG_ERR_TOOBIG;
    memcpy(out, buf + w, sizeof buf - w);
    return VSG_OK;
}

/* Go's unitMap. */
struct duration_unit {
    const char *name; /* Unit spelling, UTF-8. */
    uint64_t ns;      /* Nanoseconds per unit. */
};

static const struct duration_unit duration_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000}, /* U+00B5 MICRO SIGN. */
    {"\xCE\xBCs", 1000}, /* U+03BC GREEK SMALL LETTER MU. */
    {"ms", 1000000},
    {"s", 1000000000},
    {"m", UINT64_C(60000000000)},
    {"h", UINT64_C(3600000000000)},
};

#define ONE_63 (UINT64_C(1) << 63)

enum vsg_err vsg_duration_parse_flag(const char *s, int64_t *ns)
{
    char *end;
    long long n;
    int64_t d;
    enum vsg_err rc;

    if (s == NULL || *s == '\0') return VSG_ERR_PARSE;
    errno = 0;
    n = strtoll(s, &end, 10);
    if (*end == '\0') {
        if (errno == ERANGE || n < 0 || n > INT64_MAX / VSG_SECOND) return VSG_ERR_RANGE;
        *ns = (int64_t)n * VSG_SECOND;
        return VSG_OK;
    }
    if ((rc = vsg_duration_parse(s, &d)) != VSG_OK) return rc;
    if (d < 0) return VSG_ERR_RANGE;
    *ns = d;
    return VSG_OK;
}

enum vsg_err vsg_duration_parse(const char *s, int64_t *ns)
{
    uint64_t d = 0;
    int neg = 0;

    if (s == NULL) return VSG_ERR_PARSE;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return VSG_OK;
    }
    if (*s == '\0') return VSG_ERR_PARSE;

    while (*s != '\0') {
        uint64_t v = 0, f = 0, unit = 0;
        double scale = 1;
        int pre = 0, post = 0, overflow = 0;
        size_t ulen;

        /* The next character must be [0-9.]. */
        if (!(*s == '.' || (*s >= '0' && *s <= '9'))) return VSG_ERR_PARSE;
        /* Consume [0-9]* (Go's leadingInt). */
        for (; *s >= '0' && *s <= '9'; s++) {
            pre = 1;
            if (v > ONE_63 / 10) return VSG_ERR_RANGE;
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > ONE_63) return VSG_ERR_RANGE;
        }
        /* Consume (\.[0-9]*)? (Go's leadingFraction: extra precision is
         * dropped, never an error). */
        if (*s == '.') {
            s++;
            for (; *s >= '0' && *s <= '9'; s++) {
                uint64_t y;
                post = 1;
                if (overflow) continue;
                if (f > (ONE_63 - 1) / 10) {
                    overflow = 1;
                    continue;
                }
                y = f * 10 + (uint64_t)(*s - '0');
                if (y > ONE_63) {
                    overflow = 1;
                    continue;
                }
                f = y;
                scale *= 10;
            }
        }
        if (!pre && !post) return VSG_ERR_PARSE;
        /* Consume the unit: everything up to the next [0-9.] or the end. */
        ulen = strcspn(s, ".0123456789");
        if (ulen == 0) return VSG_ERR_PARSE; /* Missing unit. */
        for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0];
             i++) {
            if (strlen(duration_units[i].name) == ulen &&
                memcmp(duration_units[i].name, s, ulen) == 0) {
                unit = duration_units[i].ns;
                break;
            }
        }
        if (unit == 0) return VSG_ERR_PARSE; /* Unknown unit. */
        s += ulen;

        if (v > ONE_63 / unit) return VSG_ERR_RANGE;
        v *= unit;
        if (f > 0) {
            /* Same float64 arithmetic as Go, for identical rounding. */
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > ONE_63) return VSG_ERR_RANGE;
        }
        d += v;
        if (d > ONE_63) return VSG_ERR_RANGE;
    }
    if (neg) {
        /* d <= 2^63, so -d fits (INT64_MIN when d == 2^63). */
        *ns = d == ONE_63 ? INT64_MIN : -(int64_t)d;
        return VSG_OK;
    }
    if (d > ONE_63 - 1) return VSG_ERR_RANGE;
    *ns = (int64_t)d;
    return VSG_OK;
}

/* ====================================================================
 * ISO-8601 durations
 * ==================================================================== */

/* Milliseconds per designator, date part then time part. */
#define MS_DAY (86400.0 * 1000.0)

enum vsg_err vsg_iso8601_duration_parse(const char *s, int64_t *ms, struct vsg_error *err)
{
    static const char date_units[] = "YMWD";
    static const double date_ms[] = {365.2425 * MS_DAY, 30.436875 * MS_DAY, 7 * MS_DAY, MS_DAY};
    static const char time_units[] = "HMS";
    static const double time_ms[] = {3600.0 * 1000, 60.0 * 1000, 1000.0};
    const char *p = s;
    long double total = 0;
    int in_time = 0, any = 0, any_time = 0;
    int next = 0; /* Index of the next allowed designator in the current part. */

    if (!s || *s != 'P') goto bad;
    p++;
    while (*p) {
        if (*p == 'T') {
            if (in_time) goto bad;
            in_time = 1;
            next = 0;
            p++;
            continue;
        }
        /* A number: digits, optional fraction. */
        const char *start = p;
        long double v = 0, scale = 1;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        if (*p == '.' || *p == ',') {
            p++;
            while (*p >= '0' && *p <= '9') {
                scale /= 10;
                v += (*p++ - '0') * scale;
                digits++;
            }
        }
        if (!digits || p == start) goto bad;
        const char *units = in_time ? time_units : date_units;
        const double *unit_ms = in_time ? time_ms : date_ms;
        const char *u = *p ? strchr(units + next, *p) : NULL;
        if (!u) goto bad;
        next = (int)(u - units) + 1;
        total += v * unit_ms[u - units];
        any = 1;
        if (in_time) any_time = 1;
        p++;
    }
    if (!any || (in_time && !any_time)) goto bad;
    if (total >= 9.2e18L) return vsg_error_set(err, VSG_ERR_RANGE, "duration \"%s\" is too long", s);
    *ms = (int64_t)(total + 0.5L); /* Nearest ms: 0.05 s is 50, not 49.99. */
    return VSG_OK;
bad:
    return vsg_error_set(err, VSG_ERR_PARSE,
                         "\"%s\" is not an ISO-8601 duration (like PT0.5S, PT1S, PT2M, P1D)",
                         s ? s : "");
}

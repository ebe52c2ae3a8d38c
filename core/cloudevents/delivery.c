/*
 * cloudevents/delivery.c - see delivery.h.
 */
#include "cloudevents/delivery.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/vtime.h"

void vsg_ce_delivery_init(struct vsg_ce_delivery *d)
{
    d->retry = VSG_CE_RETRY_FOREVER;
    d->policy = VSG_CE_BACKOFF_EXPONENTIAL;
    d->delay_ms = VSG_CE_DEFAULT_DELAY_MS;
    d->max_delay_ms = VSG_CE_DEFAULT_MAX_DELAY_MS;
}

enum vsg_err vsg_ce_delivery_parse(const char *retry, const char *policy, const char *delay,
                                   struct vsg_ce_delivery *d, struct vsg_error *err)
{
    struct vsg_ce_delivery n;
    enum vsg_err rc;

    vsg_ce_delivery_init(&n);
    if (retry && *retry) {
        char *end;
        errno = 0;
        long v = strtol(retry, &end, 10);
        if (errno || end == retry || *end || v < 0)
            return vsg_error_set(err, VSG_ERR_INVAL,
                                 "delivery.retry \"%s\": want an integer >= 0", retry);
        n.retry = v;
    }
    if (policy && *policy) {
        if (strcasecmp(policy, "exponential") == 0)
            n.policy = VSG_CE_BACKOFF_EXPONENTIAL;
        else if (strcasecmp(policy, "linear") == 0)
            n.policy = VSG_CE_BACKOFF_LINEAR;
        else
            return vsg_error_set(err, VSG_ERR_INVAL,
                                 "delivery.backoffPolicy \"%s\": want \"exponential\" or "
                                 "\"linear\"",
                                 policy);
    }
    if (delay && *delay) {
        if ((rc = vsg_iso8601_duration_parse(delay, &n.delay_ms, err)) != VSG_OK)
            return vsg_error_set(err, VSG_ERR_INVAL, "delivery.backoffDelay: %s", err ? err->msg : "invalid");
    }
    *d = n;
    return VSG_OK;
}

/* ====================================================================
 * Backoff and classification
 * ==================================================================== */

int64_t vsg_ce_backoff_ms(const struct vsg_ce_delivery *d, long n)
{
    int64_t cap = d->max_delay_ms > 0 ? d->max_delay_ms : INT64_MAX;
    int64_t base = d->delay_ms > 0 ? d->delay_ms : 0;
    long k = n > 1 ? n - 1 : 0;

    if (base == 0) return 0;
    if (d->policy == VSG_CE_BACKOFF_LINEAR) {
        if (k > cap / base) return cap;
        return base * k < cap ? base * k : cap;
    }
    /* Exponential: base * 2^k without overflowing. */
    int64_t v = base;
    for (long i = 0; i < k; i++) {
        if (v >= cap / 2 + 1) return cap;
        v *= 2;
    }
    return v < cap ? v : cap;
}

int64_t vsg_ce_retry_after_ms(const char *v)
{
    struct tm tm;
    char *end;

    if (!v) return -1;
    while (*v == ' ') v++;
    if (!*v) return -1;
    if (*v >= '0' && *v <= '9') {
        errno = 0;
        long long s = strtoll(v, &end, 10);
        while (*end == ' ') end++;
        if (errno || *end || s < 0) return -1;
        if (s > INT64_MAX / 1000) return INT64_MAX;
        return (int64_t)s * 1000;
    }
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char wd[4], mon[4], gmt[4];
    int day, year, hh, mm, ss, used = 0;
    const char *m;
    memset(&tm, 0, sizeof tm);
    if (sscanf(v, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &day, mon, &year, &hh, &mm, &ss, gmt,
               &used) != 8 ||
        strcmp(gmt, "GMT") != 0 || v[used] != '\0' || !(m = strstr(months, mon)) ||
        (m - months) % 3 != 0)
        return -1;
    tm.tm_year = year - 1900;
    tm.tm_mon = (int)((m - months) / 3);
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    time_t at = timegm(&tm);
    struct vsg_time now = vsg_time_now();
    int64_t diff = ((int64_t)at - now.sec) * 1000 - now.nsec / 1000000;
    return diff > 0 ? diff : 0;
}

enum vsg_ce_class vsg_ce_classify(enum vsg_err rc, long status)
{
    if (rc != VSG_OK && status <= 0) {
        switch (rc) {
        case VSG_ERR_INVAL:       /* Malformed URL, unsupported scheme. */
        case VSG_ERR_UNSUPPORTED:
            return VSG_CE_CLASS_FAIL;
        default:                  /* Connection, time-out, TLS, memory. */
            return VSG_CE_CLASS_RETRY;
        }
    }
    /* A status arrived (possibly with a body error such as TOOBIG). */
    if (status >= 200 && status <= 299) return VSG_CE_CLASS_DELIVERED;
    if (status >= 400 && status <= 499) {
        switch (status) {
        case 404: case 408: case 409: case 429:
            return VSG_CE_CLASS_RETRY;
        default:
            return VSG_CE_CLASS_FAIL;
        }
    }
    /* 5xx, and codes outside the data-plane table (1xx, 3xx, >= 600). */
    return VSG_CE_CLASS_RETRY;
}

/*
 * vtime.h - wall-clock times in RFC 3339 and durations in Go's notation.
 *
 * Provides: struct vsg_time (UTC Unix time with nanoseconds) with parsing
 * and formatting of RFC 3339 timestamps, the clocks (vsg_time_now(),
 * vsg_time_mono_ms()), time arithmetic, and Go time.Duration formatting
 * and parsing (vsg_duration_format(), vsg_duration_parse()), which the
 * Kubernetes side needs byte for byte ("5m0s", "1h0m0s"), and ISO-8601
 * durations (vsg_iso8601_duration_parse(): Knative's backoffDelay, read
 * by the event sender and, through vsg.time, by the admission webhook).
 * Uses: base/err.h, the POSIX clocks. Never reads TZ or the local zone.
 * Owns: nothing; all output goes to caller-provided buffers.
 */
#ifndef VSG_BASE_VTIME_H
#define VSG_BASE_VTIME_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Go's duration units, in nanoseconds. */
#define VSG_NANOSECOND INT64_C(1)
#define VSG_MICROSECOND INT64_C(1000)
#define VSG_MILLISECOND INT64_C(1000000)
#define VSG_SECOND INT64_C(1000000000)
#define VSG_MINUTE (60 * VSG_SECOND)
#define VSG_HOUR (60 * VSG_MINUTE)

/* Enough for any vsg_time_format_rfc3339() output, NUL included. */
#define VSG_TIME_RFC3339_BUFSZ 40
/* Enough for any vsg_duration_format() output, NUL included. */
#define VSG_DURATION_BUFSZ 32

struct vsg_time {
    int64_t sec;  /* Seconds since 1970-01-01T00:00:00Z (floor). */
    int32_t nsec; /* Nanoseconds within the second, 0..999999999. */
};

/* How vsg_time_format_rfc3339() writes the fraction of a second. */
enum vsg_time_style {
    VSG_TIME_SECONDS, /* No fraction: 2026-11-25T11:37:53Z. */
    VSG_TIME_NANO,    /* Go's RFC3339Nano: up to 9 digits, trailing zeros
                         trimmed, no dot when zero. */
    VSG_TIME_MICRO    /* Always 6 digits (truncated): ...:53.123456Z. */
};

/* ====================================================================
 * RFC 3339 timestamps
 * ==================================================================== */

/*
 * Parses `s` as an RFC 3339 date-time: YYYY-MM-DD, `T` or `t`, hh:mm:ss,
 * an optional fraction of 1 to 9 digits, then `Z`, `z`, or a +hh:mm/-hh:mm
 * offset (applied, so *out is UTC). Rejects anything else, including
 * trailing bytes, impossible dates (Feb 30), month 13, hour 24, minute or
 * second 60 (leap seconds): VSG_ERR_PARSE, *out untouched.
 */
enum vsg_err vsg_time_parse_rfc3339(const char *s, struct vsg_time *out);

/*
 * Writes `t` as UTC RFC 3339 in `style` (always ending in `Z`) to `out`.
 * VSG_ERR_RANGE when the year is outside 0000..9999, VSG_ERR_INVAL when
 * t.nsec is out of range, VSG_ERR_TOOBIG when outsz is too small (give
 * VSG_TIME_RFC3339_BUFSZ). On error `out` holds "" if outsz > 0.
 */
enum vsg_err vsg_time_format_rfc3339(struct vsg_time t,
                                     enum vsg_time_style style, char *out,
                                     size_t outsz);

/* ====================================================================
 * Clocks and arithmetic
 * ==================================================================== */

/* The current wall-clock time (CLOCK_REALTIME). */
struct vsg_time vsg_time_now(void);

/* Milliseconds of CLOCK_MONOTONIC: for timeouts and intervals only. */
int64_t vsg_time_mono_ms(void);

/* -1, 0 or 1 as a is before, equal to, or after b. */
int vsg_time_cmp(struct vsg_time a, struct vsg_time b);

/* t plus `ns` nanoseconds (may be negative), saturating at the ends of
 * the representable range. */
struct vsg_time vsg_time_add_ns(struct vsg_time t, int64_t ns);

/* a - b in nanoseconds, saturating at INT64_MIN/INT64_MAX (~292 years). */
int64_t vsg_time_diff_ns(struct vsg_time a, struct vsg_time b);

/* ====================================================================
 * Go durations
 * ==================================================================== */

/*
 * Writes `ns` exactly as Go's time.Duration.String(): "0s", "1ns",
 * "1.5µs" (U+00B5), "1ms", "1.5s", "5m0s", "1h1m1s", "-5s".
 * VSG_ERR_TOOBIG when outsz is too small (give VSG_DURATION_BUFSZ); then
 * `out` holds "" if outsz > 0.
 */
enum vsg_err vsg_duration_format(int64_t ns, char *out, size_t outsz);

/*
 * Parses `s` like Go's time.ParseDuration: an optional sign, then one or
 * more decimal numbers (fraction allowed) each followed by a unit among
 * ns, us, µs (U+00B5 or U+03BC), ms, s, m, h, as in "1h30m", "1.5h",
 * "-2m3.5s"; a bare "0" is allowed. VSG_ERR_PARSE for bad syntax (empty,
 * missing or unknown unit), VSG_ERR_RANGE when the value does not fit in
 * int64 nanoseconds. *ns is untouched on error.
 */
enum vsg_err vsg_duration_parse(const char *s, int64_t *ns);

/*
 * A command-line duration: a plain number of seconds ("300") or a Go
 * duration ("5m"), not negative. VSG_ERR_PARSE or VSG_ERR_RANGE otherwise
 * (*ns untouched). The one reading of `vsgate run --max-age/--period` and
 * `vsgate filter test --since`.
 */
enum vsg_err vsg_duration_parse_flag(const char *s, int64_t *ns);

/* ====================================================================
 * ISO-8601 durations
 * ==================================================================== */

/*
 * Parses an ISO-8601 duration "PnYnMnWnDTnHnMnS" into milliseconds
 * (rounded to the nearest: PT0.05S is 50): designators in that order, each at most once, at least
 * one present, 'T' needed before H/M/S and followed by at least one of
 * them; decimal fractions ("." or ",") allowed on any number. Years and
 * months use the average Gregorian lengths (365.2425 and 30.436875 days),
 * as Knative's period.Duration() does. A leading '-' is refused (a delay
 * cannot be negative). VSG_ERR_PARSE for bad syntax, VSG_ERR_RANGE when
 * the value passes ~292 million years; *ms untouched on error.
 */
enum vsg_err vsg_iso8601_duration_parse(const char *s, int64_t *ms, struct vsg_error *err);

#endif

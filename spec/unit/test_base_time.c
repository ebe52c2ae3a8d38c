/*
 * test_base_time.c - unit tests for base/vtime.h: RFC 3339 parsing and
 * formatting, clocks and arithmetic, Go duration formatting and parsing
 * (cases mostly taken from Go's own time package tests).
 */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/vtime.h"

/* ---- RFC 3339 parsing ------------------------------------------------- */

struct rfc_good {
    const char *in; /* Input. */
    int64_t sec;    /* Expected Unix seconds. */
    int32_t nsec;   /* Expected nanoseconds. */
};

static const struct rfc_good rfc_good[] = {
    {"1970-01-01T00:00:00Z", 0, 0},
    {"2026-11-25T11:37:53Z", 1795606673, 0},
    {"2026-11-25T11:37:53.123456Z", 1795606673, 123456000},
    {"2026-11-25t11:37:53.1z", 1795606673, 100000000},
    {"2026-11-25T11:37:53.123456789Z", 1795606673, 123456789},
    {"2026-11-25T11:37:53.000000001Z", 1795606673, 1},
    {"2026-11-25T11:37:53.0Z", 1795606673, 0},
    {"2026-11-25T12:37:53+01:00", 1795606673, 0},
    {"2026-11-25T06:07:53.5-05:30", 1795606673, 500000000},
    {"2026-11-25T11:37:53-00:00", 1795606673, 0},
    {"2026-11-25T11:37:53+00:00", 1795606673, 0},
    {"2026-01-01T00:30:00+01:00", 1767223800, 0}, /* Crosses a year. */
    {"2025-12-31T18:30:00-05:00", 1767223800, 0},
    {"1970-01-01T00:00:00+23:59", -86340, 0},
    {"2000-02-29T23:59:59Z", 951868799, 0},
    {"2024-02-29T00:00:00Z", 1709164800, 0},
    {"2100-02-28T00:00:00Z", 4107456000, 0},
    {"1900-03-01T00:00:00Z", -2203891200, 0},
    {"1600-02-29T12:00:00Z", -11670955200, 0},
    {"1969-12-31T23:59:59.5Z", -1, 500000000},
    {"0000-01-01T00:00:00Z", -62167219200, 0},
    {"9999-12-31T23:59:59.999999999Z", 253402300799, 999999999},
};

static void test_rfc3339_parse_good(void)
{
    for (size_t i = 0; i < sizeof rfc_good / sizeof rfc_good[0]; i++) {
        struct vsg_time t = {-42, -42};
        if (vsg_time_parse_rfc3339(rfc_good[i].in, &t) != VSG_OK)
            CHECK_FAIL_("parse(\"%s\") failed", rfc_good[i].in);
        CHECK_INT(t.sec, rfc_good[i].sec);
        CHECK_INT(t.nsec, rfc_good[i].nsec);
    }
}

static const char *const rfc_bad[] = {
    "",
    "2026-11-25",
    "2026-11-25T11:37:53",            /* No zone. */
    "2026-11-25 11:37:53Z",           /* Space separator. */
    "2026-11-25_11:37:53Z",
    "2026-11-25T11:37:53ZZ",          /* Trailing garbage. */
    "2026-11-25T11:37:53Z ",
    " 2026-11-25T11:37:53Z",
    "2026-11-25T11:37:53Zx",
    "2026-11-25T11:37:53+01:00x",
    "2026-13-01T00:00:00Z",           /* Month 13. */
    "2026-00-01T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "2026-01-32T00:00:00Z",
    "2026-02-29T00:00:00Z",           /* Not a leap year. */
    "2100-02-29T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-11-25T24:00:00Z",           /* Hour 24. */
    "2026-11-25T11:60:00Z",           /* Minute 60. */
    "2026-11-25T11:37:60Z",           /* Leap second. */
    "2026-11-25T11:37:53.Z",          /* Empty fraction. */
    "2026-11-25T11:37:53.1234567890Z",/* 10 digits. */
    "2026-11-25T11:37:53.12a4Z",
    "2026-11-25T11:37:53,5Z",
    "2026-11-25T11:37:53+0100",
    "2026-11-25T11:37:53+01",
    "2026-11-25T11:37:53+1:00",
    "2026-11-25T11:37:53+24:00",
    "2026-11-25T11:37:53+01:60",
    "2026-11-25T11:37:53z+01:00",
    "2026-11-25T11:37:53UTC",
    "26-11-25T11:37:53Z",
    "20261-11-25T11:37:53Z",
    "2026-1-25T11:37:53Z",
    "2026/11/25T11:37:53Z",
    "2026-11-25T1:37:53Z",
    "2026-11-25T11:37:-3Z",
    "2026-11-25T11:37Z",
    "+2026-11-25T11:37:53Z",
    "-2026-11-25T11:37:53Z",
    "2026-11-25T11:37:53.5",
    "\xEF\xBC\x92\xEF\xBC\x90\xEF\xBC\x92\xEF\xBC\x96-11-25T11:37:53Z",
};

static void test_rfc3339_parse_bad(void)
{
    struct vsg_time t = {7, 8};

    for (size_t i = 0; i < sizeof rfc_bad / sizeof rfc_bad[0]; i++) {
        if (vsg_time_parse_rfc3339(rfc_bad[i], &t) != VSG_ERR_PARSE)
            CHECK_FAIL_("parse(\"%s\") did not fail with PARSE", rfc_bad[i]);
        CHECK_INT(t.sec, 7); /* Output untouched. */
        CHECK_INT(t.nsec, 8);
    }
    CHECK_INT(vsg_time_parse_rfc3339(NULL, &t), VSG_ERR_PARSE);
}

/* ---- RFC 3339 formatting ---------------------------------------------- */

struct rfc_fmt {
    int64_t sec;                /* Input seconds. */
    int32_t nsec;               /* Input nanoseconds. */
    enum vsg_time_style style;  /* Style. */
    const char *want;           /* Expected output. */
};

static const struct rfc_fmt rfc_fmt[] = {
    {0, 0, VSG_TIME_SECONDS, "1970-01-01T00:00:00Z"},
    {0, 0, VSG_TIME_NANO, "1970-01-01T00:00:00Z"},
    {0, 0, VSG_TIME_MICRO, "1970-01-01T00:00:00.000000Z"},
    {1795606673, 123456789, VSG_TIME_SECONDS, "2026-11-25T11:37:53Z"},
    {1795606673, 123456789, VSG_TIME_NANO, "2026-11-25T11:37:53.123456789Z"},
    {1795606673, 123456789, VSG_TIME_MICRO, "2026-11-25T11:37:53.123456Z"},
    {1795606673, 100000000, VSG_TIME_NANO, "2026-11-25T11:37:53.1Z"},
    {1795606673, 120000000, VSG_TIME_NANO, "2026-11-25T11:37:53.12Z"},
    {1795606673, 1, VSG_TIME_NANO, "2026-11-25T11:37:53.000000001Z"},
    {1795606673, 1, VSG_TIME_MICRO, "2026-11-25T11:37:53.000000Z"},
    {1795606673, 999999, VSG_TIME_MICRO, "2026-11-25T11:37:53.000999Z"},
    {1795606673, 10, VSG_TIME_NANO, "2026-11-25T11:37:53.00000001Z"},
    {-1, 500000000, VSG_TIME_NANO, "1969-12-31T23:59:59.5Z"},
    {-86400, 0, VSG_TIME_SECONDS, "1969-12-31T00:00:00Z"},
    {951868799, 0, VSG_TIME_SECONDS, "2000-02-29T23:59:59Z"},
    {951868800, 0, VSG_TIME_SECONDS, "2000-03-01T00:00:00Z"},
    {-11670955200, 0, VSG_TIME_SECONDS, "1600-02-29T12:00:00Z"},
    {-62167219200, 0, VSG_TIME_NANO, "0000-01-01T00:00:00Z"},
    {253402300799, 999999999, VSG_TIME_NANO,
     "9999-12-31T23:59:59.999999999Z"},
};

static void test_rfc3339_format(void)
{
    char out[VSG_TIME_RFC3339_BUFSZ];

    for (size_t i = 0; i < sizeof rfc_fmt / sizeof rfc_fmt[0]; i++) {
        struct vsg_time t = {rfc_fmt[i].sec, rfc_fmt[i].nsec};
        CHECK_INT(vsg_time_format_rfc3339(t, rfc_fmt[i].style, out, sizeof out),
                  VSG_OK);
        CHECK_STR(out, rfc_fmt[i].want);
    }
}

static void test_rfc3339_format_errors(void)
{
    char out[VSG_TIME_RFC3339_BUFSZ];
    struct vsg_time t;

    t = (struct vsg_time){253402300800, 0}; /* 10000-01-01. */
    CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_NANO, out, sizeof out),
              VSG_ERR_RANGE);
    CHECK_STR(out, "");
    t = (struct vsg_time){-62167219201, 0}; /* Year -1. */
    CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_NANO, out, sizeof out),
              VSG_ERR_RANGE);
    t = (struct vsg_time){INT64_MIN, 0};
    CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_NANO, out, sizeof out),
              VSG_ERR_RANGE);
    t = (struct vsg_time){INT64_MAX, 0};
    CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_NANO, out, sizeof out),
              VSG_ERR_RANGE);
    t = (struct vsg_time){0, 1000000000};
    CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_NANO, out, sizeof out),
              VSG_ERR_INVAL);
    t = (struct vsg_time){0, -1};
    CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_NANO, out, sizeof out),
              VSG_ERR_INVAL);
    t = (struct vsg_time){0, 0};
    CHECK_INT(vsg_time_format_rfc3339(t, (enum vsg_time_style)99, out,
                                      sizeof out),
              VSG_ERR_INVAL);
    /* Exactly big enough, and one byte short. */
    CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_SECONDS, out, 21), VSG_OK);
    CHECK_STR(out, "1970-01-01T00:00:00Z");
    CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_SECONDS, out, 20),
              VSG_ERR_TOOBIG);
    CHECK_STR(out, "");
    CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_SECONDS, NULL, 0),
              VSG_ERR_TOOBIG);
}

static void test_rfc3339_roundtrip(void)
{
    char out[VSG_TIME_RFC3339_BUFSZ];

    /* Canonical strings come back byte for byte. */
    for (size_t i = 0; i < sizeof rfc_fmt / sizeof rfc_fmt[0]; i++) {
        struct vsg_time t;
        if (rfc_fmt[i].style != VSG_TIME_NANO) continue;
        CHECK_INT(vsg_time_parse_rfc3339(rfc_fmt[i].want, &t), VSG_OK);
        CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_NANO, out, sizeof out),
                  VSG_OK);
        CHECK_STR(out, rfc_fmt[i].want);
    }
    /* Times spread over 0000..9999 survive format + parse. */
    int64_t lo = -62167219200, hi = 253402300799, step = 7777777 * 13 + 1;
    for (int64_t s = lo; s <= hi; s += step) {
        struct vsg_time t = {s, (int32_t)((uint64_t)s * 2654435761u % 1000000000)}, u;
        CHECK_INT(vsg_time_format_rfc3339(t, VSG_TIME_NANO, out, sizeof out),
                  VSG_OK);
        CHECK_INT(vsg_time_parse_rfc3339(out, &u), VSG_OK);
        if (vsg_time_cmp(t, u) != 0)
            CHECK_FAIL_("%s: %lld.%09d != %lld.%09d", out, (long long)t.sec,
                        (int)t.nsec, (long long)u.sec, (int)u.nsec);
    }
}

/* ---- Clocks and arithmetic -------------------------------------------- */

static void test_clocks(void)
{
    struct vsg_time now = vsg_time_now();
    int64_t m1 = vsg_time_mono_ms(), m2;

    CHECK(now.sec > 1700000000); /* After 2023-11. */
    CHECK(now.nsec >= 0 && now.nsec < 1000000000);
    m2 = vsg_time_mono_ms();
    CHECK(m2 >= m1);
}

static void test_cmp(void)
{
    struct vsg_time a = {10, 5}, b = {10, 6}, c = {11, 0}, d = {-1, 999999999};

    CHECK_INT(vsg_time_cmp(a, a), 0);
    CHECK_INT(vsg_time_cmp(a, b), -1);
    CHECK_INT(vsg_time_cmp(b, a), 1);
    CHECK_INT(vsg_time_cmp(b, c), -1);
    CHECK_INT(vsg_time_cmp(c, a), 1);
    CHECK_INT(vsg_time_cmp(d, a), -1);
}

static void test_add_and_diff(void)
{
    struct vsg_time t = {100, 900000000}, u;

    u = vsg_time_add_ns(t, 200000000);
    CHECK_INT(u.sec, 101);
    CHECK_INT(u.nsec, 100000000);
    u = vsg_time_add_ns(t, -900000001);
    CHECK_INT(u.sec, 99);
    CHECK_INT(u.nsec, 999999999);
    u = vsg_time_add_ns(t, -5 * VSG_MINUTE);
    CHECK_INT(u.sec, -200);
    CHECK_INT(u.nsec, 900000000);
    u = vsg_time_add_ns(t, 0);
    CHECK_INT(vsg_time_cmp(u, t), 0);
    u = vsg_time_add_ns((struct vsg_time){0, 0}, INT64_MIN);
    CHECK_INT(u.sec, -9223372037);
    CHECK_INT(u.nsec, 145224192);

    CHECK_INT(vsg_time_diff_ns((struct vsg_time){101, 100000000}, t),
              200000000);
    CHECK_INT(vsg_time_diff_ns(t, (struct vsg_time){101, 100000000}),
              -200000000);
    CHECK_INT(vsg_time_diff_ns(t, t), 0);
    /* u is exactly INT64_MIN ns from the epoch: -u saturates. */
    CHECK_INT(vsg_time_diff_ns(u, (struct vsg_time){0, 0}), INT64_MIN);
    CHECK_INT(vsg_time_diff_ns((struct vsg_time){0, 0}, u), INT64_MAX);
    /* Saturation. */
    CHECK_INT(vsg_time_diff_ns((struct vsg_time){INT64_MAX, 0},
                               (struct vsg_time){INT64_MIN, 0}),
              INT64_MAX);
    CHECK_INT(vsg_time_diff_ns((struct vsg_time){INT64_MIN, 0},
                               (struct vsg_time){INT64_MAX, 0}),
              INT64_MIN);
    CHECK_INT(vsg_time_diff_ns((struct vsg_time){10000000000, 0},
                               (struct vsg_time){0, 0}),
              INT64_MAX);
    CHECK_INT(vsg_time_diff_ns((struct vsg_time){-10000000000, 0},
                               (struct vsg_time){0, 0}),
              INT64_MIN);
    u = vsg_time_add_ns((struct vsg_time){INT64_MAX, 0}, VSG_HOUR);
    CHECK_INT(u.sec, INT64_MAX);
    CHECK_INT(u.nsec, 999999999);
    u = vsg_time_add_ns((struct vsg_time){INT64_MIN, 0}, -VSG_HOUR);
    CHECK_INT(u.sec, INT64_MIN);
    CHECK_INT(u.nsec, 0);
    /* add then diff gives the delta back. */
    static const int64_t deltas[] = {1, -1, 999999999, -999999999, VSG_SECOND,
                                     -VSG_HOUR, INT64_MAX, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof deltas / sizeof deltas[0]; i++) {
        u = vsg_time_add_ns(t, deltas[i]);
        CHECK_INT(vsg_time_diff_ns(u, t), deltas[i]);
    }
}

/* ---- Go durations: formatting ----------------------------------------- */

struct dur_case {
    const char *str; /* Go's String() of ns. */
    int64_t ns;      /* The duration. */
};

static const struct dur_case dur_format[] = {
    /* From Go's durationTests. */
    {"0s", 0},
    {"1ns", 1},
    {"1.1\xC2\xB5s", 1100},
    {"2.2ms", 2200 * VSG_MICROSECOND},
    {"3.3s", 3300 * VSG_MILLISECOND},
    {"4m5s", 4 * VSG_MINUTE + 5 * VSG_SECOND},
    {"4m5.001s", 4 * VSG_MINUTE + 5001 * VSG_MILLISECOND},
    {"5h6m7.001s", 5 * VSG_HOUR + 6 * VSG_MINUTE + 7001 * VSG_MILLISECOND},
    {"8m0.000000001s", 8 * VSG_MINUTE + 1},
    {"2562047h47m16.854775807s", INT64_MAX},
    {"-2562047h47m16.854775808s", INT64_MIN},
    /* The ones vsgate writes into env and JSON. */
    {"1.5\xC2\xB5s", 1500},
    {"1\xC2\xB5s", 1000},
    {"999ns", 999},
    {"1ms", VSG_MILLISECOND},
    {"1.000001ms", VSG_MILLISECOND + 1},
    {"999.999999ms", VSG_SECOND - 1},
    {"1s", VSG_SECOND},
    {"10s", 10 * VSG_SECOND},
    {"1.5s", 1500 * VSG_MILLISECOND},
    {"59s", 59 * VSG_SECOND},
    {"1m0s", VSG_MINUTE},
    {"1m0.5s", VSG_MINUTE + 500 * VSG_MILLISECOND},
    {"5m0s", 5 * VSG_MINUTE},
    {"59m59s", 59 * VSG_MINUTE + 59 * VSG_SECOND},
    {"1h0m0s", VSG_HOUR},
    {"1h1m1s", VSG_HOUR + VSG_MINUTE + VSG_SECOND},
    {"1h0m0.000000001s", VSG_HOUR + 1},
    {"24h0m0s", 24 * VSG_HOUR},
    {"-5s", -5 * VSG_SECOND},
    {"-1ns", -1},
    {"-1.5\xC2\xB5s", -1500},
    {"-1h1m1s", -(VSG_HOUR + VSG_MINUTE + VSG_SECOND)},
};

static void test_duration_format(void)
{
    char out[VSG_DURATION_BUFSZ];

    for (size_t i = 0; i < sizeof dur_format / sizeof dur_format[0]; i++) {
        CHECK_INT(vsg_duration_format(dur_format[i].ns, out, sizeof out),
                  VSG_OK);
        CHECK_STR(out, dur_format[i].str);
    }
}

static void test_duration_format_small_buffer(void)
{
    char out[8];

    CHECK_INT(vsg_duration_format(5 * VSG_MINUTE, out, 5), VSG_OK);
    CHECK_STR(out, "5m0s");
    CHECK_INT(vsg_duration_format(5 * VSG_MINUTE, out, 4), VSG_ERR_TOOBIG);
    CHECK_STR(out, "");
    CHECK_INT(vsg_duration_format(0, out, 3), VSG_OK);
    CHECK_STR(out, "0s");
    CHECK_INT(vsg_duration_format(0, out, 2), VSG_ERR_TOOBIG);
    CHECK_INT(vsg_duration_format(0, NULL, 0), VSG_ERR_TOOBIG);
}

/* ---- Go durations: parsing -------------------------------------------- */

static const struct dur_case dur_parse[] = {
    /* From Go's parseDurationTests. */
    {"0", 0},
    {"5s", 5 * VSG_SECOND},
    {"30s", 30 * VSG_SECOND},
    {"1478s", 1478 * VSG_SECOND},
    {"-5s", -5 * VSG_SECOND},
    {"+5s", 5 * VSG_SECOND},
    {"-0", 0},
    {"+0", 0},
    {"5.0s", 5 * VSG_SECOND},
    {"5.6s", 5 * VSG_SECOND + 600 * VSG_MILLISECOND},
    {"5.s", 5 * VSG_SECOND},
    {".5s", 500 * VSG_MILLISECOND},
    {"1.0s", VSG_SECOND},
    {"1.00s", VSG_SECOND},
    {"1.004s", VSG_SECOND + 4 * VSG_MILLISECOND},
    {"1.0040s", VSG_SECOND + 4 * VSG_MILLISECOND},
    {"100.00100s", 100 * VSG_SECOND + VSG_MILLISECOND},
    {"10ns", 10},
    {"11us", 11 * VSG_MICROSECOND},
    {"12\xC2\xB5s", 12 * VSG_MICROSECOND}, /* U+00B5 */
    {"12\xCE\xBCs", 12 * VSG_MICROSECOND}, /* U+03BC */
    {"13ms", 13 * VSG_MILLISECOND},
    {"14s", 14 * VSG_SECOND},
    {"15m", 15 * VSG_MINUTE},
    {"16h", 16 * VSG_HOUR},
    {"3h30m", 3 * VSG_HOUR + 30 * VSG_MINUTE},
    {"10.5s4m", 4 * VSG_MINUTE + 10 * VSG_SECOND + 500 * VSG_MILLISECOND},
    {"-2m3.4s", -(2 * VSG_MINUTE + 3 * VSG_SECOND + 400 * VSG_MILLISECOND)},
    {"1h2m3s4ms5us6ns", VSG_HOUR + 2 * VSG_MINUTE + 3 * VSG_SECOND +
                            4 * VSG_MILLISECOND + 5 * VSG_MICROSECOND + 6},
    {"39h9m14.425s",
     39 * VSG_HOUR + 9 * VSG_MINUTE + 14 * VSG_SECOND + 425 * VSG_MILLISECOND},
    {"52763797000ns", 52763797000},
    {"0.3333333333333333333h", 20 * VSG_MINUTE},
    {"9007199254740993ns", (INT64_C(1) << 53) + 1},
    {"9223372036854775807ns", INT64_MAX},
    {"9223372036854775.807us", INT64_MAX},
    {"9223372036s854ms775us807ns", INT64_MAX},
    {"-9223372036854775808ns", INT64_MIN},
    {"-9223372036854775.808us", INT64_MIN},
    {"-9223372036s854ms775us808ns", INT64_MIN},
    {"-2562047h47m16.854775808s", INT64_MIN},
    {"0.100000000000000000000h", 6 * VSG_MINUTE},
    {"0.830103483285477580700h",
     49 * VSG_MINUTE + 48 * VSG_SECOND + 372539827},
    /* Ours. */
    {"0s", 0},
    {"-0s", 0},
    {"1.5h", 90 * VSG_MINUTE},
    {"5m0s", 5 * VSG_MINUTE},
    {"1h0m0s", VSG_HOUR},
    {"1h1m1s", VSG_HOUR + VSG_MINUTE + VSG_SECOND},
    {"1.5\xC2\xB5s", 1500},
    {"2562047h47m16.854775807s", INT64_MAX},
};

static void test_duration_parse(void)
{
    for (size_t i = 0; i < sizeof dur_parse / sizeof dur_parse[0]; i++) {
        int64_t ns = -42;
        enum vsg_err err = vsg_duration_parse(dur_parse[i].str, &ns);
        if (err != VSG_OK)
            CHECK_FAIL_("parse(\"%s\") = %s", dur_parse[i].str,
                        vsg_errname(err));
        if (ns != dur_parse[i].ns)
            CHECK_FAIL_("parse(\"%s\") = %lld, want %lld", dur_parse[i].str,
                        (long long)ns, (long long)dur_parse[i].ns);
    }
}

struct dur_bad {
    const char *str;  /* Input. */
    enum vsg_err err; /* Expected error. */
};

static const struct dur_bad dur_bad[] = {
    /* From Go's parseDurationErrorTests and invalid cases. */
    {"", VSG_ERR_PARSE},
    {"3", VSG_ERR_PARSE},
    {"-", VSG_ERR_PARSE},
    {"+", VSG_ERR_PARSE},
    {"s", VSG_ERR_PARSE},
    {".", VSG_ERR_PARSE},
    {"-.", VSG_ERR_PARSE},
    {".s", VSG_ERR_PARSE},
    {"+.s", VSG_ERR_PARSE},
    {"1d", VSG_ERR_PARSE},
    {"\x85\x85", VSG_ERR_PARSE},
    {"\xff" "ff", VSG_ERR_PARSE},
    {"hello \xff" "ff world", VSG_ERR_PARSE},
    {"\xEF\xBF\xBD", VSG_ERR_PARSE},
    {"\xEF\xBF\xBD hello \xEF\xBF\xBD world", VSG_ERR_PARSE},
    {"9223372036854775810ns", VSG_ERR_RANGE},
    {"9223372036854775808ns", VSG_ERR_RANGE},
    {"-9223372036854775809ns", VSG_ERR_RANGE},
    {"9223372036854776us", VSG_ERR_RANGE},
    {"3000000h", VSG_ERR_RANGE},
    {"9223372036854775.808us", VSG_ERR_RANGE},
    {"9223372036854ms775us808ns", VSG_ERR_RANGE},
    {"99999999999999999999999s", VSG_ERR_RANGE},
    {"2562047h47m16.854775808s", VSG_ERR_RANGE},
    /* Ours. */
    {"1h ", VSG_ERR_PARSE},
    {" 1h", VSG_ERR_PARSE},
    {"1hh", VSG_ERR_PARSE},
    {"1H", VSG_ERR_PARSE},
    {"1sec", VSG_ERR_PARSE},
    {"1e3s", VSG_ERR_PARSE},
    {"--1s", VSG_ERR_PARSE},
    {"+-1s", VSG_ERR_PARSE},
    {"1s-1s", VSG_ERR_PARSE},
    {"1.5.5s", VSG_ERR_PARSE},
    {"00", VSG_ERR_PARSE},
    {"0 ", VSG_ERR_PARSE},
    {"\xC2s", VSG_ERR_PARSE},
    {"1\xCE\xBC", VSG_ERR_PARSE},
};

static void test_duration_parse_bad(void)
{
    for (size_t i = 0; i < sizeof dur_bad / sizeof dur_bad[0]; i++) {
        int64_t ns = 12345;
        enum vsg_err err = vsg_duration_parse(dur_bad[i].str, &ns);
        if (err != dur_bad[i].err)
            CHECK_FAIL_("parse(\"%s\") = %s, want %s", dur_bad[i].str,
                        vsg_errname(err), vsg_errname(dur_bad[i].err));
        CHECK_INT(ns, 12345); /* Output untouched. */
    }
    int64_t ns = 1;
    CHECK_INT(vsg_duration_parse(NULL, &ns), VSG_ERR_PARSE);
    CHECK_INT(ns, 1);
}

static void test_duration_roundtrip(void)
{
    char out[VSG_DURATION_BUFSZ];
    int64_t v = 1;

    /* Every formatted duration parses back to itself (Go issue 48629). */
    for (size_t i = 0; i < sizeof dur_format / sizeof dur_format[0]; i++) {
        int64_t ns = 0;
        CHECK_INT(vsg_duration_parse(dur_format[i].str, &ns), VSG_OK);
        CHECK_INT(ns, dur_format[i].ns);
    }
    for (int i = 0; i < 200; i++) {
        int64_t back = 0, vals[2] = {v, -v};
        for (int k = 0; k < 2; k++) {
            CHECK_INT(vsg_duration_format(vals[k], out, sizeof out), VSG_OK);
            CHECK_INT(vsg_duration_parse(out, &back), VSG_OK);
            if (back != vals[k])
                CHECK_FAIL_("%lld -> %s -> %lld", (long long)vals[k], out,
                            (long long)back);
        }
        /* Grow v irregularly to cover every unit and digit pattern. */
        v = v > INT64_MAX / 3 ? (v % 1000003) + 7 : v * 3 + (i % 7);
    }
}

/* Durations on the command line: seconds or Go's notation, not negative. */
static void test_duration_parse_flag(void)
{
    int64_t ns = 7;

    CHECK_INT(vsg_duration_parse_flag("300", &ns), VSG_OK);
    CHECK(ns == 300 * VSG_SECOND);
    CHECK_INT(vsg_duration_parse_flag("5m", &ns), VSG_OK);
    CHECK(ns == 5 * VSG_MINUTE);
    CHECK_INT(vsg_duration_parse_flag("1h30m", &ns), VSG_OK);
    CHECK(ns == 90 * VSG_MINUTE);
    CHECK_INT(vsg_duration_parse_flag("0", &ns), VSG_OK);
    CHECK(ns == 0);
    ns = 7;
    CHECK_INT(vsg_duration_parse_flag("-1", &ns), VSG_ERR_RANGE);
    CHECK_INT(vsg_duration_parse_flag("-5m", &ns), VSG_ERR_RANGE);
    CHECK_INT(vsg_duration_parse_flag("9223372037", &ns), VSG_ERR_RANGE);
    CHECK_INT(vsg_duration_parse_flag("99999999999999999999", &ns), VSG_ERR_RANGE);
    CHECK_INT(vsg_duration_parse_flag("", &ns), VSG_ERR_PARSE);
    CHECK_INT(vsg_duration_parse_flag(NULL, &ns), VSG_ERR_PARSE);
    CHECK_INT(vsg_duration_parse_flag("five", &ns), VSG_ERR_PARSE);
    CHECK_INT(vsg_duration_parse_flag("5 m", &ns), VSG_ERR_PARSE);
    CHECK(ns == 7); /* Untouched by the failures. */
}

/* ---- ISO-8601 durations ---------------------------------------------- */

static int64_t dur(const char *s)
{
    int64_t ms = -12345;
    struct vsg_error err;
    if (vsg_iso8601_duration_parse(s, &ms, &err) != VSG_OK) return -1;
    return ms;
}

static void test_iso8601(void)
{
    CHECK_INT(dur("PT0.2S"), 200);
    CHECK_INT(dur("PT1S"), 1000);
    CHECK_INT(dur("PT0,5S"), 500);
    CHECK_INT(dur("PT1M"), 60000);
    CHECK_INT(dur("PT1H"), 3600000);
    CHECK_INT(dur("PT1H30M5S"), 5405000);
    CHECK_INT(dur("PT1.5M"), 90000);
    CHECK_INT(dur("P1D"), 86400000);
    CHECK_INT(dur("P1W"), 7 * 86400000LL);
    CHECK_INT(dur("P1DT2H"), 93600000);
    CHECK_INT(dur("P1M"), (int64_t)(30.436875 * 86400000));
    CHECK_INT(dur("P1Y"), (int64_t)(365.2425 * 86400000));
    CHECK_INT(dur("PT0S"), 0);
    CHECK_INT(dur("P0D"), 0);
    CHECK_INT(dur("PT10S"), 10000);
    CHECK_INT(dur("P.5D"), 43200000);  /* A fraction alone is a number. */
    CHECK_INT(dur("P5.D"), 432000000); /* So are digits and a bare dot. */
    CHECK_INT(dur("P1,5D"), 129600000);
    CHECK_INT(dur("P1Y2M3W4DT5H6M7S"), 38994811000);
    CHECK_INT(dur("PT0.05S"), 50);     /* Nearest ms, not 49. */
    CHECK_INT(dur("PT0.0005S"), 1);
    /* Bad syntax. */
    CHECK_INT(dur(""), -1);
    CHECK_INT(dur("P"), -1);
    CHECK_INT(dur("PT"), -1);
    CHECK_INT(dur("1S"), -1);
    CHECK_INT(dur("PT1"), -1);
    CHECK_INT(dur("P1H"), -1);     /* H needs T. */
    CHECK_INT(dur("PT1D"), -1);    /* D is a date unit. */
    CHECK_INT(dur("PT1S1M"), -1);  /* Out of order. */
    CHECK_INT(dur("PT1S2S"), -1);  /* Repeated. */
    CHECK_INT(dur("P1DT"), -1);    /* T without a time part. */
    CHECK_INT(dur("-PT1S"), -1);
    CHECK_INT(dur("PT.S"), -1);
    CHECK_INT(dur("pt1s"), -1);
    CHECK_INT(dur("PT1S "), -1);
    CHECK_INT(dur("P.D"), -1);      /* No digit. */
    CHECK_INT(dur("P1T"), -1);
    CHECK_INT(dur("P1DTT1H"), -1);
    CHECK_INT(dur("P1.5.5D"), -1);
    CHECK_INT(dur("P+1D"), -1);
    CHECK_INT(dur("P1M1Y"), -1);
    CHECK_INT(dur(NULL), -1);
    int64_t ms = 7;
    struct vsg_error err;
    CHECK_INT(vsg_iso8601_duration_parse("P999999999999Y", &ms, &err), VSG_ERR_RANGE);
    CHECK_INT(vsg_iso8601_duration_parse("P99999999999999999999999999999999999Y", &ms, &err),
              VSG_ERR_RANGE);
    CHECK_INT(ms, 7);
    CHECK_INT(vsg_iso8601_duration_parse("PTx", &ms, &err), VSG_ERR_PARSE);
    CHECK(strstr(err.msg, "\"PTx\"") != NULL);
}

TEST_LIST = {
    {"iso8601", test_iso8601},
    {"duration_parse_flag", test_duration_parse_flag},
    {"rfc3339_parse_good", test_rfc3339_parse_good},
    {"rfc3339_parse_bad", test_rfc3339_parse_bad},
    {"rfc3339_format", test_rfc3339_format},
    {"rfc3339_format_errors", test_rfc3339_format_errors},
    {"rfc3339_roundtrip", test_rfc3339_roundtrip},
    {"clocks", test_clocks},
    {"cmp", test_cmp},
    {"add_and_diff", test_add_and_diff},
    {"duration_format", test_duration_format},
    {"duration_format_small_buffer", test_duration_format_small_buffer},
    {"duration_parse", test_duration_parse},
    {"duration_parse_bad", test_duration_parse_bad},
    {"duration_roundtrip", test_duration_roundtrip},
    {NULL, NULL},
};

TEST_MAIN()

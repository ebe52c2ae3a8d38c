/*
 * fuzz_vtime.c - libFuzzer target for the RFC 3339 and Go-duration
 * parsers of core/base/vtime.c.
 *
 * The input (as a NUL-terminated string) goes to vsg_time_parse_rfc3339(),
 * vsg_duration_parse() and vsg_duration_parse_flag(). Whatever a parser
 * accepts must format and parse back to the same value: RFC 3339 in Go's
 * RFC3339Nano style (years 0000..9999; outside them formatting must say
 * VSG_ERR_RANGE), durations in Go's String() form. A flag value is never
 * negative and agrees with vsg_duration_parse() on Go-duration syntax.
 * Seeds: spec/fuzz/corpus/vtime.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/vtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, out[VSG_TIME_RFC3339_BUFSZ], dur[VSG_DURATION_BUFSZ];
    struct vsg_time t, t2;
    int64_t ns, ns2, fl;
    enum vsg_err rc;

    if (size > 256) return 0;
    if (!(s = malloc(size + 1))) return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    if (vsg_time_parse_rfc3339(s, &t) == VSG_OK) {
        if (t.nsec < 0 || t.nsec > 999999999) abort();
        rc = vsg_time_format_rfc3339(t, VSG_TIME_NANO, out, sizeof out);
        if (rc == VSG_OK) {
            if (vsg_time_parse_rfc3339(out, &t2) != VSG_OK || vsg_time_cmp(t, t2) != 0) abort();
        } else if (rc != VSG_ERR_RANGE) {
            abort();
        }
    }

    rc = vsg_duration_parse(s, &ns);
    if (rc == VSG_OK) {
        if (vsg_duration_format(ns, dur, sizeof dur) != VSG_OK) abort();
        if (vsg_duration_parse(dur, &ns2) != VSG_OK || ns2 != ns) abort();
    } else if (rc != VSG_ERR_PARSE && rc != VSG_ERR_RANGE) {
        abort();
    }

    if (vsg_duration_parse_flag(s, &fl) == VSG_OK) {
        if (fl < 0) abort();
        /* Go syntax (a unit present): the same value as the plain parse. */
        if (rc == VSG_OK && strpbrk(s, "hmsnuµμ") != NULL && fl != ns) abort();
    }
    free(s);
    return 0;
}

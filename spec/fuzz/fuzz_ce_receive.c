/*
 * fuzz_ce_receive.c - libFuzzer target for the reading of received
 * CloudEvents (core/cloudevents/receive.c, what `vsgate sink` runs).
 *
 * Input: a flags byte (bit 0: raw ce-* values, bit 1: structured mode),
 * then "Name: value" header lines up to an empty line, then the body.
 * Every header goes through vsg_ce_received_header(); in structured mode
 * the body through vsg_ce_parse_structured(). Names are stored lower
 * case and unique, each reads back; without `raw`, a value without '%'
 * is kept as sent; the answer is 0, 400 or 500 (out of memory only);
 * vsg_ce_received_missing() names a required attribute that is indeed
 * missing. Seeds: spec/fuzz/corpus/ce_receive.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloudevents/receive.h"

static void check_list(const struct vsg_ce_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        for (const char *p = l->v[i].name; *p; p++)
            if (*p >= 'A' && *p <= 'Z') abort();
        if (vsg_ce_kvlist_get(l, l->v[i].name) != l->v[i].value) abort(); /* Unique. */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vsg_ce_received r = {0};
    char *buf, *p, *end, why[256];
    int raw, structured;

    if (size < 1 || size > (1u << 18)) return 0;
    raw = data[0] & 1;
    structured = (data[0] >> 1) & 1;
    if (!(buf = malloc(size))) return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    end = buf + size - 1;
    p = buf;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *colon, *v;
        if (!nl) nl = end;
        *nl = '\0';
        if (p == nl) { /* The empty line: the body follows. */
            p = nl + 1;
            break;
        }
        colon = strchr(p, ':');
        if (colon && colon != p) {
            *colon = '\0';
            v = colon + 1;
            while (*v == ' ') v++;
            if (vsg_ce_received_header(&r, p, v, raw) != VSG_OK) goto out;
            if (!raw && strncasecmp(p, "ce-", 3) == 0 && p[3] && !strchr(v, '%')) {
                char lower[64];
                size_t n = strlen(p + 3);
                if (n < sizeof lower) {
                    for (size_t i = 0; i <= n; i++)
                        lower[i] = (char)((p[3 + i] >= 'A' && p[3 + i] <= 'Z') ? p[3 + i] + 32 : p[3 + i]);
                    if (strcmp(vsg_ce_kvlist_get(&r.attrs, lower), v) != 0) abort();
                }
            }
        }
        p = nl + 1;
    }
    if (structured) {
        size_t blen = p < end ? (size_t)(end - p) : 0;
        int st = vsg_ce_parse_structured(p < end ? p : "", blen, &r, why, sizeof why);
        if (st != 0 && st != 400 && st != 500) abort();
        if (st != 0 && why[0] == '\0') abort();
        if (st == 0 && r.data && r.data[r.data_len] != '\0') abort();
    }
    check_list(&r.attrs);
    check_list(&r.headers);
    {
        const char *m = vsg_ce_received_missing(&r);
        const char *v = m ? vsg_ce_kvlist_get(&r.attrs, m) : NULL;
        if (m && v && *v) abort();
    }
out:
    vsg_ce_received_cleanup(&r);
    free(buf);
    return 0;
}

/*
 * fuzz_kube_watch.c - libFuzzer target for the Kubernetes watch-stream
 * parser (core/kube/watch.c).
 *
 * The input after its first byte is a watch body. It is fed once whole
 * and once in chunks whose sizes come from the first byte (1..256 bytes),
 * as curl may hand it over. Both runs must end the same way, deliver the
 * same number of events of the same types, and hold the same bytes of an
 * unfinished line. Every object is read the way the informer reads it
 * (ERROR -> vsg_kube_watch_status()). Seeds: spec/fuzz/corpus/kube_watch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/watch.h"

struct seen {
    unsigned long n;        /* Events. */
    unsigned long types;    /* A hash of their types in order. */
    long status_sum;        /* Codes of ERROR events. */
};

static int on_event(void *ud, enum vsg_kube_watch_type type, cJSON **object)
{
    struct seen *s = ud;

    if (*object == NULL) abort();
    if (vsg_kube_watch_type_name(type) == NULL) abort();
    s->n++;
    s->types = s->types * 7 + (unsigned long)type + 1;
    if (type == VSG_KUBE_WATCH_ERROR) s->status_sum += vsg_kube_watch_status(*object);
    /* Take every other object, as an informer that keeps it would. */
    if (s->n % 2 == 0) {
        cJSON_Delete(*object);
        *object = NULL;
    }
    return 0;
}

static enum vsg_err run(const char *body, size_t len, size_t chunk, struct seen *s,
                        size_t *pending)
{
    struct vsg_kube_watch_parser p;
    enum vsg_err rc = VSG_OK;

    vsg_kube_watch_parser_init(&p, 1u << 16, on_event, s);
    for (size_t off = 0; off < len && rc == VSG_OK; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        rc = vsg_kube_watch_parser_feed(&p, body + off, n);
    }
    *pending = vsg_kube_watch_parser_pending(&p);
    vsg_kube_watch_parser_cleanup(&p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen a = {0}, b = {0};
    size_t pa, pb;
    enum vsg_err ra, rb;

    if (size < 1 || size > (1u << 18)) return 0;
    ra = run((const char *)data + 1, size - 1, size, &a, &pa);
    rb = run((const char *)data + 1, size - 1, (size_t)data[0] + 1, &b, &pb);
    if (ra != rb || a.n != b.n || a.types != b.types || a.status_sum != b.status_sum) abort();
    if (ra == VSG_OK && pa != pb) abort();
    return 0;
}

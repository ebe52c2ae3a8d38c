/*
 * fuzz_event_decode.c - libFuzzer target for the event decoder and the
 * payload encoders (clang -fsanitize=fuzzer).
 *
 * Each input is parsed as XML with the options core/soap uses; every
 * event element (the <returnval>s of a ReadNextEventsResponse, else the
 * root element) is decoded with small limits and encoded as JSON and XML.
 * Decoding may fail (limits, allocation), never crash or leak; a decoded
 * event must always encode. Seeds: spec/fixtures/events.
 *
 *   cmake --build build --target fuzz_event_decode
 *   build/spec/fuzz/fuzz_event_decode -max_total_time=60 \
 *       -dict=spec/fuzz/event.dict spec/fixtures/events
 */
#include <stdint.h>
#include <stdlib.h>

#include <libxml/parser.h>

#include "event_fixture.h"
#include "vsphere/event.h"

static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vsg_event_limits lim = {32, 1 << 16, 20000};
    xmlNode *nodes[16];
    xmlDoc *doc;
    size_t n;

    if (size > (1u << 20)) return 0;
    xmlSetGenericErrorFunc(NULL, quiet);
    doc = evfx_parse((const char *)data, size);
    if (doc == NULL) return 0;
    n = evfx_events(doc, nodes, 16);
    for (size_t i = 0; i < n && i < 16; i++) {
        struct vsg_event ev;
        struct vsg_error err;
        struct vsg_buf b;
        if (vsg_event_decode(nodes[i], &lim, &ev, &err) != VSG_OK) continue;
        vsg_buf_init(&b, 1u << 26);
        if (vsg_event_encode_json(&ev, &b) != VSG_OK ||
            vsg_event_encode_xml(&ev, &b) != VSG_OK)
            abort();
        vsg_buf_cleanup(&b);
        vsg_event_cleanup(&ev);
    }
    xmlFreeDoc(doc);
    return 0;
}

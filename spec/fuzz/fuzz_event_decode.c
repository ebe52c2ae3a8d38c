/*
 * fuzz_event_decode.c - libFuzzer target for the event decoder and the
 * payload encoders (clang -fsanitize=fuzzer).
 *
 * Each input is parsed as XML with the options core/soap uses; every
 * event element (the <returnval>s of a ReadNextEventsResponse, else the
 * root element) is decoded with small limits and encoded as JSON and XML.
 * Decoding may fail (limits, allocation), never crash or leak; a decoded
 * event must always encode. When the lite parse (soap/xml.h) accepts the
 * input too, every event decoded from its tree (texts borrowed from it, as
 * the adapter does) must give the same result and the same bytes as from
 * libxml2's document. Seeds:
 * spec/fixtures/events.
 *
 *   cmake --build build --target fuzz_event_decode
 *   build/spec/fuzz/fuzz_event_decode -max_total_time=60 \
 *       -dict=spec/fuzz/event.dict spec/fixtures/events
 */
#include <stdint.h>
#include <stdlib.h>

#include <libxml/parser.h>

#include "event_fixture.h"
#include "soap/xml.h"
#include "vsphere/event.h"

static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct vsg_event_limits lim = {32, 1 << 16, 20000, 0};
    static const struct vsg_event_limits blim = {32, 1 << 16, 20000, 1};
    xmlNode *nodes[16], *lnodes[16];
    xmlDoc *doc;
    struct vsg_soap_lite *lt = NULL;
    size_t n, ln = 0;

    if (size > (1u << 20)) return 0;
    xmlSetGenericErrorFunc(NULL, quiet);
    doc = evfx_parse((const char *)data, size);
    if (vsg_soap_parse_lite((const char *)data, size, &lt) == VSG_OK) {
        /* What the lite parse accepts is a well-formed document. */
        if (doc == NULL) abort();
        ln = evfx_events_at(vsg_soap_lite_root(lt), lnodes, 16);
    }
    if (doc == NULL) return 0;
    n = evfx_events(doc, nodes, 16);
    if (lt != NULL && ln != n) abort();
    for (size_t i = 0; i < n && i < 16; i++) {
        struct vsg_event ev, lev;
        struct vsg_error err;
        struct vsg_buf b, lb;
        enum vsg_err rc = vsg_event_decode(nodes[i], &lim, &ev, &err);
        if (lt != NULL) {
            /* The same outcome from the lite tree, byte for byte. */
            enum vsg_err lrc = vsg_event_decode(lnodes[i], &blim, &lev, &err);
            if (lrc != rc && lrc != VSG_ERR_NOMEM && rc != VSG_ERR_NOMEM) abort();
            if (lrc == VSG_OK && rc == VSG_OK) {
                vsg_buf_init(&b, 1u << 26);
                vsg_buf_init(&lb, 1u << 26);
                if (vsg_event_encode_json(&ev, &b) != VSG_OK ||
                    vsg_event_encode_xml(&ev, &b) != VSG_OK ||
                    vsg_event_encode_json(&lev, &lb) != VSG_OK ||
                    vsg_event_encode_xml(&lev, &lb) != VSG_OK || b.len != lb.len ||
                    memcmp(b.data, lb.data, b.len) != 0)
                    abort();
                vsg_buf_cleanup(&b);
                vsg_buf_cleanup(&lb);
            }
            if (lrc == VSG_OK) vsg_event_cleanup(&lev);
        }
        if (rc != VSG_OK) continue;
        vsg_buf_init(&b, 1u << 26);
        if (vsg_event_encode_json(&ev, &b) != VSG_OK ||
            vsg_event_encode_xml(&ev, &b) != VSG_OK)
            abort();
        vsg_buf_cleanup(&b);
        vsg_event_cleanup(&ev);
    }
    xmlFreeDoc(doc);
    vsg_soap_lite_free(lt);
    return 0;
}

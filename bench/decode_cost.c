/*
 * decode_cost.c - CPU cost of turning one event of a ReadNextEvents page
 * into its payload, without any I/O (not installed): libxml2 parse of the
 * page (vsg_soap_parse, as the adapter does) plus vsg_event_decode() and
 * vsg_event_encode_json()/_xml() per event.
 *
 *   decode-cost --fixture FILE.soap.xml [--events N] [--rounds R]
 *               [--encoding json|xml]
 *
 * The page is the fixture's first <returnval> repeated N times (default
 * 100) in a ReadNextEventsResponse. Prints one line with the CPU
 * (CLOCK_PROCESS_CPUTIME_ID) per event of the parse and of decode+encode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>

#include "base/buf.h"
#include "base/err.h"
#include "soap/xml.h"
#include "vsphere/event.h"

static double cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0, n;
    char *b = malloc(cap);
    while (b && (n = fread(b + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    if (b) b[len] = '\0';
    return b;
}

static xmlNode *find(xmlNode *n, const char *name)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) continue;
        if (strcmp((const char *)n->name, name) == 0) return n;
        xmlNode *r = find(n->children, name);
        if (r) return r;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *fixture = NULL;
    long events = 100, rounds = 50;
    int json = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fixture") && i + 1 < argc) fixture = argv[++i];
        else if (!strcmp(argv[i], "--events") && i + 1 < argc) events = atol(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atol(argv[++i]);
        else if (!strcmp(argv[i], "--encoding") && i + 1 < argc) json = strstr(argv[++i], "json") != NULL;
        else {
            fprintf(stderr, "usage: decode-cost --fixture FILE [--events N] [--rounds R] [--encoding json|xml]\n");
            return 2;
        }
    }
    char *fx = fixture ? slurp(fixture) : NULL;
    char *a = fx ? strstr(fx, "<returnval") : NULL;
    char *z = a ? strstr(a, "</returnval>") : NULL;
    if (!z || events <= 0 || rounds <= 0) {
        fprintf(stderr, "decode-cost: no <returnval> in %s\n", fixture ? fixture : "(none)");
        return 1;
    }
    z += strlen("</returnval>");
    struct vsg_buf page;
    vsg_buf_init(&page, (size_t)1 << 30);
    vsg_buf_puts(&page, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soapenv:Envelope "
                        "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                        "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
                        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>"
                        "<ReadNextEventsResponse xmlns=\"urn:vim25\">");
    for (long i = 0; i < events; i++) vsg_buf_append(&page, a, (size_t)(z - a));
    vsg_buf_puts(&page, "</ReadNextEventsResponse></soapenv:Body></soapenv:Envelope>");

    struct vsg_buf out;
    vsg_buf_init(&out, 8u << 20);
    double parse = 0, codec = 0;
    long n = 0, failed = 0;
    size_t payload = 0;
    for (long r = 0; r < rounds; r++) {
        struct vsg_error err = {0};
        xmlDocPtr doc = NULL;
        double t0 = cpu_us();
        if (vsg_soap_parse(page.data, page.len, &doc, &err) != VSG_OK) {
            fprintf(stderr, "decode-cost: parse: %s\n", err.msg);
            return 1;
        }
        double t1 = cpu_us();
        xmlNode *resp = find(xmlDocGetRootElement(doc), "ReadNextEventsResponse");
        for (xmlNode *e = resp ? resp->children : NULL; e; e = e->next) {
            if (e->type != XML_ELEMENT_NODE) continue;
            struct vsg_event ev;
            vsg_buf_reset(&out);
            if (vsg_event_decode(e, NULL, &ev, &err) != VSG_OK ||
                (json ? vsg_event_encode_json(&ev, &out) : vsg_event_encode_xml(&ev, &out)) != VSG_OK)
                failed++;
            payload = out.len;
            vsg_event_cleanup(&ev);
            n++;
        }
        double t2 = cpu_us();
        xmlFreeDoc(doc);
        parse += (t1 - t0) + (cpu_us() - t2); /* The free belongs to the parse. */
        codec += t2 - t1;
    }
    printf("decode encoding=%s page=%ld events=%ld failed=%ld payload_bytes=%zu parse_us_per_event=%.2f "
           "decode_encode_us_per_event=%.2f total_us_per_event=%.2f\n",
           json ? "json" : "xml", events, n, failed, payload, parse / (double)n, codec / (double)n,
           (parse + codec) / (double)n);
    vsg_buf_cleanup(&out);
    vsg_buf_cleanup(&page);
    free(fx);
    return failed ? 1 : 0;
}

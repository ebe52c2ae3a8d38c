/*
 * vsg_post_events.c - test and benchmark tool: posts events to a vCenter
 * (vcsim) over SOAP PostEvent, at a given pace, from one logged-in session.
 *
 *   vsg-post-events --url URL [--ca-file F | --insecure] --user U
 *                   --password P --count N [--rate N/s] [--burst N
 *                   --pause-ms MS] [--message TEXT] [--event-xml FILE]
 *                   [--from-response FILE... [--skip-class C]]
 *
 * By default each event is a GeneralUserEvent with message "TEXT <i>".
 * --event-xml posts the given <eventToPost xsi:type="..."> element
 * instead (for exotic classes). --from-response re-posts every event of
 * a saved ReadNextEvents response (e.g. spec/fixtures/events/NAME.soap.xml),
 * once each, in order, except the classes named by --skip-class (vcsim
 * breaks on an EventEx whose entity does not exist). Prints one summary
 * line. Uses the project's
 * own SOAP session (core/soap), so it speaks exactly what vsgate speaks.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "cmd/util.h"
#include "soap/session.h"
#include "soap/xml.h"

#include <libxml/tree.h>

#define MAX_FILES 256

/* The first element child of `n` (NULL-safe). */
static xmlNodePtr first_elem(xmlNodePtr n)
{
    for (n = n ? n->children : NULL; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE) return n;
    return NULL;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, 0, 'u'}, {"ca-file", required_argument, 0, 'c'},
        {"insecure", no_argument, 0, 'k'}, {"user", required_argument, 0, 'U'},
        {"password", required_argument, 0, 'P'}, {"count", required_argument, 0, 'n'},
        {"rate", required_argument, 0, 'r'}, {"burst", required_argument, 0, 'b'},
        {"pause-ms", required_argument, 0, 'p'}, {"message", required_argument, 0, 'm'},
        {"event-xml", required_argument, 0, 'x'}, {"from-response", no_argument, 0, 'R'},
        {"skip-class", required_argument, 0, 's'}, {0, 0, 0, 0},
    };
    struct vsg_soap_opts so = {0};
    long count = 1, burst = 0, pause_ms = 0;
    double rate = 0;
    const char *message = "vsgate test event", *xml_file = NULL;
    char *xml = NULL;
    int c, rc = 1, from_response = 0, nskip = 0;
    const char *skip[16];
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u': so.url = optarg; break;
        case 'c': so.ca_file = optarg; break;
        case 'k': so.insecure = 1; break;
        case 'U': so.username = optarg; break;
        case 'P': so.password = optarg; break;
        case 'n': count = atol(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'b': burst = atol(optarg); break;
        case 'p': pause_ms = atol(optarg); break;
        case 'm': message = optarg; break;
        case 'x': xml_file = optarg; break;
        case 'R': from_response = 1; break;
        case 's': if (nskip < 16) skip[nskip++] = optarg; break;
        default:
            fprintf(stderr, "usage: see the comment at the top of spec/tools/vsg_post_events.c\n");
            return 2;
        }
    }
    if (!so.url || !so.username || !so.password || count < 0) {
        fprintf(stderr, "vsg-post-events: --url, --user, --password are required\n");
        return 2;
    }
    vsg_log_setup(VSG_LOG_LEVEL_WARN, stderr);
    struct vsg_error err = {0};
    if (xml_file && !(xml = vsg_read_file(xml_file, 1u << 20, NULL, &err))) {
        fprintf(stderr, "vsg-post-events: %s\n", err.msg);
        return 1;
    }
    struct vsg_soap_session *s = vsg_soap_session_new(&so, &err);
    if (!s || vsg_soap_connect(s, &err) != VSG_OK) {
        fprintf(stderr, "vsg-post-events: connect: %s\n", err.msg);
        goto out;
    }
    const struct vsg_soap_service_content *sc = vsg_soap_service_content(s);
    struct vsg_buf body;
    vsg_buf_init(&body, 2u << 20);
    if (from_response) {
        long n = 0;
        for (int i = optind; i < argc; i++) {
            char *text = NULL;
            size_t len = 0;
            xmlDocPtr doc = NULL;
            if (!(text = vsg_read_file(argv[i], 16u << 20, &len, &err)) ||
                vsg_soap_parse(text, len, &doc, &err) != VSG_OK) {
                fprintf(stderr, "vsg-post-events: %s: %s\n", argv[i], err.msg);
                vsg_free(text);
                vsg_buf_cleanup(&body);
                goto out;
            }
            vsg_free(text);
            xmlNodePtr resp = first_elem(first_elem(xmlDocGetRootElement(doc)));
            for (xmlNodePtr ev = resp ? resp->children : NULL; ev; ev = ev->next) {
                if (ev->type != XML_ELEMENT_NODE) continue;
                const char *cls = vsg_soap_xsi_type(ev);
                int skipped = 0;
                for (int k = 0; k < nskip; k++) skipped |= cls && strcmp(cls, skip[k]) == 0;
                if (skipped) continue;
                xmlNodeSetName(ev, (const xmlChar *)"eventToPost");
                xmlBufferPtr xb = xmlBufferCreate();
                xmlNodeDump(xb, doc, ev, 0, 0);
                vsg_buf_reset(&body);
                vsg_soap_put_moref(&body, "_this", &sc->event_manager);
                vsg_buf_append(&body, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
                xmlBufferFree(xb);
                struct vsg_soap_result res;
                vsg_soap_result_init(&res);
                enum vsg_err r = vsg_soap_call(s, "PostEvent", body.data, &res, &err);
                vsg_soap_result_cleanup(&res);
                if (r != VSG_OK) {
                    fprintf(stderr, "vsg-post-events: %s (%s): %s\n", argv[i], cls ? cls : "?", err.msg);
                    xmlFreeDoc(doc);
                    vsg_buf_cleanup(&body);
                    goto out;
                }
                n++;
            }
            xmlFreeDoc(doc);
        }
        printf("posted %ld events from %d response file(s)\n", n, argc - optind);
        vsg_buf_cleanup(&body);
        vsg_soap_logout(s, &err);
        rc = 0;
        goto out;
    }
    int64_t t0 = vsg_time_mono_ms();
    long posted = 0;
    for (long i = 0; i < count; i++) {
        vsg_buf_reset(&body);
        vsg_soap_put_moref(&body, "_this", &sc->event_manager);
        if (xml) {
            vsg_buf_puts(&body, xml);
        } else {
            char msg[512];
            snprintf(msg, sizeof msg, "%s %ld", message, i);
            vsg_buf_puts(&body, "<eventToPost xsi:type=\"GeneralUserEvent\"><key>0</key><chainId>0</chainId>"
                                "<createdTime>2000-01-01T00:00:00Z</createdTime><userName></userName>");
            vsg_soap_put_text(&body, "message", msg);
            vsg_buf_puts(&body, "</eventToPost>");
        }
        struct vsg_soap_result res;
        vsg_soap_result_init(&res);
        enum vsg_err r = vsg_soap_call(s, "PostEvent", body.data, &res, &err);
        vsg_soap_result_cleanup(&res);
        if (r != VSG_OK) {
            fprintf(stderr, "vsg-post-events: PostEvent %ld: %s\n", i, err.msg);
            vsg_buf_cleanup(&body);
            goto out;
        }
        posted++;
        if (rate > 0) {
            int64_t due = t0 + (int64_t)((double)(i + 1) * 1000.0 / rate);
            sleep_ms(due - vsg_time_mono_ms());
        }
        if (burst > 0 && (i + 1) % burst == 0) sleep_ms(pause_ms);
    }
    vsg_buf_cleanup(&body);
    printf("posted %ld events in %.3f s\n", posted, (double)(vsg_time_mono_ms() - t0) / 1000.0);
    vsg_soap_logout(s, &err);
    rc = 0;
out:
    vsg_soap_session_free(s);
    vsg_free(xml);
    return rc;
}

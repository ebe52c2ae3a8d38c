/*
 * event_fixture.h - helpers shared by the event codec tests and the fuzz
 * target: read a file, parse SOAP XML the way core/soap does, and find the
 * event elements of a ReadNextEvents response.
 *
 * Provides: static helpers only (header-only, for test programs).
 * Uses: libxml2, base/mem.h. Owns: returned buffers and documents belong
 * to the caller (vsg_free / xmlFreeDoc).
 */
#ifndef VSG_EVENT_FIXTURE_H
#define VSG_EVENT_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/mem.h"

/* The whole file at `path` plus a NUL, or NULL. */
static char *evfx_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0 || (buf = vsg_malloc((size_t)n + 1)) == NULL ||
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        vsg_free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = (size_t)n;
    return buf;
}

/* Parses with the options core/soap/xml.c uses. */
static xmlDoc *evfx_parse(const char *data, size_t len)
{
    return xmlReadMemory(len ? data : "", (int)len, "event.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR |
                             XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
}

static int evfx_is(const xmlNode *n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE &&
           strcmp((const char *)n->name, name) == 0;
}

/* The ReadNextEventsResponse element below `n`, or NULL. */
static xmlNode *evfx_find_response(xmlNode *n)
{
    for (; n != NULL; n = n->next) {
        xmlNode *r;
        if (evfx_is(n, "ReadNextEventsResponse")) return n;
        if (n->type == XML_ELEMENT_NODE &&
            (r = evfx_find_response(n->children)) != NULL)
            return r;
    }
    return NULL;
}

/*
 * Stores up to `max` event elements of `doc` in out[] and returns how many
 * there are: the <returnval> children of a ReadNextEventsResponse, or the
 * root element itself when there is no response element.
 */
/* The events below document element `root` (see evfx_events()). */
static size_t evfx_events_at(xmlNode *root, xmlNode **out, size_t max)
{
    xmlNode *resp;
    size_t n = 0;

    if (root == NULL) return 0;
    resp = evfx_find_response(root);
    if (resp == NULL) {
        if (max > 0) out[0] = root;
        return 1;
    }
    for (xmlNode *c = resp->children; c != NULL; c = c->next)
        if (evfx_is(c, "returnval")) {
            if (n < max) out[n] = c;
            n++;
        }
    return n;
}

static size_t evfx_events(xmlDoc *doc, xmlNode **out, size_t max)
{
    return evfx_events_at(xmlDocGetRootElement(doc), out, max);
}

#endif

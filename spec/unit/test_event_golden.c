/*
 * test_event_golden.c - every fixture in spec/fixtures/events decoded and
 * encoded by vsgate must equal, byte for byte, the golden payloads the Go
 * oracle (tools/oracle) produced: <name>.json, <name>.xml (one line per
 * event) and <name>.meta ("<eventclass>\t<CloudEvent type X>").
 *
 * Each fixture runs twice: decoded from libxml2's document and from the
 * lite tree (soap/xml.h, vsg_soap_parse_lite()) the adapter reads pages
 * into; both must give the golden bytes, and the lite parse must not give
 * up on any fixture (they are all plain SOAP).
 *
 * On a mismatch the actual output is written to
 * $TMPDIR/vsg-event-golden/<name>.{json,xml,meta} for diffing.
 * Uses: vsphere/event.h, libxml2. Fixture dir: VSG_EVENT_FIXTURES_DIR.
 */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "check.h"
#include "event_fixture.h"
#include "soap/xml.h"
#include "vsphere/event.h"

#define MAX_EVENTS 64

static int mismatches, fixtures, events_total;
static char classes[512][96];
static int nclasses;

static void note_class(const char *c)
{
    for (int i = 0; i < nclasses; i++)
        if (strcmp(classes[i], c) == 0) return;
    if (nclasses < 512) snprintf(classes[nclasses++], sizeof classes[0], "%s", c);
}

static void save_actual(const char *name, const char *ext, const char *data,
                        size_t len)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512], path[1024];
    FILE *f;

    snprintf(dir, sizeof dir, "%s/vsg-event-golden", tmp ? tmp : "/tmp");
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    if ((f = fopen(path, "wb")) != NULL) {
        fwrite(data, 1, len, f);
        fclose(f);
    }
    fprintf(stderr, "  actual output: %s\n", path);
}

/* Compares `got` with the golden file; reports the first difference. */
static void compare(const char *dir, const char *name, const char *ext,
                    const struct vsg_buf *got)
{
    char path[1024];
    size_t len = 0, i = 0;
    char *want;
    const char *g = got->data ? got->data : "";

    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    want = evfx_read_file(path, &len);
    if (want == NULL) {
        fprintf(stderr, "FAIL %s.%s: golden file missing (run "
                        "spec/fixtures/events/regen.sh --write)\n", name, ext);
        mismatches++;
        save_actual(name, ext, g, got->len);
        return;
    }
    if (len == got->len && memcmp(want, g, len) == 0) {
        vsg_free(want);
        return;
    }
    while (i < len && i < got->len && want[i] == g[i]) i++;
    fprintf(stderr, "FAIL %s.%s: differs at byte %zu\n  want: %.120s\n"
                    "  got:  %.120s\n", name, ext, i,
            want + (i > 40 ? i - 40 : 0), g + (i > 40 ? i - 40 : 0));
    mismatches++;
    save_actual(name, ext, g, got->len);
    vsg_free(want);
}

static void run_fixture(const char *dir, const char *file, int lite)
{
    char path[1024], name[512];
    xmlNode *nodes[MAX_EVENTS];
    struct vsg_buf json, xml, meta;
    size_t len, n;
    char *data;
    xmlDoc *doc = NULL;
    struct vsg_soap_lite *lt = NULL;

    snprintf(name, sizeof name, "%.*s", (int)(strlen(file) - strlen(".soap.xml")),
             file);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    data = evfx_read_file(path, &len);
    CHECK(data != NULL);
    if (lite) {
        enum vsg_err rc = vsg_soap_parse_lite(data, len, &lt);
        vsg_free(data);
        if (rc != VSG_OK) {
            fprintf(stderr, "FAIL %s: the lite parse gave up: %s\n", name, vsg_strerror(rc));
            mismatches++;
            return;
        }
        n = evfx_events_at(vsg_soap_lite_root(lt), nodes, MAX_EVENTS);
    } else {
        doc = evfx_parse(data, len);
        vsg_free(data);
        CHECK(doc != NULL);
        n = evfx_events(doc, nodes, MAX_EVENTS);
    }
    CHECK(n > 0 && n <= MAX_EVENTS);
    vsg_buf_init(&json, 1 << 24);
    vsg_buf_init(&xml, 1 << 24);
    vsg_buf_init(&meta, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        struct vsg_event ev;
        struct vsg_error err;
        /* The lite pass also borrows texts from the tree, as the adapter. */
        static const struct vsg_event_limits borrow = {VSG_EVENT_MAX_DEPTH, VSG_EVENT_MAX_TEXT,
                                                       VSG_EVENT_MAX_NODES, 1};
        enum vsg_err rc = vsg_event_decode(nodes[i], lite ? &borrow : NULL, &ev, &err);
        if (rc != VSG_OK) {
            fprintf(stderr, "FAIL %s: event %zu: %s\n", name, i, err.msg);
            mismatches++;
            continue;
        }
        note_class(ev.class_name);
        events_total++;
        CHECK_INT(vsg_event_encode_json(&ev, &json), VSG_OK);
        CHECK_INT(vsg_buf_putc(&json, '\n'), VSG_OK);
        CHECK_INT(vsg_event_encode_xml(&ev, &xml), VSG_OK);
        CHECK_INT(vsg_buf_putc(&xml, '\n'), VSG_OK);
        CHECK_INT(vsg_buf_printf(&meta, "%s\t%s\n",
                                 vsg_event_class_str(ev.eventclass), ev.detail),
                  VSG_OK);
        if (ev.warnings)
            fprintf(stderr, "note %s: event %zu: %u warnings\n", name, i,
                    ev.warnings);
        vsg_event_cleanup(&ev);
    }
    compare(dir, name, "json", &json);
    compare(dir, name, "xml", &xml);
    compare(dir, name, "meta", &meta);
    vsg_buf_cleanup(&json);
    vsg_buf_cleanup(&xml);
    vsg_buf_cleanup(&meta);
    if (doc) xmlFreeDoc(doc);
    vsg_soap_lite_free(lt);
    fixtures++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_golden(void)
{
    const char *dir = VSG_EVENT_FIXTURES_DIR;
    DIR *d = opendir(dir);
    struct dirent *e;
    char *files[1024];
    size_t nf = 0;

    CHECK(d != NULL);
    while ((e = readdir(d)) != NULL && nf < 1024) {
        size_t l = strlen(e->d_name);
        if (l > 9 && strcmp(e->d_name + l - 9, ".soap.xml") == 0)
            files[nf++] = vsg_strdup(e->d_name);
    }
    closedir(d);
    qsort(files, nf, sizeof files[0], by_name);
    for (size_t i = 0; i < nf; i++) {
        run_fixture(dir, files[i], 0);
        run_fixture(dir, files[i], 1);
        vsg_free(files[i]);
    }
    printf("golden: %d fixture runs (document and lite tree), %d events, %d distinct classes, "
           "%d mismatches\n", fixtures, events_total, nclasses, mismatches);
    CHECK(fixtures >= 40);
    CHECK(nclasses >= 20);
    CHECK_INT(mismatches, 0);
}

TEST_LIST = {
    {"golden", test_golden},
    {NULL, NULL},
};
TEST_MAIN()

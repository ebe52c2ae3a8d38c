/*
 * filter_bench.c - CPU cost of the Lua filter stage per event (not
 * installed), and the memory of a loaded filter state.
 *
 *   filter-bench [--fixtures DIR] [--match SUBSTR] [--rounds R] [--encoding json|xml]
 *                [--case NAME]
 *
 * The events are every event of DIR/ *.soap.xml whose name contains SUBSTR
 * (default: all golden fixtures, ~50 events of ~45 classes; e.g. --match
 * vcsim-VmPoweredOnEvent for one typical event), decoded once per event per round
 * as the adapter does. Per event the adapter's work without a filter is
 * decode + CloudEvent with payload (vsg_filter_build_ce(), what the
 * engine's build_ce does); each filter case adds vsg_filter_run(). The
 * table prints, per event: the CPU ns (CLOCK_PROCESS_CPUTIME_ID) of the
 * adapter's work with the filter; what the filter adds (the same work
 * without a filter is measured in alternating chunks, so machine noise
 * hits both alike); that part as a share of the whole; events sent per
 * round; and the bytes the filter's Lua state holds after the run. Cases:
 *   no filter      decode + CloudEvent only
 *   empty          function filter(e) return e end
 *   type include   require("filter.types").include{"Vm*"} (drops ~half)
 *   read data      reads e.data (builds the whole data table), returns e
 *   transform      rewrites two data fields and adds an extension
 *   fan-out of 3   the event and two copies with other types
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/log.h"
#include "filter/filter_stage.h"
#include "filter/filter_watch.h"
#include "vsphere/event.h"

#define MAX_NODES 4096

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static xmlDoc *docs[512];
static size_t ndocs;
static xmlNode *nodes[MAX_NODES];
static size_t nnodes;

static int is_elem(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Collects the <returnval> elements below `n`. */
static void collect(xmlNode *n)
{
    for (; n; n = n->next) {
        if (is_elem(n, "returnval") && nnodes < MAX_NODES) nodes[nnodes++] = n;
        else if (n->type == XML_ELEMENT_NODE) collect(n->children);
    }
}

static void load_fixtures(const char *dir, const char *match)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];

    if (!d) {
        fprintf(stderr, "filter-bench: cannot open %s\n", dir);
        exit(2);
    }
    while ((e = readdir(d)) && ndocs < 512) {
        size_t l = strlen(e->d_name);
        if (l < 10 || strcmp(e->d_name + l - 9, ".soap.xml") != 0) continue;
        if (match && !strstr(e->d_name, match)) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc) continue;
        docs[ndocs++] = doc;
        collect(xmlDocGetRootElement(doc));
    }
    closedir(d);
}

struct bcase {
    const char *name; /* Row label. */
    const char *src;  /* The script, or NULL for no filter. */
};

/* Runs every event once per round, `rounds` times, through `v` (NULL: no
 * filter); adds the CPU ns it took to *cpu and the events it handled to
 * *events; *sent = events to send per round. */
static void run_rounds(struct vsg_filter_version *v, int rounds, int json, double *cpu,
                       unsigned long *events, unsigned long *sent)
{
    struct vsg_filter_result res;
    double t0;
    unsigned long n = 0, s = 0;

    vsg_filter_result_init(&res);
    t0 = cpu_ns();
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < nnodes; i++) {
            struct vsg_event ev;
            struct vsg_ce ce;
            struct vsg_error err;
            if (vsg_event_decode(nodes[i], NULL, &ev, &err) != VSG_OK) continue;
            vsg_ce_init(&ce);
            if (vsg_filter_build_ce(&ev, "https://vcenter.example.com/sdk", "8.0.3.0", json, &ce, &err) ==
                VSG_OK) {
                if (v) {
                    vsg_filter_version_run(v, &ev, &ce, &res);
                    if (res.outcome == VSG_FILTER_ERROR) {
                        fprintf(stderr, "filter-bench: %s\n", res.error.msg);
                        exit(1);
                    }
                    s += vsg_filter_result_count(&res);
                } else {
                    s++;
                }
            }
            vsg_ce_cleanup(&ce);
            vsg_event_cleanup(&ev);
            n++;
        }
    }
    *cpu += cpu_ns() - t0;
    *events += n;
    *sent = s / (unsigned long)(rounds ? rounds : 1);
    vsg_filter_result_cleanup(&res);
}

/* CPU ns per event without a filter (*base) and with `v` (*with), measured
 * in alternating chunks so that machine noise hits both alike. */
static void measure(struct vsg_filter_version *v, int rounds, int json, double *base, double *with,
                    unsigned long *sent)
{
    double cb = 0, cw = 0;
    unsigned long nb = 0, nw = 0, s0;
    int chunk = rounds < 20 ? 1 : rounds / 20;

    run_rounds(v, chunk, json, &cw, &nw, sent); /* warm up */
    cw = 0;
    nw = 0;
    for (int done = 0; done < rounds; done += chunk) {
        run_rounds(NULL, chunk, json, &cb, &nb, &s0);
        run_rounds(v, chunk, json, &cw, &nw, sent);
    }
    *base = cb / (double)(nb ? nb : 1);
    *with = cw / (double)(nw ? nw : 1);
}

int main(int argc, char **argv)
{
    static const struct bcase cases[] = {
        {"no filter", NULL},
        {"empty", "function filter(e) return e end"},
        {"type include", "local types = require('filter.types')\n"
                         "filter = types.include{'Vm*'}\n"},
        {"read data", "function filter(e) local _ = e.data return e end"},
        {"transform", "function filter(e)\n"
                      "  e.extensions.team = 'infra'\n"
                      "  e.data.UserName = 'redacted'\n"
                      "  if e.data.Vm ~= vsg.null and e.data.Vm then e.data.Vm.Name = 'vm' end\n"
                      "  return e\n"
                      "end\n"},
        {"fan-out of 3", "local util = require('filter.util')\n"
                         "function filter(e)\n"
                         "  local b, c = util.copy(e), util.copy(e)\n"
                         "  b.type, c.type = e.type .. '.b', e.type .. '.c'\n"
                         "  return {e, b, c}\n"
                         "end\n"},
    };
    const char *dir = VSG_EVENT_FIXTURES_DIR;
    int rounds = 200, json = 1;
    const char *only = NULL, *match = NULL;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fixtures") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--encoding") && i + 1 < argc) json = strcmp(argv[++i], "xml") != 0;
        else if (!strcmp(argv[i], "--case") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--match") && i + 1 < argc) match = argv[++i];
        else {
            fprintf(stderr, "usage: filter-bench [--fixtures DIR] [--match SUBSTR] [--rounds R] "
                            "[--encoding json|xml] [--case NAME]\n");
            return 2;
        }
    }
    vsg_log_setup(VSG_LOG_LEVEL_WARN, NULL);
    load_fixtures(dir, match);
    if (nnodes == 0) {
        fprintf(stderr, "filter-bench: no events in %s\n", dir);
        return 2;
    }
    printf("filter-bench: %zu events (%s/%s%s%s.soap.xml) x %d rounds, payload %s\n", nnodes, dir,
           match ? "*" : "", match ? match : "*", match ? "*" : "", rounds, json ? "JSON" : "XML");
    printf("%-14s %12s %12s %8s %6s %10s\n", "case", "ns/event", "filter ns", "share", "sent",
           "Lua bytes");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct vsg_filter_version *v = NULL;
        struct vsg_filter_config fc;
        unsigned long sent;
        double total, in; /* CPU ns per event without and with the filter */
        if (only && cases[c].src && strcmp(only, cases[c].name) != 0) continue;
        if (cases[c].src) {
            struct vsg_lua_source m = {"filter.lua", cases[c].src, strlen(cases[c].src)};
            struct vsg_error err;
            memset(&fc, 0, sizeof fc);
            fc.root = vsg_filter_default_root();
            if (!(v = vsg_filter_compile(&fc, &m, NULL, 0, cases[c].name, &err))) {
                fprintf(stderr, "filter-bench: %s: %s\n", cases[c].name, err.msg);
                return 1;
            }
        }
        if (v) {
            measure(v, rounds, json, &total, &in, &sent);
            printf("%-14s %12.0f %12.0f %7.1f%% %6lu %10zu\n", cases[c].name, in, in - total,
                   100.0 * (in - total) / in, sent, vsg_filter_version_memory(v));
        } else {
            double cpu = 0;
            unsigned long n = 0;
            run_rounds(NULL, rounds, json, &cpu, &n, &sent);
            printf("%-14s %12.0f %12s %8s %6lu %10s\n", cases[c].name, cpu / (double)(n ? n : 1), "-",
                   "-", sent, "-");
        }
        vsg_filter_version_free(v);
    }
    for (size_t i = 0; i < ndocs; i++) xmlFreeDoc(docs[i]);
    return 0;
}

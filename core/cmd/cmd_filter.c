/*
 * cmd/cmd_filter.c - `vsgate filter test`: runs a filter script over
 * recorded events (`vsgate run --record FILE`) or over the recent events
 * of a vCenter, and prints per event what the adapter would send: kept,
 * dropped, changed (with a diff of the attributes and the data), fan-out,
 * or error; then a summary and the time per event.
 *
 * Exit status: 0 when every event went through without a filter error,
 * 1 when at least one failed, 2 for usage errors and a script that does
 * not load (or fails its dry run).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/vtime.h"
#include "cmd/cmd.h"
#include "filter/filter_stage.h"
#include "filter/filter_watch.h"
#include "filter/record.h"
#include "cmd/util.h"
#include "soap/session.h"
#include "vsphere/collector.h"

#define LG "vsgate.filter"
/* Most diff lines shown per event. */
#define MAX_DIFF_LINES 40
/* Longest value shown in a diff line. */
#define MAX_SHOWN 120

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: vsgate filter test --script FILE [--record FILE | --address URL ...] [options]\n"
        "\n"
        "Runs a filter script over recorded or live events and shows, per event, what\n"
        "the adapter would send: kept, dropped, changed (with a diff of attributes and\n"
        "data), fan-out, or error; then a summary and the time per event.\n"
        "\n"
        "  --script FILE           the filter (defines filter(event)); it may require\n"
        "                          modules from its folder, lua/ and plugins/\n"
        "  --record FILE           events written by `vsgate run --record` (- for stdin)\n"
        "  --on-error P            deliver (default) or drop: what an error would do\n"
        "  --limits L              the source's spec.filter.limits, written\n"
        "                          instructions=N,memory=BYTES[Ki|Mi|Gi],timeoutMs=MS (default:\n"
        "                          instructions=1000000,memory=16Mi,timeoutMs=1000)\n"
        "  --quiet                 print the summary only\n"
        "\n"
        "Live events (the flags of `vsgate run`):\n"
        "  --address URL           vCenter/ESXi SDK URL\n"
        "  --insecure              do not verify vCenter's TLS certificate\n"
        "  --ca-file FILE          trust only the CA certificates in FILE (PEM)\n"
        "  --secret-path DIR       read DIR/username and DIR/password\n"
        "  --username NAME         user name (with --password-file)\n"
        "  --password-file FILE    file holding the password\n"
        "  --encoding ENC          payload of live events: application/json (default) or\n"
        "                          application/xml (json, xml)\n"
        "  --since DURATION        how far back to read (Go duration or seconds; default 1h)\n"
        "  --count N               at most N events (default 100)\n");
}

/* ====================================================================
 * Diffs
 * ==================================================================== */

/* Prints one diff line (until the per-event limit). */
static void diff_line(int *lines, const char *fmt, ...) VSG_PRINTF(2, 3);

static void diff_line(int *lines, const char *fmt, ...)
{
    va_list ap;

    if (++*lines > MAX_DIFF_LINES) {
        if (*lines == MAX_DIFF_LINES + 1) printf("      ...\n");
        return;
    }
    printf("      ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* A JSON value shortened for a diff line (static buffer `buf`). */
static const char *shown(const cJSON *v, char *buf, size_t size)
{
    char *s = cJSON_PrintUnformatted(v);
    size_t n;

    if (s == NULL) return "?";
    n = strlen(s);
    if (n > MAX_SHOWN) (void)snprintf(buf, size, "%.*s...", MAX_SHOWN, s);
    else (void)snprintf(buf, size, "%s", s);
    cJSON_free(s);
    return buf;
}

static void diff_json(const char *path, const cJSON *a, const cJSON *b, int *lines)
{
    char p[512], x[MAX_SHOWN + 8], y[MAX_SHOWN + 8];
    const cJSON *it;

    if (cJSON_Compare(a, b, 1)) return;
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        cJSON_ArrayForEach(it, a) {
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(b, it->string);
            (void)snprintf(p, sizeof p, "%s.%s", path, it->string);
            if (o) diff_json(p, it, o, lines);
            else diff_line(lines, "- %s: %s", p, shown(it, x, sizeof x));
        }
        cJSON_ArrayForEach(it, b) {
            if (cJSON_GetObjectItemCaseSensitive(a, it->string)) continue;
            (void)snprintf(p, sizeof p, "%s.%s", path, it->string);
            diff_line(lines, "+ %s: %s", p, shown(it, x, sizeof x));
        }
        return;
    }
    if (cJSON_IsArray(a) && cJSON_IsArray(b)) {
        int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
        for (int i = 0; i < na || i < nb; i++) {
            (void)snprintf(p, sizeof p, "%s[%d]", path, i + 1);
            if (i < na && i < nb) diff_json(p, cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i), lines);
            else if (i < na) diff_line(lines, "- %s: %s", p, shown(cJSON_GetArrayItem(a, i), x, sizeof x));
            else diff_line(lines, "+ %s: %s", p, shown(cJSON_GetArrayItem(b, i), x, sizeof x));
        }
        return;
    }
    diff_line(lines, "~ %s: %s -> %s", path, shown(a, x, sizeof x), shown(b, y, sizeof y));
}

static int is_json(const char *ct)
{
    return ct != NULL && strncasecmp(ct, "application/json", 16) == 0;
}

/* Prints how `out` differs from the original `in`. */
static void diff_ce(const struct vsg_ce *in, const struct vsg_ce *out)
{
    static const char *const names[] = {"id", "source", "type", "time", "datacontenttype",
                                        "subject", "dataschema", NULL};
    int lines = 0;

    for (const char *const *n = names; *n; n++) {
        const char *a = vsg_ce_get(in, *n), *b = vsg_ce_get(out, *n);
        if (a == NULL && b == NULL) continue;
        if (a == NULL) diff_line(&lines, "+ %s: \"%s\"", *n, b);
        else if (b == NULL) diff_line(&lines, "- %s: \"%s\"", *n, a);
        else if (strcmp(a, b) != 0) diff_line(&lines, "~ %s: \"%s\" -> \"%s\"", *n, a, b);
    }
    for (size_t i = 0; i < in->n_ext; i++) {
        const char *b = vsg_ce_get(out, in->ext[i].name);
        if (b == NULL) diff_line(&lines, "- extensions.%s: \"%s\"", in->ext[i].name, in->ext[i].value);
        else if (strcmp(b, in->ext[i].value) != 0)
            diff_line(&lines, "~ extensions.%s: \"%s\" -> \"%s\"", in->ext[i].name, in->ext[i].value, b);
    }
    for (size_t i = 0; i < out->n_ext; i++)
        if (vsg_ce_get(in, out->ext[i].name) == NULL)
            diff_line(&lines, "+ extensions.%s: \"%s\"", out->ext[i].name, out->ext[i].value);
    if (in->data_len == out->data_len &&
        (in->data_len == 0 || memcmp(in->data, out->data, in->data_len) == 0))
        return;
    if (is_json(in->datacontenttype) && is_json(out->datacontenttype) && out->data) {
        cJSON *a = cJSON_ParseWithLength(in->data, in->data_len);
        cJSON *b = cJSON_ParseWithLength(out->data, out->data_len);
        if (a && b) diff_json("data", a, b, &lines);
        cJSON_Delete(a);
        cJSON_Delete(b);
        if (a && b) return;
    }
    if (out->data == NULL) diff_line(&lines, "- data (%zu bytes)", in->data_len);
    else diff_line(&lines, "~ data: %zu bytes -> %zu bytes: %.*s%s", in->data_len, out->data_len,
                   (int)(out->data_len > MAX_SHOWN ? MAX_SHOWN : out->data_len), out->data,
                   out->data_len > MAX_SHOWN ? "..." : "");
}

/* ====================================================================
 * Running events through
 * ==================================================================== */

struct tester {
    struct vsg_filter_version *v;  /* The script. */
    enum vsg_filter_on_error on_error; /* What an error would do. */
    int quiet;                     /* Summary only. */
    unsigned long n, kept, changed, dropped, fanout, fanned, errors;
    int64_t *ns;                   /* Time per event. */
    size_t ns_cap;                 /* Slots at ns. */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The vSphere part of a CloudEvent type (for the event line). */
static const char *detail_of(const char *type, char *buf, size_t size)
{
    size_t n = type ? strlen(type) : 0;
    if (n > 22 && strncmp(type, "com.vmware.vsphere.", 19) == 0 && strcmp(type + n - 3, ".v0") == 0)
        (void)snprintf(buf, size, "%.*s", (int)(n - 22), type + 19);
    else
        (void)snprintf(buf, size, "%s", type ? type : "?");
    return buf;
}

static void test_one(struct tester *t, const struct vsg_event *ev, const struct vsg_ce *ce)
{
    struct vsg_filter_result res;
    char det[256];
    int64_t t0, dt;

    vsg_filter_result_init(&res);
    t0 = now_ns();
    vsg_filter_version_run(t->v, ev, ce, &res);
    dt = now_ns() - t0;
    if (t->n == t->ns_cap) {
        size_t cap = t->ns_cap ? t->ns_cap * 2 : 256;
        int64_t *p = vsg_realloc(t->ns, cap * sizeof *p);
        if (p) {
            t->ns = p;
            t->ns_cap = cap;
        }
    }
    if (t->n < t->ns_cap) t->ns[t->n] = dt;
    t->n++;
    if (!t->quiet)
        printf("#%lu %s %s: ", t->n, ce->id ? ce->id : "?", detail_of(ce->type, det, sizeof det));
    switch (res.outcome) {
    case VSG_FILTER_KEPT:
        t->kept++;
        if (!t->quiet) printf("kept (%.1f us)\n", (double)dt / 1000);
        break;
    case VSG_FILTER_CHANGED:
        t->changed++;
        if (!t->quiet) {
            printf("changed (%.1f us)\n", (double)dt / 1000);
            diff_ce(ce, &res.ces[0]);
        }
        break;
    case VSG_FILTER_DROPPED:
        t->dropped++;
        if (!t->quiet) printf("dropped (%.1f us)\n", (double)dt / 1000);
        break;
    case VSG_FILTER_FANOUT:
        t->fanout++;
        t->fanned += res.n;
        if (!t->quiet) {
            printf("fan-out to %zu event%s (%.1f us)\n", res.n, res.n == 1 ? "" : "s", (double)dt / 1000);
            for (size_t i = 0; i < res.n; i++) {
                printf("    [%zu] id %s\n", i + 1, res.ces[i].id);
                diff_ce(ce, &res.ces[i]);
            }
        }
        break;
    case VSG_FILTER_ERROR:
        t->errors++;
        if (!t->quiet)
            printf("error (%.1f us): %s\n      onError %s: %s\n", (double)dt / 1000, res.error.msg,
                   t->on_error == VSG_FILTER_DROP ? "drop" : "deliver",
                   t->on_error == VSG_FILTER_DROP ? "the event would be dropped"
                                                  : "the event would be sent unchanged");
        break;
    }
    vsg_filter_result_cleanup(&res);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void summary(struct tester *t)
{
    size_t n = t->n < t->ns_cap ? t->n : t->ns_cap;
    double sum = 0;

    printf("summary: %lu events: %lu kept, %lu changed, %lu dropped, %lu fanned out (to %lu "
           "events), %lu errors\n",
           t->n, t->kept, t->changed, t->dropped, t->fanout, t->fanned, t->errors);
    if (n == 0) return;
    qsort(t->ns, n, sizeof *t->ns, cmp_i64);
    for (size_t i = 0; i < n; i++) sum += (double)t->ns[i];
    printf("time per event: mean %.1f us, median %.1f us, p99 %.1f us, max %.1f us; Lua state "
           "%zu KiB\n",
           sum / (double)n / 1000, (double)t->ns[n / 2] / 1000,
           (double)t->ns[n - 1 - n / 100] / 1000, (double)t->ns[n - 1] / 1000,
           vsg_filter_version_memory(t->v) / 1024);
}

/* Runs every record of `path` through. */
static int run_records(struct tester *t, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    int rc = 0;

    if (f == NULL) {
        fprintf(stderr, "vsgate filter test: --record: cannot open %s\n", path);
        return 2;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        struct vsg_event ev;
        struct vsg_ce ce;
        struct vsg_error err;
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (len == 0) continue;
        vsg_ce_init(&ce);
        if (vsg_record_read(line, (size_t)len, &ev, &ce, &err) != VSG_OK) {
            fprintf(stderr, "vsgate filter test: %s:%lu: %s\n", path, lineno, err.msg);
            vsg_ce_cleanup(&ce);
            rc = 2;
            break;
        }
        test_one(t, &ev, &ce);
        vsg_event_cleanup(&ev);
        vsg_ce_cleanup(&ce);
    }
    free(line);
    if (f != stdin) fclose(f);
    return rc;
}

/* Runs the recent events of a vCenter through. */
static int run_live(struct tester *t, const struct vsg_soap_opts *so, int json, int64_t since_ns,
                    long count)
{
    struct vsg_error err = {0};
    struct vsg_soap_session *s = vsg_soap_session_new(so, &err);
    struct vsg_collector *c = NULL;
    struct vsg_collector_opts co;
    struct vsg_time now;
    long seen = 0;
    int rc = 2;

    if (s == NULL || vsg_soap_connect(s, &err) != VSG_OK ||
        vsg_soap_current_time(s, &now, &err) != VSG_OK) {
        fprintf(stderr, "vsgate filter test: vCenter: %s\n", err.msg);
        goto out;
    }
    memset(&co, 0, sizeof co);
    co.begin = vsg_time_add_ns(now, -since_ns);
    co.page_size = 100;
    if ((c = vsg_collector_create(s, &co, &err)) == NULL) {
        fprintf(stderr, "vsgate filter test: event collector: %s\n", err.msg);
        goto out;
    }
    rc = 0;
    while (seen < count) {
        struct vsg_collector_page *page = NULL;
        const struct vsg_soap_service_content *sc = vsg_soap_service_content(s);
        if (vsg_collector_read_next(c, (int)(count - seen < 1000 ? count - seen : 1000), &page,
                                    &err) != VSG_OK) {
            fprintf(stderr, "vsgate filter test: reading events: %s\n", err.msg);
            rc = 2;
            break;
        }
        for (size_t i = 0; i < page->count && seen < count; i++, seen++) {
            struct vsg_event ev;
            struct vsg_ce ce;
            vsg_ce_init(&ce);
            if (vsg_event_decode(page->events[i].node, NULL, &ev, &err) == VSG_OK) {
                if (vsg_filter_build_ce(&ev, vsg_soap_url(s), sc && sc->api_version ? sc->api_version : "",
                                        json, &ce, &err) == VSG_OK)
                    test_one(t, &ev, &ce);
                vsg_event_cleanup(&ev);
            } else {
                fprintf(stderr, "vsgate filter test: event %lld does not decode: %s\n",
                        (long long)page->events[i].key, err.msg);
            }
            vsg_ce_cleanup(&ce);
        }
        {
            size_t received = page->received;
            vsg_collector_page_free(page);
            if (received == 0) break;
        }
    }
out:
    vsg_collector_destroy(c);
    if (s && vsg_soap_logged_in(s)) {
        struct vsg_error e2;
        (void)vsg_soap_logout(s, &e2);
    }
    vsg_soap_session_free(s);
    return rc;
}

static int filter_test(int argc, char **argv)
{
    static const struct option opts[] = {
        {"script", required_argument, 0, 's'}, {"record", required_argument, 0, 'r'},
        {"on-error", required_argument, 0, 'O'}, {"quiet", no_argument, 0, 'q'},
        {"address", required_argument, 0, 'a'}, {"insecure", no_argument, 0, 'k'},
        {"ca-file", required_argument, 0, 'C'}, {"secret-path", required_argument, 0, 'S'},
        {"username", required_argument, 0, 'u'}, {"password-file", required_argument, 0, 'P'},
        {"encoding", required_argument, 0, 'e'}, {"since", required_argument, 0, 'i'},
        {"count", required_argument, 0, 'n'}, {"limits", required_argument, 0, 'L'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *script = NULL, *record = NULL, *secret_path = NULL, *username = NULL;
    const char *password_file = NULL;
    struct vsg_soap_opts so;
    struct tester t;
    struct vsg_filter_config fc;
    struct vsg_error err;
    char *text = NULL, *user = NULL, *pass = NULL, *dir = NULL, *search = NULL;
    size_t text_len = 0;
    int64_t since = VSG_HOUR;
    long count = 100;
    int json = 1, rc = 2, c;

    memset(&so, 0, sizeof so);
    memset(&t, 0, sizeof t);
    memset(&fc, 0, sizeof fc);
    optind = 1;
#define BAD(...) do { fprintf(stderr, "vsgate filter test: " __VA_ARGS__); fputc('\n', stderr); goto out; } while (0)
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': script = optarg; break;
        case 'r': record = optarg; break;
        case 'O':
            if (vsg_filter_on_error_parse(optarg, &t.on_error) != VSG_OK)
                BAD("--on-error must be deliver or drop, got \"%s\"", optarg);
            break;
        case 'q': t.quiet = 1; break;
        case 'L':
            if (vsg_lua_limits_parse("--limits", optarg, &fc.limits, &err) != VSG_OK) BAD("%s", err.msg);
            break;
        case 'a': so.url = optarg; break;
        case 'k': so.insecure = 1; break;
        case 'C': so.ca_file = optarg; break;
        case 'S': secret_path = optarg; break;
        case 'u': username = optarg; break;
        case 'P': password_file = optarg; break;
        case 'e':
            if (!strcasecmp(optarg, "application/json") || !strcasecmp(optarg, "json")) json = 1;
            else if (!strcasecmp(optarg, "application/xml") || !strcasecmp(optarg, "xml")) json = 0;
            else BAD("--encoding must be application/json or application/xml, got \"%s\"", optarg);
            break;
        case 'i':
            if (vsg_duration_parse_flag(optarg, &since) != VSG_OK)
                BAD("--since: not a duration: \"%s\"", optarg);
            break;
        case 'n': {
            char *end;
            count = strtol(optarg, &end, 10);
            if (*end || count < 1) BAD("--count must be a positive number, got \"%s\"", optarg);
            break;
        }
        case 'h': usage(stdout); rc = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (optind < argc) BAD("unexpected argument \"%s\"", argv[optind]);
    if (!script) BAD("--script is required");
    if (!record == !so.url) BAD("give --record FILE or --address URL (live events)");
    if (!(text = vsg_read_file(script, 1u << 20, &text_len, &err))) BAD("--script: %s", err.msg);
    {
        const char *slash = strrchr(script, '/');
        struct vsg_lua_source main = {slash ? slash + 1 : script, text, text_len};
        fc.name = LG;
        fc.logger = LG;
        fc.root = vsg_filter_default_root();
        if (!(dir = slash ? vsg_strndup(script, (size_t)(slash - script)) : vsg_strdup(".")) ||
            !(search = vsg_filter_search_path(dir, fc.root)))
            BAD("out of memory");
        fc.search_path = search;
        if (!(t.v = vsg_filter_compile(&fc, &main, NULL, 0, script, &err)))
            BAD("%s does not load: %s", script, err.msg);
    }
    if (record) {
        rc = run_records(&t, record);
    } else {
        if (vsg_read_credentials(secret_path, username, password_file, &user, &pass, &err) != VSG_OK)
            BAD("%s", err.msg);
        so.username = user;
        so.password = pass;
        rc = run_live(&t, &so, json, since, count);
    }
#undef BAD
    if (rc == 0 || t.n > 0) summary(&t);
    if (rc == 0 && t.errors > 0) rc = 1;
out:
    vsg_filter_version_free(t.v);
    vsg_free(t.ns);
    vsg_free(text);
    vsg_free(user);
    if (pass) memset(pass, 0, strlen(pass));
    vsg_free(pass);
    vsg_free(dir);
    vsg_free(search);
    return rc;
}

int vsg_cmd_filter(int argc, char **argv)
{
    vsg_log_level_from_env("vsgate");
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "test") == 0) return filter_test(argc - 1, argv + 1);
    fprintf(stderr, "vsgate filter: unknown subcommand \"%s\" (try `vsgate filter test --help`)\n",
            argv[1]);
    return 2;
}
